// dense: y = act(x W + b)
//   x (N, D_in) -> y (N, D_out); W stored (D_in, D_out) row-major, b (D_out).
//   backward: dz = dy * act'(y);  dW = x^T dz;  db = sum_rows(dz);  dx = dz W^T.
// YAML keys: units, activation, init, std, bias.
// All four products are oneDNN matmuls on the stored buffers; transposes are only
// memory descriptors (format tag ba), so nothing is copied or reordered per step.
// train.precision bf16: x, W and dz enter the three big matmuls as bf16 copies (oneDNN
// reorders into buffers of the layer); every result (y, dW, dx) is written in f32, and
// db = 1^T dz stays all f32.
#include "nodes/nn/dense.hpp"

#include <cmath>

namespace aepipe {

DenseLayer::DenseLayer(int64_t in, int64_t out, Act act, Init init, float std, bool bias, Precision precision)
    : in_(in),
      out_(out),
      act_(act),
      init_(init),
      std_(std),
      bias_(bias),
      act_bwd_(act, out),
      bf16_(precision == Precision::BF16),
      x16_(in),
      w16_(in * out),
      dz16_(out) {}

std::vector<ParamView> DenseLayer::params() const {
    std::vector<ParamView> p{{"weight", {in_, out_}, 0}};
    if (bias_) p.push_back({"bias", {out_}, in_ * out_});
    return p;
}

void DenseLayer::init(float *w, std::mt19937_64 &rng) const {
    int64_t n = in_ * out_;
    auto fill = [&](auto dist) {
        for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(dist(rng));
    };
    switch (init_) {
        case Init::Xavier: {
            double a = std::sqrt(6.0 / double(in_ + out_));
            fill(std::uniform_real_distribution<double>(-a, a));
            break;
        }
        case Init::He: fill(std::normal_distribution<double>(0.0, std::sqrt(2.0 / double(in_)))); break;
        case Init::Normal: fill(std::normal_distribution<double>(0.0, std_)); break;
        case Init::Uniform: fill(std::uniform_real_distribution<double>(-std_, std_)); break;
    }
    if (bias_) std::fill(w + n, w + n + out_, 0.f);
}

size_t DenseLayer::prepare(int64_t n) {
    size_t need = act_bwd_.prepare(n);
    if (bf16_) need = std::max({need, x16_.prepare(n), w16_.prepare(1), dz16_.prepare(n)});
    auto it = execs_.find(n);
    if (it == execs_.end()) {
        // The matmuls' operands: f32, or the bf16 copies; results always f32.
        const dt lo = bf16_ ? dt::bf16 : dt::f32;
        using md = dnnl::memory::desc;
        auto x = md({n, in_}, lo, tag::ab), y = f32_md({n, out_}, tag::ab), dz = md({n, out_}, lo, tag::ab);
        auto w = md({in_, out_}, lo, tag::ab), dw = f32_md({in_, out_}, tag::ab), b = f32_md({1, out_}, tag::ab);
        auto w_t = md({out_, in_}, lo, tag::ba);  // W^T viewed in place
        auto x_t = md({in_, n}, lo, tag::ba);     // x^T viewed in place
        auto dx = f32_md({n, in_}, tag::ab);

        auto attr = user_scratchpad_attr();
        if (act_ != Act::Identity) {
            dnnl::post_ops po;
            po.append_eltwise(1.f, act_algorithm(act_), 0.f, 0.f);
            attr.set_post_ops(po);
        }
        auto md_or_zero = [&](const dnnl::memory::desc &m) { return bias_ ? m : dnnl::memory::desc(); };
        dnnl::matmul::primitive_desc fwd(dnnl::matmul::desc(x, w, md_or_zero(b), y), attr, cpu_engine());
        dnnl::matmul::primitive_desc bwd_d(dnnl::matmul::desc(dz, w_t, dx), user_scratchpad_attr(), cpu_engine());
        dnnl::matmul::primitive_desc bwd_w(dnnl::matmul::desc(x_t, dz, dw), user_scratchpad_attr(), cpu_engine());

        Execs e;
        if (bias_)
            e.fwd = make_exec<dnnl::matmul>(
                fwd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}});
        else
            e.fwd = make_exec<dnnl::matmul>(fwd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
        e.bwd_data = make_exec<dnnl::matmul>(bwd_d, {{DNNL_ARG_SRC, dz}, {DNNL_ARG_WEIGHTS, w_t}, {DNNL_ARG_DST, dx}});
        e.bwd_weights =
            make_exec<dnnl::matmul>(bwd_w, {{DNNL_ARG_SRC, x_t}, {DNNL_ARG_WEIGHTS, dz}, {DNNL_ARG_DST, dw}});
        if (bias_) {
            // db = 1^T dz as a (1 x n) x (n x out) matmul: oneDNN 2.6's reduction primitive
            // only has a reference kernel here (~30x slower than this GEMM).
            auto ones = f32_md({1, n}, tag::ab);
            dnnl::matmul::primitive_desc red(dnnl::matmul::desc(ones, y, b), user_scratchpad_attr(), cpu_engine());
            e.bwd_bias = make_exec<dnnl::matmul>(red, {{DNNL_ARG_SRC, ones}, {DNNL_ARG_WEIGHTS, y}, {DNNL_ARG_DST, b}});
            if (int64_t(ones_.size()) < n) ones_.assign(size_t(n), 1.f);
        }
        it = execs_.emplace(n, std::move(e)).first;
    }
    const Execs &e = it->second;
    return std::max({need, e.fwd.scratch_bytes, e.bwd_data.scratch_bytes, e.bwd_weights.scratch_bytes,
                     e.bwd_bias.scratch_bytes});
}

