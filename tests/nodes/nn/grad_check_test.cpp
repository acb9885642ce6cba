// The gradient checker itself: it passes a correct layer and fails, naming tensor and index,
// a layer whose backward is subtly wrong. Without this a checker that always passes would go
// unnoticed.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

// y(n, d) = s_j x_ij^2 with one parameter s (d). Backward: dx = 2 s x dy; ds_j = sum_i x_ij^2 dy_ij.
enum class Flaw { None, ParamGradTransposedRow, DxMissingFactor, ParamGradNotWritten };

class SquareScale : public Layer {
public:
    SquareScale(int64_t d, Flaw flaw) : d_(d), flaw_(flaw) {}
    int64_t in_dim() const override { return d_; }
    int64_t out_dim() const override { return d_; }
    std::vector<ParamView> params() const override { return {{"scale", {d_}, 0}}; }
    size_t prepare(int64_t) override { return 0; }
    void forward(int64_t n, const float *x, float *y, const float *w, void *) override {
        for (int64_t i = 0; i < n * d_; ++i) y[i] = w[i % d_] * x[i] * x[i];
    }
    void backward(int64_t n, const float *x, const float *, float *dy, float *dx, const float *w, float *g,
                  void *) override {
        if (flaw_ != Flaw::ParamGradNotWritten)
            for (int64_t j = 0; j < d_; ++j) {
                double s = 0;
                // The flaw reads the last row twice instead of the first: one row's worth off.
                for (int64_t i = 0; i < n; ++i) {
                    int64_t r = flaw_ == Flaw::ParamGradTransposedRow && i == 0 ? n - 1 : i;
                    s += double(x[r * d_ + j]) * x[r * d_ + j] * dy[r * d_ + j];
                }
                g[j] = float(s);
            }
        const float k = flaw_ == Flaw::DxMissingFactor ? 1.f : 2.f;
        if (dx)
            for (int64_t i = 0; i < n * d_; ++i) dx[i] = k * w[i % d_] * x[i] * dy[i];
    }
    std::string summary() const override { return "square_scale"; }

private:
    int64_t d_;
    Flaw flaw_;
};

struct Fixture {
    std::vector<float> x, w;
    Fixture() {
        std::mt19937_64 rng(71);
        x = test::uniform(12, -1.0, 1.0, rng);
        w = test::uniform(4, 0.5, 1.5, rng);
    }
};

TEST(GradCheck, PassesACorrectLayer) {
    Fixture f;
    SquareScale layer(4, Flaw::None);
    EXPECT_TRUE(test::check_layer(layer, 3, f.x, f.w));
}

TEST(GradCheck, FailsWrongParameterGradientAndNamesIt) {
    Fixture f;
    SquareScale layer(4, Flaw::ParamGradTransposedRow);
    testing::AssertionResult r = test::check_layer(layer, 3, f.x, f.w);
    ASSERT_FALSE(r);
    const std::string msg = r.message();
    EXPECT_NE(msg.find("square_scale (n=3) scale"), std::string::npos) << msg;
    EXPECT_NE(msg.find("scale[0]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("analytic"), std::string::npos) << msg;
    EXPECT_NE(msg.find("numeric"), std::string::npos) << msg;
}

TEST(GradCheck, FailsInputGradientOffByAFactorWithRowAndColumn) {
    Fixture f;
    SquareScale layer(4, Flaw::DxMissingFactor);
    testing::AssertionResult r = test::check_layer(layer, 3, f.x, f.w);
    ASSERT_FALSE(r);
    const std::string msg = r.message();
    EXPECT_NE(msg.find("dx (3, 4): 12 of 12 elements differ"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dx[5] (row 1, col 1)"), std::string::npos) << msg;
}

TEST(GradCheck, FailsAGradientThatIsNeverWritten) {
    Fixture f;
    SquareScale layer(4, Flaw::ParamGradNotWritten);
    testing::AssertionResult r = test::check_layer(layer, 3, f.x, f.w);
    ASSERT_FALSE(r);
    EXPECT_NE(std::string(r.message()).find("analytic nan"), std::string::npos) << r.message();
}

TEST(GradCheck, AllCloseUsesTheFloorOfOne) {
    const float a[3] = {1000.5f, 0.0005f, -2.f};
    const double near[3] = {1000.0, 0.0, -2.0};  // 5e-4 relative; 5e-4 absolute below 1
    EXPECT_TRUE(test::all_close("t", {3}, a, near, 1e-3));
    EXPECT_FALSE(test::all_close("t", {3}, a, near, 1e-4));
}

}  // namespace
}  // namespace aepipe
