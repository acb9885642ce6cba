// The model card in a checkpoint's metadata (nodes/sink/model_card.hpp): what a graph's
// train node sees (input shape, normalize and corrupt nodes on its path, test set) goes into
// the metadata and comes back unchanged; a checkpoint without a card is an older one.
#include <gtest/gtest.h>

#include "nodes/sink/model_card.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// A denoiser's graph on 8x8 data: normalize with non-default settings, then corrupt.
std::string denoiser_yaml(const TinyData &d) {
    return "model:\n"
           "  layers: [{type: dense, units: 16, activation: relu}, {type: dense, units: 64}]\n"
           "  loss: mse\n"
           "train: {optimizer: {type: adam, lr: 0.01}, batch: 16, epochs: 1}\n"
           "graph:\n"
           "  nodes:\n"
           "    - {id: train_set, type: idx_reader, images: '" + d.train_images + "'}\n"
           "    - {id: shuffle, type: shuffle}\n"
           "    - {id: batches, type: batch}\n"
           "    - {id: scale, type: normalize, scale: 0.5, shift: 1, mean: 0.25, std: 2}\n"
           "    - {id: noisy, type: corrupt, noise_std: 0.3, masks: 2, mask_min: 2, mask_max: 3, seed: 9007199254740993}\n"
           "    - {id: model, type: train}\n"
           "    - {id: test_set, type: idx_reader, images: '" + d.test_images + "'}\n"
           "    - {id: eval, type: evaluate}\n"
           "    - {id: log, type: metrics}\n"
           "  edges: [train_set -> shuffle, shuffle -> batches, batches -> scale, scale -> noisy, noisy -> model,\n"
           "          model.epoch -> eval.model, test_set -> eval.data, eval -> log]\n";
}

TEST(ModelCard, IsWhatTheTrainNodeSeesAndSurvivesTheMetadata) {
    TempDir t("aepipe-card");
    TinyData d = write_tiny_data(t.path(), 32, 16, 8, false);
    ConfigFile cfg = parse_config(denoiser_yaml(d), t / "denoise.yaml");
    Pipeline p(cfg, RunSettings{});
    const ModelCard c = card_of(p);
    EXPECT_EQ(c.input, (Shape{1, 8, 8}));
    EXPECT_EQ(c.norm.scale, 0.5f);
    EXPECT_EQ(c.norm.shift, 1.f);
    EXPECT_EQ(c.norm.mean, 0.25f);
    EXPECT_EQ(c.norm.std, 2.f);
    ASSERT_TRUE(c.corruption);
    EXPECT_EQ(c.corruption->seed, 9007199254740993u);
    EXPECT_EQ(c.test_images, d.test_images);

    StFile f;
    f.metadata = card_metadata(c);
    EXPECT_EQ(f.metadata.at("input_shape"), "8x8x1");
    const std::optional<ModelCard> back = card_from_metadata(f, "m.safetensors");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->model, c.model);
    EXPECT_EQ(back->input, c.input);
    EXPECT_EQ(back->norm.scale, c.norm.scale);
    EXPECT_EQ(back->norm.shift, c.norm.shift);
    EXPECT_EQ(back->norm.mean, c.norm.mean);
    EXPECT_EQ(back->norm.std, c.norm.std);
    ASSERT_TRUE(back->corruption);
    EXPECT_EQ(back->corruption->noise_std, 0.3);
    EXPECT_EQ(back->corruption->masks, 2);
    EXPECT_EQ(back->corruption->mask_min, 2);
    EXPECT_EQ(back->corruption->mask_max, 3);
    EXPECT_EQ(back->corruption->seed, c.corruption->seed) << "a seed above 2^53 is kept exactly";
    EXPECT_EQ(back->test_images, d.test_images);
}

// The test reader's labels file and `classes` filter travel with its images, so that the run's
// own test set can be read back as the run read it.
TEST(ModelCard, TheTestReadersLabelsAndClassesSurviveTheMetadata) {
    TempDir t("aepipe-card");
    TinyData d = write_tiny_data(t.path(), 32, 16, 8, false);
    std::string yaml = denoiser_yaml(d);
    const std::string test = "images: '" + d.test_images + "'";
    yaml.replace(yaml.find(test), test.size(), test + ", labels: '" + d.test_labels + "', classes: [2, 0]");
    ConfigFile cfg = parse_config(yaml, t / "denoise.yaml");
    Pipeline p(cfg, RunSettings{});
    const ModelCard c = card_of(p);
    EXPECT_EQ(c.test_labels, d.test_labels);
    EXPECT_EQ(c.test_classes, (std::vector<int64_t>{2, 0}));
    StFile f;
    f.metadata = card_metadata(c);
    EXPECT_EQ(f.metadata.at("test_classes"), "[2,0]");
    const std::optional<ModelCard> back = card_from_metadata(f, "m.safetensors");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->test_labels, d.test_labels);
    EXPECT_EQ(back->test_classes, c.test_classes);
}

