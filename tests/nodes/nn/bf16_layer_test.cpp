// dense, conv2d and deconv2d in bf16 (train.precision: bf16) against the f32 naive loops in
// nodes/math: forward, backward data and backward weights within bf16's tolerance (operands
// carry 8 significant bits, a relative error of 2^-9 each; the sums stay f32), and, with the
// operands rounded to bf16 by the test itself, within f32's: that proves the layer really
// rounds its operands (and only them) and accumulates and writes in f32.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/conv.hpp"
#include "nodes/nn/dense.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

using test::all_close;
using test::uniform;

// The same products as the layer in another summation order: f32 rounding only.
constexpr double kRoundedTol = 1e-4;

#define SKIP_WITHOUT_BF16()                                                                                 \
    if (!cpu_has_bf16())                                                                                    \
    GTEST_SKIP() << "this CPU has no avx512_bf16 / amx_bf16 (oneDNN dispatches to " << cpu_isa_name()       \
                 << "): train.precision bf16 is refused here, so its layers are not run"

// Round to nearest even, as oneDNN's f32 -> bf16 reorder does.
float to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    std::memcpy(&f, &u, 4);
    return f;
}
std::vector<float> rounded(std::vector<float> v, size_t count) {
    for (size_t i = 0; i < count; ++i) v[i] = to_bf16(v[i]);
    return v;
}

// bf16 against f32. A sum's bf16 error grows with the sum of |terms|, not with its value: an
// element that cancels to near 0 carries the absolute error of its neighbours. So the check
// is norm-wise, ||a - e|| <= 1e-2 ||e|| (bf16's 8 bits give ~3e-3), and element-wise against
// the tensor's scale, |a - e| <= 5e-2 max(|a|, |e|, rms(e), 1e-3), so one wrong element
// still fails.
testing::AssertionResult bf16_close(const std::string &tensor, const std::vector<int64_t> &shape, const float *a,
                                    const double *e) {
    int64_t count = 1;
    for (auto d : shape) count *= d;
    double diff2 = 0, norm2 = 0;
    for (int64_t i = 0; i < count; ++i) diff2 += (a[i] - e[i]) * (a[i] - e[i]), norm2 += e[i] * e[i];
    if (diff2 > 1e-4 * norm2)
        return testing::AssertionFailure() << tensor << ": ||actual - expected|| / ||expected|| = "
                                           << std::sqrt(diff2 / norm2) << ", more than 1e-2";
    const double s = std::max(std::sqrt(norm2 / double(count)), 1e-3);  // the elements' scale
    std::vector<float> as(a, a + count);
    std::vector<double> es(e, e + count);
    for (int64_t i = 0; i < count; ++i) as[size_t(i)] = float(a[i] / s), es[size_t(i)] = e[i] / s;
    return all_close(tensor + " / rms " + std::to_string(s), shape, as.data(), es.data(), 5e-2);
}

// The largest |a - e| relative to max(|e|, 1): how far f32 and bf16 results lie apart.
double max_rel_diff(const std::vector<float> &a, const std::vector<double> &e) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - e[i]) / std::max(std::abs(e[i]), 1.0));
    return m;
}

// ---------------------------------------------------------------- dense

struct DenseCase {
    int64_t n, in, out;
    Act act;
    bool bias;
};
std::string dense_name(const testing::TestParamInfo<DenseCase> &i) {
    const DenseCase &c = i.param;
    return "n" + std::to_string(c.n) + "_in" + std::to_string(c.in) + "_out" + std::to_string(c.out) + "_" +
           act_name(c.act) + (c.bias ? "_bias" : "_nobias");
}

struct DenseData {
    std::vector<float> x, w, dy;  // w: the slab slice, W (in, out) then b (out)
};
DenseData dense_data(const DenseCase &c, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const double a = 1.5 / std::sqrt(double(c.in));
    DenseData d;
    d.w = uniform(size_t(c.in * c.out), -a, a, rng);
    if (c.bias) {
        auto b = uniform(size_t(c.out), -0.5, 0.5, rng);
        d.w.insert(d.w.end(), b.begin(), b.end());
    }
    d.x = uniform(size_t(c.n * c.in), -1.0, 1.0, rng);
    d.dy = uniform(size_t(c.n * c.out), -1.0, 1.0, rng);
    return d;
}

