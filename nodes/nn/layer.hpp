// A model layer: forward and backward for a batch of n rows, with primitives built once per
// distinct batch size (the full batch, the last partial batch, the evaluation batch).
//
// Parameters live in the model's one contiguous slab; a layer only knows its offset. All
// layers of a model run one after another, so they share one user scratchpad.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pipeline/precision.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/shape.hpp"

namespace aepipe {

struct ParamView {
    std::string name;            // e.g. "weight", "bias"
    std::vector<int64_t> shape;  // storage shape, row-major
    int64_t offset = 0;          // within the layer's slice of the slab
    int64_t size() const {
        int64_t s = 1;
        for (auto d : shape) s *= d;
        return s;
    }
};

// What a stochastic layer's next forward passes draw from: its noise is a pure function of
// (seed, step, row), row = row0 + the row within the pass, so it never depends on threads,
// shards or timing. row_weight is the weight of one row's loss in the objective (1 / batch),
// which scales the gradient of a term the layer adds to the loss itself (the VAE's KL).
struct PassInfo {
    uint64_t seed = 0;
    int64_t step = -1;  // training step; negative: an evaluation stream
    int64_t row0 = 0;
    double row_weight = 1.0;
    bool train = false;
};

class Layer {
public:
    virtual ~Layer() = default;
    virtual int64_t in_dim() const = 0;
    virtual int64_t out_dim() const = 0;
    // Per-sample shape of the output (NHWC rows); flat layers keep the default {out_dim, 1, 1}.
    virtual Shape out_shape() const { return Shape{out_dim(), 1, 1}; }
    virtual std::vector<ParamView> params() const { return {}; }
    int64_t num_params() const;
    // Fills this layer's slice of the slab.
    virtual void init(float * /*w*/, std::mt19937_64 & /*rng*/) const {}

    // Builds primitives for batch n if not built yet; returns the scratchpad bytes they need.
    virtual size_t prepare(int64_t n) = 0;
    // y(n, out) = f(x(n, in)).
    virtual void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) = 0;
    // From dy(n, out) (may be overwritten) and the forward's x and y: writes dx(n, in) unless
    // dx is null, and this layer's parameter gradients into g (overwritten, not accumulated).
    virtual void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w,
                          float *g, void *scratch) = 0;
    virtual std::string summary() const = 0;
    // Multiply-adds of the layer's matmul or convolution for one sample's forward pass; the
    // backward pass does as many for the weight gradient and as many again for the data
    // gradient. Element-wise work (activations, pooling, the loss) is not counted, as in the
    // usual FLOP figures of models (and in ../shared/bench's 2.50 MFLOP for the seed MLP).
    virtual int64_t macs_per_sample() const { return 0; }

    // Stochastic layers (sample) keep `p` for the following passes; others ignore it.
    virtual void begin_pass(const PassInfo & /*p*/) {}
    // A term the layer adds to the loss (the KL divergence of `sample`), summed over the
    // rows of the last forward pass, in nats, before its weight; and that weight (beta).
    virtual double penalty_sum() const { return 0; }
    virtual double penalty_weight() const { return 0; }
};

// What a layer factory knows besides its params: the width of its input and its per-sample
// shape (flat {in_dim, 1, 1} unless the data or a spatial layer gave it height and width),
// and the precision of its matmul / convolution (dense, conv2d, deconv2d read it; the
// others always run f32). Inputs, outputs, weights and gradients stay f32 either way.
struct LayerInput {
    int64_t in_dim;
    Shape shape = Shape{in_dim, 1, 1};
    Precision precision = Precision::F32;
};

using LayerRegistry = Registry<Layer, const LayerInput &>;

// Activation algorithms shared by the dense layer's fused post-op and standalone layers.
enum class Act { Identity, Sigmoid, Relu, Tanh };
Act parse_act(const std::string &name);
const char *act_name(Act a);

}  // namespace aepipe
