// Every numeric key of every schema (graph nodes, layers, losses, optimizers, the train
// section) has a range, and a value outside it, NaN or an infinity is a config error (exit 2)
// at the value's line:col, before anything is built: `lr: .nan` used to pass validation and
// fail at run time, `lr: -1` and `lr: 0` trained to exit 0.
#include <gtest/gtest.h>

#include <cmath>

#include "nodes/nn/model.hpp"
#include "pipeline/graph.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// list-nodes and the errors print bounds as a user writes them: whole numbers in full.
TEST(Ranges, TextShowsWholeBoundsInFull) {
    EXPECT_EQ(seed_range().text(), "between 0 and 9007199254740992");
    EXPECT_EQ(size_range().text(), "between 1 and 16777216");
    EXPECT_EQ(above(0).text(), "greater than 0");
    EXPECT_EQ(decay_rate().text(), "in [0, 1)");
    EXPECT_EQ(at_least(0.5).text(), "at least 0.5");
}

// Each key within its range, their products need not be: reshape [2^24, 2^24, 2^24] used to
// overflow Shape::size (UBSan, found by fuzz_config); a layer's weights and values per sample
// are bounded, so every later product of sizes stays inside int64.
TEST(Ranges, ProductsOfSizesAreBounded) {
    auto model_error = [](const std::string &layers, Shape input) {
        return error_of<ConfigError>([&] {
            ConfigFile cfg = parse_config("model: {layers: " + layers + "}\ngraph: {nodes: [], edges: []}", "m.yaml");
            Model m(ModelSpec::parse(cfg, cfg.root["model"], input));
        });
    };
    EXPECT_EQ((Shape{16777216, 16777216, 16777216}).size(), INT64_MAX);
    EXPECT_NE(model_error("[{type: dense, units: 4}, {type: reshape, shape: [16777216, 16777216, 16777216]}]",
                          Shape{784, 1, 1})
                  .find("cannot reshape 4 (4 values) to 16777216x16777216x16777216 (9223372036854775807 values)"),
              std::string::npos);
    EXPECT_NE(model_error("[{type: conv2d, filters: 16777216, kernel: 1}, {type: upsample, factor: 4096}]",
                          Shape{1, 28, 28})
                  .find("values per sample, more than a layer may (2^36)"),
              std::string::npos);
    EXPECT_NE(model_error("[{type: dense, units: 16777216}, {type: dense, units: 16777216}]", Shape{784, 1, 1})
                  .find("16777216 inputs x 16777216 units is more weights than a layer may hold (2^40)"),
              std::string::npos);
    EXPECT_NE(model_error("[{type: conv2d, filters: 65536, kernel: 3, padding: 1},"
                          " {type: conv2d, filters: 16777216, kernel: 4096, padding: 4095}]",
                          Shape{1, 28, 28})
                  .find("more weights than a layer may hold (2^40)"),
              std::string::npos);
}

TEST(Ranges, EveryNumericKeyOfEverySchemaHasOne) {
    std::vector<const NodeSpec *> specs = all_specs();
    specs.push_back(&train_section_spec());
    int numeric = 0;
    for (const NodeSpec *s : specs) {
        if (s->type.rfind("test_", 0) == 0) continue;  // test-only node types
        for (const auto &k : s->keys) {
            if (k.kind != Kind::Int && k.kind != Kind::Float && k.kind != Kind::IntList) continue;
            ++numeric;
            EXPECT_TRUE(k.range.set) << s->type << "." << k.name << " has no range";
            if (!k.def.empty() && k.kind != Kind::IntList) {  // and its default lies inside it
                const double v = YAML::Load(k.def).as<double>();
                EXPECT_TRUE(k.range.contains(v)) << s->type << "." << k.name << " default " << k.def;
            }
        }
    }
    EXPECT_GT(numeric, 40);  // nodes, layers, optimizers, losses and train: all of them were walked
}

TEST(Ranges, TextSaysWhatIsExpected) {
    EXPECT_EQ(above(0).text(), "greater than 0");
    EXPECT_EQ(at_least(1).text(), "at least 1");
    EXPECT_EQ(unit_interval().text(), "between 0 and 1");
    EXPECT_EQ(decay_rate().text(), "in [0, 1)");
    EXPECT_FALSE(above(0).contains(0));
    EXPECT_FALSE(above(0).contains(std::nan("")));
    EXPECT_TRUE(decay_rate().contains(0.999));
    EXPECT_FALSE(decay_rate().contains(1));
}

