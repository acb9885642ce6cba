// Every file in configs/errors/ holds one deliberate mistake. `aepipe validate FILE` (and
// `aepipe run FILE`) must exit 2 and print exactly the diagnostics below, compiler style:
// FILE:LINE:COL: error: ... then an optional hint line. Overrides and a few inline configs
// cover command-line mistakes and collecting several errors in one pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "nodes/nn/layer.hpp"
#include "nodes/nn/optimizer.hpp"
#include "pipeline/graph.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

struct ErrorCase {
    std::string name;                 // configs/errors/<name>.yaml
    std::vector<std::string> output;  // every line on stderr, in order
    bool mnist_sized_data = false;    // point both readers at generated 28x28 IDX files

    std::string path() const { return "configs/errors/" + name + ".yaml"; }
};

void PrintTo(const ErrorCase &c, std::ostream *os) { *os << c.name; }

std::string joined(const std::vector<std::string> &names) {
    std::string s;
    for (const auto &n : names)
        if (n.rfind("test_", 0) != 0) s += (s.empty() ? "" : ", ") + n;  // test-only node types
    return s;
}

// Lists in hints come from the registries, so that adding a node type does not break the table.
std::string expand(std::string line) {
    const std::map<std::string, std::string> lists{
        {"{graph_types}", joined(FlowNodeRegistry::get().names())},
        {"{layer_types}", joined(LayerRegistry::get().names())},
        {"{optimizers}", joined(OptimizerRegistry::get().names())},
    };
    for (const auto &[key, value] : lists)
        if (auto at = line.find(key); at != std::string::npos) line.replace(at, key.size(), value);
    return line;
}

std::string F(const std::string &name) { return "configs/errors/" + name + ".yaml"; }