class DenseBf16 : public testing::TestWithParam<DenseCase> {};

TEST_P(DenseBf16, ForwardMatchesReference) {
    SKIP_WITHOUT_BF16();
    const DenseCase c = GetParam();
    const DenseData d = dense_data(c, 1);
    DenseLayer layer(c.in, c.out, c.act, Init::Xavier, 0.01f, c.bias, Precision::BF16);
    std::vector<char> scratch(layer.prepare(c.n) + 1);
    std::vector<float> y(size_t(c.n * c.out), std::numeric_limits<float>::quiet_NaN());
    layer.forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    const float *b = c.bias ? d.w.data() + c.in * c.out : nullptr;
    std::vector<double> expect(y.size());
    ref::dense_forward(c.n, c.in, c.out, c.act, d.x.data(), d.w.data(), b, expect.data());
    EXPECT_TRUE(bf16_close("y", {c.n, c.out}, y.data(), expect.data()));
}

// relu is left out: where a pre-activation lies within bf16's error of 0, act'(z) may flip
// (the f32 tests cover relu's backward, which is the same element-wise code).
class DenseBf16Backward : public testing::TestWithParam<DenseCase> {};

TEST_P(DenseBf16Backward, MatchesReference) {
    SKIP_WITHOUT_BF16();
    const DenseCase c = GetParam();
    const DenseData d = dense_data(c, 2);
    DenseLayer layer(c.in, c.out, c.act, Init::Xavier, 0.01f, c.bias, Precision::BF16);
    std::vector<char> scratch(layer.prepare(c.n) + 1);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(d.dy.size()), dy = d.dy, dx(d.x.size(), nan), g(d.w.size(), nan);
    layer.forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    layer.backward(c.n, d.x.data(), y.data(), dy.data(), dx.data(), d.w.data(), g.data(), scratch.data());

    const float *b = c.bias ? d.w.data() + c.in * c.out : nullptr;
    std::vector<double> ex(dx.size()), ew(size_t(c.in * c.out)), eb(size_t(c.out));
    ref::dense_backward(c.n, c.in, c.out, c.act, d.x.data(), d.w.data(), b, d.dy.data(), ex.data(), ew.data(),
                        eb.data());
    EXPECT_TRUE(bf16_close("dx", {c.n, c.in}, dx.data(), ex.data()));
    EXPECT_TRUE(bf16_close("dW", {c.in, c.out}, g.data(), ew.data()));
    if (c.bias) {
        EXPECT_TRUE(bf16_close("db", {c.out}, g.data() + c.in * c.out, eb.data()));
    }
}

std::vector<DenseCase> dense_cases() {
    const int64_t shapes[][3] = {{1, 3, 2}, {7, 8, 16}, {50, 20, 10}, {64, 784, 256}, {37, 256, 784}};
    std::vector<DenseCase> v;
    int k = 0;
    for (auto &s : shapes)
        for (Act a : {Act::Identity, Act::Sigmoid, Act::Relu, Act::Tanh}) v.push_back({s[0], s[1], s[2], a, k++ % 3 != 1});
    return v;
}
template <class Case>
std::vector<Case> without_relu(std::vector<Case> v) {
    std::erase_if(v, [](const Case &c) { return c.act == Act::Relu; });
    return v;
}
INSTANTIATE_TEST_SUITE_P(Table, DenseBf16, testing::ValuesIn(dense_cases()), dense_name);
INSTANTIATE_TEST_SUITE_P(Table, DenseBf16Backward, testing::ValuesIn(without_relu(dense_cases())), dense_name);

