// Losses: values and gradients written out by hand on a tiny example, against the naive
// loops in nodes/math on random data, and against finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/loss.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

using test::make_from_yaml;

// The tiny example, n = 2 rows of d = 3, so every mean divides by 6.
const float kY[6] = {0.2f, 0.7f, 0.9f, 0.4f, 0.05f, 0.5f};
const float kT[6] = {0.f, 1.f, 1.f, 0.f, 0.25f, 0.5f};

void expect_values(const char *what, const float *actual, const std::vector<double> &expected, double tol) {
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << what << "[" << i << "]";
}

TEST(LossMse, HandComputedValueAndGradient) {
    auto loss = make_from_yaml<LossRegistry>("{type: mse}");
    float dy[6];
    // e = y - t = (0.2, -0.3, -0.1, 0.4, -0.2, 0); sum e^2 = 0.04+0.09+0.01+0.16+0.04+0 = 0.34;
    // L = 0.34 / 6; dL/dy = 2 e / 6 = e / 3.
    EXPECT_NEAR(loss->forward_backward(2, 3, kY, kT, dy), 0.34 / 6, 1e-7);
    expect_values("dy", dy, {0.2 / 3, -0.3 / 3, -0.1 / 3, 0.4 / 3, -0.2 / 3, 0.0}, 1e-7);
    EXPECT_NEAR(loss->value(2, 3, kY, kT), 0.34 / 6, 1e-7);
    EXPECT_FALSE(loss->outputs_logits());
}

TEST(LossBce, HandComputedValueAndGradientOnProbabilities) {
    auto loss = make_from_yaml<LossRegistry>("{type: bce}");
    float dy[6];
    // Per element -(t log y + (1-t) log(1-y)):
    //   -log 0.8 = 0.22314355, -log 0.7 = 0.35667494, -log 0.9 = 0.10536052, -log 0.6 = 0.51082562,
    //   -(0.25 log 0.05 + 0.75 log 0.95) = 0.78740304, -log 0.5 = 0.69314718;
    //   sum 2.67655485, L = sum / 6 = 0.44609248.
    // dL/dy = (-t/y + (1-t)/(1-y)) / 6:
    //   1/(0.8*6), -1/(0.7*6), -1/(0.9*6), 1/(0.6*6), (-0.25/0.05 + 0.75/0.95)/6, (-1 + 1)/6.
    EXPECT_NEAR(loss->forward_backward(2, 3, kY, kT, dy), 0.44609248, 1e-6);
    expect_values("dy", dy, {0.20833333, -0.23809524, -0.18518519, 0.27777778, -0.70175439, 0.0}, 1e-6);
    EXPECT_NEAR(loss->value(2, 3, kY, kT), 0.44609248, 1e-6);
    EXPECT_FALSE(loss->outputs_logits());
}

TEST(LossBce, ProbabilitiesAreClampedToEps) {
    auto loss = make_from_yaml<LossRegistry>("{type: bce, eps: 1e-3}");
    // y = 0 with t = 1 and y = 1 with t = 0 would be log(0); clamped, each costs -log(1e-3).
    const float y[2] = {0.f, 1.f}, t[2] = {1.f, 0.f};
    float dy[2];
    double l = loss->forward_backward(1, 2, y, t, dy);
    EXPECT_NEAR(l, -std::log(1e-3), 1e-9);
    EXPECT_TRUE(std::isfinite(dy[0]) && std::isfinite(dy[1]));
    EXPECT_LT(dy[0], 0.f) << "raising y toward t = 1 lowers the loss";
    EXPECT_GT(dy[1], 0.f);
}

TEST(LossBce, HandComputedValueAndGradientFromLogits) {
    auto loss = make_from_yaml<LossRegistry>("{type: bce, from_logits: true}");
    const float z[6] = {-2.f, 0.5f, 3.f, 0.f, 1.5f, -0.5f};
    float dz[6];
    // Per element log(1 + e^z) - z t (the same loss with y = sigmoid(z)):
    //   z=-2,t=0: 0.12692801;  z=0.5,t=1: 0.47407698;  z=3,t=1: 0.04858735;
    //   z=0,t=0: 0.69314718;   z=1.5,t=0.25: 1.32641328;  z=-0.5,t=0.5: 0.72407698;
    //   sum 3.39322979, L = sum / 6 = 0.56553830.
    // dL/dz = (sigmoid(z) - t) / 6 with sigmoid(z) = 0.11920292, 0.62245933, 0.95257413, 0.5,
    //   0.81757448, 0.37754067.
    EXPECT_NEAR(loss->forward_backward(2, 3, z, kT, dz), 0.56553830, 1e-7);
    expect_values("dz", dz, {0.11920292 / 6, (0.62245933 - 1) / 6, (0.95257413 - 1) / 6, 0.5 / 6,
                             (0.81757448 - 0.25) / 6, (0.37754067 - 0.5) / 6},
                  1e-7);
    EXPECT_NEAR(loss->value(2, 3, z, kT), 0.56553830, 1e-7);
    EXPECT_TRUE(loss->outputs_logits());
}

