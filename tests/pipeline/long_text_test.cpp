// Names, node ids and edges are matched with std::regex, which recurses once per character:
// an edge of 200,000 characters overflowed the stack (a segfault in `aepipe validate`).
// Texts over 1,000 characters are refused with the usual message before matching.
#include <gtest/gtest.h>

#include "support/expect_error.hpp"

#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"

namespace aepipe::test {
namespace {

std::string long_error(const std::string &text) { return config_error(text, "long.yaml"); }

const std::string kHead = "model: {layers: [{type: dense, units: 4}]}\n";

TEST(LongText, HugeEdgeIsAConfigErrorNotAStackOverflow) {
    const std::string edge = std::string(200000, 'a') + " -> b";
    const std::string msg = long_error(kHead + "graph:\n  nodes: [{id: b, type: shuffle}]\n  edges: ['" + edge + "']\n");
    // The message quotes the first 80 characters and the length (echoed values are clipped).
    EXPECT_EQ(msg, "long.yaml:4:11: error: graph.edges[0]: expected 'from[.port] -> to[.port]', got '" +
                       edge.substr(0, 80) + "... (200005 bytes)'\nhint: for example: model.epoch -> eval.model");
}

TEST(LongText, HugeNodeIdIsAConfigError) {
    const std::string id = std::string(200000, 'n');
    const std::string msg =
        long_error(kHead + "graph:\n  nodes: [{id: " + id + ", type: shuffle}]\n  edges: []\n");
    EXPECT_EQ(msg, "long.yaml:3:16: error: graph.nodes[0]: id '" + id.substr(0, 80) +
                       "... (200000 bytes)' must be a name (letters, digits, _)");
}

TEST(LongText, HugeRunNameIsAConfigError) {
    const std::string name = std::string(200000, 'r');
    const std::string msg = long_error("name: " + name + "\n" + kHead + "graph: {nodes: [], edges: []}\n");
    EXPECT_EQ(msg, "long.yaml:1:7: error: config: 'name' must be a plain name (letters, digits, _ . -) of at most 200 characters, got '" +
                       name.substr(0, 80) + "... (200000 bytes)'\nhint: it names the run folder inside --out");
}

}  // namespace
}  // namespace aepipe::test