// With x, W and dz rounded to bf16 beforehand, the f32 reference must agree to f32 rounding:
// the layer rounds exactly its operands and nothing else (bias, db, outputs stay f32); and
// it must differ from the unrounded f32 result, or bf16 was never used.
TEST(DenseBf16Exact, OperandsRoundedSumsAndOutputsF32) {
    SKIP_WITHOUT_BF16();
    const DenseCase c{33, 300, 40, Act::Identity, true};
    const DenseData d = dense_data(c, 3);
    DenseLayer layer(c.in, c.out, c.act, Init::Xavier, 0.01f, true, Precision::BF16);
    std::vector<char> scratch(layer.prepare(c.n) + 1);
    std::vector<float> y(d.dy.size()), dy = d.dy, dx(d.x.size()), g(d.w.size());
    layer.forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    layer.backward(c.n, d.x.data(), y.data(), dy.data(), dx.data(), d.w.data(), g.data(), scratch.data());

    const auto xr = rounded(d.x, d.x.size()), wr = rounded(d.w, size_t(c.in * c.out)), dyr = rounded(d.dy, d.dy.size());
    const float *b = d.w.data() + c.in * c.out;
    std::vector<double> ey(y.size()), ex(dx.size()), ew(size_t(c.in * c.out)), f32y(y.size());
    ref::dense_forward(c.n, c.in, c.out, c.act, xr.data(), wr.data(), b, ey.data());
    ref::dense_backward(c.n, c.in, c.out, c.act, xr.data(), wr.data(), b, dyr.data(), ex.data(), ew.data(), nullptr);
    EXPECT_TRUE(all_close("y", {c.n, c.out}, y.data(), ey.data(), kRoundedTol));
    EXPECT_TRUE(all_close("dx", {c.n, c.in}, dx.data(), ex.data(), kRoundedTol));
    EXPECT_TRUE(all_close("dW", {c.in, c.out}, g.data(), ew.data(), kRoundedTol));
    ref::dense_forward(c.n, c.in, c.out, c.act, d.x.data(), d.w.data(), b, f32y.data());
    EXPECT_GT(max_rel_diff(y, f32y), 1e-4) << "y equals the f32 result: the layer did not run in bf16";

    // db sums the unrounded dz in f32.
    std::vector<double> eb(size_t(c.out));
    ref::dense_backward(c.n, c.in, c.out, c.act, d.x.data(), d.w.data(), b, d.dy.data(), ex.data(), ew.data(),
                        eb.data());
    EXPECT_TRUE(all_close("db", {c.out}, g.data() + c.in * c.out, eb.data(), 1e-5));
}

// A full and a tail batch keep their own primitives and reorders and share the bf16 buffers.
TEST(DenseBf16Exact, FullAndTailBatchBothRight) {
    SKIP_WITHOUT_BF16();
    const DenseCase full{50, 20, 10, Act::Tanh, true};
    const DenseData d = dense_data(full, 4);
    DenseLayer layer(20, 10, Act::Tanh, Init::Xavier, 0.01f, true, Precision::BF16);
    std::vector<char> scratch(std::max(layer.prepare(50), layer.prepare(37)) + 1);
    for (int64_t n : {50, 37, 50, 37}) {
        SCOPED_TRACE("n=" + std::to_string(n));
        std::vector<float> y(size_t(n * 10)), dy(d.dy.begin(), d.dy.begin() + n * 10), dx(size_t(n * 20)),
            g(d.w.size());
        layer.forward(n, d.x.data(), y.data(), d.w.data(), scratch.data());
        layer.backward(n, d.x.data(), y.data(), dy.data(), dx.data(), d.w.data(), g.data(), scratch.data());
        std::vector<double> ey(y.size()), ex(dx.size()), ew(200), eb(10);
        ref::dense_forward(n, 20, 10, Act::Tanh, d.x.data(), d.w.data(), d.w.data() + 200, ey.data());
        ref::dense_backward(n, 20, 10, Act::Tanh, d.x.data(), d.w.data(), d.w.data() + 200, d.dy.data(), ex.data(),
                            ew.data(), eb.data());
        EXPECT_TRUE(bf16_close("y", {n, 10}, y.data(), ey.data()));
        EXPECT_TRUE(bf16_close("dx", {n, 20}, dx.data(), ex.data()));
        EXPECT_TRUE(bf16_close("dW", {20, 10}, g.data(), ew.data()));
    }
}

// ---------------------------------------------------------------- conv2d / deconv2d

