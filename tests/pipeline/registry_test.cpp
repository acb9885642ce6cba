// The exact set of node types a user can name, per category, and of config sections, and that
// list-nodes shows every key of each.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "pipeline/registry.hpp"

namespace aepipe {
namespace {

std::map<std::string, std::set<std::string>> registered() {
    std::map<std::string, std::set<std::string>> by;
    for (const NodeSpec *s : all_specs())
        if (s->type.rfind("test_", 0) != 0) by[category_name(s->category)].insert(s->type);  // test-only types
    return by;
}

TEST(Registry, ExactSetOfNodeTypes) {
    std::map<std::string, std::set<std::string>> want{
        {"data", {"idx_reader", "shuffle", "batch", "normalize", "corrupt"}},
        {"compute", {"train", "evaluate"}},
        {"sink", {"metrics", "image_grid", "checkpoint", "report"}},
        {"layer", {"dense", "sigmoid", "relu", "tanh", "identity", "sample", "conv2d", "deconv2d", "maxpool",
                   "upsample", "reshape", "flatten"}},
        {"loss", {"mse", "bce"}},
        {"optimizer", {"sgd", "rmsprop", "adam", "adagrad"}},
    };
    EXPECT_EQ(registered(), want);
}

TEST(Registry, ExactSetOfConfigSections) {
    std::set<std::string> got;
    for (const NodeSpec *s : section_specs()) got.insert(s->type);
    EXPECT_EQ(got, (std::set<std::string>{"config", "model", "train", "graph"}));
}

std::vector<const NodeSpec *> every_spec() {
    std::vector<const NodeSpec *> v = section_specs();
    v.insert(v.end(), all_specs().begin(), all_specs().end());
    return v;
}

TEST(Registry, EverySpecHasDocsAndKeyDocs) {
    for (const NodeSpec *s : every_spec()) {
        EXPECT_FALSE(s->doc.empty()) << s->type;
        for (const auto &k : s->keys) EXPECT_FALSE(k.doc.empty()) << s->type << "." << k.name;
    }
}

TEST(Registry, ListNodesPrintsEveryType) {
    FILE *f = popen(AEPIPE_BINARY " list-nodes", "r");
    ASSERT_NE(f, nullptr);
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    EXPECT_EQ(pclose(f), 0);
    // Every key a config can hold, from the specs that validate it: sections, nodes, layers...
    for (const NodeSpec *s : every_spec()) {
        if (s->type.rfind("test_", 0) == 0) continue;  // registered by this test binary only
        EXPECT_NE(out.find("\n" + s->type + ": " + s->doc + "\n"), std::string::npos) << s->type;
        for (const auto &k : s->keys)
            EXPECT_NE(out.find("\n  " + k.name + ": " + kind_name(k.kind)), std::string::npos) << s->type << "." << k.name;
    }
    EXPECT_NE(out.find("units: integer, required, between 1 and 16777216."), std::string::npos);  // with its range
    EXPECT_NE(out.find("drop_last: true/false, default false."), std::string::npos);
}

}  // namespace
}  // namespace aepipe