class RangeErrors : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("aepipe-ranges");
        data_ = new TinyData(write_tiny_data(dir_->path(), 32, 16));
        config_ = new std::string(write_tiny_config(dir_->path(), *data_, 2));
    }
    static void TearDownTestSuite() {
        delete config_;
        delete data_;
        delete dir_;
    }
    // The tiny config with `from` replaced by `to` (once), validated in-process as tiny.yaml.
    static std::string error_with(const std::string &from, const std::string &to) {
        std::string text = tiny_config_yaml(*data_, 2);
        const size_t at = text.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        text.replace(at, from.size(), to);
        return config_error(text, "tiny.yaml");
    }
    // The tiny config with the replacement builds a pipeline (validation passes).
    static void expect_valid_with(const std::string &from, const std::string &to) {
        std::string text = tiny_config_yaml(*data_, 2);
        text.replace(text.find(from), from.size(), to);
        EXPECT_NO_THROW({
            ConfigFile cfg = parse_config(text, "tiny.yaml");
            Pipeline p(cfg, RunSettings{});
        }) << to;
    }
    static TempDir *dir_;
    static TinyData *data_;
    static std::string *config_;
};
TempDir *RangeErrors::dir_ = nullptr;
TinyData *RangeErrors::data_ = nullptr;
std::string *RangeErrors::config_ = nullptr;

// The four learning rates, in the file: line 10 is "  optimizer: {type: adam, lr: 0.01}".
TEST_F(RangeErrors, LearningRateNaNInfNegativeOrZeroInTheFile) {
    const std::string at = "tiny.yaml:10:31: error: train.optimizer (adam): 'lr' must be ";
    EXPECT_EQ(error_with("lr: 0.01", "lr: .nan"), at + "a finite number greater than 0, got '.nan'");
    EXPECT_EQ(error_with("lr: 0.01", "lr: .inf"), at + "a finite number greater than 0, got '.inf'");
    EXPECT_EQ(error_with("lr: 0.01", "lr: -1"), at + "greater than 0, got '-1'");
    EXPECT_EQ(error_with("lr: 0.01", "lr: 0"), at + "greater than 0, got '0'");
}

// The same through `aepipe validate` overrides: exit 2, the override named by argv index.
TEST_F(RangeErrors, LearningRateOverridesExit2) {
    for (const std::string v : {".nan", ".inf", "-1", "0"}) {
        RunResult r = run_aepipe({"validate", *config_, "train.optimizer.lr=" + v});
        EXPECT_EQ(r.exit_code, 2) << v << ": " << r.err;
        EXPECT_EQ(lines_of(r.err).at(0),
                  "command-line argument 3 'train.optimizer.lr=" + v + "': error: train.optimizer (adam): 'lr' must be " +
                      (v[0] == '.' ? "a finite number greater than 0" : "greater than 0") + ", got '" + v + "'");
    }
}

// More of the class: probabilities, sizes, decay rates, list elements, the train section.
TEST_F(RangeErrors, ProbabilitiesSizesAndDecayRates) {
    EXPECT_EQ(error_with("{id: eval, type: evaluate}", "{id: eval, type: evaluate, batch: 0}"),
              "tiny.yaml:22:41: error: graph.nodes[6] 'eval' (evaluate): 'batch' must be between 1 and 16777216, got '0'");
    EXPECT_EQ(error_with("lr: 0.01}", "lr: 0.01, beta1: 1}"),
              "tiny.yaml:10:44: error: train.optimizer (adam): 'beta1' must be in [0, 1), got '1'");
    EXPECT_EQ(error_with("units: 16,", "units: 0,"),
              "tiny.yaml:5:28: error: model.layers[1] (dense): 'units' must be between 1 and 16777216, got '0'");
    EXPECT_EQ(error_with("  batch: 16\n", "  batch: -3\n"),
              "tiny.yaml:11:10: error: train: 'batch' must be between 1 and 16777216, got '-3'");
    EXPECT_EQ(error_with("  seed: 7\n", "  seed: 7\n  clip_grad_norm: -.inf\n"),
              "tiny.yaml:14:19: error: train: 'clip_grad_norm' must be a finite number at least 0, got '-.inf'");
    EXPECT_EQ(error_with("loss: mse", "loss: {type: bce, eps: 0.7}"),
              "tiny.yaml:8:26: error: model.loss (bce): 'eps' must be in (0, 0.5), got '0.7'");
}

TEST_F(RangeErrors, CorruptProbabilityAndListElements) {
    EXPECT_EQ(error_with("{id: scale, type: normalize}", "{id: scale, type: normalize, std: 0}"),
              "tiny.yaml:19:41: error: graph.nodes[3] 'scale' (normalize): 'std' must be greater than 0, got '0'");
    EXPECT_EQ(error_with("    - {type: dense, units: 16, activation: relu, init: he}\n",
                         "    - {type: dense, units: 16, activation: relu, init: he}\n"
                         "    - {type: reshape, shape: [4, 0, 1]}\n"),
              "tiny.yaml:6:30: error: model.layers[2] (reshape): 'shape' must be a list of integers, each between 1 "
              "and 16777216, got a list");
}

