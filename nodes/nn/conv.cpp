// conv2d: y = act(conv(x, W) + b)            deconv2d: y = act(conv_transpose(x, W) + b)
//   x (N, H, W, C_in) -> y (N, H', W', filters), rows NHWC.
//   conv2d   H' = (H + 2 padding - kernel) / stride + 1
//   deconv2d H' = (H - 1) stride - 2 padding + kernel      (the adjoint of conv2d's geometry)
//   backward: dz = dy * act'(y); dW, db from (x, dz) (backward_weights); dx from (dz, W)
//   (backward_data). Both are oneDNN primitives; the activation is a fused eltwise post-op.
// YAML keys: filters, kernel, stride, padding, activation, init, std, bias.
// Square kernels, strides and paddings only; one group.
#include "nodes/nn/conv.hpp"

#include <cmath>

namespace aepipe {

ConvLayer::ConvLayer(const ConvGeom &g, Act act, Init init, float std, bool bias, Precision precision)
    : g_(g),
      act_(act),
      fused_act_(!g.transposed),
      init_(init),
      std_(std),
      bias_(bias),
      act_bwd_(act, g.out.size()),
      bf16_(precision == Precision::BF16),
      x16_(g.in.size()),
      dz16_(g.out.size()) {}

int64_t ConvLayer::out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, bool transposed) {
    if (transposed) return (in - 1) * stride - 2 * padding + kernel;
    if (in + 2 * padding < kernel) return 0;
    return (in + 2 * padding - kernel) / stride + 1;
}

std::vector<ParamView> ConvLayer::params() const {
    const int64_t k = g_.kernel;
    std::vector<ParamView> p{{"weight",
                              g_.transposed ? std::vector<int64_t>{g_.in.c, g_.filters, k, k}
                                            : std::vector<int64_t>{g_.filters, g_.in.c, k, k},
                              0}};
    if (bias_) p.push_back({"bias", {g_.filters}, weight_size()});
    return p;
}

void ConvLayer::init(float *w, std::mt19937_64 &rng) const {
    const double fan_in = double(g_.in.c * g_.kernel * g_.kernel), fan_out = double(g_.filters * g_.kernel * g_.kernel);
    const int64_t n = weight_size();
    auto fill = [&](auto dist) {
        for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(dist(rng));
    };
    switch (init_) {
        case Init::Xavier: {
            double a = std::sqrt(6.0 / (fan_in + fan_out));
            fill(std::uniform_real_distribution<double>(-a, a));
            break;
        }
        case Init::He: fill(std::normal_distribution<double>(0.0, std::sqrt(2.0 / fan_in))); break;
        case Init::Normal: fill(std::normal_distribution<double>(0.0, std_)); break;
        case Init::Uniform: fill(std::uniform_real_distribution<double>(-std_, std_)); break;
    }
    if (bias_) std::fill(w + n, w + n + g_.filters, 0.f);
}

using md = dnnl::memory::desc;

namespace conv_detail {

// Primitive descriptors of one batch size, for either convolution or deconvolution: the two
// families take their descriptors' arguments in the same order.
struct Pds {
    md w_fwd, w_bwd, dw;  // the weight layouts the primitives chose
    dnnl::primitive fwd, bwd_data, bwd_weights;
    md scratch[3];
};

// The tensors of one batch size: x and dz as the primitives read them (f32, or bf16 copies),
// and y and dx as they write them (always f32, in place in the workspace).
struct Tensors {
    md src, dz, dst, dx;
    dt lo;  // operand type: f32 or bf16
};

}  // namespace conv_detail

