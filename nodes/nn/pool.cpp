// maxpool: y[n, i, j, c] = max over the K x K window at (i stride - padding, j stride - padding)
//   x (N, H, W, C) -> y (N, H', W', C), H' = (H + 2 padding - kernel) / stride + 1; padding
//   never wins the max. backward: dx gets dy at each window's argmax (summed where windows
//   overlap), 0 elsewhere.
// YAML keys: kernel, stride (default: kernel), padding.
// oneDNN's backward needs the forward's workspace (the argmax). The model's forward pass runs
// the cheaper inference primitive and keeps nothing; backward reruns the training forward into
// a buffer of its own, so no state passes between the two calls.
#include "nodes/nn/pool.hpp"

namespace aepipe {

MaxPoolLayer::MaxPoolLayer(Shape in, int64_t kernel, int64_t stride, int64_t padding)
    : in_(in), kernel_(kernel), stride_(stride), padding_(padding) {
    out_ = Shape{in.c, out_size(in.h, kernel, stride, padding), out_size(in.w, kernel, stride, padding)};
}

int64_t MaxPoolLayer::out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
    if (in + 2 * padding < kernel) return 0;
    return (in + 2 * padding - kernel) / stride + 1;
}

size_t MaxPoolLayer::prepare(int64_t n) {
    auto it = execs_.find(n);
    if (it == execs_.end()) {
        auto src = f32_md({n, in_.c, in_.h, in_.w}, tag::nhwc), dst = f32_md({n, out_.c, out_.h, out_.w}, tag::nhwc);
        const dims st{stride_, stride_}, k{kernel_, kernel_}, pad{padding_, padding_};
        auto desc = [&](dnnl::prop_kind pk) {
            return dnnl::pooling_forward::desc(pk, dnnl::algorithm::pooling_max, src, dst, st, k, pad, pad);
        };
        dnnl::pooling_forward::primitive_desc inf(desc(dnnl::prop_kind::forward_inference), user_scratchpad_attr(),
                                                  cpu_engine());
        dnnl::pooling_forward::primitive_desc train(desc(dnnl::prop_kind::forward_training), user_scratchpad_attr(),
                                                    cpu_engine());
        dnnl::pooling_backward::primitive_desc bwd(
            dnnl::pooling_backward::desc(dnnl::algorithm::pooling_max, src, dst, st, k, pad, pad),
            user_scratchpad_attr(), cpu_engine(), train);
        const auto ws = train.workspace_desc();
        Execs e;
        e.fwd = make_exec<dnnl::pooling_forward>(inf, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
        e.fwd_train = make_exec<dnnl::pooling_forward>(
            train, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, ws}});
        e.bwd = make_exec<dnnl::pooling_backward>(
            bwd, {{DNNL_ARG_DIFF_DST, dst}, {DNNL_ARG_WORKSPACE, ws}, {DNNL_ARG_DIFF_SRC, src}});
        e.y.resize(size_t(n * out_.size()));
        e.where.resize(ws.get_size());
        it = execs_.emplace(n, std::move(e)).first;
    }
    const Execs &e = it->second;
    return std::max({e.fwd.scratch_bytes, e.fwd_train.scratch_bytes, e.bwd.scratch_bytes});
}

void MaxPoolLayer::forward(int64_t n, const float *x, float *y, const float *, void *scratch) {
    Exec &e = execs_.at(n).fwd;
    e.set(DNNL_ARG_SRC, x);
    e.set(DNNL_ARG_DST, y);
    e.run(scratch);
}

void MaxPoolLayer::backward(int64_t n, const float *x, const float *, float *dy, float *dx, const float *, float *,
                            void *scratch) {
    if (!dx) return;  // no parameters: nothing else to compute
    Execs &e = execs_.at(n);
    e.fwd_train.set(DNNL_ARG_SRC, x);
    e.fwd_train.set(DNNL_ARG_DST, e.y.data());
    e.fwd_train.set(DNNL_ARG_WORKSPACE, e.where.data());
    e.fwd_train.run(scratch);
    e.bwd.set(DNNL_ARG_DIFF_DST, dy);
    e.bwd.set(DNNL_ARG_WORKSPACE, e.where.data());
    e.bwd.set(DNNL_ARG_DIFF_SRC, dx);
    e.bwd.run(scratch);
}

std::string MaxPoolLayer::summary() const {
    return "maxpool " + in_.str() + "->" + out_.str() + " k" + std::to_string(kernel_) + "s" + std::to_string(stride_);
}

namespace {
struct MaxPoolParams {
    int64_t kernel = 0, padding = 0;
    std::optional<int64_t> stride;  // unset: the kernel
    static const Keys<MaxPoolParams> &keys() {
        using P = MaxPoolParams;
        static const Keys<P> k{
            key(&P::kernel, {"kernel", Kind::Int, "", "window size K", {}, true, size_range(1, 4096)}),
            key(&P::stride, {"stride", Kind::Int, "0", "step between windows (default: the kernel, windows do not overlap)",
                             {}, false, at_least(0, 4096)}),
            key(&P::padding,
                {"padding", Kind::Int, "0", "padding on every side (never the max)", {}, false, at_least(0, 4096)})};
        return k;
    }
};
}  // namespace

static std::unique_ptr<Layer> make_maxpool(const Params &p, const LayerInput &in) {
    const auto prm = parse<MaxPoolParams>(p);
    const int64_t k = prm.kernel, s = prm.stride.value_or(k), pad = prm.padding;
    if (k <= 0) p.fail("kernel", "'kernel' must be positive, got " + std::to_string(k));
    if (s <= 0) p.fail("stride", "'stride' must be positive, got " + std::to_string(s));
    if (pad < 0 || pad >= k)
        p.fail("padding", "'padding' must be at least 0 and less than the kernel " + std::to_string(k) + ", got " +
                              std::to_string(pad));
    if (MaxPoolLayer::out_size(in.shape.h, k, s, pad) <= 0 || MaxPoolLayer::out_size(in.shape.w, k, s, pad) <= 0)
        p.fail("kernel", "kernel " + std::to_string(k) + " is bigger than the input " + in.shape.str() + " (HxWxC)",
               in.shape.spatial() ? "use a smaller kernel"
                                  : "the input is flat; put a reshape layer (shape: [H, W, C]) before this layer");
    return std::make_unique<MaxPoolLayer>(in.shape, k, s, pad);
}

static Registrar<LayerRegistry> reg_maxpool(
    {"maxpool",
     Category::Layer,
     "max over K x K windows of each channel (NHWC rows); H' = (H + 2 padding - kernel) / stride + 1",
     MaxPoolParams::keys().specs()},
    make_maxpool);

}  // namespace aepipe
