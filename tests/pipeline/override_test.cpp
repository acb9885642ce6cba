// Overrides pick list items by index or, in a list of maps with ids (graph.nodes), by id; a
// value set by an override is reported at "command-line argument I 'TEXT'" (I: its index in
// argv), down to the keys inside a map-valued override.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

const std::string kYaml =
    "model: {layers: [{type: dense, units: 4}]}\n"
    "graph:\n"
    "  nodes:\n"
    "    - {id: train_set, type: idx_reader, images: a.gz}\n"
    "    - {id: test_set, type: idx_reader, images: b.gz}\n"
    "  edges: []\n";

TEST(Override, ByIdSetsThatNode) {
    ConfigFile cfg = parse_config(kYaml, "ids.yaml");
    apply_override(cfg, "graph.nodes[test_set].images=/data/t10k.gz");
    EXPECT_EQ(cfg.root["graph"]["nodes"][1]["images"].as<std::string>(), "/data/t10k.gz");
    EXPECT_EQ(cfg.root["graph"]["nodes"][0]["images"].as<std::string>(), "a.gz");
    apply_override(cfg, "graph.nodes[1].images=c.gz");  // indices still work
    EXPECT_EQ(cfg.root["graph"]["nodes"][1]["images"].as<std::string>(), "c.gz");
}

TEST(Override, UnknownIdSuggestsTheNearest) {
    ConfigFile cfg = parse_config(kYaml, "ids.yaml");
    EXPECT_EQ(error_of<ConfigError>([&] { apply_override(cfg, "graph.nodes[tset_set].images=x", "argument 5"); }),
              "argument 5: error: bad override 'graph.nodes[tset_set].images=x': 'graph.nodes' has no item with id "
              "'tset_set'\nhint: did you mean 'test_set'? ids: train_set, test_set");
}

TEST(Override, PositionNamesArgumentIndexAndText) {
    ConfigFile cfg = parse_config(kYaml, "ids.yaml");
    apply_override(cfg, "train.epochs=0", override_origin(4, "train.epochs=0"));
    EXPECT_EQ(pos_of(cfg, cfg.root["train"]["epochs"]).str(), "command-line argument 4 'train.epochs=0'");
}

// Keys inside a map-valued override used to carry the marks of the override's own text,
// so their errors pointed at line 1 of the config file.
TEST(Override, KeysInsideAMapValueAreTheOverrides) {
    ConfigFile cfg = parse_config(kYaml, "ids.yaml");
    apply_override(cfg, "train={epochs: 0, batch: 8}", override_origin(3, "train={epochs: 0, batch: 8}"));
    EXPECT_EQ(pos_of(cfg, cfg.root["train"]["epochs"]).str(), "command-line argument 3 'train={epochs: 0, batch: 8}'");
    EXPECT_EQ(pos_of(cfg, cfg.root["model"]).str(), "ids.yaml:1:8");  // the file's own values keep their marks
}

TEST(Override, CliNamesTheArgument) {
    TempDir dir("aepipe-override");
    TinyData d = write_tiny_data(dir.path(), 32, 16);
    const std::string config = write_tiny_config(dir.path(), d, 1);
    RunResult r = run_aepipe({"validate", config, "train.epochs=2", "train.seed=3", "train.batch=0"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err,
              "command-line argument 5 'train.batch=0': error: train: 'batch' must be between 1 and 16777216, got '0'\n");
    r = run_aepipe({"validate", config, "graph.nodes[test_set].images=/nonexistent.gz"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(lines_of(r.err).at(0),
              "error: node 'test_set' (idx_reader, " + config + ":21:7): data file not found: /nonexistent.gz");
}

// A relative path typed in an override is relative to the current folder (as the shell's other
// arguments), not to the config's: it used to be looked for beside the config. Paths written in
// the config file stay relative to its folder; the run's config.yaml records both absolute.
TEST(Override, RelativePathIsRelativeToTheCurrentFolder) {
    TempDir dir("aepipe-override-cwd");
    std::filesystem::create_directories(dir / "cfg");
    std::filesystem::create_directories(dir / "mine");
    TinyData d = write_tiny_data(dir / "mine", 32, 16);
    const std::string config = write_tiny_config(dir / "cfg", d, 1);  // its own paths are absolute
    const std::string rel = "mine/" + std::filesystem::path(d.train_images).filename().string();
    RunResult r = run_aepipe({"validate", config, "graph.nodes[train_set].images=" + rel}, dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // From another folder the same text names another file, and the error says which.
    r = run_aepipe({"validate", config, "graph.nodes[train_set].images=" + rel}, dir / "cfg");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("data file not found: " + dir / "cfg/" + rel), std::string::npos) << r.err;
    r = run_aepipe({"run", config, "graph.nodes[train_set].images=" + rel, "--out", dir / "runs", "-q"}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string run = dir / "runs/" + list_dir(dir / "runs").at(0);
    EXPECT_NE(read_bytes(run + "/config.yaml").find("images: " + d.train_images), std::string::npos);
}

}  // namespace
}  // namespace aepipe::test
