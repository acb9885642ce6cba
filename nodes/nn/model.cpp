#include "nodes/nn/model.hpp"

#include <random>


namespace aepipe {

int64_t Layer::num_params() const {
    int64_t n = 0;
    for (const auto &p : params()) n += p.size();
    return n;
}

int64_t NamedParam::size() const {
    int64_t s = 1;
    for (auto d : shape) s *= d;
    return s;
}

Model::Model(std::shared_ptr<const ModelSpec> spec, Precision precision) : spec_(std::move(spec)) {
    for (const LayerSpec &l : spec_->layers()) {
        LayerInput in = l.input;
        in.precision = precision;
        layers_.push_back(l.type->make(l.params, in));
    }
    loss_ = spec_->loss_type().make(spec_->loss_params());
    for (size_t i = 0; i < layers_.size(); ++i) {
        offsets_.push_back(num_params_);
        for (const auto &pv : layers_[i]->params())
            named_.push_back({"layers." + std::to_string(i) + "." + pv.name, pv.shape, num_params_ + pv.offset});
        num_params_ += layers_[i]->num_params();
    }
}

ModelFlops Model::flops_per_sample() const {
    ModelFlops f;
    for (size_t i = 0; i < layers_.size(); ++i) {
        const double macs = double(layers_[i]->macs_per_sample());
        f.forward += 2 * macs;
        f.backward += 2 * macs * (i == 0 ? 1 : 2);  // weight gradient; data gradient but for layer 0
    }
    return f;
}

std::string Model::summary() const {
    std::string s = std::to_string(in_dim());
    for (const auto &l : layers_) s += " | " + l->summary();
    return s + " (" + std::to_string(num_params_) + " parameters)";
}

void Model::init_params(float *slab, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->init(slab + offsets_[i], rng);
}

Workspace::Workspace(Model &m, int64_t max_n) : model_(m), max_n_(max_n) {
    for (size_t i = 0; i < m.num_layers(); ++i) {
        acts_.emplace_back(size_t(max_n * m.layer(i).out_dim()));
        grads_.emplace_back(size_t(max_n * m.layer(i).out_dim()));
    }
    prepare(max_n);
}

void Workspace::prepare(int64_t n) {
    if (n > max_n_) {  // first sight of a larger batch: grow once
        max_n_ = n;
        for (size_t i = 0; i < model_.num_layers(); ++i) {
            acts_[i].resize(size_t(n * model_.layer(i).out_dim()));
            grads_[i].resize(size_t(n * model_.layer(i).out_dim()));
        }
    }
    size_t need = 0;
    for (size_t i = 0; i < model_.num_layers(); ++i) need = std::max(need, model_.layer(i).prepare(n));
    if (need > scratch_.size()) scratch_.resize(need);
}

void Workspace::forward_layer(size_t i, int64_t n, const float *params) {
    model_.layer(i).forward(n, act(i), act_mut(i + 1), params + model_.offset(i), scratch_.data());
}

void Workspace::backward_layer(size_t i, int64_t n, const float *params, float *param_grads) {
    // Layer 0 needs no input gradient: the images are not trained.
    float *dx = i == 0 ? nullptr : grad(i);
    model_.layer(i).backward(n, act(i), act(i + 1), grad(i + 1), dx, params + model_.offset(i),
                             param_grads + model_.offset(i), scratch_.data());
}

void Workspace::begin_pass(const PassInfo &p) {
    for (size_t i = 0; i < model_.num_layers(); ++i) model_.layer(i).begin_pass(p);
}

double Workspace::penalty_sum() const {
    double s = 0;
    for (size_t i = 0; i < model_.num_layers(); ++i) s += model_.layer(i).penalty_sum();
    return s;
}

double Workspace::weighted_penalty_sum() const {
    double s = 0;
    for (size_t i = 0; i < model_.num_layers(); ++i) s += model_.layer(i).penalty_weight() * model_.layer(i).penalty_sum();
    return s;
}

const float *Workspace::forward(int64_t n, const float *x, const float *params) {
    set_input(x);
    for (size_t i = 0; i < model_.num_layers(); ++i) forward_layer(i, n, params);
    return output();
}

void Workspace::backward(int64_t n, const float *params, float *param_grads) {
    for (size_t i = model_.num_layers(); i-- > 0;) backward_layer(i, n, params, param_grads);
}

}  // namespace aepipe