namespace {

using conv_detail::Pds;
using conv_detail::Tensors;

// fwd_bias: whether the forward primitive adds the bias (bias: whether the layer has one).
template <class Fwd, class BwdD, class BwdW>
Pds make_pds(dnnl::algorithm alg, const ConvGeom &g, bool bias, bool fwd_bias, const dnnl::primitive_attr &fwd_attr,
             const Tensors &t) {
    const int64_t k = g.kernel;
    const md w_any({g.filters, g.in.c, k, k}, t.lo, tag::any), b = f32_md({g.filters}, tag::x);
    const md dw_any({g.filters, g.in.c, k, k}, dt::f32, tag::any);
    const dims st{g.stride, g.stride}, pad{g.padding, g.padding};
    const md &src = t.src, &dst = t.dst;
    auto fwd_d = fwd_bias ? typename Fwd::desc(dnnl::prop_kind::forward_training, alg, src, w_any, b, dst, st, pad, pad)
                      : typename Fwd::desc(dnnl::prop_kind::forward_training, alg, src, w_any, dst, st, pad, pad);
    typename Fwd::primitive_desc fwd(fwd_d, fwd_attr, cpu_engine());
    typename BwdD::primitive_desc bwd_d(typename BwdD::desc(alg, t.dx, w_any, t.dz, st, pad, pad),
                                        user_scratchpad_attr(), cpu_engine(), fwd);
    auto bwd_w_d = bias ? typename BwdW::desc(alg, src, dw_any, b, t.dz, st, pad, pad)
                        : typename BwdW::desc(alg, src, dw_any, t.dz, st, pad, pad);
    typename BwdW::primitive_desc bwd_w(bwd_w_d, user_scratchpad_attr(), cpu_engine(), fwd);
    Pds p;
    p.w_fwd = fwd.weights_desc();
    p.w_bwd = bwd_d.weights_desc();
    p.dw = bwd_w.diff_weights_desc();
    p.fwd = typename Fwd::primitive(fwd);
    p.bwd_data = typename BwdD::primitive(bwd_d);
    p.bwd_weights = typename BwdW::primitive(bwd_w);
    p.scratch[0] = fwd.scratchpad_desc();
    p.scratch[1] = bwd_d.scratchpad_desc();
    p.scratch[2] = bwd_w.scratchpad_desc();
    return p;
}

Exec bind(dnnl::primitive prim, const md &scratch, std::initializer_list<std::pair<int, md>> args) {
    Exec e;
    e.prim = std::move(prim);
    for (const auto &[arg, m] : args) e.args.emplace(arg, unbound(m));
    e.scratch_bytes = scratch.get_size();
    e.args.emplace(DNNL_ARG_SCRATCHPAD, unbound(scratch));
    e.finalize();
    return e;
}

}  // namespace

size_t ConvLayer::prepare(int64_t n) {
    size_t need = act_bwd_.prepare(n);
    if (bf16_) need = std::max({need, x16_.prepare(n), dz16_.prepare(n)});
    auto it = execs_.find(n);
    if (it == execs_.end()) {
        const dt lo = bf16_ ? dt::bf16 : dt::f32;
        const dims in_dims{n, g_.in.c, g_.in.h, g_.in.w}, out_dims{n, g_.out.c, g_.out.h, g_.out.w};
        const Tensors t{md(in_dims, lo, tag::nhwc), md(out_dims, lo, tag::nhwc), f32_md(out_dims, tag::nhwc),
                        f32_md(in_dims, tag::nhwc), lo};
        Execs e = bind_execs(build_pds(t), t);
        prepare_post(n, e);
        it = execs_.emplace(n, std::move(e)).first;
    }
    const Execs &e = it->second;
    return std::max({need, e.fwd.scratch_bytes, e.act_fwd.scratch_bytes, e.bias_act.scratch_bytes, e.bwd_data.scratch_bytes,
                     e.bwd_weights.scratch_bytes, e.w_fwd.scratch(), e.w_bwd.scratch(), e.dw.scratch()});
}

// The three primitives, with the activation fused into the forward one where oneDNN takes it
// (else fused_act_ turns false and prepare_post adds it as its own primitive).
Pds ConvLayer::build_pds(const Tensors &t) {
    auto build = [&](const dnnl::primitive_attr &attr) {
        return g_.transposed
                   ? make_pds<dnnl::deconvolution_forward, dnnl::deconvolution_backward_data,
                              dnnl::deconvolution_backward_weights>(dnnl::algorithm::deconvolution_direct, g_, bias_,
                                                                    false, attr, t)
                   : make_pds<dnnl::convolution_forward, dnnl::convolution_backward_data,
                              dnnl::convolution_backward_weights>(dnnl::algorithm::convolution_direct, g_, bias_,
                                                                  bias_, attr, t);
    };
    if (act_ != Act::Identity && fused_act_) {
        auto attr = user_scratchpad_attr();
        dnnl::post_ops po;
        po.append_eltwise(1.f, act_algorithm(act_), 0.f, 0.f);
        attr.set_post_ops(po);
        try {
            return build(attr);
        } catch (const dnnl::error &) {
            fused_act_ = false;  // run the activation as its own primitive instead
        }
    }
    return build(user_scratchpad_attr());
}

