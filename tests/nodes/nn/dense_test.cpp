// DenseLayer (oneDNN matmul + fused eltwise) against the naive loops in nodes/math and
// against finite differences, over a table of shapes x activations x bias.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/dense.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

using test::all_close;
using test::uniform;

struct DenseCase {
    int64_t n, in, out;
    Act act;
    bool bias;
};

std::string to_string(const DenseCase &c) {
    return "n" + std::to_string(c.n) + "_in" + std::to_string(c.in) + "_out" + std::to_string(c.out) + "_" +
           act_name(c.act) + (c.bias ? "_bias" : "_nobias");
}
std::string case_name(const testing::TestParamInfo<DenseCase> &info) { return to_string(info.param); }
void PrintTo(const DenseCase &c, std::ostream *os) { *os << to_string(c); }

// Inputs, weights and bias (in the layer's slab layout: W (in, out) then b (out)).
struct DenseData {
    std::vector<float> x, w;
    const float *bias(const DenseCase &c) const { return c.bias ? w.data() + c.in * c.out : nullptr; }
};

// W ~ U(+-1.5/sqrt(in)) and x ~ U(+-1) keep pre-activations near N(0, 0.5^2), where sigmoid and
// tanh are curved but not saturated. Rows of x are redrawn until every pre-activation is at
// least 0.02 from 0 (for every activation, so all share one data set): a gradient-check step
// of 0.01 moves a pre-activation by at most 0.01 * max(|x|, |W|, 1) = 0.01, so relu never
// crosses its kink inside a central difference.
DenseData make_data(const DenseCase &c, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const double a = 1.5 / std::sqrt(double(c.in));
    DenseData d;
    d.w = uniform(size_t(c.in * c.out), -a, a, rng);
    if (c.bias) {
        auto b = uniform(size_t(c.out), -0.5, 0.5, rng);
        d.w.insert(d.w.end(), b.begin(), b.end());
    }
    d.x.resize(size_t(c.n * c.in));
    std::vector<double> z(size_t(c.out));
    for (int64_t i = 0; i < c.n; ++i) {
        for (int tries = 0;; ++tries) {
            auto row = uniform(size_t(c.in), -1.0, 1.0, rng);
            ref::dense_forward(1, c.in, c.out, Act::Identity, row.data(), d.w.data(), d.bias(c), z.data());
            bool far = true;
            for (double v : z) far = far && std::abs(v) >= 0.02;
            if (tries > 1000) throw std::runtime_error("make_data: no row far from relu's kink");
            if (far) {
                std::copy(row.begin(), row.end(), d.x.begin() + i * c.in);
                break;
            }
        }
    }
    return d;
}

class DenseTest : public testing::TestWithParam<DenseCase> {};

TEST_P(DenseTest, ForwardMatchesReference) {
    const DenseCase c = GetParam();
    DenseData d = make_data(c, 11);
    DenseLayer layer(c.in, c.out, c.act, Init::Xavier, 0.01f, c.bias);
    std::vector<char> scratch(layer.prepare(c.n) + 1);
    std::vector<float> y(size_t(c.n * c.out), std::numeric_limits<float>::quiet_NaN());
    layer.forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());

    std::vector<double> expect(y.size());
    ref::dense_forward(c.n, c.in, c.out, c.act, d.x.data(), d.w.data(), d.bias(c), expect.data());
    EXPECT_TRUE(all_close("y", {c.n, c.out}, y.data(), expect.data(), 1e-5));
}

TEST_P(DenseTest, BackwardMatchesReference) {
    const DenseCase c = GetParam();
    DenseData d = make_data(c, 12);
    DenseLayer layer(c.in, c.out, c.act, Init::Xavier, 0.01f, c.bias);
    std::vector<char> scratch(layer.prepare(c.n) + 1);
    std::mt19937_64 rng(13);
    const std::vector<float> dy = uniform(size_t(c.n * c.out), -1.0, 1.0, rng);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(dy.size()), dy_work = dy, dx(d.x.size(), nan), g(d.w.size(), nan);
    layer.forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    // g and dx start as NaN: an element not overwritten (or accumulated into) fails.
    layer.backward(c.n, d.x.data(), y.data(), dy_work.data(), dx.data(), d.w.data(), g.data(), scratch.data());

    std::vector<double> ex(d.x.size()), ew(size_t(c.in * c.out)), eb(size_t(c.out));
    ref::dense_backward(c.n, c.in, c.out, c.act, d.x.data(), d.w.data(), d.bias(c), dy.data(), ex.data(), ew.data(),
                        c.bias ? eb.data() : nullptr);
    EXPECT_TRUE(all_close("dx", {c.n, c.in}, dx.data(), ex.data(), 1e-5));
    EXPECT_TRUE(all_close("dW", {c.in, c.out}, g.data(), ew.data(), 1e-5));
    if (c.bias) {
        EXPECT_TRUE(all_close("db", {c.out}, g.data() + c.in * c.out, eb.data(), 1e-5));
    }

    // Without dx (the first layer of a model) the parameter gradients are the same.
    std::vector<float> g2(g.size(), nan);
    dy_work = dy;
    layer.backward(c.n, d.x.data(), y.data(), dy_work.data(), nullptr, d.w.data(), g2.data(), scratch.data());
    EXPECT_EQ(0, std::memcmp(g.data(), g2.data(), g.size() * sizeof(float))) << "gradients differ when dx is null";
}

