// Standalone ActivationLayer (oneDNN eltwise, backward through y) against the naive loops in
// nodes/math (derivative at x) and against finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/activation.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

using test::all_close;

struct ActCase {
    int64_t n, d;
    Act act;
};

std::string to_string(const ActCase &c) {
    return "n" + std::to_string(c.n) + "_d" + std::to_string(c.d) + "_" + act_name(c.act);
}
std::string case_name(const testing::TestParamInfo<ActCase> &info) { return to_string(info.param); }
void PrintTo(const ActCase &c, std::ostream *os) { *os << to_string(c); }

// x ~ U(-3, 3), redrawn while |x| < 0.02: relu's kink stays outside every central difference
// (step 0.01), and sigmoid/tanh are sampled into their flat tails, where y(1-y) and 1-y^2
// computed from a float y lose the most precision.
std::vector<float> make_x(int64_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-3.0, 3.0);
    std::vector<float> x(static_cast<size_t>(count));
    for (auto &e : x) {
        do e = float(u(rng));
        while (std::abs(e) < 0.02f);
    }
    return x;
}

class ActivationTest : public testing::TestWithParam<ActCase> {};

TEST_P(ActivationTest, ForwardAndBackwardMatchReference) {
    const ActCase c = GetParam();
    const int64_t count = c.n * c.d;
    ActivationLayer layer(c.act, c.d);
    EXPECT_EQ(layer.num_params(), 0);
    std::vector<char> scratch(layer.prepare(c.n) + 1);
    const std::vector<float> x = make_x(count, 31);
    std::mt19937_64 rng(32);
    const std::vector<float> dy = test::uniform(size_t(count), -1.0, 1.0, rng);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(size_t(count), nan), dy_work = dy, dx(size_t(count), nan);

    layer.forward(c.n, x.data(), y.data(), nullptr, scratch.data());
    layer.backward(c.n, x.data(), y.data(), dy_work.data(), dx.data(), nullptr, nullptr, scratch.data());

    std::vector<double> ey(static_cast<size_t>(count)), edx(static_cast<size_t>(count));
    ref::act_forward(c.act, count, x.data(), ey.data());
    ref::act_backward(c.act, count, x.data(), dy.data(), edx.data());
    EXPECT_TRUE(all_close("y", {c.n, c.d}, y.data(), ey.data(), 1e-5));
    EXPECT_TRUE(all_close("dx", {c.n, c.d}, dx.data(), edx.data(), 1e-5));

    // In place (dx == dy), as a caller short of buffers may do: the same dx.
    dy_work = dy;
    layer.backward(c.n, x.data(), y.data(), dy_work.data(), dy_work.data(), nullptr, nullptr, scratch.data());
    EXPECT_TRUE(all_close("dx in place", {c.n, c.d}, dy_work.data(), edx.data(), 1e-5));
}

TEST_P(ActivationTest, GradientCheck) {
    const ActCase c = GetParam();
    ActivationLayer layer(c.act, c.d);
    EXPECT_TRUE(test::check_layer(layer, c.n, make_x(c.n * c.d, 33), {}));
}

std::vector<ActCase> act_cases() {
    std::vector<ActCase> v;
    for (auto [n, d] : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {16, 33}})
        for (Act a : {Act::Identity, Act::Sigmoid, Act::Relu, Act::Tanh}) v.push_back({n, d, a});
    return v;
}

INSTANTIATE_TEST_SUITE_P(Table, ActivationTest, testing::ValuesIn(act_cases()), case_name);

// The layers registered by name build the activation they are named after.
TEST(ActivationRegistry, EachNameBuildsItsActivation) {
    const float x[4] = {-2.f, -0.5f, 0.5f, 2.f};
    for (Act a : {Act::Identity, Act::Sigmoid, Act::Relu, Act::Tanh}) {
        SCOPED_TRACE(act_name(a));
        auto layer = test::make_from_yaml<LayerRegistry>(std::string("{type: ") + act_name(a) + "}", LayerInput{4});
        ASSERT_NE(layer, nullptr);
        EXPECT_EQ(layer->in_dim(), 4);
        EXPECT_EQ(layer->out_dim(), 4);
        std::vector<char> scratch(layer->prepare(1) + 1);
        float y[4];
        layer->forward(1, x, y, nullptr, scratch.data());
        double ey[4];
        ref::act_forward(a, 4, x, ey);
        EXPECT_TRUE(all_close("y", {1, 4}, y, ey, 1e-5));
    }
}

}  // namespace
}  // namespace aepipe