// The primitives with their arguments, and the weight reorders between the slab and the
// layouts the primitives chose.
ConvLayer::Execs ConvLayer::bind_execs(const Pds &pds, const Tensors &t) const {
    const md w_user = f32_md({g_.filters, g_.in.c, g_.kernel, g_.kernel}, g_.transposed ? tag::iohw : tag::oihw);
    const md b = f32_md({g_.filters}, tag::x);
    // buf holds the primitive's layout (which may pad channels up to a block size).
    auto stage = [&](const md &prim_layout, bool to_slab) {
        Staged s;
        s.reorder = prim_layout != w_user;
        if (!s.reorder) return s;
        const md &from = to_slab ? prim_layout : w_user, &to = to_slab ? w_user : prim_layout;
        dnnl::reorder::primitive_desc pd(cpu_engine(), from, cpu_engine(), to, user_scratchpad_attr());
        s.exec = make_exec<dnnl::reorder>(pd, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
        s.buf.resize((prim_layout.get_size() + sizeof(float) - 1) / sizeof(float));
        return s;
    };
    Execs e;
    e.w_fwd = stage(pds.w_fwd, false);
    e.w_bwd = stage(pds.w_bwd, false);
    e.dw = stage(pds.dw, true);
    if (bias_ && !g_.transposed)
        e.fwd = bind(pds.fwd, pds.scratch[0],
                     {{DNNL_ARG_SRC, t.src}, {DNNL_ARG_WEIGHTS, pds.w_fwd}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, t.dst}});
    else
        e.fwd = bind(pds.fwd, pds.scratch[0], {{DNNL_ARG_SRC, t.src}, {DNNL_ARG_WEIGHTS, pds.w_fwd}, {DNNL_ARG_DST, t.dst}});
    e.bwd_data = bind(pds.bwd_data, pds.scratch[1],
                      {{DNNL_ARG_DIFF_DST, t.dz}, {DNNL_ARG_WEIGHTS, pds.w_bwd}, {DNNL_ARG_DIFF_SRC, t.dx}});
    if (bias_)
        e.bwd_weights = bind(
            pds.bwd_weights, pds.scratch[2],
            {{DNNL_ARG_SRC, t.src}, {DNNL_ARG_DIFF_DST, t.dz}, {DNNL_ARG_DIFF_WEIGHTS, pds.dw}, {DNNL_ARG_DIFF_BIAS, b}});
    else
        e.bwd_weights = bind(pds.bwd_weights, pds.scratch[2],
                             {{DNNL_ARG_SRC, t.src}, {DNNL_ARG_DIFF_DST, t.dz}, {DNNL_ARG_DIFF_WEIGHTS, pds.dw}});
    return e;
}

// What follows the forward primitive on y: deconv2d's bias add with the activation as its
// post-op, or an activation the convolution would not fuse.
void ConvLayer::prepare_post(int64_t n, Execs &e) const {
    const md dst = f32_md({n, g_.out.c, g_.out.h, g_.out.w}, tag::nhwc);
    if (bias_ && g_.transposed) {  // y += bias (per channel), then the activation
        const md b4 = f32_md({1, g_.out.c, 1, 1}, tag::nhwc);
        auto battr = user_scratchpad_attr();
        if (act_ != Act::Identity) {
            dnnl::post_ops po;
            po.append_eltwise(1.f, act_algorithm(act_), 0.f, 0.f);
            battr.set_post_ops(po);
        }
        dnnl::binary::primitive_desc pd(dnnl::binary::desc(dnnl::algorithm::binary_add, dst, b4, dst), battr,
                                        cpu_engine());
        e.bias_act = make_exec<dnnl::binary>(pd, {{DNNL_ARG_SRC_0, dst}, {DNNL_ARG_SRC_1, b4}, {DNNL_ARG_DST, dst}});
    } else if (act_ != Act::Identity && !fused_act_) {
        const md flat = f32_md({n, g_.out.size()}, tag::ab);
        dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_training, act_algorithm(act_), flat, 0.f, 0.f);
        dnnl::eltwise_forward::primitive_desc pd(d, user_scratchpad_attr(), cpu_engine());
        e.act_fwd = make_exec<dnnl::eltwise_forward>(pd, {{DNNL_ARG_SRC, flat}, {DNNL_ARG_DST, flat}});
    }
}