const std::vector<ErrorCase> kCases = {
    {"empty_classes",
     {F("empty_classes") +
          ":21:70: error: graph.nodes[0] 'train_set' (idx_reader): 'classes' is empty: it would keep no sample",
      "hint: list the labels to keep, e.g. classes: [0]"}},
    {"unknown_node_type",
     {F("unknown_node_type") + ":20:29: error: graph.nodes[0] 'train_set': unknown node type 'idx_raeder'",
      "hint: did you mean 'idx_reader'? graph node types: {graph_types}"}},
    {"layer_as_graph_node",
     {F("layer_as_graph_node") + ":23:29: error: graph.nodes[3] 'scale': unknown node type 'dense'",
      "hint: 'dense' is a layer, which belongs in the model or train section; graph node types: {graph_types}"}},
    {"unknown_node_key",
     {F("unknown_node_key") + ":22:36: error: graph.nodes[2] 'batches' (batch): unknown key 'szie'",
      "hint: did you mean 'size'?"}},
    {"unknown_layer_key",
     {F("unknown_layer_key") + ":8:21: error: model.layers[0] (dense): unknown key 'unit'",
      "hint: did you mean 'units'?",
      F("unknown_layer_key") + ":8:7: error: model.layers[0] (dense): missing required key 'units'",
      "hint: add 'units' (output width D_out)"}},
    {"unknown_section_key",
     {F("unknown_section_key") + ":12:1: error: config: unknown key 'trian'", "hint: did you mean 'train'?"}},
    {"wrong_value_type", {F("wrong_value_type") + ":15:11: error: train: 'epochs' must be an integer, got 'ten'"}},
    {"wrong_value_type_node",
     {F("wrong_value_type_node") +
      ":28:48: error: graph.nodes[8] 'recon' (image_grid): 'count' must be an integer, got 'many'"}},
    {"bad_enum_value",
     {F("bad_enum_value") +
          ":8:44: error: model.layers[0] (dense): 'activation' must be one of identity sigmoid relu tanh, got 'rleu'",
      "hint: did you mean 'relu'?"}},
    {"value_out_of_range", {F("value_out_of_range") + ":15:11: error: train: 'epochs' must be between 1 and 1000000, got '0'"}},
    {"unknown_layer_type",
     {F("unknown_layer_type") + ":9:14: error: model.layers[1]: unknown layer type 'dens'",
      "hint: did you mean 'dense'? known: {layer_types}"}},
    {"unknown_optimizer",
     {F("unknown_optimizer") + ":13:21: error: train.optimizer: unknown optimizer type 'adamw'",
      "hint: did you mean 'adam'? known: {optimizers}"}},
    {"missing_required_key",
     {F("missing_required_key") +
          ":20:7: error: graph.nodes[0] 'train_set' (idx_reader): missing required key 'images'",
      "hint: add 'images' (IDX file of u8 images N x H x W [x C])"}},
    {"edge_unknown_node",
     {F("edge_unknown_node") + ":30:7: error: graph.edges[1]: edge refers to unknown node 'bathces'",
      "hint: did you mean 'batches'?"}},  // no follow-on "input not connected" for the dropped edge
    {"edge_unknown_port",
     {F("edge_unknown_port") + ":33:7: error: graph.edges[4]: node 'model' has no output port 'epochs'",
      "hint: did you mean 'epoch'? output ports: epoch"}},
    {"edge_kind_mismatch",
     {F("edge_kind_mismatch") +
      ":36:7: error: graph.edges[7]: 'batches.out' carries batch but 'metrics.in' takes eval"}},
    {"edge_syntax",
     {F("edge_syntax") + ":30:7: error: graph.edges[1]: expected 'from[.port] -> to[.port]', got 'shuffle => batches'",
      "hint: for example: model.epoch -> eval.model"}},
    {"cycle",
     {F("cycle") + ":30:7: error: graph.edges: edge 'reshuffle -> shuffle' closes a cycle",
      "hint: the graph must be acyclic; training feedback is built in"}},
    {"input_fed_twice",
     {F("input_fed_twice") + ":35:7: error: graph.edges[6]: input 'shuffle.in' is already fed by the edge at " +
          F("input_fed_twice") + ":29:7",
      "hint: an input port takes exactly one edge"}},
    {"unconnected_input",
     {F("unconnected_input") + ":26:7: error: node 'eval' (evaluate): input port 'data' is not connected",
      "hint: add an edge such as 'SOURCE -> eval.data' (dataset)"}},
    {"duplicate_node_id",
     {F("duplicate_node_id") + ":22:12: error: graph.nodes[2]: duplicate node id 'shuffle'",
      "hint: the first node with this id is at " + F("duplicate_node_id") + ":21:12"}},
    {"invalid_yaml", {F("invalid_yaml") + ":23:5: error: invalid YAML: illegal block entry"}},
    {"duplicate_yaml_key",
     {F("duplicate_yaml_key") + ":17:3: error: duplicate key 'epochs'",
      "hint: it is already set at line 15; a key may appear once in a map"}},
    {"last_layer_size",
     {F("last_layer_size") +
          ":9:28: error: model.layers[1]: the last layer outputs 780 values per sample, but the data has 784",
      "hint: an autoencoder reconstructs its input: make the last layer's units 784"},
     true},
};

// Generated 28x28 images for the cases whose check needs the data's header.
class MnistSized {
public:
    MnistSized() {
        write_images(dir_ / "imgs.idx", 4, 28, 28, ramp_pixels(4, 28, 28));
        write_images(dir_ / "test.idx.gz", 2, 28, 28, ramp_pixels(2, 28, 28));
    }
    std::vector<std::string> overrides() const {
        return {"graph.nodes[0].images=" + (dir_ / "imgs.idx"), "graph.nodes[5].images=" + (dir_ / "test.idx.gz")};
    }

private:
    TempDir dir_{"aepipe-mnist-sized"};
};

std::vector<std::string> args_for(const std::string &cmd, const ErrorCase &c, const MnistSized &data) {
    std::vector<std::string> a{cmd, c.path()};
    if (c.mnist_sized_data)
        for (const auto &o : data.overrides()) a.push_back(o);
    return a;
}

std::vector<std::string> expected_lines(const ErrorCase &c) {
    std::vector<std::string> v;
    for (const auto &l : c.output) v.push_back(expand(l));
    return v;
}