void DenseLayer::forward(int64_t n, const float *x, float *y, const float *w, void *scratch) {
    Exec &e = execs_.at(n).fwd;
    e.set(DNNL_ARG_SRC, bf16_ ? x16_.convert(n, x, scratch) : x);
    e.set(DNNL_ARG_WEIGHTS, bf16_ ? w16_.convert(1, w, scratch) : w);
    if (bias_) e.set(DNNL_ARG_BIAS, w + in_ * out_);
    e.set(DNNL_ARG_DST, y);
    e.run(scratch);
}

void DenseLayer::backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w,
                          float *g, void *scratch) {
    Execs &e = execs_.at(n);
    act_bwd_.run(n, y, dy, scratch);  // dy becomes dz
    const void *dz = bf16_ ? dz16_.convert(n, dy, scratch) : dy;
    e.bwd_weights.set(DNNL_ARG_SRC, bf16_ ? x16_.data() : x);  // forward's copy of this batch
    e.bwd_weights.set(DNNL_ARG_WEIGHTS, dz);
    e.bwd_weights.set(DNNL_ARG_DST, g);
    e.bwd_weights.run(scratch);
    if (bias_) {
        e.bwd_bias.set(DNNL_ARG_SRC, ones_.data());
        e.bwd_bias.set(DNNL_ARG_WEIGHTS, dy);
        e.bwd_bias.set(DNNL_ARG_DST, g + in_ * out_);
        e.bwd_bias.run(scratch);
    }
    if (dx) {
        e.bwd_data.set(DNNL_ARG_SRC, dz);
        e.bwd_data.set(DNNL_ARG_WEIGHTS, bf16_ ? w16_.data() : w);
        e.bwd_data.set(DNNL_ARG_DST, dx);
        e.bwd_data.run(scratch);
    }
}

std::string DenseLayer::summary() const {
    return "dense " + std::to_string(in_) + "->" + std::to_string(out_) + " " + act_name(act_);
}

namespace {
struct DenseParams {
    int64_t units = 0;
    std::string activation, init;
    double std = 0;
    bool bias = true;
    static const Keys<DenseParams> &keys();
};
const Keys<DenseParams> &DenseParams::keys() {
    using P = DenseParams;
    static const Keys<P> k{
        key(&P::units, {"units", Kind::Int, "", "output width D_out", {}, true, size_range()}),
        key(&P::activation,
            {"activation", Kind::Enum, "identity", "fused activation", {"identity", "sigmoid", "relu", "tanh"}}),
        key(&P::init, {"init", Kind::Enum, "xavier",
                       "weight init: xavier (Glorot uniform), he (normal, std sqrt(2/D_in)), normal (std), uniform (+-std)",
                       {"xavier", "he", "normal", "uniform"}}),
        key(&P::std,
            {"std", Kind::Float, "0.01", "std of init: normal, half-width of init: uniform", {}, false, at_least(0)}),
        key(&P::bias, {"bias", Kind::Bool, "true", "add a bias vector (initialised to 0)"})};
    return k;
}
}  // namespace

static std::unique_ptr<Layer> make_dense(const Params &p, const LayerInput &in) {
    const auto prm = parse<DenseParams>(p);
    const int64_t units = prm.units;
    if (units <= 0) p.fail("units", "'units' must be positive, got " + std::to_string(units));
    if (double(in.in_dim) * double(units) > kMaxWeightsPerLayer)
        p.fail("units", std::to_string(in.in_dim) + " inputs x " + std::to_string(units) +
                            " units is more weights than a layer may hold (2^40)");
    static const std::map<std::string, Init> inits{
        {"xavier", Init::Xavier}, {"he", Init::He}, {"normal", Init::Normal}, {"uniform", Init::Uniform}};
    return std::make_unique<DenseLayer>(in.in_dim, units, parse_act(prm.activation), inits.at(prm.init),
                                        static_cast<float>(prm.std), prm.bias, in.precision);
}

static Registrar<LayerRegistry> reg_dense(
    {"dense",
     Category::Layer,
     "fully connected layer y = act(x W + b) on oneDNN matmul with the activation fused",
     DenseParams::keys().specs()},
    make_dense);

}  // namespace aepipe
