// Gradient clipping factor and global norm against hand computations, and the naming of the
// first non-finite gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nodes/nn/grad_norm.hpp"

namespace aepipe {
namespace {

TEST(GradNorm, SumOfSquaresOfAHandExample) {
    std::vector<float> g{3.f, 4.f, 12.f, -84.f};
    EXPECT_DOUBLE_EQ(sum_squares(g.data(), 0, 2), 25.0);                 // norm 5
    EXPECT_DOUBLE_EQ(std::sqrt(sum_squares(g.data(), 0, 4)), 85.0);      // 9 + 16 + 144 + 7056 = 85^2
}

TEST(GradNorm, ClipCoefMatchesTorch) {
    // torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), clamped to 1.
    EXPECT_DOUBLE_EQ(clip_coef(85.0, 1.0), 1.0 / (85.0 + 1e-6));
    EXPECT_DOUBLE_EQ(clip_coef(0.5, 1.0), 1.0);
    EXPECT_DOUBLE_EQ(clip_coef(85.0, 0.0), 1.0);  // off
}

TEST(GradNorm, ClippedGradientHasTheMaxNorm) {
    std::vector<float> g{3.f, 4.f, 12.f, -84.f};
    const double c = clip_coef(std::sqrt(sum_squares(g.data(), 0, 4)), 17.0);
    for (auto &v : g) v *= float(c);
    EXPECT_NEAR(std::sqrt(sum_squares(g.data(), 0, 4)), 17.0, 1e-5);
    EXPECT_NEAR(g[0], 3.0 * 17.0 / 85.0, 1e-6);
}

std::vector<NamedParam> layout() {
    return {{"layers.0.weight", {2, 3}, 0}, {"layers.0.bias", {3}, 6}, {"layers.2.weight", {3, 2}, 9}};
}

TEST(GradNorm, FirstNonFiniteGradientIsNamedByTensorAndElement) {
    std::vector<float> g(15, 0.5f);
    g[11] = std::numeric_limits<float>::quiet_NaN();
    g[13] = std::numeric_limits<float>::infinity();
    EXPECT_FALSE(std::isfinite(sum_squares(g.data(), 0, 15)));
    EXPECT_EQ(first_non_finite(layout(), g.data(), 15), "gradient of 'layers.2.weight' is nan at element 2 (of 6)");
}

TEST(GradNorm, InfiniteBiasGradientIsNamed) {
    std::vector<float> g(15, 0.f);
    g[7] = -std::numeric_limits<float>::infinity();
    EXPECT_EQ(first_non_finite(layout(), g.data(), 15), "gradient of 'layers.0.bias' is -inf at element 1 (of 3)");
}

TEST(GradNorm, FiniteGradientsGiveNoMessage) {
    std::vector<float> g(15, 1e30f);
    EXPECT_EQ(first_non_finite(layout(), g.data(), 15), "");
    EXPECT_TRUE(std::isfinite(sum_squares(g.data(), 0, 15)));  // 1e60 * 15 fits a double
}

}  // namespace
}  // namespace aepipe
