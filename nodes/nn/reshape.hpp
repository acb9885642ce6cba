// reshape and flatten: the same values under another per-sample shape.
#pragma once

#include "nodes/nn/layer.hpp"

namespace aepipe {

// Rows are NHWC in memory whatever their shape, so a view changes only the shape the next
// layer sees. The model gives every layer its own output buffer, so forward and backward copy
// (a memcpy per batch, small beside the layers around it).
class ViewLayer : public Layer {
public:
    ViewLayer(const char *type, Shape in, Shape out) : type_(type), in_(in), out_(out) {}
    int64_t in_dim() const override { return in_.size(); }
    int64_t out_dim() const override { return out_.size(); }
    Shape out_shape() const override { return out_; }
    size_t prepare(int64_t) override { return 0; }
    void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) override;
    void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                  void *scratch) override;
    std::string summary() const override { return type_ + " " + in_.str() + "->" + out_.str(); }

private:
    std::string type_;
    Shape in_, out_;
};

}  // namespace aepipe
