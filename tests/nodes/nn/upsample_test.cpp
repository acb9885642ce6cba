// upsample (oneDNN resampling, NHWC): nearest and bilinear against the naive loops (torch's
// align_corners=false convention) and finite differences.
#include <gtest/gtest.h>

#include <limits>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/upsample.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

struct UpCase {
    int64_t n;
    Shape in;
    int64_t factor;
    bool bilinear;
};
std::string to_string(const UpCase &c) {
    return "n" + std::to_string(c.n) + "_" + c.in.str() + "_f" + std::to_string(c.factor) +
           (c.bilinear ? "_bilinear" : "_nearest");
}
void PrintTo(const UpCase &c, std::ostream *os) { *os << to_string(c); }

std::unique_ptr<Layer> make_layer(const UpCase &c) {
    return test::make_from_yaml<LayerRegistry>("{type: upsample, factor: " + std::to_string(c.factor) +
                                                   ", mode: " + (c.bilinear ? "bilinear" : "nearest") + "}",
                                               LayerInput{c.in.size(), c.in});
}

class UpsampleTest : public testing::TestWithParam<UpCase> {};

TEST_P(UpsampleTest, ForwardAndBackwardMatchReference) {
    const UpCase c = GetParam();
    auto l = make_layer(c);
    const Shape o = l->out_shape();
    EXPECT_EQ(o, (Shape{c.in.c, c.in.h * c.factor, c.in.w * c.factor}));
    std::vector<char> scratch(l->prepare(c.n) + 1);
    std::mt19937_64 rng(8);
    const std::vector<float> x = test::uniform(size_t(c.n * c.in.size()), -1.0, 1.0, rng);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(size_t(c.n * o.size()), nan);
    l->forward(c.n, x.data(), y.data(), nullptr, scratch.data());
    std::vector<double> ey(y.size());
    ref::upsample_forward(c.n, c.in, c.factor, c.bilinear, x.data(), ey.data());
    EXPECT_TRUE(test::all_close("y", {c.n, o.h, o.w, o.c}, y.data(), ey.data(), 1e-5));

    const std::vector<float> dy = test::uniform(y.size(), -1.0, 1.0, rng);
    std::vector<float> dy_work = dy, dx(x.size(), nan);
    l->backward(c.n, x.data(), y.data(), dy_work.data(), dx.data(), nullptr, nullptr, scratch.data());
    std::vector<double> ex(x.size());
    ref::upsample_backward(c.n, c.in, c.factor, c.bilinear, dy.data(), ex.data());
    EXPECT_TRUE(test::all_close("dx", {c.n, c.in.h, c.in.w, c.in.c}, dx.data(), ex.data(), 1e-5));
}

TEST_P(UpsampleTest, GradientCheck) {
    const UpCase c = GetParam();
    auto l = make_layer(c);
    std::mt19937_64 rng(9);
    EXPECT_TRUE(test::check_layer(*l, c.n, test::uniform(size_t(c.n * c.in.size()), -1.0, 1.0, rng), {}));
}

const UpCase kCases[] = {
    {2, {2, 3, 3}, 2, false}, {2, {2, 3, 3}, 2, true}, {1, {3, 2, 4}, 3, false},
    {1, {3, 2, 4}, 3, true},  {2, {8, 4, 4}, 2, true},
};
INSTANTIATE_TEST_SUITE_P(Table, UpsampleTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<UpCase> &i) { return to_string(i.param); });

}  // namespace
}  // namespace aepipe
