// YAML anchors and aliases in a config: a shared node is walked once, so a "billion laughs"
// file is rejected for what it says instead of hanging, and an alias inside its own anchor
// is a config error at the anchored node instead of a stack overflow (both crashed or hung
// `aepipe validate` before; the inputs are kept in tests/fuzz/regressions/config/).
#include <gtest/gtest.h>

#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

std::string fixture(const std::string &name) {
    return read_bytes(std::string(AEPIPE_SOURCE_DIR) + "/tests/fuzz/regressions/config/" + name);
}

TEST(YamlAlias, AliasInsideItsOwnAnchorIsAConfigError) {
    EXPECT_EQ(config_error(fixture("alias_cycle.yaml"), "cycle.yaml"),
              "cycle.yaml:1:8: error: this map contains an alias to itself\n"
              "hint: an alias (*name) must not refer to an anchor (&name) that encloses it");
}

TEST(YamlAlias, BillionLaughsIsRejectedForItsKeysWithoutExpandingThem) {
    // 10^9 leaves if expanded; walked once per node it is nine lists of ten entries.
    const std::string msg = config_error(fixture("billion_laughs.yaml"), "lol.yaml");
    EXPECT_EQ(msg.rfind("lol.yaml:1:1: error: config: unknown key 'a0'", 0), 0u) << msg;
}

TEST(YamlAlias, SharedNodesStillWork) {
    ConfigFile cfg = parse_config(
        "defaults: &d {type: dense, units: 4, activation: relu}\n"
        "model: {layers: [*d, *d]}\n",
        "shared.yaml");
    EXPECT_EQ(cfg.root["model"]["layers"][1]["units"].as<int>(), 4);
}

}  // namespace
}  // namespace aepipe::test
