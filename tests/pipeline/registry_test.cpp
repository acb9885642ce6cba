// The exact set of node types a user can name, per category, and that list-nodes shows them.
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

TEST(Registry, EverySpecHasDocsAndKeyDocs) {
    for (const NodeSpec *s : all_specs()) {
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
    for (const auto &[cat, types] : registered())
        for (const auto &t : types) EXPECT_NE(out.find("\n" + t + ": "), std::string::npos) << t;
    EXPECT_NE(out.find("units: integer, required, between 1 and 16777216."), std::string::npos);  // with its range
    EXPECT_NE(out.find("drop_last: true/false, default false."), std::string::npos);
}

}  // namespace
}  // namespace aepipe
