// Model + Workspace: forward and backward over a whole network from a YAML config, checked
// against finite differences of the model's own loss on the full parameter slab; and the
// config error for a last layer that does not reconstruct the data width.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/nn/model.hpp"
#include "support/expect_error.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

struct ModelCase {
    const char *name, *model_yaml;
    int64_t expected_params;
};
void PrintTo(const ModelCase &c, std::ostream *os) { *os << c.model_yaml; }

ConfigFile config_of(const std::string &model_yaml) {
    return parse_config("model: " + model_yaml + "\ngraph: {nodes: [], edges: []}", "inline.yaml");
}

class ModelGradient : public testing::TestWithParam<ModelCase> {};

// Objective: the model's loss on (x, t), summed over elements (count * mean) so gradients
// are O(1). Analytic: Workspace forward, Loss::forward_backward into the output gradient,
// Workspace backward into a NaN-filled gradient slab (so every parameter must be written).
TEST_P(ModelGradient, WholeSlabMatchesFiniteDifferences) {
    const ModelCase &c = GetParam();
    const int64_t n = 3, dim = 4, count = n * dim;
    ConfigFile cfg = config_of(c.model_yaml);
    Model m(ModelSpec::parse(cfg, cfg.root["model"], dim));
    ASSERT_EQ(m.num_params(), c.expected_params) << m.summary();

    std::vector<float> w(size_t(m.num_params()));
    m.init_params(w.data(), 5);
    std::mt19937_64 rng(61);
    // Biases start at 0; give them values so their gradients are exercised off that point.
    std::uniform_real_distribution<double> bias_value(-0.3, 0.3);
    for (const NamedParam &p : m.named_params())
        if (p.name.ends_with(".bias"))
            for (int64_t k = 0; k < p.size(); ++k) w[size_t(p.offset + k)] = float(bias_value(rng));
    const std::vector<float> x = test::uniform(size_t(count), 0.0, 1.0, rng);
    const std::vector<float> &t = x;  // an autoencoder reconstructs its input

    Workspace ws(m, n);
    std::vector<float> g(w.size(), std::numeric_limits<float>::quiet_NaN());
    ws.forward(n, x.data(), w.data());
    m.loss().forward_backward(n, dim, ws.output(), t.data(), ws.output_grad());
    ws.backward(n, w.data(), g.data());
    double max_abs = 0;
    for (auto &e : g) {
        e *= float(count);
        max_abs = std::max(max_abs, double(std::abs(e)));
    }
    EXPECT_GT(max_abs, 0.05) << "gradients too small for the check to mean anything";

    std::vector<float> scratch_dy(static_cast<size_t>(count));
    auto objective = [&] {
        ws.forward(n, x.data(), w.data());
        return double(count) * m.loss().forward_backward(n, dim, ws.output(), t.data(), scratch_dy.data());
    };
    // Each named view checked on its own, so a failure names "layers.1.weight" and its (row, col).
    for (const NamedParam &p : m.named_params())
        EXPECT_TRUE(test::check_numeric(p.name, p.shape, w.data() + p.offset, g.data() + p.offset, objective));
}

const ModelCase kModels[] = {
    // 4 -> 5 (tanh) -> 4 (sigmoid), mse: 4*5+5 + 5*4+4 = 49 parameters.
    {"tanh_sigmoid_mse",
     "{layers: [{type: dense, units: 5, activation: tanh}, {type: dense, units: 4, activation: sigmoid}], loss: mse}",
     49},
    // A standalone activation layer between two dense layers (dx flows through it), a
    // bias-free layer, and bce on logits: 4*6+6 + 6*4 = 54 parameters.
    {"dense_sigmoid_dense_bce_logits",
     "{layers: [{type: dense, units: 6}, {type: sigmoid}, {type: dense, units: 4, bias: false}],"
     " loss: {type: bce, from_logits: true}}",
     54},
};

INSTANTIATE_TEST_SUITE_P(Configs, ModelGradient, testing::ValuesIn(kModels),
                         [](const testing::TestParamInfo<ModelCase> &info) { return std::string(info.param.name); });

TEST(ModelLayout, NamedParamsTileTheSlab) {
    ConfigFile cfg = config_of(kModels[1].model_yaml);
    Model m(ModelSpec::parse(cfg, cfg.root["model"], 4));
    ASSERT_EQ(m.num_layers(), 3u);
    const auto &p = m.named_params();
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].name, "layers.0.weight");
    EXPECT_EQ(p[0].shape, (std::vector<int64_t>{4, 6}));
    EXPECT_EQ(p[0].offset, 0);
    EXPECT_EQ(p[1].name, "layers.0.bias");
    EXPECT_EQ(p[1].offset, 24);
    EXPECT_EQ(p[2].name, "layers.2.weight");
    EXPECT_EQ(p[2].shape, (std::vector<int64_t>{6, 4}));
    EXPECT_EQ(p[2].offset, 30);
    EXPECT_EQ(m.offset(2), 30);
    EXPECT_EQ(p[2].offset + p[2].size(), m.num_params());
}

TEST(ModelConfig, LastLayerWidthMustEqualDataWidth) {
    // Line 1 is "model: {layers: [..., {type: dense, units: 3}]}"; the value 3 is at column 82.
    ConfigFile cfg = config_of("{layers: [{type: dense, units: 5, activation: tanh}, {type: dense, units: 3}]}");
    std::optional<ConfigError> e =
        test::thrown<ConfigError>([&] { Model m(ModelSpec::parse(cfg, cfg.root["model"], 4)); });
    ASSERT_TRUE(e) << "a model ending in 3 units was accepted for 4-value data";
    ASSERT_EQ(e->diagnostics().size(), 1u) << e->what();
    const Diagnostic &d = e->diagnostics()[0];
    EXPECT_NE(d.message.find("model.layers[1]"), std::string::npos) << d.message;
    EXPECT_NE(d.message.find("outputs 3"), std::string::npos) << d.message;
    EXPECT_NE(d.message.find("data has 4"), std::string::npos) << d.message;
    EXPECT_NE(d.hint.find("units 4"), std::string::npos) << d.hint;
    EXPECT_EQ(d.pos.file, "inline.yaml");
    EXPECT_EQ(d.pos.line, 1);
    EXPECT_EQ(d.pos.col, 82) << "should point at the value of the last layer's units";
}

}  // namespace
}  // namespace aepipe