struct ConvCase {
    int64_t n;
    Shape in;  // {c, h, w}
    int64_t filters, kernel, stride, padding;
    bool transposed;
    Act act;
    bool bias;
};
std::string conv_name(const testing::TestParamInfo<ConvCase> &i) {
    const ConvCase &c = i.param;
    return std::string(c.transposed ? "deconv" : "conv") + "_n" + std::to_string(c.n) + "_" + c.in.str() + "_f" +
           std::to_string(c.filters) + "_k" + std::to_string(c.kernel) + "s" + std::to_string(c.stride) + "p" +
           std::to_string(c.padding) + "_" + act_name(c.act) + (c.bias ? "_bias" : "_nobias");
}

std::unique_ptr<Layer> make_conv(const ConvCase &c) {
    const std::string yaml = std::string("{type: ") + (c.transposed ? "deconv2d" : "conv2d") +
                             ", filters: " + std::to_string(c.filters) + ", kernel: " + std::to_string(c.kernel) +
                             ", stride: " + std::to_string(c.stride) + ", padding: " + std::to_string(c.padding) +
                             ", activation: " + act_name(c.act) + ", bias: " + (c.bias ? "true" : "false") + "}";
    return test::make_from_yaml<LayerRegistry>(yaml, LayerInput{c.in.size(), c.in, Precision::BF16});
}

struct ConvData {
    std::vector<float> x, w, dy;
    int64_t wn;  // weights before the bias
    const float *bias(const ConvCase &c) const { return c.bias ? w.data() + wn : nullptr; }
};
ConvData conv_data(const ConvCase &c, const Layer &l, uint64_t seed) {
    std::mt19937_64 rng(seed);
    ConvData d;
    d.wn = c.filters * c.in.c * c.kernel * c.kernel;
    const double a = 1.5 / std::sqrt(double(c.in.c * c.kernel * c.kernel));
    d.w = uniform(size_t(d.wn), -a, a, rng);
    if (c.bias) {
        auto b = uniform(size_t(c.filters), -0.5, 0.5, rng);
        d.w.insert(d.w.end(), b.begin(), b.end());
    }
    d.x = uniform(size_t(c.n * c.in.size()), -1.0, 1.0, rng);
    d.dy = uniform(size_t(c.n * l.out_dim()), -1.0, 1.0, rng);
    return d;
}
ref::ConvCase ref_case(const ConvCase &c, const Layer &l) {
    return {c.in, l.out_shape(), c.kernel, c.stride, c.padding, c.transposed, c.act};
}

class ConvBf16 : public testing::TestWithParam<ConvCase> {};

TEST_P(ConvBf16, ForwardMatchesReference) {
    SKIP_WITHOUT_BF16();
    const ConvCase c = GetParam();
    auto l = make_conv(c);
    const ConvData d = conv_data(c, *l, 1);
    std::vector<char> scratch(l->prepare(c.n) + 1);
    std::vector<float> y(size_t(c.n * l->out_dim()), std::numeric_limits<float>::quiet_NaN());
    l->forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    std::vector<double> expect(y.size());
    ref::conv_forward(c.n, ref_case(c, *l), d.x.data(), d.w.data(), d.bias(c), expect.data());
    EXPECT_TRUE(bf16_close("y", {c.n, l->out_dim()}, y.data(), expect.data()));
}

// Without relu, as DenseBf16Backward.
class ConvBf16Backward : public testing::TestWithParam<ConvCase> {};

TEST_P(ConvBf16Backward, MatchesReference) {
    SKIP_WITHOUT_BF16();
    const ConvCase c = GetParam();
    auto l = make_conv(c);
    const ConvData d = conv_data(c, *l, 2);
    std::vector<char> scratch(l->prepare(c.n) + 1);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(d.dy.size()), dy = d.dy, dx(d.x.size(), nan), g(d.w.size(), nan);
    l->forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    l->backward(c.n, d.x.data(), y.data(), dy.data(), dx.data(), d.w.data(), g.data(), scratch.data());
    std::vector<double> ex(dx.size()), ew(size_t(d.wn)), eb(size_t(c.filters));
    ref::conv_backward(c.n, ref_case(c, *l), d.x.data(), d.w.data(), d.bias(c), d.dy.data(), ex.data(), ew.data(),
                       c.bias ? eb.data() : nullptr);
    EXPECT_TRUE(bf16_close("dx", {c.n, c.in.size()}, dx.data(), ex.data()));
    EXPECT_TRUE(bf16_close("dW", l->params()[0].shape, g.data(), ew.data()));
    if (c.bias) {
        EXPECT_TRUE(bf16_close("db", {c.filters}, g.data() + d.wn, eb.data()));
    }
}

