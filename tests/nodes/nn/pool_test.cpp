// maxpool (oneDNN pooling, NHWC) against the naive loop and finite differences. Inputs are a
// shuffled ramp with steps of 0.05, so no two values in a window are within the gradient
// check's 2 eps of each other and the argmax never flips inside a central difference.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/pool.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

struct PoolCase {
    int64_t n;
    Shape in;
    int64_t kernel, stride, padding;
};
std::string to_string(const PoolCase &c) {
    return "n" + std::to_string(c.n) + "_" + c.in.str() + "_k" + std::to_string(c.kernel) + "s" +
           std::to_string(c.stride) + "p" + std::to_string(c.padding);
}
void PrintTo(const PoolCase &c, std::ostream *os) { *os << to_string(c); }

std::unique_ptr<Layer> make_layer(const PoolCase &c) {
    return test::make_from_yaml<LayerRegistry>("{type: maxpool, kernel: " + std::to_string(c.kernel) + ", stride: " +
                                                   std::to_string(c.stride) + ", padding: " + std::to_string(c.padding) +
                                                   "}",
                                               LayerInput{c.in.size(), c.in});
}

std::vector<float> ramp(int64_t count, uint64_t seed) {
    std::vector<float> x(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) x[size_t(i)] = float(0.05 * double(i - count / 2));
    std::mt19937_64 rng(seed);
    std::shuffle(x.begin(), x.end(), rng);
    return x;
}

class PoolTest : public testing::TestWithParam<PoolCase> {};

TEST_P(PoolTest, ForwardAndBackwardMatchReference) {
    const PoolCase c = GetParam();
    auto l = make_layer(c);
    const Shape o = l->out_shape();
    std::vector<char> scratch(l->prepare(c.n) + 1);
    const std::vector<float> x = ramp(c.n * c.in.size(), 3);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(size_t(c.n * o.size()), nan);
    l->forward(c.n, x.data(), y.data(), nullptr, scratch.data());
    std::vector<double> ey(y.size());
    ref::maxpool_forward(c.n, c.in, o, c.kernel, c.stride, c.padding, x.data(), ey.data());
    EXPECT_TRUE(test::all_close("y", {c.n, o.h, o.w, o.c}, y.data(), ey.data(), 1e-6));

    std::mt19937_64 rng(4);
    const std::vector<float> dy = test::uniform(y.size(), -1.0, 1.0, rng);
    std::vector<float> dy_work = dy, dx(x.size(), nan);
    l->backward(c.n, x.data(), y.data(), dy_work.data(), dx.data(), nullptr, nullptr, scratch.data());
    std::vector<double> ex(x.size());
    ref::maxpool_backward(c.n, c.in, o, c.kernel, c.stride, c.padding, x.data(), dy.data(), ex.data());
    EXPECT_TRUE(test::all_close("dx", {c.n, c.in.h, c.in.w, c.in.c}, dx.data(), ex.data(), 1e-6));
}

TEST_P(PoolTest, GradientCheck) {
    const PoolCase c = GetParam();
    auto l = make_layer(c);
    EXPECT_TRUE(test::check_layer(*l, c.n, ramp(c.n * c.in.size(), 5), {}));
}

const PoolCase kCases[] = {
    {2, {3, 4, 4}, 2, 2, 0},  // the usual halving
    {1, {2, 5, 5}, 3, 2, 1},  // padded, windows overlap
    {2, {8, 6, 4}, 3, 1, 0},  // stride 1, not square, 8 channels (blocked kernels)
    {1, {1, 5, 7}, 2, 2, 0},  // odd sizes: the last row/column is dropped
};
INSTANTIATE_TEST_SUITE_P(Table, PoolTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<PoolCase> &i) { return to_string(i.param); });

TEST(MaxPoolShape, StrideDefaultsToTheKernel) {
    auto l = test::make_from_yaml<LayerRegistry>("{type: maxpool, kernel: 2}", LayerInput{28 * 28 * 4, {4, 28, 28}});
    EXPECT_EQ(l->out_shape(), (Shape{4, 14, 14}));
}

}  // namespace
}  // namespace aepipe
