// Optimizers (PyTorch semantics; g includes weight_decay * w when weight_decay > 0):
//   sgd:     v = momentum v + g (v = g at step 1);  w -= lr (nesterov ? g + momentum v : v)
//   rmsprop: s = alpha s + (1 - alpha) g^2;  w -= lr g / (sqrt(s) + eps)
//   adam:    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
//   adagrad: s += g^2;  w -= lr g / (sqrt(s) + eps)
#include "nodes/nn/optimizer.hpp"

#include "pipeline/simd.hpp"

#include <cmath>

#include "pipeline/graph.hpp"

namespace aepipe {

void Optimizer::init(int64_t n) {
    bufs_.assign(names_.size(), Floats(size_t(n), 0.f));
}

std::vector<std::pair<std::string, Floats *>> Optimizer::state() {
    std::vector<std::pair<std::string, Floats *>> v;
    for (size_t k = 0; k < names_.size(); ++k) v.emplace_back(names_[k], &bufs_[k]);
    return v;
}

void Optimizer::step(float *w, const float *g, int64_t n) {
    ++t_;
    // Chunks of 16K floats: enough work per OpenMP task, still cache friendly.
    const int64_t chunk = 1 << 14, chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) update(w, g, c * chunk, std::min(n, (c + 1) * chunk));
}

namespace {
// The `train` section's optimizer key (pipeline/graph.hpp): read here, for the training node.
struct OptimizerKey {
    YAML::Node optimizer;
    static const Keys<OptimizerKey> &keys() {
        static const Keys<OptimizerKey> k{key(&OptimizerKey::optimizer, {"optimizer", Kind::Map, "{type: rmsprop}",
                                                                         "update rule: a name or {type: adam, lr: 0.001}"})};
        return k;
    }
};
const SectionKeys train_keys(train_section_spec(), OptimizerKey::keys().specs());
}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const ConfigFile &cfg, const Params &train, Diags &diags) {
    YAML::Node on = parse<OptimizerKey>(train).optimizer;
    const auto *e = lookup_type<OptimizerRegistry>(cfg, on, "train.optimizer", "optimizer", diags);
    if (!e) return nullptr;
    Params op = check_params(e->spec, cfg, on.IsMap() ? on : YAML::Node(YAML::NodeType::Map),
                             "train.optimizer (" + e->spec.type + ")", diags, {"type"});
    return diags.empty() ? e->make(op) : nullptr;
}

namespace {

inline float grad(const float *w, const float *g, int64_t i, float wd) { return wd != 0.f ? g[i] + wd * w[i] : g[i]; }

}  // namespace

struct RmsPropK {
    float lr, wd, a, oma, eps;
};
struct AdamK {
    float wd, b1, b2, omb1, omb2, step, inv_sqrt_c2, eps;
};

// The update loops, built per ISA (pipeline/simd.hpp); external linkage for the ifunc.
AEPIPE_SIMD_CLONES_DIV_SQRT
void rmsprop_range(float *w, const float *g, float *sq, int64_t b, int64_t e, RmsPropK k) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
        float gi = grad(w, g, i, k.wd);
        sq[i] = k.a * sq[i] + k.oma * gi * gi;
        w[i] -= k.lr * gi / (std::sqrt(sq[i]) + k.eps);
    }
}

AEPIPE_SIMD_CLONES_DIV_SQRT
void adam_range(float *w, const float *g, float *m, float *v, int64_t b, int64_t e, AdamK k) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
        float gi = grad(w, g, i, k.wd);
        m[i] = k.b1 * m[i] + k.omb1 * gi;
        v[i] = k.b2 * v[i] + k.omb2 * gi * gi;
        w[i] -= k.step * m[i] / (std::sqrt(v[i]) * k.inv_sqrt_c2 + k.eps);
    }
}