class ConfigErrorFile : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorFile, ValidateExits2WithExactDiagnostics) {
    const ErrorCase &c = GetParam();
    MnistSized data;
    RunResult r = run_aepipe(args_for("validate", c, data));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    std::vector<std::string> got = lines_of(r.err), want = expected_lines(c);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0], want[0]) << "first line";
    if (want.size() > 1 && want[1].rfind("hint: ", 0) == 0) {
        ASSERT_GE(got.size(), 2u);
        EXPECT_EQ(got[1], want[1]) << "hint line";
    }
    EXPECT_EQ(got, want) << "whole output:\n" << r.err;
}

TEST_P(ConfigErrorFile, RunExits2BeforeCreatingTheRunFolder) {
    const ErrorCase &c = GetParam();
    MnistSized data;
    TempDir tmp("aepipe-errors-run");
    std::vector<std::string> args = args_for("run", c, data);
    args.insert(args.end(), {"--out", tmp / "runs", "--threads", "1"});
    RunResult r = run_aepipe(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(lines_of(r.err), expected_lines(c));
    EXPECT_FALSE(fs::exists(tmp / "runs")) << "a config error must not leave a run folder";
}

// The comment block at the top of each file states the mistake and the expected message;
// keep it in step with the table.
TEST_P(ConfigErrorFile, HeaderCommentStatesTheExpectedMessage) {
    const ErrorCase &c = GetParam();
    std::vector<std::string> head = lines_of(read_bytes(std::string(AEPIPE_SOURCE_DIR) + "/" + c.path()));
    ASSERT_GE(head.size(), 3u);
    EXPECT_EQ(head[0].rfind("# Mistake: ", 0), 0u) << head[0];
    EXPECT_EQ(head[1], "# Expected: " + c.output[0]);
    std::string hint = c.output.size() > 1 && c.output[1].rfind("hint: ", 0) == 0 ? c.output[1] : "(no hint)";
    if (auto at = hint.find('{'); at != std::string::npos) hint = hint.substr(0, at) + "...";
    EXPECT_EQ(head[2], "#           " + hint);
}

INSTANTIATE_TEST_SUITE_P(Files, ConfigErrorFile, ::testing::ValuesIn(kCases),
                         [](const auto &info) { return info.param.name; });

TEST(ConfigErrors, EveryFileHasAnExpectationAndEveryExpectationAFile) {
    std::set<std::string> files, table;
    for (const auto &e : fs::directory_iterator(std::string(AEPIPE_SOURCE_DIR) + "/configs/errors")) {
        EXPECT_EQ(e.path().extension(), ".yaml") << e.path();
        files.insert(e.path().stem().string());
    }
    for (const auto &c : kCases) EXPECT_TRUE(table.insert(c.name).second) << "listed twice: " << c.name;
    std::vector<std::string> untested, missing;
    std::set_difference(files.begin(), files.end(), table.begin(), table.end(), std::back_inserter(untested));
    std::set_difference(table.begin(), table.end(), files.begin(), files.end(), std::back_inserter(missing));
    EXPECT_TRUE(untested.empty()) << "files in configs/errors without an expectation: "
                                  << ::testing::PrintToString(untested);
    EXPECT_TRUE(missing.empty()) << "expectations without a file: " << ::testing::PrintToString(missing);
}

// Each mistake file is the same config with one change: the config minus that change is valid.
// (Checked for one file as a guard that the shared base itself is fine.)
TEST(ConfigErrors, TheBaseOfTheErrorFilesIsValid) {
    TempDir tmp("aepipe-errors-base");
    std::string text = read_bytes(std::string(AEPIPE_SOURCE_DIR) + "/configs/errors/unknown_node_key.yaml");
    auto at = text.find("szie: 50");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 4, "size");
    fs::create_directories(tmp / "configs/errors");
    write_bytes(tmp / "configs/errors/fixed.yaml", text);
    MnistSized data;  // validate checks the data files too
    std::vector<std::string> args{"validate", "configs/errors/fixed.yaml"};
    for (const auto &o : data.overrides()) args.push_back(o);
    RunResult r = run_aepipe(args, tmp.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "configs/errors/fixed.yaml: ok (8 nodes, 7 edges)\n");
}

// ---- command-line overrides ----------------------------------------------------------------

