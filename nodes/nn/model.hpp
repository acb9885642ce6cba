// The model: layers built from the config's `model` section, its loss, and the layout of
// all parameters in one contiguous slab ("layers.<i>.weight", ...).
//
// A Workspace holds what one forward/backward pass needs (activations, their gradients,
// the scratchpad) for batches up to max_n; it is allocated once. Each thread that runs the
// model concurrently (training, evaluation) builds its own Model and Workspace, because
// layers cache primitives and their argument maps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/aligned.hpp"
#include "nodes/nn/layer.hpp"
#include "nodes/nn/loss.hpp"
#include "nodes/nn/model_spec.hpp"

namespace aepipe {

struct NamedParam {
    std::string name;            // "layers.0.weight"
    std::vector<int64_t> shape;  // storage shape
    int64_t offset;              // in the slab
    int64_t size() const;
};

class Model {
public:
    // Builds every layer of `spec` (its own primitives and caches: one Model per thread).
    // precision: of the matmuls and convolutions (train.precision; training's models only:
    // evaluation and inference run f32 on the f32 weights).
    explicit Model(std::shared_ptr<const ModelSpec> spec, Precision precision = Precision::F32);

    const ModelSpec &spec() const { return *spec_; }
    const std::shared_ptr<const ModelSpec> &spec_ptr() const { return spec_; }
    int64_t in_dim() const { return spec_->in_dim(); }
    Shape in_shape() const { return spec_->input(); }
    int64_t num_params() const { return num_params_; }
    size_t num_layers() const { return layers_.size(); }
    Layer &layer(size_t i) { return *layers_[i]; }
    const Loss &loss() const { return *loss_; }
    int64_t offset(size_t i) const { return offsets_[i]; }
    const std::vector<NamedParam> &named_params() const { return named_; }
    std::string summary() const;
    // The first layer computes no data gradient (nothing is upstream of it).
    ModelFlops flops_per_sample() const;
    // Index of the VAE's `sample` layer (layers after it are the decoder), or -1.
    int64_t sample_layer() const { return spec_->sample_layer(); }
    // Index of the layer marked `code: true` in the config, or -1 (see nodes/nn/code_layer.hpp).
    int64_t marked_code_layer() const { return spec_->code_layer(); }

    void init_params(float *slab, uint64_t seed) const;

private:
    std::shared_ptr<const ModelSpec> spec_;
    int64_t num_params_ = 0;
    std::vector<std::unique_ptr<Layer>> layers_;
    std::vector<int64_t> offsets_;
    std::vector<NamedParam> named_;
    std::unique_ptr<Loss> loss_;
};

class Workspace {
public:
    Workspace(Model &m, int64_t max_n);

    // Builds primitives for batch n (no-op when built); call before the first pass of a size.
    void prepare(int64_t n);
    // act(0) is the input; act(i+1) the output of layer i. grad(i) is dL/d act(i).
    const float *act(size_t i) const { return i == 0 ? input_ : acts_[i - 1].data(); }
    float *act_mut(size_t i) { return acts_[i - 1].data(); }
    float *grad(size_t i) { return grads_[i - 1].data(); }
    const float *output() const { return act(model_.num_layers()); }
    float *output_grad() { return grad(model_.num_layers()); }

    void set_input(const float *x) { input_ = x; }
    void forward_layer(size_t i, int64_t n, const float *params);
    void backward_layer(size_t i, int64_t n, const float *params, float *param_grads);

    // Hands `p` to every layer (stochastic layers draw their noise from it).
    void begin_pass(const PassInfo &p);
    // The loss terms layers added in the last forward (the VAE's KL), summed over its rows:
    // as they are (nats), and times their weights (beta).
    double penalty_sum() const;
    double weighted_penalty_sum() const;

    // Whole passes (used by evaluation and tests).
    const float *forward(int64_t n, const float *x, const float *params);
    void backward(int64_t n, const float *params, float *param_grads);

private:
    Model &model_;
    int64_t max_n_;
    const float *input_ = nullptr;
    std::vector<Floats> acts_, grads_;  // 64-byte aligned (pipeline/aligned.hpp)
    AlignedVector<char> scratch_;
};

}  // namespace aepipe
