// Which layer is the code: the one marked `code: true`, a VAE's mu, else the narrowest; a model
// with no bottleneck has none (an error naming the checkpoint); a second mark is a config error.
#include <gtest/gtest.h>

#include "nodes/nn/code_layer.hpp"
#include "pipeline/error.hpp"
#include "support/expect_error.hpp"

namespace aepipe::test {
namespace {

Model model_of(const std::string &layers, int64_t dim, const std::string &loss = "mse") {
    ConfigFile cfg = parse_config("model:\n  layers:\n" + layers + "  loss: " + loss + "\n", "m.yaml");
    return Model(ModelSpec::parse(cfg, cfg.root["model"], dim));
}

const std::string kDense =
    "    - {type: dense, units: 6, activation: relu}\n"
    "    - {type: dense, units: 3}\n"
    "    - {type: dense, units: 6, activation: relu}\n"
    "    - {type: dense, units: 8}\n";

TEST(CodeLayer, NarrowestByDefault) {
    Model m = model_of(kDense, 8);
    CodeLayer c = code_layer(m, "ck");
    EXPECT_EQ(c.layer, 1u);
    EXPECT_EQ(c.width, 3);
    EXPECT_NE(c.what.find("narrowest"), std::string::npos);
}

TEST(CodeLayer, MarkedLayerWins) {
    std::string layers = kDense;
    layers.replace(layers.find("units: 6, activation: relu}"), 27, "units: 6, activation: relu, code: true}");
    Model m = model_of(layers, 8);
    CodeLayer c = code_layer(m, "ck");
    EXPECT_EQ(c.layer, 0u);
    EXPECT_EQ(c.width, 6);
}

TEST(CodeLayer, VaeMu) {
    Model m = model_of("    - {type: dense, units: 4}\n    - {type: sample}\n    - {type: dense, units: 8}\n", 8,
                       "{type: mse, reduction: sum}");
    CodeLayer c = code_layer(m, "ck");
    EXPECT_EQ(c.layer, 0u);
    EXPECT_EQ(c.width, 2);
    EXPECT_EQ(c.stride, 4);
}

TEST(CodeLayer, NoBottleneckIsAnError) {
    Model m = model_of("    - {type: dense, units: 8, activation: relu}\n    - {type: dense, units: 8}\n", 8);
    const std::string msg = error_of<RuntimeError>([&] { code_layer(m, "run/model.safetensors"); });
    EXPECT_NE(msg.find("run/model.safetensors: the model has no code layer"), std::string::npos) << msg;
    EXPECT_NE(msg.find("code: true"), std::string::npos) << msg;
}

TEST(CodeLayer, TwoMarksAreAConfigError) {
    const std::string msg = error_of<ConfigError>([] {
        model_of("    - {type: dense, units: 4, code: true}\n    - {type: dense, units: 8, code: true}\n", 8);
    });
    EXPECT_NE(msg.find("m.yaml:4:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("a second layer marked 'code: true'"), std::string::npos) << msg;
    EXPECT_NE(error_of<ConfigError>([] { model_of("    - {type: dense, units: 8, code: maybe}\n", 8); })
                  .find("'code' must be true or false"),
              std::string::npos);
}

// The last layer's output is the reconstruction: marking it would make `encode` write the
// reconstructions as codes, so it is a config error at the mark.
TEST(CodeLayer, MarkOnTheLastLayerIsAConfigError) {
    const std::string msg = error_of<ConfigError>(
        [] { model_of("    - {type: dense, units: 4}\n    - {type: dense, units: 8, code: true}\n", 8); });
    EXPECT_NE(msg.find("m.yaml:4:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.layers[1]: 'code: true' on the last layer, whose output is the reconstruction"),
              std::string::npos)
        << msg;
}

// encode_rows runs the layers up to the code: the same numbers as the whole forward's act.
TEST(CodeLayer, EncodeRowsMatchesTheForwardPass) {
    Model m = model_of(kDense, 8);
    std::vector<float> params(size_t(m.num_params()));
    m.init_params(params.data(), 3);
    std::vector<float> x(16);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 5) / 5;
    Workspace ws(m, 2);
    ws.prepare(2);
    ws.forward(2, x.data(), params.data());
    const std::vector<float> want(ws.act(2), ws.act(2) + 6);
    std::vector<float> got(6);
    Workspace ws2(m, 2);
    encode_rows(m, ws2, code_layer(m, "ck"), 2, x.data(), params.data(), got.data());
    EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace aepipe::test