namespace {

const KeySpec kWeightDecay{"weight_decay", Kind::Float, "0", "L2 penalty added to the gradient", {}, false, at_least(0)};
KeySpec lr_key(const char *def) { return {"lr", Kind::Float, def, "learning rate", {}, false, above(0)}; }
KeySpec eps_key(const char *def) { return {"eps", Kind::Float, def, "added to the denominator", {}, false, above(0)}; }

struct SgdParams {
    double lr = 0, momentum = 0, weight_decay = 0;
    bool nesterov = false;
    static const Keys<SgdParams> &keys() {
        using P = SgdParams;
        static const Keys<P> k{
            key(&P::lr, lr_key("0.01")),
            key(&P::momentum, {"momentum", Kind::Float, "0", "momentum factor", {}, false, decay_rate()}),
            key(&P::nesterov, {"nesterov", Kind::Bool, "false", "Nesterov momentum"}),
            key(&P::weight_decay, kWeightDecay)};
        return k;
    }
};

struct RmsPropParams {
    double lr = 0, alpha = 0, eps = 0, weight_decay = 0;
    static const Keys<RmsPropParams> &keys() {
        using P = RmsPropParams;
        static const Keys<P> k{
            key(&P::lr, lr_key("0.01")),
            key(&P::alpha, {"alpha", Kind::Float, "0.99", "smoothing constant (decay)", {}, false, unit_interval()}),
            key(&P::eps, eps_key("1e-8")), key(&P::weight_decay, kWeightDecay)};
        return k;
    }
};

struct AdamParams {
    double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
    static const Keys<AdamParams> &keys() {
        using P = AdamParams;
        static const Keys<P> k{
            key(&P::lr, lr_key("0.001")),
            key(&P::beta1, {"beta1", Kind::Float, "0.9", "decay of the first moment", {}, false, decay_rate()}),
            key(&P::beta2, {"beta2", Kind::Float, "0.999", "decay of the second moment", {}, false, decay_rate()}),
            key(&P::eps, eps_key("1e-8")), key(&P::weight_decay, kWeightDecay)};
        return k;
    }
};

struct AdaGradParams {
    double lr = 0, eps = 0, initial_accumulator = 0, weight_decay = 0;
    static const Keys<AdaGradParams> &keys() {
        using P = AdaGradParams;
        static const Keys<P> k{
            key(&P::lr, lr_key("0.01")), key(&P::eps, eps_key("1e-10")),
            key(&P::initial_accumulator,
                {"initial_accumulator", Kind::Float, "0", "starting value of the sum", {}, false, at_least(0)}),
            key(&P::weight_decay, kWeightDecay)};
        return k;
    }
};

class Sgd : public Optimizer {
public:
    using Opts = SgdParams;
    explicit Sgd(const SgdParams &o)
        : Optimizer(o.lr, o.weight_decay, {"momentum_buffer"}), mu_(o.momentum), nesterov_(o.nesterov) {}

protected:
    void update(float *w, const float *g, int64_t b, int64_t e) override {
        const float lr = float(lr_), wd = float(wd_), mu = float(mu_);
        float *v = s(0);
        for (int64_t i = b; i < e; ++i) {
            float gi = grad(w, g, i, wd);
            if (mu == 0.f) {
                w[i] -= lr * gi;
                continue;
            }
            v[i] = t_ == 1 ? gi : mu * v[i] + gi;
            w[i] -= lr * (nesterov_ ? gi + mu * v[i] : v[i]);
        }
    }

private:
    double mu_;
    bool nesterov_;
};

class RmsProp : public Optimizer {
public:
    using Opts = RmsPropParams;
    explicit RmsProp(const RmsPropParams &o)
        : Optimizer(o.lr, o.weight_decay, {"square_avg"}), alpha_(o.alpha), eps_(o.eps) {}

protected:
    void update(float *w, const float *g, int64_t b, int64_t e) override {
        const float lr = float(lr_), wd = float(wd_), a = float(alpha_), eps = float(eps_);
        const float oma = float(1.0 - alpha_);  // in double, like the other betas
        rmsprop_range(w, g, s(0), b, e, {lr, wd, a, oma, eps});
    }

private:
    double alpha_, eps_;
};

class Adam : public Optimizer {
public:
    using Opts = AdamParams;
    explicit Adam(const AdamParams &o)
        : Optimizer(o.lr, o.weight_decay, {"exp_avg", "exp_avg_sq"}), b1_(o.beta1), b2_(o.beta2), eps_(o.eps) {}

protected:
    void update(float *w, const float *g, int64_t b, int64_t e) override {
        const float wd = float(wd_), b1 = float(b1_), b2 = float(b2_), eps = float(eps_);
        const double c1 = 1.0 - std::pow(b1_, double(t_)), c2 = 1.0 - std::pow(b2_, double(t_));
        const float step = float(lr_ / c1), inv_sqrt_c2 = float(1.0 / std::sqrt(c2));
        // 1 - beta in double: 1.f - float(0.999) is 1.3e-5 off 0.001, which c2 does not share.
        const float omb1 = float(1.0 - b1_), omb2 = float(1.0 - b2_);
        adam_range(w, g, s(0), s(1), b, e, {wd, b1, b2, omb1, omb2, step, inv_sqrt_c2, eps});
    }

private:
    double b1_, b2_, eps_;
};

class AdaGrad : public Optimizer {
public:
    using Opts = AdaGradParams;
    explicit AdaGrad(const AdaGradParams &o)
        : Optimizer(o.lr, o.weight_decay, {"sum"}), eps_(o.eps), init_(o.initial_accumulator) {}

protected:
    void update(float *w, const float *g, int64_t b, int64_t e) override {
        const float lr = float(lr_), wd = float(wd_), eps = float(eps_);
        float *acc = s(0);
        if (t_ == 1)
            for (int64_t i = b; i < e; ++i) acc[i] = float(init_);
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
            float gi = grad(w, g, i, wd);
            acc[i] += gi * gi;
            w[i] -= lr * gi / (std::sqrt(acc[i]) + eps);
        }
    }

private:
    double eps_, init_;
};

template <class T>
std::unique_ptr<Optimizer> make(const Params &p) {
    return std::make_unique<T>(parse<typename T::Opts>(p));
}

Registrar<OptimizerRegistry> reg_sgd({"sgd", Category::Optimizer, "stochastic gradient descent with optional (Nesterov) momentum",
                                      SgdParams::keys().specs()},
                                     make<Sgd>);
Registrar<OptimizerRegistry> reg_rmsprop({"rmsprop", Category::Optimizer, "RMSProp: divide by a running RMS of gradients",
                                          RmsPropParams::keys().specs()},
                                         make<RmsProp>);
Registrar<OptimizerRegistry> reg_adam({"adam", Category::Optimizer, "Adam with bias correction", AdamParams::keys().specs()},
                                      make<Adam>);
Registrar<OptimizerRegistry> reg_adagrad({"adagrad", Category::Optimizer,
                                          "AdaGrad: divide by the root of summed squared gradients",
                                          AdaGradParams::keys().specs()},
                                         make<AdaGrad>);

}  // namespace
}  // namespace aepipe
