// Node specs: each registered type declares its keys (kind, default, doc) and its ports.
// The spec drives validation (unknown keys, wrong kinds), `aepipe list-nodes`, and Params.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/config.hpp"

namespace aepipe {

enum class Kind { Int, Float, Bool, String, Path, Enum, Map, List, IntList };
const char *kind_name(Kind k);

// The values a numeric key (Int, Float, IntList elements) accepts. Every numeric key of every
// spec has one (a test walks the registries): a value outside it is a config error at the
// value, before anything is built. Floats must also be finite.
struct Range {
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    bool lo_open = false, hi_open = false;
    bool set = false;
    bool contains(double v) const;
    std::string text() const;  // "at least 1", "greater than 0", "between 0 and 1", "in [0, 1)"
};
inline Range at_least(double lo, double hi = std::numeric_limits<double>::infinity()) {
    return {lo, hi, false, false, true};
}
inline Range above(double lo) { return {lo, std::numeric_limits<double>::infinity(), true, false, true}; }
inline Range unit_interval() { return {0, 1, false, false, true}; }       // probabilities, fractions
inline Range decay_rate() { return {0, 1, false, true, true}; }           // [0, 1): momentum, betas
inline Range any_finite() { return {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
                                    false, false, true}; }
// Sizes (units, filters, batch, ...): at least 1 and small enough that products of a few of
// them stay far from int64 overflow; what fits in memory is checked separately (memory.hpp).
constexpr double kMaxSize = double(1 << 24);
inline Range size_range(double lo = 1, double hi = kMaxSize) { return at_least(lo, hi); }
// What layers may hold, whatever their keys say (each within its range, their products need
// not be): values per sample (2^36) and weights per layer (2^40). Far beyond any memory (the
// estimate refuses much less), they keep every product of sizes, times a batch of at most
// 2^24, inside int64.
constexpr double kMaxValuesPerSample = double(int64_t(1) << 36);
constexpr double kMaxWeightsPerLayer = double(int64_t(1) << 40);
inline Range seed_range() { return at_least(0, 9007199254740992.0); }  // 2^53: exact as a double

struct KeySpec {
    std::string name;
    Kind kind;
    std::string def;  // default as YAML text; "" = no default
    std::string doc;
    std::vector<std::string> choices = {};  // for Kind::Enum
    bool required = false;
    Range range = {};  // for Kind::Int, Kind::Float, Kind::IntList
};

// A port carries messages of one of `kinds` (see pipeline/message.hpp for the kinds).
struct PortSpec {
    std::string name;
    std::vector<std::string> kinds;
    std::string doc;
};

enum class Category { Data, Compute, Sink, Layer, Loss, Optimizer, Section };
const char *category_name(Category c);

struct NodeSpec {
    std::string type;
    Category category;
    std::string doc;
    std::vector<KeySpec> keys;
    std::vector<PortSpec> inputs = {};
    std::vector<PortSpec> outputs = {};
    // Non-empty: a graph may hold at most one node of this type, and this says why.
    std::string once = "";
    // Keys that were renamed: old name -> hint naming the new key(s). A config that still uses
    // one gets an error with the hint rather than a did-you-mean that may point elsewhere.
    std::vector<std::pair<std::string, std::string>> renamed = {};

    const KeySpec *key(const std::string &name) const;
    const PortSpec *input(const std::string &name) const;
    const PortSpec *output(const std::string &name) const;
};

// Validated parameters of one node: typed getters that fall back to the spec's default.
class Params {
public:
    Params() = default;
    Params(const NodeSpec *spec, const ConfigFile *cfg, YAML::Node node, std::string context);

    int64_t i(const std::string &key) const;
    double f(const std::string &key) const;
    bool b(const std::string &key) const;
    std::string s(const std::string &key) const;
    std::string path(const std::string &key) const;  // resolved against the config's folder; "" if unset
    std::vector<int64_t> ints(const std::string &key) const;
    YAML::Node raw(const std::string &key) const;  // the node given, or the parsed default
    bool has(const std::string &key) const;        // given explicitly in the config
    SourcePos pos(const std::string &key) const;   // the value's position, or the map's
    SourcePos where() const;                       // position of the node's map
    const std::string &context() const { return context_; }
    const NodeSpec &spec() const { return *spec_; }
    const ConfigFile &config() const { return *cfg_; }

    // Throws ConfigError at the key's position.
    [[noreturn]] void fail(const std::string &key, const std::string &msg, const std::string &hint = "") const;

private:
    YAML::Node value(const std::string &key) const;
    const NodeSpec *spec_ = nullptr;
    const ConfigFile *cfg_ = nullptr;
    YAML::Node node_;
    std::map<std::string, YAML::Node> values_;  // every key given or defaulted, resolved once
    std::string context_;  // e.g. "graph.nodes[3] 'enc1' (dense)"
};

// Checks `map` against `spec`: unknown keys (with a did-you-mean), kinds, choices, required
// keys. Every problem goes to `diags`; keys in `skip` (e.g. id, type) are not checked.
Params check_params(const NodeSpec &spec, const ConfigFile &cfg, const YAML::Node &map, const std::string &context,
                    Diags &diags, const std::set<std::string> &skip = {"id", "type"});

// Resolves a path from a config against the config's folder.
std::string resolve_path(const ConfigFile &cfg, const std::string &p);

}  // namespace aepipe
