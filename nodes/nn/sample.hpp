#pragma once

#include "nodes/nn/layer.hpp"

namespace aepipe {

// The VAE's reparameterised sampling layer: (N, 2K) = [mu | logvar] -> z (N, K), plus the
// KL divergence to N(0, I) as a loss term of weight beta. See sample.cpp.
class SampleLayer : public Layer {
public:
    SampleLayer(int64_t in, double beta, bool eval_mean);
    int64_t in_dim() const override { return 2 * k_; }
    int64_t out_dim() const override { return k_; }
    size_t prepare(int64_t) override { return 0; }
    void forward(int64_t n, const float *x, float *y, const float *w, void *scratch) override;
    void backward(int64_t n, const float *x, const float *y, float *dy, float *dx, const float *w, float *g,
                  void *scratch) override;
    std::string summary() const override;
    void begin_pass(const PassInfo &p) override { pass_ = p; }
    double penalty_sum() const override { return kl_sum_; }
    double penalty_weight() const override { return beta_; }

    // KL(N(mu, exp(logvar)) || N(0, 1)) of one row of K pairs, in nats.
    static double kl_row(int64_t k, const float *mu, const float *logvar);
    // eps of element (row, col) for the given pass (training stream = step).
    static float eps(const PassInfo &p, int64_t row, int64_t col);

private:
    int64_t k_;
    double beta_;
    bool eval_mean_;
    PassInfo pass_;
    double kl_sum_ = 0;
};

}  // namespace aepipe