// A finite double that is not a finite (or non-zero) 32-bit float passed validation and
// failed at the first step: lr 1e39 and normalize scale 1e39 "diverged" (exit 1), Adam's
// eps 1e-50 became 0. Every Float key is checked as the float it is computed in.
TEST_F(RangeErrors, FloatKeysMustHoldAsThirtyTwoBitFloats) {
    const std::string f32 = "as a 32-bit float (magnitude at most 3.4e+38, at least 1.4e-45 unless 0), got '";
    EXPECT_EQ(error_with("lr: 0.01", "lr: 1e39"),
              "tiny.yaml:10:31: error: train.optimizer (adam): 'lr' must be greater than 0 " + f32 + "1e39'");
    EXPECT_EQ(error_with("lr: 0.01}", "lr: 0.01, eps: 1e-50}"),
              "tiny.yaml:10:42: error: train.optimizer (adam): 'eps' must be greater than 0 " + f32 + "1e-50'");
    EXPECT_EQ(error_with("{id: scale, type: normalize}", "{id: scale, type: normalize, mean: -1e300}"),
              "tiny.yaml:19:42: error: graph.nodes[3] 'scale' (normalize): 'mean' must be a finite number " + f32 +
                  "-1e300'");
    expect_valid_with("lr: 0.01", "lr: 3.4e38");  // the largest float itself is fine
}

// Each key in range, their product need not be: an image grid of 1024 images at zoom 64 was
// a picture of gigabytes drawn for minutes, estimated nowhere; 256 at zoom 4 is fine.
TEST_F(RangeErrors, ImageGridSizeIsBounded) {
    EXPECT_EQ(error_with("{id: recon, type: image_grid, count: 8}", "{id: recon, type: image_grid, count: 1024, zoom: 64}"),
              "tiny.yaml:24:56: error: graph.nodes[8] 'recon' (image_grid): the grid of 1024 images at zoom 64 would be "
              "up to 526338x1544 pixels (813 MB), more than 268 MB\nhint: lower 'count' or 'zoom'");
    expect_valid_with("{id: recon, type: image_grid, count: 8}", "{id: recon, type: image_grid, count: 256, zoom: 4}");
}

// Epochs are bounded: with 10^8 the test set's reader queued one message per epoch ahead of
// the evaluation (6.6 GB in 20 s, SIGTERM unanswered), and max_steps: 3 ran on for ever.
TEST_F(RangeErrors, EpochsAreBounded) {
    EXPECT_EQ(error_with("  epochs: 2\n", "  epochs: 100000000\n"),
              "tiny.yaml:12:11: error: train: 'epochs' must be between 1 and 1000000, got '100000000'");
    expect_valid_with("  epochs: 2\n", "  epochs: 1000000\n");
}

}  // namespace
}  // namespace aepipe::test

namespace aepipe::test {
namespace {

// The fuzz seeds with out-of-range values and invalid graphs (tests/fuzz/corpus/config) are
// rejected by the validation the fuzz target runs, for the reason each was written for.
TEST(Ranges, FuzzSeedsAreRejectedForTheirReason) {
    const std::string dir = std::string(AEPIPE_SOURCE_DIR) + "/tests/fuzz/corpus/config/";
    const std::vector<std::pair<std::string, std::string>> seeds = {
        {"range_lr_nan.yaml", "train.optimizer (adam): 'lr' must be a finite number greater than 0, got '.nan'"},
        {"range_mixed.yaml", "train: 'batch' must be between 1 and 16777216, got '-50'"},
        {"graph_two_train.yaml", "node 'model2' (train): a graph may hold one train node"},
        {"graph_empty.yaml", "graph.nodes: the graph has no nodes"},
        {"range_float32.yaml", "train.optimizer (adam): 'lr' must be greater than 0 as a 32-bit float"},
        {"range_epochs.yaml", "train: 'epochs' must be between 1 and 1000000, got '100000000'"},
    };
    for (const auto &[file, want] : seeds) {
        const std::string msg = error_of<ConfigError>([&, file = file] {  // clang 14: no captured bindings
            ConfigFile cfg = load_config(dir + file);
            Pipeline p(cfg, RunSettings{});
        });
        EXPECT_NE(msg.find(want), std::string::npos) << file << ": " << msg;
    }
}

}  // namespace
}  // namespace aepipe::test