std::vector<ConvCase> conv_cases() {
    struct Geo {
        int64_t n;
        Shape in;
        int64_t filters, kernel, stride, padding;
        bool transposed;
    };
    const Geo geos[] = {
        {2, {1, 5, 5}, 3, 3, 1, 0, false},     // one input channel
        {2, {2, 6, 6}, 4, 3, 2, 1, false},     // strided, padded
        {4, {8, 7, 7}, 16, 3, 1, 1, false},    // blocked weights
        {3, {1, 28, 28}, 8, 3, 2, 1, false},   // fashion_conv_ae's first layer
        {2, {2, 3, 3}, 3, 3, 2, 1, true},      // 3 -> 5
        {1, {8, 2, 3}, 8, 3, 1, 0, true},      // not square, blocked weights
        {3, {16, 7, 7}, 8, 4, 2, 1, true},     // fashion_conv_ae's first deconv2d
    };
    std::vector<ConvCase> v;
    int k = 0;
    for (const Geo &g : geos)
        for (Act a : {Act::Identity, Act::Sigmoid, Act::Relu, Act::Tanh})
            v.push_back({g.n, g.in, g.filters, g.kernel, g.stride, g.padding, g.transposed, a, (k++ % 3) != 1});
    return v;
}
INSTANTIATE_TEST_SUITE_P(Table, ConvBf16, testing::ValuesIn(conv_cases()), conv_name);
INSTANTIATE_TEST_SUITE_P(Table, ConvBf16Backward, testing::ValuesIn(without_relu(conv_cases())), conv_name);

// As for dense: against the reference on bf16-rounded x, W and dz, to f32 rounding.
class ConvBf16Exact : public testing::TestWithParam<bool> {};

TEST_P(ConvBf16Exact, OperandsRoundedSumsAndOutputsF32) {
    SKIP_WITHOUT_BF16();
    const ConvCase c{3, {8, 7, 7}, 16, 3, GetParam() ? 2 : 1, 1, GetParam(), Act::Identity, true};
    auto l = make_conv(c);
    const ConvData d = conv_data(c, *l, 3);
    std::vector<char> scratch(l->prepare(c.n) + 1);
    std::vector<float> y(d.dy.size()), dy = d.dy, dx(d.x.size()), g(d.w.size());
    l->forward(c.n, d.x.data(), y.data(), d.w.data(), scratch.data());
    l->backward(c.n, d.x.data(), y.data(), dy.data(), dx.data(), d.w.data(), g.data(), scratch.data());

    const auto xr = rounded(d.x, d.x.size()), wr = rounded(d.w, size_t(d.wn)), dyr = rounded(d.dy, d.dy.size());
    const float *b = d.bias(c);
    std::vector<double> ey(y.size()), f32y(y.size()), ex(dx.size()), ew(size_t(d.wn)), eb(size_t(c.filters));
    ref::conv_forward(c.n, ref_case(c, *l), xr.data(), wr.data(), b, ey.data());
    ref::conv_forward(c.n, ref_case(c, *l), d.x.data(), d.w.data(), b, f32y.data());
    EXPECT_TRUE(all_close("y", {c.n, l->out_dim()}, y.data(), ey.data(), kRoundedTol));
    EXPECT_GT(max_rel_diff(y, f32y), 1e-4) << "y equals the f32 result: the layer did not run in bf16";
    ref::conv_backward(c.n, ref_case(c, *l), xr.data(), wr.data(), b, dyr.data(), ex.data(), ew.data(), nullptr);
    EXPECT_TRUE(all_close("dx", {c.n, c.in.size()}, dx.data(), ex.data(), kRoundedTol));
    EXPECT_TRUE(all_close("dW", l->params()[0].shape, g.data(), ew.data(), kRoundedTol));
}
INSTANTIATE_TEST_SUITE_P(ConvAndDeconv, ConvBf16Exact, testing::Bool(),
                         [](const testing::TestParamInfo<bool> &i) { return i.param ? "deconv" : "conv"; });

}  // namespace
}  // namespace aepipe
