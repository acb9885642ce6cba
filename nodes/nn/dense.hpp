#pragma once

#include <map>

#include "pipeline/aligned.hpp"
#include "nodes/nn/activation.hpp"
#include "nodes/nn/bf16.hpp"

namespace aepipe {

enum class Init { Xavier, He, Normal, Uniform };

// Fully connected layer with an optional fused activation (oneDNN matmul + eltwise post-op).
// In bf16 the three matmuls take bf16 copies of x, W and dz (made once per step: x and W in
// forward, dz in backward; backward reuses forward's copies, so it must follow the forward
// of the same batch) and write f32; the bias and its gradient stay f32.
class DenseLayer : public Layer {
public:
    DenseLayer(int64_t in, int64_t out, Act act, Init init, float std, bool bias,
               Precision precision = Precision::F32);
    int64_t in_dim() const override { return in_; }
    int64_t out_dim() const override { return out_; }
    std::vector<ParamView> params() const override;
    void init(float *w, std::mt19937_64 &rng) const override;
    size_t prepare(int64_t n) override;
    void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) override;
    void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                  void *scratch) override;
    std::string summary() const override;
    int64_t macs_per_sample() const override { return in_ * out_; }

private:
    struct Execs {
        Exec fwd, bwd_data, bwd_weights, bwd_bias;
    };
    int64_t in_, out_;
    Act act_;
    Init init_;
    float std_;
    bool bias_;
    ActBackward act_bwd_;
    Floats ones_;  // the all-ones row of the bias-gradient GEMM
    bool bf16_;
    Bf16Copy x16_, w16_, dz16_;  // bf16 only: x (n, in), W (in, out) as one row, dz (n, out)
    std::map<int64_t, Execs> execs_;
};

}  // namespace aepipe
