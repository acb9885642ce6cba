// Upsampling by an integer factor on oneDNN resampling, rows NHWC.
#pragma once

#include <map>

#include "nodes/nn/layer.hpp"
#include "pipeline/dnnl_ctx.hpp"

namespace aepipe {

class UpsampleLayer : public Layer {
public:
    UpsampleLayer(Shape in, int64_t factor, bool bilinear);
    int64_t in_dim() const override { return in_.size(); }
    int64_t out_dim() const override { return out_.size(); }
    Shape out_shape() const override { return out_; }
    size_t prepare(int64_t n) override;
    void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) override;
    void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                  void *scratch) override;
    std::string summary() const override;

private:
    struct Execs {
        Exec fwd, bwd;
    };
    Shape in_, out_;
    int64_t factor_;
    bool bilinear_;
    std::map<int64_t, Execs> execs_;
};

}  // namespace aepipe