// The slab's weights in the layout a primitive wants (reordered into s.buf when it differs).
static const float *staged_weights(const float *w, void *scratch, auto &s) {
    if (!s.reorder) return w;
    s.exec.set(DNNL_ARG_FROM, w);
    s.exec.set(DNNL_ARG_TO, s.buf.data());
    s.exec.run(scratch);
    return s.buf.data();
}

void ConvLayer::forward(int64_t n, const float *x, float *y, const float *w, void *scratch) {
    Execs &e = execs_.at(n);
    e.fwd.set(DNNL_ARG_SRC, bf16_ ? x16_.convert(n, x, scratch) : x);
    e.fwd.set(DNNL_ARG_WEIGHTS, staged_weights(w, scratch, e.w_fwd));
    if (bias_ && !g_.transposed) e.fwd.set(DNNL_ARG_BIAS, w + weight_size());
    e.fwd.set(DNNL_ARG_DST, y);
    e.fwd.run(scratch);
    if (bias_ && g_.transposed) {
        e.bias_act.set(DNNL_ARG_SRC_0, y);
        e.bias_act.set(DNNL_ARG_SRC_1, w + weight_size());
        e.bias_act.set(DNNL_ARG_DST, y);
        e.bias_act.run(scratch);
    } else if (act_ != Act::Identity && !fused_act_) {
        e.act_fwd.set(DNNL_ARG_SRC, y);
        e.act_fwd.set(DNNL_ARG_DST, y);
        e.act_fwd.run(scratch);
    }
}

void ConvLayer::backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                         void *scratch) {
    Execs &e = execs_.at(n);
    act_bwd_.run(n, y, dy, scratch);  // dy becomes dz
    const void *dz = bf16_ ? dz16_.convert(n, dy, scratch) : dy;
    e.bwd_weights.set(DNNL_ARG_SRC, bf16_ ? x16_.data() : x);  // forward's copy of this batch
    e.bwd_weights.set(DNNL_ARG_DIFF_DST, dz);
    e.bwd_weights.set(DNNL_ARG_DIFF_WEIGHTS, e.dw.reorder ? e.dw.buf.data() : g);
    if (bias_) e.bwd_weights.set(DNNL_ARG_DIFF_BIAS, g + weight_size());
    e.bwd_weights.run(scratch);
    if (e.dw.reorder) {
        e.dw.exec.set(DNNL_ARG_FROM, e.dw.buf.data());
        e.dw.exec.set(DNNL_ARG_TO, g);
        e.dw.exec.run(scratch);
    }
    if (dx) {
        e.bwd_data.set(DNNL_ARG_DIFF_DST, dz);
        e.bwd_data.set(DNNL_ARG_WEIGHTS, staged_weights(w, scratch, e.w_bwd));
        e.bwd_data.set(DNNL_ARG_DIFF_SRC, dx);
        e.bwd_data.run(scratch);
    }
}

std::string ConvLayer::summary() const {
    return std::string(g_.transposed ? "deconv2d " : "conv2d ") + g_.in.str() + "->" + g_.out.str() + " k" +
           std::to_string(g_.kernel) + "s" + std::to_string(g_.stride) + "p" + std::to_string(g_.padding) + " " +
           act_name(act_);
}

