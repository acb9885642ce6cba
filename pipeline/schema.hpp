// Node specs: each registered type declares its keys (kind, default, doc) and its ports.
// The spec drives validation (unknown keys, wrong kinds), `aepipe list-nodes`, and Params.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
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
// Epochs: the test set's reader sends one message per epoch ahead of the evaluation, and a
// run past max_steps still walks its remaining epochs; a million bounds both (~100 MB, a few s).
constexpr double kMaxEpochs = 1e6;
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

namespace detail {
struct ParamsAccess;
}

// Validated parameters of one node: the YAML map, each key's value (given or defaulted)
// resolved once, and where each came from. Nodes do not look values up here by name: they
// declare a params struct whose fields are bound to their keys (Keys, below) and parse it
// once; only that binding reads values (the readers are private).
class Params {
public:
    Params() = default;
    Params(const NodeSpec *spec, const ConfigFile *cfg, YAML::Node node, std::string context);

    bool has(const std::string &key) const;        // given explicitly in the config
    // The value as written, for showing a config (aepipe graph); a node reads its struct.
    YAML::Node given(const std::string &key) const;
    SourcePos pos(const std::string &key) const;   // the value's position, or the map's
    SourcePos where() const;                       // position of the node's map
    const std::string &context() const { return context_; }
    const NodeSpec &spec() const { return *spec_; }
    const ConfigFile &config() const { return *cfg_; }

    // Throws ConfigError at the key's position.
    [[noreturn]] void fail(const std::string &key, const std::string &msg, const std::string &hint = "") const;

private:
    friend struct detail::ParamsAccess;
    // Fills `out` from the key's value (given or default), converted to the field's type; a
    // key with neither leaves `out` as it was. A value of the wrong kind or out of range (a
    // Params not checked by check_params) throws the ConfigError check_params reports.
    void read(const std::string &key, int64_t &out) const;
    void read(const std::string &key, int &out) const;
    void read(const std::string &key, double &out) const;
    void read(const std::string &key, bool &out) const;
    void read(const std::string &key, std::string &out) const;  // a Path resolved against the config's folder
    void read(const std::string &key, std::vector<int64_t> &out) const;
    void read(const std::string &key, YAML::Node &out) const;  // Map, List: the node given, or the parsed default
    template <class T>
    void read(const std::string &key, std::optional<T> &out) const {  // set only if given explicitly
        out.reset();
        if (!has(key)) return;
        T v{};
        read(key, v);
        out = std::move(v);
    }
    YAML::Node value(const std::string &key) const;  // checked against the key's kind and range
    const NodeSpec *spec_ = nullptr;
    const ConfigFile *cfg_ = nullptr;
    YAML::Node node_;
    std::map<std::string, YAML::Node> values_;  // every key given or defaulted, resolved once
    std::string context_;  // e.g. "graph.nodes[3] 'enc1' (dense)"
};

// Typed parameters. A node declares a plain struct of its settings and binds each field to
// its key where the key is declared, so a key's name is written once:
//
//   struct GridParams {
//       int64_t count = 16;
//       std::string file;
//       static const Keys<GridParams> &keys();
//   };
//   const Keys<GridParams> &GridParams::keys() {
//       static const Keys<GridParams> k{
//           key(&GridParams::count, {"count", Kind::Int, "16", "images in the grid", {}, false, size_range()}),
//           key(&GridParams::file, {"file", Kind::String, "grid.png", "output file"})};
//       return k;
//   }
//
// keys().specs() goes into the NodeSpec (validation, list-nodes); parse<GridParams>(params)
// fills the struct once, at construction. A field's type must suit its key's kind (checked
// when the keys are made): Int -> int64_t or int, Float -> double, Bool -> bool, String, Path
// and Enum -> std::string, IntList -> std::vector<int64_t>, Map and List -> YAML::Node; any of
// them as std::optional<T> is set only when the key is given.
template <class P>
struct Key {
    KeySpec spec;
    std::function<void(P &, const Params &)> fill;
};

namespace detail {
// The binding's way in to the readers of Params.
struct ParamsAccess {
    template <class T>
    static void read(const Params &p, const std::string &key, T &out) {
        p.read(key, out);
    }
};
template <class T>
struct FieldOf {
    using type = T;
};
template <class T>
struct FieldOf<std::optional<T>> {
    using type = T;
};
template <class T>
bool field_holds(Kind k) {
    using F = typename FieldOf<T>::type;
    if constexpr (std::is_same_v<F, int64_t> || std::is_same_v<F, int>) return k == Kind::Int;
    else if constexpr (std::is_same_v<F, double>) return k == Kind::Float;
    else if constexpr (std::is_same_v<F, bool>) return k == Kind::Bool;
    else if constexpr (std::is_same_v<F, std::string>) return k == Kind::String || k == Kind::Path || k == Kind::Enum;
    else if constexpr (std::is_same_v<F, std::vector<int64_t>>) return k == Kind::IntList;
    else if constexpr (std::is_same_v<F, YAML::Node>) return k == Kind::Map || k == Kind::List;
    else return false;
}
}  // namespace detail

// Declares a key and binds it to `field`; a field type that cannot hold the key's kind, or
// an int field whose key's range reaches beyond int, is a programming error, thrown when the
// keys are made (at startup, by the registrars).
template <class P, class T>
Key<P> key(T P::*field, KeySpec spec) {
    if (!detail::field_holds<T>(spec.kind))
        throw std::logic_error("key '" + spec.name + "' (" + kind_name(spec.kind) + ") bound to a field of another type");
    if constexpr (std::is_same_v<typename detail::FieldOf<T>::type, int>)
        if (!spec.range.set || spec.range.lo < std::numeric_limits<int>::min() ||
            spec.range.hi > std::numeric_limits<int>::max())
            throw std::logic_error("key '" + spec.name + "' bound to an int field needs a range within int");
    std::string name = spec.name;
    return {std::move(spec), [field, name](P &p, const Params &ps) { detail::ParamsAccess::read(ps, name, p.*field); }};
}

template <class P>
class Keys {
public:
    Keys(std::initializer_list<Key<P>> keys) : keys_(keys) {}
    // The keys' specs, in order, for a NodeSpec or a section (SectionKeys).
    std::vector<KeySpec> specs() const {
        std::vector<KeySpec> v;
        for (const auto &k : keys_) v.push_back(k.spec);
        return v;
    }
    // Fills a P from validated params: each bound field gets its key's value or default.
    P parse(const Params &p) const {
        P out{};
        for (const auto &k : keys_) k.fill(out, p);
        return out;
    }

private:
    std::vector<Key<P>> keys_;
};

// The params struct P (with a static keys()) filled from `p`.
template <class P>
P parse(const Params &p) {
    return P::keys().parse(p);
}

// Checks `map` against `spec`: unknown keys (with a did-you-mean), kinds, choices, required
// keys. Every problem goes to `diags`; keys in `skip` (e.g. id, type) are not checked.
Params check_params(const NodeSpec &spec, const ConfigFile &cfg, const YAML::Node &map, const std::string &context,
                    Diags &diags, const std::set<std::string> &skip = {"id", "type"});

// Resolves a path from a config against the config's folder.
std::string resolve_path(const ConfigFile &cfg, const std::string &p);

}  // namespace aepipe