TEST(ModelCard, ACheckpointWithoutOneIsAnOlderCheckpoint) {
    StFile f;
    f.metadata = {{"format", "aepipe-1"}, {"epoch", "3"}};
    EXPECT_FALSE(card_from_metadata(f, "old.safetensors"));
}

TEST(ModelCard, ACardWithoutItsInputShapeIsNamed) {
    StFile f;
    f.metadata = {{"model", "{layers: [{type: dense, units: 4}]}"}, {"normalize", "{}"}};
    EXPECT_EQ(error_of<DataError>([&] { card_from_metadata(f, "m.safetensors"); }),
              "m.safetensors: error: __metadata__ 'input_shape': missing (the card has 'model', so it needs this too)");
}

TEST(ModelCard, ACorruptionSeedMustBeWhole) {
    StFile f;
    f.metadata = {{"model", "{}"},
                  {"input_shape", "2x2x1"},
                  {"normalize", R"({"scale": 1, "shift": 0, "mean": 0, "std": 1})"},
                  {"corrupt", R"({"noise_std": 0.1, "salt_pepper": 0, "mask_value": 0, "masks": 0,
                                  "mask_min": 1, "mask_max": 1, "seed": 1.5})"}};
    EXPECT_EQ(error_of<DataError>([&] { card_from_metadata(f, "m.safetensors"); }),
              "m.safetensors: error: __metadata__ 'corrupt': 'seed' must be a whole number >= 0");
}

// Hostile or broken cards: each is rejected with a DataError naming the checkpoint (exit 1),
// never another exception, a crash or a huge allocation.
struct BadCard {
    std::string name, key, value, message;
};

class ModelCardRejects : public ::testing::TestWithParam<BadCard> {};

TEST_P(ModelCardRejects, WithADataErrorNamingTheCheckpoint) {
    TempDir t("aepipe-card");
    StFile f;
    f.metadata = {{"model", "{layers: [{type: dense, units: 2}, {type: dense, units: 4}]}"},
                  {"input_shape", "2x2x1"},
                  {"normalize", R"({"scale": 1, "shift": 0, "mean": 0, "std": 1})"}};
    f.tensors["layers.0.weight"] = StTensor{{2, 4}, std::vector<float>(8, 0.5f)};
    f.tensors["layers.0.bias"] = StTensor{{2}, {0, 0}};
    f.tensors["layers.1.weight"] = StTensor{{4, 2}, std::vector<float>(8, 0.5f)};
    f.tensors["layers.1.bias"] = StTensor{{4}, {0, 0, 0, 0}};
    write_safetensors(t / "ok.safetensors", f);
    ASSERT_EQ(load_trained_model(t / "ok.safetensors").model->num_params(), 22) << "the unaltered card loads";
    f.metadata[GetParam().key] = GetParam().value;
    write_safetensors(t / "m.safetensors", f);
    const std::string err = error_of<DataError>([&] { load_trained_model(t / "m.safetensors"); });
    EXPECT_EQ(err.rfind(t / "m.safetensors: error: ", 0), 0u) << err;
    EXPECT_NE(err.find(GetParam().message), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Cards, ModelCardRejects,
    ::testing::Values(
        BadCard{"NegativeUnits", "model", "{layers: [{type: dense, units: -5}, {type: dense, units: 4}]}",
                "does not describe a valid model"},
        BadCard{"UnknownLayer", "model", "{layers: [{type: warp}]}", "does not describe a valid model"},
        BadCard{"NotAMap", "model", "[1, 2]", "does not describe a valid model"},
        BadCard{"NoLayers", "model", "{loss: mse}", "does not describe a valid model"},
        BadCard{"HugeUnits", "model", "{layers: [{type: dense, units: 100000000000}, {type: dense, units: 4}]}",
                "'units' must be between 1 and 16777216, got '100000000000'"},
        BadCard{"ConvOnFlatData", "model", "{layers: [{type: conv2d, filters: 1, kernel: 3, padding: 1}]}",
                "tensor 'layers.0.weight' has shape 2x4"},
        BadCard{"HugeInputShape", "input_shape", "65536x65536x1", "has a zero or too large side"},
        BadCard{"ZeroSide", "input_shape", "0x2x1", "has a zero or too large side"},
        BadCard{"StdZero", "normalize", R"({"scale": 1, "shift": 0, "mean": 0, "std": 0})", "std > 0"},
        BadCard{"NormalizeNotJson", "normalize", "scale=1", "malformed JSON"},
        BadCard{"CorruptNotAnObject", "corrupt", "[1]", "needs a number 'noise_std'"},
        BadCard{"TestClassesNotJson", "test_classes", "0,1", "__metadata__ 'test_classes': malformed JSON"},
        BadCard{"TestClassesEmpty", "test_classes", "[]", "expected a non-empty list of labels"},
        BadCard{"TestClassesNotALabel", "test_classes", "[1, 256]", "expected labels from 0 to 255, got 256"},
        BadCard{"TestClassesNegative", "test_classes", "[-1]", "expected labels from 0 to 255, got -1"}),
    [](const auto &info) { return info.param.name; });

}  // namespace
}  // namespace aepipe::test
