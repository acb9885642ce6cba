// Element-wise activations on oneDNN eltwise primitives. Backward uses the "use_dst"
// algorithms, so it needs only the layer's output y, never its input.
#pragma once

#include <map>

#include "nodes/nn/layer.hpp"
#include "pipeline/dnnl_ctx.hpp"

namespace aepipe {

// oneDNN algorithm of an activation (for Act::Identity: undefined, callers skip it).
dnnl::algorithm act_algorithm(Act a);

// dy <- dy * f'(.) computed from y, in place, for a (n, d) tensor.
class ActBackward {
public:
    ActBackward(Act act, int64_t d) : act_(act), d_(d) {}
    size_t prepare(int64_t n);
    void run(int64_t n, const float *y, float *dy, void *scratch);

private:
    Act act_;
    int64_t d_;
    std::map<int64_t, Exec> execs_;
};

class ActivationLayer : public Layer {
public:
    ActivationLayer(Act act, int64_t d, Shape shape = {}) : act_(act), d_(d), shape_(shape), bwd_(act, d) {
        if (shape_.size() != d_) shape_ = Shape{d_, 1, 1};
    }
    int64_t in_dim() const override { return d_; }
    int64_t out_dim() const override { return d_; }
    Shape out_shape() const override { return shape_; }  // element-wise: the input's shape
    size_t prepare(int64_t n) override;
    void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) override;
    void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                  void *scratch) override;
    std::string summary() const override { return act_name(act_); }

private:
    Act act_;
    int64_t d_;
    Shape shape_;
    std::map<int64_t, Exec> fwd_;
    ActBackward bwd_;
};

}  // namespace aepipe