struct OverrideCase {
    std::string label;
    std::vector<std::string> args;    // after "validate CONFIG"
    std::vector<std::string> output;  // stderr lines
};
void PrintTo(const OverrideCase &c, std::ostream *os) { *os << c.label; }

// Each override is named by its index in argv (aepipe validate CONFIG OVERRIDE: 3) and its text.
const std::string kCli = "{cli}: error: ";
const std::vector<OverrideCase> kOverrides = {
    {"no_equals",
     {"train.epochs"},
     {kCli + "bad override 'train.epochs': expected key=value", "hint: for example train.epochs=3"}},
    {"empty_key", {"=3"}, {kCli + "bad override '=3': expected key=value", "hint: for example train.epochs=3"}},
    {"index_past_end",
     {"model.layers[9].units=3"},
     {kCli + "bad override 'model.layers[9].units=3': 'model.layers[9]' is not in the config",
      "hint: the list has 4 items"}},
    // A name in brackets is an id: model.layers has none.
    {"index_not_a_number",
     {"model.layers[x].units=3"},
     {kCli + "bad override 'model.layers[x].units=3': 'model.layers' has no items with an id",
      "hint: pick an item by index: model.layers[0]"}},
    {"index_neither_number_nor_id",
     {"model.layers[-1].units=3"},
     {kCli + "bad override 'model.layers[-1].units=3': list index '-1' is neither a number nor a node id",
      "hint: write overrides as section.key=value, model.layers[2].units=32 or graph.nodes[ID].key=value"}},
    {"unknown_node_id",
     {"graph.nodes[test_st].images=/x.gz"},
     {kCli + "bad override 'graph.nodes[test_st].images=/x.gz': 'graph.nodes' has no item with id 'test_st'",
      "hint: did you mean 'test_set'? ids: train_set, shuffle, batches, scale, model, test_set, eval, metrics, "
      "recon, ckpt"}},
    {"key_under_a_scalar",
     {"train.epochs.value=3"},
     {kCli + "bad override 'train.epochs.value=3': 'train.epochs' is '3', not a map, so it has no key 'value'"}},
    {"key_under_a_list",
     {"model.layers.units=3"},
     {kCli + "bad override 'model.layers.units=3': 'model.layers' is a list, not a map, so it has no key 'units'",
      "hint: pick an item first: model.layers[0].units"}},
    {"value_not_yaml", {"train.epochs=[1"}, {kCli + "bad override 'train.epochs=[1': value is not valid YAML"}},
    // A well-formed override with a bad value is checked like the file, at the override's position.
    {"wrong_type", {"train.epochs=ten"}, {kCli + "train: 'epochs' must be an integer, got 'ten'"}},
    {"unknown_key", {"train.epoch=3"}, {kCli + "train: unknown key 'epoch'", "hint: did you mean 'epochs'?"}},
    {"unknown_layer_type",
     {"model.layers[1].type=dens"},
     {kCli + "model.layers[1]: unknown layer type 'dens'", "hint: did you mean 'dense'? known: {layer_types}"}},
    // The name becomes the run folder: a path would write outside --out.
    {"name_is_a_path",
     {"name=../../x"},
     {kCli + "config: 'name' must be a plain name (letters, digits, _ . -) of at most 200 characters, got '../../x'",
      "hint: it names the run folder inside --out"}},
    // An empty value is YAML's null, not a name: it made run folders called 'null-DATE'.
    {"name_is_empty",
     {"name="},
     {kCli + "config: 'name' is empty: give a plain name (letters, digits, _ . -)",
      "hint: it names the run folder inside --out; leave the key out for the config file's name"}},
    {"name_is_null",
     {"name=~"},
     {kCli + "config: 'name' is empty: give a plain name (letters, digits, _ . -)",
      "hint: it names the run folder inside --out; leave the key out for the config file's name"}},
    // A file a sink writes is a name in the run folder: 'sub/x' failed after training (no such
    // folder), '../x.png' wrote outside the run; validate said ok to both.
    {"checkpoint_file_in_a_folder",
     {"graph.nodes[ckpt].file=sub/m.safetensors"},
     {kCli + "graph.nodes[9] 'ckpt' (checkpoint): 'file' must be a file name in the run folder, got 'sub/m.safetensors'"}},
    {"image_grid_file_outside_the_run",
     {"graph.nodes[recon].file=../escape.png"},
     {kCli + "graph.nodes[8] 'recon' (image_grid): 'file' must be a file name in the run folder, got '../escape.png'"}},
    {"misspelt_type_key", {"graph.nodes[0].typ=x"}, {kCli + "graph.nodes[0] 'train_set' (idx_reader): unknown key 'typ'", "hint: did you mean 'type'?"}},
};

