// Typed parameters (pipeline/schema.hpp): a struct whose fields are bound to their keys is
// filled once from a node's YAML map, each kind converted to its field's type, defaults
// where a key is not given; a value of the wrong kind gives the error check_params gives.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.hpp"
#include "pipeline/schema.hpp"
#include "support/expect_error.hpp"

namespace aepipe {
namespace {

struct Sample {
    int64_t count = -1;
    int threads = -1;
    double rate = -1;
    bool on = false;
    std::string name = "unset", file = "unset", mode = "unset";
    std::vector<int64_t> sizes;
    YAML::Node extra;
    std::optional<int64_t> seed;
    static const Keys<Sample> &keys();
};

const Keys<Sample> &Sample::keys() {
    using P = Sample;
    static const Keys<P> k{
        key(&P::count, {"count", Kind::Int, "8", "an int64", {}, false, size_range()}),
        key(&P::threads, {"threads", Kind::Int, "2", "an int", {}, false, at_least(0, 64)}),
        key(&P::rate, {"rate", Kind::Float, "0.5", "a float", {}, false, unit_interval()}),
        key(&P::on, {"on", Kind::Bool, "true", "a bool"}),
        key(&P::name, {"name", Kind::String, "grid.png", "a string"}),
        key(&P::file, {"file", Kind::Path, "", "a path"}),
        key(&P::mode, {"mode", Kind::Enum, "nearest", "an enum", {"nearest", "bilinear"}}),
        key(&P::sizes, {"sizes", Kind::IntList, "[1, 2]", "an int list", {}, false, size_range()}),
        key(&P::extra, {"extra", Kind::Map, "{type: mse}", "a map"}),
        key(&P::seed, {"seed", Kind::Int, "", "optional: set only when given", {}, false, seed_range()})};
    return k;
}

const NodeSpec kSpec{"sample", Category::Sink, "test node", Sample::keys().specs()};

// The node's map is the config's root; its file is configs/sample.yaml (paths resolve there).
struct Parsed {
    ConfigFile cfg;
    Params params;
};
Parsed checked(const std::string &yaml) {
    Parsed p{parse_config(yaml, "configs/sample.yaml"), {}};
    Diags d;
    p.params = check_params(kSpec, p.cfg, p.cfg.root, "sample", d, {});
    d.throw_if_any();
    return p;
}

TEST(TypedParams, SpecsKeepTheDeclarationOrderAndText) {
    ASSERT_EQ(kSpec.keys.size(), 10u);
    EXPECT_EQ(kSpec.keys[0].name, "count");
    EXPECT_EQ(kSpec.keys[0].def, "8");
    EXPECT_EQ(kSpec.keys[6].choices, (std::vector<std::string>{"nearest", "bilinear"}));
    EXPECT_EQ(kSpec.keys[9].name, "seed");
}

TEST(TypedParams, DefaultsFillEveryKindWhenNothingIsGiven) {
    Parsed p = checked("{}");
    const Sample s = parse<Sample>(p.params);
    EXPECT_EQ(s.count, 8);
    EXPECT_EQ(s.threads, 2);
    EXPECT_DOUBLE_EQ(s.rate, 0.5);
    EXPECT_TRUE(s.on);
    EXPECT_EQ(s.name, "grid.png");
    EXPECT_EQ(s.file, "unset");  // no default: the field keeps its initialiser
    EXPECT_EQ(s.mode, "nearest");
    EXPECT_EQ(s.sizes, (std::vector<int64_t>{1, 2}));
    ASSERT_TRUE(s.extra.IsMap());
    EXPECT_EQ(s.extra["type"].as<std::string>(), "mse");
    EXPECT_FALSE(s.seed.has_value());
}

TEST(TypedParams, GivenValuesOfEveryKindAreConverted) {
    Parsed p = checked(
        "count: 100000\nthreads: 7\nrate: 0.25\non: false\nname: out.png\nfile: ../data/x.idx\nmode: bilinear\n"
        "sizes: [3, 4, 5]\nextra: {type: bce, from_logits: true}\nseed: 0\n");
    const Sample s = parse<Sample>(p.params);
    EXPECT_EQ(s.count, 100000);
    EXPECT_EQ(s.threads, 7);
    EXPECT_DOUBLE_EQ(s.rate, 0.25);
    EXPECT_FALSE(s.on);
    EXPECT_EQ(s.name, "out.png");
    // A path is resolved against the config's folder.
    EXPECT_EQ(s.file, (std::filesystem::absolute("configs").parent_path() / "data/x.idx").string());
    EXPECT_EQ(s.mode, "bilinear");
    EXPECT_EQ(s.sizes, (std::vector<int64_t>{3, 4, 5}));
    EXPECT_EQ(s.extra["type"].as<std::string>(), "bce");
    ASSERT_TRUE(s.seed.has_value());
    EXPECT_EQ(*s.seed, 0);  // given as 0: set, not confused with unset
}

// The same map, checked (what validation reports) and parsed unchecked (what a node would
// meet if a value slipped past validation): one message, at the value.
void expect_same_error(const std::string &yaml, const std::string &want) {
    const std::string from_check = test::error_of<ConfigError>([&] { checked(yaml); });
    EXPECT_EQ(from_check, want);
    const ConfigFile cfg = parse_config(yaml, "configs/sample.yaml");
    const Params unchecked(&kSpec, &cfg, cfg.root, "sample");
    EXPECT_EQ(test::error_of<ConfigError>([&] { parse<Sample>(unchecked); }), from_check);
}

TEST(TypedParams, WrongKindIntGivesTheValidationError) {
    expect_same_error("count: many\n", "configs/sample.yaml:1:8: error: sample: 'count' must be an integer, got 'many'");
}

TEST(TypedParams, WrongKindFloatGivesTheValidationError) {
    expect_same_error("rate: fast\n", "configs/sample.yaml:1:7: error: sample: 'rate' must be a number, got 'fast'");
}

TEST(TypedParams, WrongKindBoolGivesTheValidationError) {
    expect_same_error("on: maybe\n", "configs/sample.yaml:1:5: error: sample: 'on' must be true or false, got 'maybe'");
}

TEST(TypedParams, WrongKindStringGivesTheValidationError) {
    expect_same_error("name: [a, b]\n",
                      "configs/sample.yaml:1:7: error: sample: 'name' must be a string, got a list");
}

TEST(TypedParams, WrongKindIntListGivesTheValidationError) {
    expect_same_error("sizes: [1, x]\n",
                      "configs/sample.yaml:1:8: error: sample: 'sizes' must be a list of integers, got a list");
}

TEST(TypedParams, OutOfRangeGivesTheValidationError) {
    expect_same_error("threads: 65\n",
                      "configs/sample.yaml:1:10: error: sample: 'threads' must be between 0 and 64, got '65'");
}

TEST(TypedParams, WrongChoiceKeepsTheDidYouMeanHint) {
    expect_same_error("mode: bilinar\n",
                      "configs/sample.yaml:1:7: error: sample: 'mode' must be one of nearest bilinear, got 'bilinar'\n"
                      "hint: did you mean 'bilinear'?");
}

struct Mismatched {
    int64_t n = 0;
    int small = 0;
};

TEST(TypedParams, AFieldThatCannotHoldItsKindIsRefusedWhenDeclared) {
    EXPECT_THROW(key(&Mismatched::n, {"n", Kind::String, "", "a string bound to an int"}), std::logic_error);
    EXPECT_NO_THROW(key(&Mismatched::n, {"n", Kind::Int, "", "an int"}));
    // An int field takes only a key whose range stays inside int.
    EXPECT_THROW(key(&Mismatched::small, {"small", Kind::Int, "", "no range"}), std::logic_error);
    EXPECT_THROW(key(&Mismatched::small, {"small", Kind::Int, "", "too wide", {}, false, size_range(1, 1e10)}),
                 std::logic_error);
    EXPECT_NO_THROW(key(&Mismatched::small, {"small", Kind::Int, "", "fits", {}, false, at_least(0, 4096)}));
}

}  // namespace
}  // namespace aepipe
