// A YAML complex key (`? [a, b]` or a flow map used as a key) has no name: the schema check
// threw yaml-cpp's bare "bad conversion" and `aepipe validate` ended in std::terminate under
// the fuzzer. It is a config error at the key. Found by tests/fuzz/fuzz_config; the input it
// found is tests/fuzz/regressions/config/complex_key.yaml.
#include <gtest/gtest.h>

#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

TEST(ComplexKey, ListAsAKeyIsAConfigErrorAtTheKey) {
    EXPECT_EQ(config_error("? [a, b]\n: 1\nmodel: {layers: [{type: dense, units: 4}]}\ngraph: {nodes: [], edges: []}\n",
                           "ck.yaml"),
              "ck.yaml:1:3: error: config: a key must be a name, got a list");
}

TEST(ComplexKey, FuzzerInputIsAConfigError) {
    const std::string text =
        read_bytes(std::string(AEPIPE_SOURCE_DIR) + "/tests/fuzz/regressions/config/complex_key.yaml");
    const std::string msg = config_error(text, "complex_key.yaml");
    EXPECT_EQ(msg.rfind("complex_key.yaml:1:3: error: config: a key must be a name, got a", 0), 0u) << msg;
}

}  // namespace
}  // namespace aepipe::test