class BadOverride : public ::testing::TestWithParam<OverrideCase> {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("aepipe-overrides");
        TinyData d = write_tiny_data(dir_->path(), 32, 16);
        config_ = write_tiny_config(dir_->path(), d, 3);
    }
    static void TearDownTestSuite() { delete dir_; }
    static TempDir *dir_;
    static std::string config_;
};
TempDir *BadOverride::dir_ = nullptr;
std::string BadOverride::config_;

TEST_P(BadOverride, Exits2WithExactMessage) {
    const OverrideCase &c = GetParam();
    std::vector<std::string> args{"validate", config_};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = run_aepipe(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    std::vector<std::string> want;
    for (auto l : c.output) {
        if (auto at = l.find("{cli}"); at != std::string::npos)
            l.replace(at, 5, "command-line argument 3 '" + c.args.front() + "'");
        want.push_back(expand(l));
    }
    EXPECT_EQ(lines_of(r.err), want);
}

INSTANTIATE_TEST_SUITE_P(Cli, BadOverride, ::testing::ValuesIn(kOverrides),
                         [](const auto &info) { return info.param.label; });

TEST(ConfigErrorsCli, GoodOverridesMakeTheConfigValid) {
    // wrong_value_type.yaml is fixed by overriding the bad value (the override replaces it).
    MnistSized data;  // validate checks the data files too
    std::vector<std::string> args{"validate", "configs/errors/wrong_value_type.yaml", "train.epochs=3"};
    for (const auto &o : data.overrides()) args.push_back(o);
    RunResult r = run_aepipe(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "configs/errors/wrong_value_type.yaml: ok (8 nodes, 7 edges)\n");
}

TEST(ConfigErrorsCli, MissingConfigFileIsAUsageError) {
    RunResult r = run_aepipe({"validate", "configs/errors/no_such_file.yaml"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(lines_of(r.err),
              (std::vector<std::string>{"configs/errors/no_such_file.yaml: error: cannot open config file",
                                        "hint: check the path; configs live in configs/"}));
}

// ---- several mistakes in one file: all reported in one pass, in file order ----------------

TEST(ConfigErrorsCli, CollectsEveryErrorOfAPassInOneRun) {
    TempDir tmp("aepipe-multi");
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    std::string text = tiny_config_yaml(d, 2);
    auto replace = [&](const std::string &a, const std::string &b) {
        auto at = text.find(a);
        ASSERT_NE(at, std::string::npos) << a;
        text.replace(at, a.size(), b);
    };
    replace("{id: shuffle, type: shuffle}", "{id: shuffle, type: shufle}");
    replace("{id: batches, type: batch}", "{id: batches, type: batch, szie: 4}");
    replace("type: image_grid, count: 8}", "type: image_grid, count: 8, zoom: big}");
    write_bytes(tmp / "multi.yaml", text);
    RunResult r = run_aepipe({"validate", "multi.yaml"}, tmp.path());
    EXPECT_EQ(r.exit_code, 2);
    std::vector<std::string> got = lines_of(r.err);
    std::vector<std::string> errors;
    for (const auto &l : got)
        if (l.rfind("hint: ", 0) != 0) errors.push_back(l);
    EXPECT_EQ(errors, (std::vector<std::string>{
                          "multi.yaml:17:27: error: graph.nodes[1] 'shuffle': unknown node type 'shufle'",
                          "multi.yaml:18:34: error: graph.nodes[2] 'batches' (batch): unknown key 'szie'",
                          "multi.yaml:24:53: error: graph.nodes[8] 'recon' (image_grid): 'zoom' must be an "
                          "integer, got 'big'",
                      }))
        << r.err;
}

}  // namespace
}  // namespace aepipe::test
