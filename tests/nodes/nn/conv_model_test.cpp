// Convolutional models: the per-sample shape flows from the data through every layer; whole
// models pass a finite-difference check of their own loss; impossible shapes are config errors
// that name the layer and the shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/nn/model.hpp"
#include "support/expect_error.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

ConfigFile config_of(const std::string &model_yaml) {
    return parse_config("model: " + model_yaml + "\ngraph: {nodes: [], edges: []}", "inline.yaml");
}

// An 8x8x1 autoencoder through every spatial layer type: conv 8x8x1 -> 4x4x4, maxpool -> 2x2x4,
// flatten -> 16, dense -> 6 (the code), dense -> 16, reshape -> 2x2x4, upsample -> 4x4x4,
// deconv -> 8x8x1.
const char *kAllLayers =
    "{layers: ["
    "{type: conv2d, filters: 4, kernel: 3, stride: 2, padding: 1, activation: tanh},"
    "{type: maxpool, kernel: 2},"
    "{type: flatten},"
    "{type: dense, units: 6, activation: tanh},"
    "{type: dense, units: 16, activation: tanh},"
    "{type: reshape, shape: [2, 2, 4]},"
    "{type: upsample, factor: 2, mode: bilinear},"
    "{type: deconv2d, filters: 1, kernel: 4, stride: 2, padding: 1, activation: sigmoid}], loss: mse}";

TEST(ConvModel, ShapesFlowFromTheData) {
    ConfigFile cfg = config_of(kAllLayers);
    Model m(ModelSpec::parse(cfg, cfg.root["model"], Shape{1, 8, 8}));
    const Shape expect[] = {{4, 4, 4}, {4, 2, 2}, {16, 1, 1}, {6, 1, 1}, {16, 1, 1}, {4, 2, 2}, {4, 4, 4}, {1, 8, 8}};
    ASSERT_EQ(m.num_layers(), 8u);
    for (size_t i = 0; i < 8; ++i) EXPECT_EQ(m.layer(i).out_shape(), expect[i]) << "layer " << i;
    // conv 4*1*9+4, dense 16*6+6, dense 6*16+16, deconv 4*1*16+1
    EXPECT_EQ(m.num_params(), 40 + 102 + 112 + 65);
    EXPECT_EQ(m.in_shape(), (Shape{1, 8, 8}));
}

TEST(ConvModel, WholeSlabMatchesFiniteDifferences) {
    const int64_t n = 2, dim = 64, count = n * dim;
    ConfigFile cfg = config_of(kAllLayers);
    Model m(ModelSpec::parse(cfg, cfg.root["model"], Shape{1, 8, 8}));
    std::vector<float> w(size_t(m.num_params()));
    m.init_params(w.data(), 5);
    std::mt19937_64 rng(61);
    std::uniform_real_distribution<double> bias_value(-0.3, 0.3);
    for (const NamedParam &p : m.named_params())
        if (p.name.ends_with(".bias"))
            for (int64_t k = 0; k < p.size(); ++k) w[size_t(p.offset + k)] = float(bias_value(rng));
    // Distinct values 1/128 apart, shuffled: the conv's tanh outputs then rarely tie inside a
    // max window (a tie within a central difference would flip the argmax).
    std::vector<float> x(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) x[size_t(i)] = float(i) / float(count);
    std::shuffle(x.begin(), x.end(), rng);

    Workspace ws(m, n);
    std::vector<float> g(w.size(), std::numeric_limits<float>::quiet_NaN());
    ws.forward(n, x.data(), w.data());
    m.loss().forward_backward(n, dim, ws.output(), x.data(), ws.output_grad());
    ws.backward(n, w.data(), g.data());
    for (auto &e : g) e *= float(count);

    std::vector<float> scratch_dy(static_cast<size_t>(count));
    auto objective = [&] {
        ws.forward(n, x.data(), w.data());
        return double(count) * m.loss().forward_backward(n, dim, ws.output(), x.data(), scratch_dy.data());
    };
    test::GradCheckOptions opt;
    opt.eps = 1e-3;  // small steps: the maxpool argmax must not flip
    opt.tol = 1e-2;
    for (const NamedParam &p : m.named_params())
        EXPECT_TRUE(test::check_numeric(p.name, p.shape, w.data() + p.offset, g.data() + p.offset, objective, opt));
}

// The message of the one ConfigError a model config gives.
std::string model_error(const std::string &model_yaml, Shape data) {
    ConfigFile cfg = config_of(model_yaml);
    std::optional<ConfigError> e =
        test::thrown<ConfigError>([&] { Model m(ModelSpec::parse(cfg, cfg.root["model"], data)); });
    if (!e) return "";
    EXPECT_EQ(e->diagnostics().size(), 1u);
    return e->what();
}

bool has(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

TEST(ConvModelErrors, KernelBiggerThanTheInput) {
    std::string e = model_error("{layers: [{type: conv2d, filters: 2, kernel: 3, stride: 2},"
                                "{type: conv2d, filters: 1, kernel: 5}]}",
                                Shape{1, 8, 8});
    EXPECT_TRUE(has(e, "model.layers[1] (conv2d): kernel 5 (padding 0) is bigger than the input 3x3x2 (HxWxC)")) << e;
}

TEST(ConvModelErrors, ConvOnFlatInputSuggestsReshape) {
    std::string e = model_error("{layers: [{type: dense, units: 16}, {type: conv2d, filters: 1, kernel: 3}]}",
                                Shape{1, 4, 4});
    EXPECT_TRUE(has(e, "model.layers[1] (conv2d): kernel 3 (padding 0) is bigger than the input 16 (HxWxC)")) << e;
    EXPECT_TRUE(has(e, "put a reshape layer (shape: [H, W, C]) before this layer")) << e;
}

TEST(ConvModelErrors, PoolWindowBiggerThanTheInput) {
    std::string e = model_error("{layers: [{type: maxpool, kernel: 5}]}", Shape{2, 4, 4});
    EXPECT_TRUE(has(e, "model.layers[0] (maxpool): kernel 5 is bigger than the input 4x4x2 (HxWxC)")) << e;
}

TEST(ConvModelErrors, ReshapeOfTheWrongSize) {
    std::string e =
        model_error("{layers: [{type: flatten}, {type: dense, units: 10}, {type: reshape, shape: [2, 2, 2]}]}",
                    Shape{1, 4, 4});
    EXPECT_TRUE(has(e, "model.layers[2] (reshape): cannot reshape 10 (10 values) to 2x2x2 (8 values)")) << e;
}

TEST(ConvModelErrors, OutputShapeIsNotTheData) {
    // 64 values, as the data, but 4x16 instead of 8x8.
    std::string e =
        model_error("{layers: [{type: conv2d, filters: 1, kernel: 1}, {type: reshape, shape: [4, 16, 1]}]}",
                    Shape{1, 8, 8});
    EXPECT_TRUE(has(e, "model.layers[1]: the last layer outputs 4x16x1 (HxWxC) per sample, but the data is 8x8x1"))
        << e;
}

TEST(ConvModelErrors, OutputSizeIsNotTheData) {
    std::string e = model_error("{layers: [{type: deconv2d, filters: 1, kernel: 3, stride: 2}]}", Shape{1, 8, 8});
    EXPECT_TRUE(has(e, "the last layer outputs 289 values per sample, but the data has 64")) << e;
}

}  // namespace
}  // namespace aepipe
