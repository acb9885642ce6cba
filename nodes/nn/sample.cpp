// sample: the VAE's reparameterisation trick and its KL term.
//   x (N, 2K) = [mu | logvar] (one dense layer of 2K units) -> z (N, K)
//   z = mu + exp(logvar / 2) * eps,  eps = counter_normal(seed, step, row0 + i, j) ~ N(0, 1)
//   KL_i = -1/2 sum_j (1 + logvar_ij - mu_ij^2 - exp(logvar_ij))   (nats, to the prior N(0, I))
// The model's loss adds beta * KL_i per row. Backward, with w = beta * row_weight (the
// weight of one row in the objective, 1 / batch):
//   dmu = dz + w mu,   dlogvar = dz (z - mu) / 2 + w (exp(logvar) - 1) / 2
// (dz/dlogvar = exp(logvar / 2) eps / 2 = (z - mu) / 2, so eps is never stored).
// Evaluation passes draw from a stream of their own (step -1, row = test index), the same
// every epoch, or use z = mu with `eval: mean`.
// YAML keys: beta, eval.
#include "nodes/nn/sample.hpp"

#include <cmath>
#include <cstdio>

#include "nodes/nn/noise.hpp"

namespace aepipe {

SampleLayer::SampleLayer(int64_t in, double beta, bool eval_mean) : k_(in / 2), beta_(beta), eval_mean_(eval_mean) {}

double SampleLayer::kl_row(int64_t k, const float *mu, const float *logvar) {
    double s = 0;
    for (int64_t j = 0; j < k; ++j) {
        const double m = mu[j], lv = logvar[j];
        s += 1.0 + lv - m * m - std::exp(lv);
    }
    return -0.5 * s;
}

float SampleLayer::eps(const PassInfo &p, int64_t row, int64_t col) {
    return counter_normal(p.seed, p.step, p.row0 + row, col);
}

void SampleLayer::forward(int64_t n, const float *x, float *y, const float *, void *) {
    const bool draw = pass_.train || !eval_mean_;
    double kl = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float *mu = x + i * 2 * k_, *lv = mu + k_;
        float *z = y + i * k_;
        const uint64_t key = noise_row_key(pass_.seed, pass_.step, pass_.row0 + i);
        for (int64_t j = 0; j < k_; ++j)
            z[j] = draw ? mu[j] + std::exp(0.5f * lv[j]) * counter_normal(key, j) : mu[j];
        kl += kl_row(k_, mu, lv);
    }
    kl_sum_ = kl;
}

void SampleLayer::backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *, float *,
                           void *) {
    if (!dx) return;
    const float w = float(beta_ * pass_.row_weight);
    for (int64_t i = 0; i < n; ++i) {
        const float *mu = x + i * 2 * k_, *lv = mu + k_, *z = y + i * k_, *dz = dy + i * k_;
        float *dmu = dx + i * 2 * k_, *dlv = dmu + k_;
        for (int64_t j = 0; j < k_; ++j) {
            dmu[j] = dz[j] + w * mu[j];
            dlv[j] = 0.5f * dz[j] * (z[j] - mu[j]) + 0.5f * w * (std::exp(lv[j]) - 1.f);
        }
    }
}

std::string SampleLayer::summary() const {
    char b[96];
    std::snprintf(b, sizeof b, "sample %lld->%lld beta %g", (long long)(2 * k_), (long long)k_, beta_);
    return b;
}

namespace {
struct SampleParams {
    double beta = 1;
    std::string eval;
    static const Keys<SampleParams> &keys() {
        using P = SampleParams;
        static const Keys<P> k{
            key(&P::beta, {"beta", Kind::Float, "1", "weight of the KL term in the loss", {}, false, at_least(0)}),
            key(&P::eval, {"eval", Kind::Enum, "sample",
                           "evaluation passes: sample (like the PyTorch VAE example) or mean (z = mu)",
                           {"sample", "mean"}})};
        return k;
    }
};
}  // namespace

static std::unique_ptr<Layer> make_sample(const Params &p, const LayerInput &in) {
    const auto prm = parse<SampleParams>(p);
    if (in.in_dim < 2 || in.in_dim % 2)
        p.fail("type",
               "a sample layer takes [mu | logvar] and needs an even input width, got " + std::to_string(in.in_dim),
               "give the layer before it 2K units for a K-dimensional latent code");
    if (prm.beta < 0) p.fail("beta", "'beta' must be at least 0, got " + std::to_string(prm.beta));
    return std::make_unique<SampleLayer>(in.in_dim, prm.beta, prm.eval == "mean");
}

static Registrar<LayerRegistry> reg_sample(
    {"sample",
     Category::Layer,
     "VAE sampling z = mu + exp(logvar/2) * eps from [mu | logvar] (N, 2K) -> (N, K); adds beta * KL(q || N(0, I)) "
     "to the loss",
     SampleParams::keys().specs()},
    make_sample);

}  // namespace aepipe
