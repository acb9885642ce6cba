// Huge inputs to the config parser are bounded: the file size (a 40 MB file took 99 s and
// 5.6 GB before its errors), each echoed value (a 50 MB name came back in full) and the
// number of errors listed (100,000 unknown keys printed 200,000 lines).
#include <gtest/gtest.h>

#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

TEST(ConfigLimits, FileOverOneMiBIsRefusedBeforeParsing) {
    TempDir dir("aepipe-limits");
    const std::string path = dir / "huge.yaml";
    write_bytes(path, "model: {}\n# " + std::string(kMaxConfigBytes, 'x') + "\n");
    RunResult r = run_aepipe({"validate", path});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, path + ": error: config file is larger than 1 MiB; a config describes a model and a graph in "
                            "a few KB\nhint: is this the right file?\n");
}

TEST(ConfigLimits, AFolderGivenAsTheConfig) {
    TempDir dir("aepipe-limits");
    RunResult r = run_aepipe({"validate", dir.path()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(lines_of(r.err).at(0), dir.path() + ": error: cannot read the config: is a directory, expected a YAML config file");
}

TEST(ConfigLimits, EchoedValuesAreClipped) {
    const std::string name(500000, 'n');
    const std::string msg = config_error("name: '" + name + "/'\nmodel: {}\ngraph: {nodes: [], edges: []}\n", "n.yaml");
    EXPECT_EQ(msg, "n.yaml:1:7: error: config: 'name' must be a plain name (letters, digits, _ . -) of at most 200 characters, got '" +
                       name.substr(0, 80) + "... (500001 bytes)'\nhint: it names the run folder inside --out");
    const std::string key(300000, 'k');  // an unknown key is echoed too (an explicit key: any length)
    EXPECT_EQ(config_error("? " + key + "\n: 1\nmodel: {}\ngraph: {nodes: [], edges: []}\n", "k.yaml"),
              "k.yaml:1:3: error: config: unknown key '" + key.substr(0, 80) +
                  "... (300000 bytes)'\nhint: known keys: name, model, train, graph");
}

// The name becomes the run folder NAME-DATE-TIME: 300 letters passed validate and run then
// stopped with a bare "filesystem error: ... File name too long"; an empty `name=` made a
// folder called 'null-DATE-TIME'.
TEST(ConfigLimits, NameMustFitAFolderName) {
    const std::string tail = "\nmodel: {}\ngraph: {nodes: [], edges: []}\n";
    const std::string at = "n.yaml:1:7: error: config: 'name' must be a plain name (letters, digits, _ . -) of at most "
                           "200 characters, got ";
    EXPECT_EQ(config_error("name: " + std::string(201, 'a') + tail, "n.yaml"),
              at + "'" + std::string(80, 'a') + "... (201 bytes)'\nhint: it names the run folder inside --out");
    EXPECT_EQ(lines_of(config_error("name: ''" + tail, "n.yaml")).at(0), at + "''");
    EXPECT_EQ(lines_of(config_error("name:" + tail, "n.yaml")).at(0),  // a null's mark is where the next token is
              "n.yaml:2:1: error: config: 'name' is empty: give a plain name (letters, digits, _ . -)");
    const std::string ok = config_error("name: " + std::string(200, 'a') + tail, "n.yaml");
    EXPECT_EQ(ok.find("'name'"), std::string::npos) << ok;  // 200 is fine (other errors remain)
}

TEST(ConfigLimits, ErrorListStopsWithACount) {
    std::string text = "model: {}\ngraph: {nodes: [], edges: []}\n";
    for (int i = 0; i < 50000; ++i) text += "zz" + std::to_string(i) + ": 1\n";
    const std::string msg = config_error(text, "many.yaml");
    const auto lines = lines_of(msg);
    ASSERT_EQ(lines.size(), 2 * kMaxListedErrors + 1);  // each error has a hint line
    EXPECT_EQ(lines[0], "many.yaml:3:1: error: config: unknown key 'zz0'");
    EXPECT_EQ(lines.back(), "... and 49980 more errors (fix the ones above first)");
}

}  // namespace
}  // namespace aepipe::test
