// conv2d and deconv2d (oneDNN, NHWC rows, weights reordered from the slab's OIHW / IOHW)
// against the naive loops in nodes/math and against finite differences, over a table of
// geometries x activations x bias. Channel counts of 8 make oneDNN pick blocked weight
// layouts, so the reorders to and from the slab are exercised too.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/conv.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

using test::all_close;
using test::uniform;

struct ConvTestCase {
    int64_t n;
    Shape in;  // {c, h, w}
    int64_t filters, kernel, stride, padding;
    bool transposed;
    Act act;
    bool bias;
};

std::string to_string(const ConvTestCase &c) {
    return std::string(c.transposed ? "deconv" : "conv") + "_n" + std::to_string(c.n) + "_" + c.in.str() + "_f" +
           std::to_string(c.filters) + "_k" + std::to_string(c.kernel) + "s" + std::to_string(c.stride) + "p" +
           std::to_string(c.padding) + "_" + act_name(c.act) + (c.bias ? "_bias" : "_nobias");
}
std::string case_name(const testing::TestParamInfo<ConvTestCase> &info) { return to_string(info.param); }
void PrintTo(const ConvTestCase &c, std::ostream *os) { *os << to_string(c); }

std::unique_ptr<Layer> make_layer(const ConvTestCase &c) {
    std::string yaml = std::string("{type: ") + (c.transposed ? "deconv2d" : "conv2d") +
                       ", filters: " + std::to_string(c.filters) + ", kernel: " + std::to_string(c.kernel) +
                       ", stride: " + std::to_string(c.stride) + ", padding: " + std::to_string(c.padding) +
                       ", activation: " + act_name(c.act) + ", bias: " + (c.bias ? "true" : "false") + "}";
    return test::make_from_yaml<LayerRegistry>(yaml, LayerInput{c.in.size(), c.in});
}

ref::ConvCase ref_case(const ConvTestCase &c, const Layer &l) {
    return {c.in, l.out_shape(), c.kernel, c.stride, c.padding, c.transposed, c.act};
}

struct ConvData {
    std::vector<float> x, w;  // w: the layer's slab slice (weight, then bias)
};

ConvData make_data(const ConvTestCase &c, const Layer &l, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const int64_t wn = c.filters * c.in.c * c.kernel * c.kernel;
    const double a = 1.5 / std::sqrt(double(c.in.c * c.kernel * c.kernel));
    ConvData d;
    d.w = uniform(size_t(wn), -a, a, rng);
    if (c.bias) {
        auto b = uniform(size_t(c.filters), -0.5, 0.5, rng);
        d.w.insert(d.w.end(), b.begin(), b.end());
    }
    EXPECT_EQ(int64_t(d.w.size()), l.num_params());
    d.x = uniform(size_t(c.n * c.in.size()), -1.0, 1.0, rng);
    return d;
}

class ConvTest : public testing::TestWithParam<ConvTestCase> {};

TEST_P(ConvTest, OutputShapeIsTheFormula) {
    const ConvTestCase c = GetParam();
    auto l = make_layer(c);
    auto expect = [&](int64_t s) {
        return c.transposed ? (s - 1) * c.stride - 2 * c.padding + c.kernel
                            : (s + 2 * c.padding - c.kernel) / c.stride + 1;
    };
    EXPECT_EQ(l->out_shape(), (Shape{c.filters, expect(c.in.h), expect(c.in.w)})) << l->out_shape().str();
    EXPECT_EQ(l->out_dim(), l->out_shape().size());
}

TEST_P(ConvTest, ForwardMatchesReference) {
    const ConvTestCase c = GetParam();
    auto l = make_layer(c);
    ConvData d = make_data(c, *l, 11);
    std::vector<char> scratch(l->prepare(c.n) + 1);
    std::vector<float> y(size_t(c.n * l->out_dim()), std::numeric_limits<float>::quiet_NaN());
    l->forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    std::vector<double> expect(y.size());
    const float *b = c.bias ? d.w.data() + (d.w.size() - size_t(c.filters)) : nullptr;
    ref::conv_forward(c.n, ref_case(c, *l), d.x.data(), d.w.data(), b, expect.data());
    Shape o = l->out_shape();
    EXPECT_TRUE(all_close("y", {c.n, o.h, o.w, o.c}, y.data(), expect.data(), 1e-5));
}

