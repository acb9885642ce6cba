// Node specs: each registered type declares its keys (kind, default, doc) and its ports.
// The spec drives validation (unknown keys, wrong kinds), `aepipe list-nodes`, and Params.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/config.hpp"

namespace aepipe {

enum class Kind { Int, Float, Bool, String, Path, Enum, Map, List, IntList };
const char *kind_name(Kind k);

struct KeySpec {
    std::string name;
    Kind kind;
    std::string def;  // default as YAML text; "" = no default
    std::string doc;
    std::vector<std::string> choices = {};  // for Kind::Enum
    bool required = false;
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
    std::string context_;  // e.g. "graph.nodes[3] 'enc1' (dense)"
};

// Checks `map` against `spec`: unknown keys (with a did-you-mean), kinds, choices, required
// keys. Every problem goes to `diags`; keys in `skip` (e.g. id, type) are not checked.
Params check_params(const NodeSpec &spec, const ConfigFile &cfg, const YAML::Node &map, const std::string &context,
                    Diags &diags, const std::set<std::string> &skip = {"id", "type"});

// Resolves a path from a config against the config's folder.
std::string resolve_path(const ConfigFile &cfg, const std::string &p);

}  // namespace aepipe