TEST(LossBce, FromLogitsIsStableForLargeLogits) {
    auto loss = make_from_yaml<LossRegistry>("{type: bce, from_logits: true}");
    // The naive -log(1 - sigmoid(100)) is -log(0) = inf; the loss is exactly 100 (and 100 for
    // z = -100 with t = 1), with gradients +1/2 and -1/2 (mean over 2).
    const float z[2] = {100.f, -100.f}, t[2] = {0.f, 1.f};
    float dz[2];
    EXPECT_NEAR(loss->forward_backward(1, 2, z, t, dz), 100.0, 1e-9);
    EXPECT_NEAR(dz[0], 0.5, 1e-7);
    EXPECT_NEAR(dz[1], -0.5, 1e-7);
}

TEST(LossBce, FromLogitsToImageIsSigmoid) {
    auto logits = make_from_yaml<LossRegistry>("{type: bce, from_logits: true}");
    const float z[5] = {-30.f, -2.f, 0.f, 0.5f, 4.f};
    float img[5];
    logits->to_image(5, z, img);
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(img[i], 1.0 / (1.0 + std::exp(-double(z[i]))), 1e-7) << "z=" << z[i];
    EXPECT_FLOAT_EQ(img[2], 0.5f);

    // Losses on probabilities pass the output through unchanged.
    for (const char *yaml : {"{type: bce}", "{type: mse}"}) {
        auto loss = make_from_yaml<LossRegistry>(yaml);
        const float y[3] = {0.1f, 0.5f, 0.9f};
        float out[3];
        loss->to_image(3, y, out);
        for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], y[i]) << yaml;
    }
}

// Random data of a realistic size: production (float, OpenMP reduction) against the loops.
TEST(LossReference, MatchesReferenceOnRandomData) {
    const int64_t n = 32, d = 100, count = n * d;
    std::mt19937_64 rng(41);
    const auto y = test::uniform(size_t(count), 0.02, 0.98, rng), t = test::uniform(size_t(count), 0.0, 1.0, rng),
               z = test::uniform(size_t(count), -6.0, 6.0, rng);
    std::vector<float> dy(static_cast<size_t>(count));
    std::vector<double> edy(static_cast<size_t>(count));
    static constexpr double kEps = 1e-7;  // bce's default

    struct Case {
        const char *yaml;
        const std::vector<float> &in;
        double (*ref)(int64_t, const float *, const float *, double *);
    };
    auto bce = [](int64_t c, const float *a, const float *b, double *g) { return ref::bce(c, a, b, kEps, g); };
    const Case cases[] = {{"{type: mse}", y, ref::mse}, {"{type: bce}", y, bce},
                          {"{type: bce, from_logits: true}", z, ref::bce_logits}};
    for (const Case &c : cases) {
        SCOPED_TRACE(c.yaml);
        auto loss = make_from_yaml<LossRegistry>(c.yaml);
        double l = loss->forward_backward(n, d, c.in.data(), t.data(), dy.data());
        double el = c.ref(count, c.in.data(), t.data(), edy.data());
        EXPECT_NEAR(l, el, 1e-9 * std::abs(el));
        EXPECT_NEAR(loss->value(n, d, c.in.data(), t.data()), el, 1e-9 * std::abs(el));
        // Gradients are O(1/count): compare them scaled to O(1).
        for (int64_t i = 0; i < count; ++i) {
            const double a = dy[i] * double(count), e = edy[i] * double(count);
            ASSERT_NEAR(a, e, 1e-5 * std::max(1.0, std::abs(e))) << "dy[" << i << "]";
        }
    }
}

TEST(LossGradient, FiniteDifferences) {
    std::mt19937_64 rng(42);
    const int64_t n = 4, d = 5;
    const auto p = test::uniform(20, 0.1, 0.9, rng), t = test::uniform(20, 0.0, 1.0, rng),
               z = test::uniform(20, -4.0, 4.0, rng);
    // The loss is summed in double from float inputs, so a small step is precise here.
    test::GradCheckOptions opt;
    opt.eps = 1e-3;
    opt.tol = 1e-4;
    for (const char *yaml : {"{type: mse}", "{type: bce}"}) {
        SCOPED_TRACE(yaml);
        EXPECT_TRUE(test::check_loss(*make_from_yaml<LossRegistry>(yaml), n, d, p, t, opt));
    }
    EXPECT_TRUE(test::check_loss(*make_from_yaml<LossRegistry>("{type: bce, from_logits: true}"), n, d, z, t, opt));
}

}  // namespace
}  // namespace aepipe
