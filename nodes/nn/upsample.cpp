// upsample: y (N, H f, W f, C) from x (N, H, W, C), f = factor.
//   nearest:  y[i, j] = x[i / f, j / f]
//   bilinear: y[i, j] interpolates x at ((i + 0.5) / f - 0.5, (j + 0.5) / f - 0.5), clamped to
//             the border (align_corners = false, as torch's Upsample)
//   backward: dx is the transpose: each dy element spread back with the same weights.
// YAML keys: factor, mode.
#include "nodes/nn/upsample.hpp"

namespace aepipe {

UpsampleLayer::UpsampleLayer(Shape in, int64_t factor, bool bilinear)
    : in_(in), out_{in.c, in.h * factor, in.w * factor}, factor_(factor), bilinear_(bilinear) {}

size_t UpsampleLayer::prepare(int64_t n) {
    auto it = execs_.find(n);
    if (it == execs_.end()) {
        auto src = f32_md({n, in_.c, in_.h, in_.w}, tag::nhwc), dst = f32_md({n, out_.c, out_.h, out_.w}, tag::nhwc);
        auto alg = bilinear_ ? dnnl::algorithm::resampling_linear : dnnl::algorithm::resampling_nearest;
        dnnl::resampling_forward::primitive_desc fwd(
            dnnl::resampling_forward::desc(dnnl::prop_kind::forward_training, alg, src, dst), user_scratchpad_attr(),
            cpu_engine());
        dnnl::resampling_backward::primitive_desc bwd(dnnl::resampling_backward::desc(alg, src, dst),
                                                      user_scratchpad_attr(), cpu_engine(), fwd);
        Execs e;
        e.fwd = make_exec<dnnl::resampling_forward>(fwd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
        e.bwd = make_exec<dnnl::resampling_backward>(bwd, {{DNNL_ARG_DIFF_DST, dst}, {DNNL_ARG_DIFF_SRC, src}});
        it = execs_.emplace(n, std::move(e)).first;
    }
    return std::max(it->second.fwd.scratch_bytes, it->second.bwd.scratch_bytes);
}

void UpsampleLayer::forward(int64_t n, const float *x, float *y, const float *, void *scratch) {
    Exec &e = execs_.at(n).fwd;
    e.set(DNNL_ARG_SRC, x);
    e.set(DNNL_ARG_DST, y);
    e.run(scratch);
}

void UpsampleLayer::backward(int64_t n, const float *, const float *, float *dy, float *dx, const float *, float *,
                             void *scratch) {
    if (!dx) return;
    Exec &e = execs_.at(n).bwd;
    e.set(DNNL_ARG_DIFF_DST, dy);
    e.set(DNNL_ARG_DIFF_SRC, dx);
    e.run(scratch);
}

std::string UpsampleLayer::summary() const {
    return std::string("upsample ") + (bilinear_ ? "bilinear " : "nearest ") + in_.str() + "->" + out_.str();
}

namespace {
struct UpsampleParams {
    int64_t factor = 1;
    std::string mode;
    static const Keys<UpsampleParams> &keys() {
        using P = UpsampleParams;
        static const Keys<P> k{
            key(&P::factor,
                {"factor", Kind::Int, "2", "scale factor f: (H, W) -> (H f, W f)", {}, false, size_range(1, 4096)}),
            key(&P::mode, {"mode", Kind::Enum, "nearest", "interpolation", {"nearest", "bilinear"}})};
        return k;
    }
};
}  // namespace

static std::unique_ptr<Layer> make_upsample(const Params &p, const LayerInput &in) {
    const auto prm = parse<UpsampleParams>(p);
    const int64_t f = prm.factor;
    if (f < 1) p.fail("factor", "'factor' must be at least 1, got " + std::to_string(f));
    if (!in.shape.spatial())
        p.fail("factor", "the input " + in.shape.str() + " is flat: nothing to upsample",
               "put a reshape layer (shape: [H, W, C]) before this layer");
    return std::make_unique<UpsampleLayer>(in.shape, f, prm.mode == "bilinear");
}

static Registrar<LayerRegistry> reg_upsample(
    {"upsample",
     Category::Layer,
     "scales height and width by an integer factor (NHWC rows): nearest or bilinear (align_corners false)",
     UpsampleParams::keys().specs()},
    make_upsample);

}  // namespace aepipe
