// Max pooling on oneDNN, rows NHWC.
#pragma once

#include <map>

#include "nodes/nn/layer.hpp"
#include "pipeline/dnnl_ctx.hpp"

namespace aepipe {

class MaxPoolLayer : public Layer {
public:
    MaxPoolLayer(Shape in, int64_t kernel, int64_t stride, int64_t padding);
    int64_t in_dim() const override { return in_.size(); }
    int64_t out_dim() const override { return out_.size(); }
    Shape out_shape() const override { return out_; }
    size_t prepare(int64_t n) override;
    void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) override;
    void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                  void *scratch) override;
    std::string summary() const override;

    // Output size along one axis; <= 0 when the window does not fit.
    static int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding);

private:
    struct Execs {
        Exec fwd, fwd_train, bwd;
        std::vector<float> y;     // the training forward's output (equal to forward's y)
        std::vector<char> where;  // its workspace: the argmax of each window
    };
    Shape in_, out_;
    int64_t kernel_, stride_, padding_;
    std::map<int64_t, Execs> execs_;
};

}  // namespace aepipe