TEST_P(DenseTest, GradientCheck) {
    const DenseCase c = GetParam();
    DenseData d = make_data(c, 14);
    DenseLayer layer(c.in, c.out, c.act, Init::Xavier, 0.01f, c.bias);
    EXPECT_TRUE(test::check_layer(layer, c.n, d.x, d.w));
}

std::vector<DenseCase> dense_cases() {
    const int64_t shapes[][3] = {{1, 3, 2}, {4, 5, 3}, {7, 8, 16}, {50, 20, 10}};
    std::vector<DenseCase> v;
    for (auto &s : shapes)
        for (Act a : {Act::Identity, Act::Sigmoid, Act::Relu, Act::Tanh})
            for (bool bias : {true, false}) v.push_back({s[0], s[1], s[2], a, bias});
    return v;
}

INSTANTIATE_TEST_SUITE_P(Table, DenseTest, testing::ValuesIn(dense_cases()), case_name);

// One layer prepared for the full batch and the tail batch keeps one primitive set per size;
// alternating between them must give each size its own right answer.
TEST(DenseBatchSizes, FullAndTailBatchBothRight) {
    const DenseCase full{50, 20, 10, Act::Tanh, true}, tail{37, 20, 10, Act::Tanh, true};
    DenseLayer layer(20, 10, Act::Tanh, Init::Xavier, 0.01f, true);
    std::vector<char> scratch(std::max(layer.prepare(50), layer.prepare(37)) + 1);
    // prepare() is idempotent: asking again for a built size needs no more scratch.
    EXPECT_LE(layer.prepare(50), scratch.size());

    DenseData d = make_data(full, 21);
    std::mt19937_64 rng(22);
    const std::vector<float> dy = uniform(size_t(50 * 10), -1.0, 1.0, rng);
    for (const DenseCase &c : {full, tail, full, tail}) {
        SCOPED_TRACE("n=" + std::to_string(c.n));
        std::vector<float> y(size_t(c.n * 10)), dy_work(dy.begin(), dy.begin() + c.n * 10), dx(size_t(c.n * 20)),
            g(d.w.size());
        layer.forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
        layer.backward(c.n, d.x.data(), y.data(), dy_work.data(), dx.data(), d.w.data(), g.data(), scratch.data());

        std::vector<double> ey(y.size()), ex(dx.size()), ew(200), eb(10);
        ref::dense_forward(c.n, 20, 10, Act::Tanh, d.x.data(), d.w.data(), d.bias(c), ey.data());
        ref::dense_backward(c.n, 20, 10, Act::Tanh, d.x.data(), d.w.data(), d.bias(c), dy.data(), ex.data(),
                            ew.data(), eb.data());
        EXPECT_TRUE(all_close("y", {c.n, 10}, y.data(), ey.data(), 1e-5));
        EXPECT_TRUE(all_close("dx", {c.n, 20}, dx.data(), ex.data(), 1e-5));
        EXPECT_TRUE(all_close("dW", {20, 10}, g.data(), ew.data(), 1e-5));
        EXPECT_TRUE(all_close("db", {10}, g.data() + 200, eb.data(), 1e-5));
    }
}

TEST(DenseInit, XavierWithinBoundAndZeroBias) {
    DenseLayer layer(30, 20, Act::Identity, Init::Xavier, 0.01f, true);
    ASSERT_EQ(layer.num_params(), 30 * 20 + 20);
    std::vector<float> w(size_t(layer.num_params()), 123.f);
    std::mt19937_64 rng(1);
    layer.init(w.data(), rng);
    const double bound = std::sqrt(6.0 / 50.0);
    double lo = 0, hi = 0;
    for (int i = 0; i < 600; ++i) {
        lo = std::min(lo, double(w[i]));
        hi = std::max(hi, double(w[i]));
    }
    EXPECT_GE(lo, -bound);
    EXPECT_LE(hi, bound);
    EXPECT_LT(lo, -0.8 * bound) << "600 uniform draws should reach near the bound";
    EXPECT_GT(hi, 0.8 * bound);
    for (int j = 600; j < 620; ++j) EXPECT_EQ(w[j], 0.f) << "bias[" << j - 600 << "]";
}

}  // namespace
}  // namespace aepipe