namespace {
// conv2d's and deconv2d's keys; they differ only in what the stride means.
template <bool Transposed>
struct ConvParams {
    int64_t filters = 0, kernel = 0, stride = 1, padding = 0;
    std::string activation, init;
    double std = 0;
    bool bias = true;
    static const Keys<ConvParams> &keys();
};
template <bool Transposed>
const Keys<ConvParams<Transposed>> &ConvParams<Transposed>::keys() {
    using P = ConvParams;
    static const Keys<P> k{
        key(&P::filters, {"filters", Kind::Int, "", "output channels", {}, true, size_range()}),
        key(&P::kernel, {"kernel", Kind::Int, "", "square kernel size K", {}, true, size_range(1, 4096)}),
        key(&P::stride, {"stride", Kind::Int, "1", Transposed ? "upsampling factor" : "step between windows", {}, false,
                         size_range(1, 4096)}),
        key(&P::padding, {"padding", Kind::Int, "0", "zero padding on every side", {}, false, at_least(0, 4096)}),
        key(&P::activation,
            {"activation", Kind::Enum, "identity", "fused activation", {"identity", "sigmoid", "relu", "tanh"}}),
        key(&P::init, {"init", Kind::Enum, "xavier",
                       "weight init: xavier (Glorot uniform, fans C*K*K), he (normal, std sqrt(2/(C_in K K))), normal "
                       "(std), uniform (+-std)",
                       {"xavier", "he", "normal", "uniform"}}),
        key(&P::std,
            {"std", Kind::Float, "0.01", "std of init: normal, half-width of init: uniform", {}, false, at_least(0)}),
        key(&P::bias, {"bias", Kind::Bool, "true", "add a bias per filter (initialised to 0)"})};
    return k;
}
}  // namespace

template <bool Transposed>
static std::unique_ptr<Layer> make_conv(const Params &p, const LayerInput &in) {
    const auto prm = parse<ConvParams<Transposed>>(p);
    ConvGeom g;
    g.transposed = Transposed;
    g.in = in.shape;
    g.filters = prm.filters;
    g.kernel = prm.kernel;
    g.stride = prm.stride;
    g.padding = prm.padding;
    for (auto [key, v] : {std::pair<const char *, int64_t>{"filters", g.filters}, {"kernel", g.kernel}, {"stride", g.stride}})
        if (v <= 0) p.fail(key, std::string("'") + key + "' must be positive, got " + std::to_string(v));
    if (g.padding < 0) p.fail("padding", "'padding' must be 0 or more, got " + std::to_string(g.padding));
    if (Transposed && g.padding >= g.kernel)
        p.fail("padding", "'padding' " + std::to_string(g.padding) + " must be less than the kernel " +
                              std::to_string(g.kernel));
    const int64_t oh = ConvLayer::out_size(g.in.h, g.kernel, g.stride, g.padding, Transposed);
    const int64_t ow = ConvLayer::out_size(g.in.w, g.kernel, g.stride, g.padding, Transposed);
    if (oh <= 0 || ow <= 0)
        p.fail("kernel",
               "kernel " + std::to_string(g.kernel) + " (padding " + std::to_string(g.padding) +
                   ") is bigger than the input " + g.in.str() + " (HxWxC)",
               g.in.spatial() ? "use a smaller kernel or more padding"
                              : "the input is flat; put a reshape layer (shape: [H, W, C]) before this layer");
    g.out = Shape{g.filters, oh, ow};
    if (double(g.filters) * double(g.in.c) * double(g.kernel) * double(g.kernel) > kMaxWeightsPerLayer)
        p.fail("filters", std::to_string(g.filters) + " filters x " + std::to_string(g.in.c) + " channels x " +
                              std::to_string(g.kernel) + "x" + std::to_string(g.kernel) +
                              " is more weights than a layer may hold (2^40)");
    static const std::map<std::string, Init> inits{
        {"xavier", Init::Xavier}, {"he", Init::He}, {"normal", Init::Normal}, {"uniform", Init::Uniform}};
    return std::make_unique<ConvLayer>(g, parse_act(prm.activation), inits.at(prm.init), static_cast<float>(prm.std),
                                       prm.bias, in.precision);
}

static Registrar<LayerRegistry> reg_conv(
    {"conv2d", Category::Layer,
     "2-D convolution y = act(conv(x, W) + b) on NHWC rows; H' = (H + 2 padding - kernel) / stride + 1; "
     "weight stored (filters, C_in, K, K) like torch",
     ConvParams<false>::keys().specs()},
    make_conv<false>);
static Registrar<LayerRegistry> reg_deconv(
    {"deconv2d", Category::Layer,
     "transposed 2-D convolution (the adjoint of conv2d) on NHWC rows; H' = (H - 1) stride - 2 padding + kernel; "
     "weight stored (C_in, filters, K, K) like torch",
     ConvParams<true>::keys().specs()},
    make_conv<true>);

}  // namespace aepipe
