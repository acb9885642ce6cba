#include "nodes/nn/model.hpp"

#include <random>

#include "nodes/nn/sample.hpp"

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

static const NodeSpec kModelSpec{
    "model",
    Category::Section,
    "the network: a list of layers applied in order, and the loss",
    {
        {"layers", Kind::List, "", "layers in order, each a map with a type (see list-nodes: layer)", {}, true},
        {"loss", Kind::Map, "{type: mse}", "loss: a name (mse) or a map {type: bce, from_logits: true}"},
    }};
static const SectionRegistrar kModelSection(kModelSpec);

Model::Model(const ConfigFile &cfg, const YAML::Node &section, Shape data_shape, Precision precision)
    : in_dim_(data_shape.size()), in_shape_(data_shape) {
    const int64_t data_dim = in_dim_;
    Diags diags;
    Params mp = check_params(kModelSpec, cfg, section, "model", diags, {});
    diags.throw_if_any();

    YAML::Node list = mp.raw("layers");
    if (list.size() == 0) mp.fail("layers", "the model needs at least one layer");
    int64_t width = data_dim;
    Shape shape = data_shape;
    YAML::Node last_units;
    for (size_t i = 0; i < list.size(); ++i) {
        YAML::Node item = list[i];
        std::string ctx = "model.layers[" + std::to_string(i) + "]";
        const auto *e = lookup_type<LayerRegistry>(cfg, item, ctx, "layer", diags);
        if (!e) continue;
        ctx += " (" + e->spec.type + ")";
        Diags local;
        Params p = check_params(e->spec, cfg, item.IsMap() ? item : YAML::Node(YAML::NodeType::Map), ctx, local,
                                {"type", "code"});
        if (item.IsMap() && item["code"].IsDefined()) mark_code(cfg, item["code"], ctx, i, local);
        if (!local.empty()) {
            diags.merge(local);
            continue;
        }
        try {
            layers_.push_back(e->make(p, LayerInput{width, shape, precision}));
        } catch (const ConfigError &err) {
            diags.add(err);
            continue;
        }
        if (double(layers_.back()->out_shape().size()) > kMaxValuesPerSample) {  // size() saturates
            diags.error(pos_of(cfg, item), ctx + ": outputs " + layers_.back()->out_shape().str() +
                                               " values per sample, more than a layer may (2^36)");
            layers_.pop_back();
            continue;
        }
        width = layers_.back()->out_dim();
        shape = layers_.back()->out_shape();
        // reset() rebinds the handle; operator= would write into the config tree.
        last_units.reset(item.IsMap() && item["units"].IsDefined() ? item["units"] : item);
    }
    if (diags.empty() && data_dim > 0 && width != data_dim)
        diags.error(pos_of(cfg, last_units),
                    "model.layers[" + std::to_string(list.size() - 1) + "]: the last layer outputs " +
                        std::to_string(width) + " values per sample, but the data has " + std::to_string(data_dim),
                    "an autoencoder reconstructs its input: make the last layer's units " + std::to_string(data_dim));
    else if (diags.empty() && data_dim > 0 && shape.spatial() && data_shape.spatial() && shape != data_shape)
        diags.error(pos_of(cfg, last_units),
                    "model.layers[" + std::to_string(list.size() - 1) + "]: the last layer outputs " + shape.str() +
                        " (HxWxC) per sample, but the data is " + data_shape.str(),
                    "an autoencoder reconstructs its input: the output shape must be the data's");

    YAML::Node lnode = mp.raw("loss");
    if (const auto *le = lookup_type<LossRegistry>(cfg, lnode, "model.loss", "loss", diags)) {
        Params lp = check_params(le->spec, cfg, lnode.IsMap() ? lnode : YAML::Node(YAML::NodeType::Map),
                                 "model.loss (" + le->spec.type + ")", diags, {"type"});
        if (diags.empty()) loss_ = le->make(lp);
    }
    for (size_t i = 0; i < layers_.size() && sample_layer_ < 0; ++i)
        if (dynamic_cast<SampleLayer *>(layers_[i].get())) sample_layer_ = int64_t(i);
    if (loss_ && sample_layer_ >= 0 && !loss_->sums_per_sample())
        diags.error(pos_of(cfg, lnode),
                    "model.loss: a model with a sample layer adds its KL term per image, so the reconstruction "
                    "loss must be per image too",
                    "set the loss's 'reduction: sum' (e.g. {type: bce, from_logits: true, reduction: sum})");
    diags.throw_if_any();

    for (size_t i = 0; i < layers_.size(); ++i) {
        offsets_.push_back(num_params_);
        for (const auto &pv : layers_[i]->params())
            named_.push_back({"layers." + std::to_string(i) + "." + pv.name, pv.shape, num_params_ + pv.offset});
        num_params_ += layers_[i]->num_params();
    }
}

// `code: true` on any layer marks the code that `aepipe encode` writes; a key every layer
// type accepts, so it is checked here rather than in each layer's spec.
void Model::mark_code(const ConfigFile &cfg, const YAML::Node &v, const std::string &ctx, size_t i, Diags &d) {
    bool on = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, on))
        return d.error(pos_of(cfg, v), ctx + ": 'code' must be true or false");
    if (!on) return;
    if (code_layer_ >= 0)
        return d.error(pos_of(cfg, v), ctx + ": a second layer marked 'code: true' (model.layers[" +
                                           std::to_string(code_layer_) + "] is marked already)",
                       "mark only the layer whose output is the code");
    code_layer_ = int64_t(i);
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
    std::string s = std::to_string(in_dim_);
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
