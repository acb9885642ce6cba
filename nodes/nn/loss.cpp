// Losses, mean over all N*D elements (PyTorch's reduction='mean'):
//   mse: L = mean((y - t)^2),                 dL/dy = 2 (y - t) / (N D)
//   bce: L = -mean(t log y + (1-t) log(1-y)), dL/dy = (y - t) / (y (1 - y) N D), y clamped to [eps, 1-eps]
//   bce with from_logits: L = mean(max(z,0) - z t + log(1 + exp(-|z|))), dL/dz = (sigmoid(z) - t) / (N D)
// reduction: sum divides by N instead of N D: the loss summed over a sample's pixels, averaged
// over samples (the VAE's nats per image).
// YAML keys: reduction; bce: from_logits, eps.
#include "nodes/nn/loss.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace aepipe {

void Loss::to_image(int64_t count, const float *y, float *out) const {
    if (out != y) std::memcpy(out, y, sizeof(float) * count);
}

double mse_per_element(int64_t count, const float *a, const float *b) {
    double s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
    for (int64_t i = 0; i < count; ++i) {
        double e = double(a[i]) - double(b[i]);
        s += e * e;
    }
    return count ? s / double(count) : 0.0;
}

namespace {

class Mse : public Loss {
public:
    explicit Mse(bool sum) : Loss(sum) {}
    double forward_backward(int64_t n, int64_t d, const float *y, const float *t, float *dy,
                            double grad_scale) const override {
        const int64_t count = n * d;
        const float k = float(2.0 * grad_scale / denominator(n, d));
        double s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
        for (int64_t i = 0; i < count; ++i) {
            float e = y[i] - t[i];
            dy[i] = k * e;
            s += double(e) * e;
        }
        return s / denominator(n, d);
    }
    double value(int64_t n, int64_t d, const float *y, const float *t) const override {
        return mse_per_element(n * d, y, t) * double(n * d) / denominator(n, d);
    }
};

class Bce : public Loss {
public:
    Bce(bool logits, double eps, bool sum) : Loss(sum), logits_(logits), eps_(eps) {}
    bool outputs_logits() const override { return logits_; }
    std::string unit() const override { return sums_per_sample() ? "nats_per_img" : "nats_per_px"; }

    double forward_backward(int64_t n, int64_t d, const float *y, const float *t, float *dy,
                            double grad_scale) const override {
        const int64_t count = n * d;
        const double k = grad_scale / denominator(n, d);
        double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
        for (int64_t i = 0; i < count; ++i) {
            double g;
            s += term(y[i], t[i], &g);
            dy[i] = float(g * k);
        }
        return s / denominator(n, d);
    }
    double value(int64_t n, int64_t d, const float *y, const float *t) const override {
        const int64_t count = n * d;
        double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
        for (int64_t i = 0; i < count; ++i) s += term(y[i], t[i], nullptr);
        return s / denominator(n, d);
    }
    void to_image(int64_t count, const float *y, float *out) const override {
        if (!logits_) return Loss::to_image(count, y, out);
        for (int64_t i = 0; i < count; ++i) out[i] = float(1.0 / (1.0 + std::exp(-double(y[i]))));
    }

private:
    // Loss of one element; *g = dL/dy of that element (unscaled) when g is not null.
    double term(float yf, float tf, double *g) const {
        double y = yf, t = tf;
        if (logits_) {  // one exp serves both: sigmoid(y) = 1/(1+e) (y >= 0) or e/(1+e), e = exp(-|y|)
            const double e = std::exp(-std::abs(y));
            if (g) *g = (y >= 0 ? 1.0 : e) / (1.0 + e) - t;
            return std::max(y, 0.0) - y * t + std::log1p(e);
        }
        double p = std::clamp(y, eps_, 1.0 - eps_);
        if (g) *g = (p - t) / (p * (1.0 - p));
        return -(t * std::log(p) + (1.0 - t) * std::log(1.0 - p));
    }
    bool logits_;
    double eps_;
};

const KeySpec kReduction{"reduction", Kind::Enum, "mean",
                         "mean: over all values (PyTorch's default); sum: summed per sample, mean over samples "
                         "(per image; a model with a sample layer needs it)",
                         {"mean", "sum"}};

struct MseParams {
    std::string reduction;
    static const Keys<MseParams> &keys() {
        static const Keys<MseParams> k{key(&MseParams::reduction, kReduction)};
        return k;
    }
};

struct BceParams {
    bool from_logits = false;
    double eps = 0;
    std::string reduction;
    static const Keys<BceParams> &keys() {
        using P = BceParams;
        static const Keys<P> k{
            key(&P::from_logits, {"from_logits", Kind::Bool, "false", "the model outputs logits (use an identity last layer)"}),
            key(&P::eps, {"eps", Kind::Float, "1e-7", "probabilities are clamped to [eps, 1-eps]", {}, false,
                          Range{0, 0.5, true, true, true}}),
            key(&P::reduction, kReduction)};
        return k;
    }
};

Registrar<LossRegistry> reg_mse({"mse", Category::Loss, "mean squared error over all pixels (PyTorch MSELoss)",
                                 MseParams::keys().specs()},
                                [](const Params &p) {
                                    return std::make_unique<Mse>(parse<MseParams>(p).reduction == "sum");
                                });

Registrar<LossRegistry> reg_bce({"bce", Category::Loss, "binary cross-entropy, mean over pixels; targets in [0,1]",
                                 BceParams::keys().specs()},
                                [](const Params &p) {
                                    const auto prm = parse<BceParams>(p);
                                    return std::make_unique<Bce>(prm.from_logits, prm.eps, prm.reduction == "sum");
                                });

}  // namespace
}  // namespace aepipe
