// 2-D convolution and transposed convolution layers on oneDNN, rows stored NHWC.
#pragma once

#include <map>

#include "nodes/nn/activation.hpp"
#include "nodes/nn/dense.hpp"

namespace aepipe {

namespace conv_detail {
struct Pds;      // the primitive descriptors of one batch size (conv.cpp)
struct Tensors;  // the memory descriptors of one batch size (conv.cpp)
}  // namespace conv_detail

struct ConvGeom {
    Shape in, out;
    int64_t filters = 0, kernel = 0, stride = 1, padding = 0;
    bool transposed = false;  // deconv2d
};

// conv2d (transposed = false) or deconv2d (transposed = true) with an optional fused activation.
// Parameters in the slab, fixed plain layouts (the same as PyTorch's, so checkpoints are stable):
//   conv2d   weight (filters, C_in, K, K)  [OIHW], bias (filters)
//   deconv2d weight (C_in, filters, K, K)  [IOHW], bias (filters)
// oneDNN's fast kernels want blocked weights; prepare() lets oneDNN choose and builds reorders
// from and to the slab layout once, so a step only runs them.
// deconv2d's forward runs without bias and activation; a binary primitive then adds the bias
// with the activation as its post-op. oneDNN 2.6 runs the transposed convolution (its
// convolution's backward-data kernel) with a fused bias or post-op on a slow path: measured
// for batch 50, 14x14x8 -> 28x28x8, k4 s2, 2 threads: 0.35 ms bare, 1.56 ms with bias, 11.9 ms
// with bias and ReLU.
// In bf16 (train.precision) the forward, backward-data and backward-weights primitives take
// bf16 x, W and dz: x in forward and dz in backward are reordered into buffers of the layer
// (backward reuses forward's x, so it must follow the forward of the same batch), and the
// weight reorders from the slab convert as they change layout, once per primitive per step.
// Outputs y and dx, dW, the bias and its gradient (summed from the bf16 dz) stay f32.
class ConvLayer : public Layer {
public:
    ConvLayer(const ConvGeom &g, Act act, Init init, float std, bool bias, Precision precision = Precision::F32);
    int64_t in_dim() const override { return g_.in.size(); }
    int64_t out_dim() const override { return g_.out.size(); }
    Shape out_shape() const override { return g_.out; }
    std::vector<ParamView> params() const override;
    void init(float *w, std::mt19937_64 &rng) const override;
    size_t prepare(int64_t n) override;
    void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) override;
    void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                  void *scratch) override;
    std::string summary() const override;
    // conv2d: each output value sums C_in * K * K products; deconv2d: each input value is
    // spread over K * K * filters outputs.
    int64_t macs_per_sample() const override {
        const Shape &pixels = g_.transposed ? g_.in : g_.out;
        return pixels.h * pixels.w * g_.in.c * g_.filters * g_.kernel * g_.kernel;
    }

    // Output size along one axis of a convolution (or of a transposed one); <= 0 when impossible.
    static int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, bool transposed);

private:
    // A weight buffer as a primitive wants it, and the reorder between it and the slab.
    struct Staged {
        bool reorder = false;
        Exec exec;
        std::vector<float> buf;
        size_t scratch() const { return reorder ? exec.scratch_bytes : 0; }
    };
    struct Execs {
        Exec fwd, act_fwd, bias_act, bwd_data, bwd_weights;  // bias_act: deconv2d only
        Staged w_fwd, w_bwd, dw;
    };
    int64_t weight_size() const { return g_.filters * g_.in.c * g_.kernel * g_.kernel; }
    conv_detail::Pds build_pds(const conv_detail::Tensors &t);
    Execs bind_execs(const conv_detail::Pds &pds, const conv_detail::Tensors &t) const;
    void prepare_post(int64_t n, Execs &e) const;

    ConvGeom g_;
    Act act_;
    bool fused_act_ = true;  // false for deconv2d, or when the primitive refuses the post-op
    Init init_;
    float std_;
    bool bias_;
    std::vector<float> zero_bias_;  // bias argument when the layer has none
    ActBackward act_bwd_;
    std::map<int64_t, Execs> execs_;
    bool bf16_;
    Bf16Copy x16_, dz16_;  // bf16 only: x (n, H, W, C_in), dz (n, H', W', filters)
};

}  // namespace aepipe