TEST_P(ConvTest, BackwardMatchesReference) {
    const ConvTestCase c = GetParam();
    auto l = make_layer(c);
    ConvData d = make_data(c, *l, 12);
    std::vector<char> scratch(l->prepare(c.n) + 1);
    std::mt19937_64 rng(13);
    const std::vector<float> dy = uniform(size_t(c.n * l->out_dim()), -1.0, 1.0, rng);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(dy.size()), dy_work = dy, dx(d.x.size(), nan), g(d.w.size(), nan);
    l->forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    l->backward(c.n, d.x.data(), y.data(), dy_work.data(), dx.data(), d.w.data(), g.data(), scratch.data());

    const int64_t wn = c.filters * c.in.c * c.kernel * c.kernel;
    const float *b = c.bias ? d.w.data() + wn : nullptr;
    std::vector<double> ex(d.x.size()), ew(static_cast<size_t>(wn)), eb(static_cast<size_t>(c.filters));
    ref::conv_backward(c.n, ref_case(c, *l), d.x.data(), d.w.data(), b, dy.data(), ex.data(), ew.data(),
                       c.bias ? eb.data() : nullptr);
    EXPECT_TRUE(all_close("dx", {c.n, c.in.h, c.in.w, c.in.c}, dx.data(), ex.data(), 1e-5));
    EXPECT_TRUE(all_close("dW", l->params()[0].shape, g.data(), ew.data(), 1e-5));
    if (c.bias) {
        EXPECT_TRUE(all_close("db", {c.filters}, g.data() + wn, eb.data(), 1e-5));
    }

    // Without dx (the first layer of a model) the parameter gradients are the same.
    std::vector<float> g2(g.size(), nan);
    dy_work = dy;
    l->backward(c.n, d.x.data(), y.data(), dy_work.data(), nullptr, d.w.data(), g2.data(), scratch.data());
    EXPECT_EQ(0, std::memcmp(g.data(), g2.data(), g.size() * sizeof(float))) << "gradients differ when dx is null";
}

// relu cases are not instantiated here: a central difference may cross its kink (its
// derivative through y is the dense layer's and is checked there; the reference test above
// covers relu convolutions).
class ConvGradTest : public testing::TestWithParam<ConvTestCase> {};

TEST_P(ConvGradTest, GradientCheck) {
    const ConvTestCase c = GetParam();
    auto l = make_layer(c);
    ConvData d = make_data(c, *l, 14);
    EXPECT_TRUE(test::check_layer(*l, c.n, d.x, d.w));
}

std::vector<ConvTestCase> conv_cases() {
    struct Geo {
        int64_t n;
        Shape in;
        int64_t filters, kernel, stride, padding;
        bool transposed;
    };
    const Geo geos[] = {
        {2, {1, 5, 5}, 3, 3, 1, 0, false},   // one input channel, valid
        {2, {2, 6, 6}, 4, 3, 2, 1, false},   // strided, padded
        {1, {3, 7, 5}, 2, 2, 2, 0, false},   // not square, stride leaves a border
        {1, {8, 3, 3}, 8, 3, 1, 1, false},   // blocked weights
        {2, {2, 3, 3}, 3, 3, 2, 1, true},    // 3 -> 5
        {2, {1, 4, 4}, 2, 4, 2, 1, true},    // 4 -> 8, the decoder's doubling
        {1, {8, 2, 3}, 8, 3, 1, 0, true},    // not square, blocked weights
        {1, {8, 2, 2}, 8, 4, 2, 1, true},    // 2 -> 4, blocked weights
    };
    std::vector<ConvTestCase> v;
    int k = 0;
    for (const Geo &g : geos)
        for (Act a : {Act::Identity, Act::Sigmoid, Act::Relu, Act::Tanh})
            v.push_back({g.n, g.in, g.filters, g.kernel, g.stride, g.padding, g.transposed, a, (k++ % 3) != 1});
    return v;
}

INSTANTIATE_TEST_SUITE_P(Table, ConvTest, testing::ValuesIn(conv_cases()), case_name);

std::vector<ConvTestCase> smooth_conv_cases() {
    std::vector<ConvTestCase> out;
    for (const auto &c : conv_cases())
        if (c.act != Act::Relu) out.push_back(c);
    return out;
}
INSTANTIATE_TEST_SUITE_P(Table, ConvGradTest, testing::ValuesIn(smooth_conv_cases()), case_name);

// Two batch sizes keep their own primitives (and weight reorders); alternating gives each its
// right answer.
TEST(ConvBatchSizes, FullAndTailBatchBothRight) {
    const ConvTestCase c{5, {8, 4, 4}, 16, 3, 2, 1, false, Act::Tanh, true};
    auto l = make_layer(c);
    std::vector<char> scratch(std::max(l->prepare(5), l->prepare(3)) + 1);
    ConvData d = make_data(c, *l, 21);
    for (int64_t n : {5, 3, 5, 3}) {
        SCOPED_TRACE("n=" + std::to_string(n));
        std::vector<float> y(size_t(n * l->out_dim()));
        l->forward(n, d.x.data(), y.data(), d.w.data(), scratch.data());
        std::vector<double> expect(y.size());
        ref::conv_forward(n, ref_case(c, *l), d.x.data(), d.w.data(), d.w.data() + 16 * 8 * 9, expect.data());
        EXPECT_TRUE(all_close("y", {n, l->out_dim()}, y.data(), expect.data(), 1e-5));
    }
}

TEST(ConvLayerParams, SlabLayoutsAreTorchs) {
    auto conv = make_layer({1, {3, 8, 8}, 5, 3, 1, 0, false, Act::Identity, true});
    auto deconv = make_layer({1, {3, 8, 8}, 5, 3, 1, 0, true, Act::Identity, true});
    EXPECT_EQ(conv->params()[0].shape, (std::vector<int64_t>{5, 3, 3, 3}));    // (out, in, K, K)
    EXPECT_EQ(deconv->params()[0].shape, (std::vector<int64_t>{3, 5, 3, 3}));  // (in, out, K, K)
    EXPECT_EQ(conv->params()[1].shape, (std::vector<int64_t>{5}));
    EXPECT_EQ(conv->num_params(), 5 * 3 * 9 + 5);
}

}  // namespace
}  // namespace aepipe
