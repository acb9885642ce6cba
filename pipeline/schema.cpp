#include "pipeline/schema.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace aepipe {

bool Range::contains(double v) const {
    if (std::isnan(v)) return false;
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
}

// Whole bounds in full (a seed's 2^53 as 9007199254740992, not 9.007199255e+15).
static std::string num(double v) {
    char buf[32];
    if (v == std::floor(v) && std::fabs(v) < 1e17)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

std::string Range::text() const {
    const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
    if (has_lo && !has_hi) return (lo_open ? "greater than " : "at least ") + num(lo);
    if (!has_lo && has_hi) return (hi_open ? "less than " : "at most ") + num(hi);
    if (!has_lo && !has_hi) return "a finite number";
    if (!lo_open && !hi_open) return "between " + num(lo) + " and " + num(hi);
    return std::string("in ") + (lo_open ? "(" : "[") + num(lo) + ", " + num(hi) + (hi_open ? ")" : "]");
}

const char *kind_name(Kind k) {
    switch (k) {
        case Kind::Int: return "integer";
        case Kind::Float: return "number";
        case Kind::Bool: return "true/false";
        case Kind::String: return "string";
        case Kind::Path: return "path";
        case Kind::Enum: return "one of";
        case Kind::Map: return "map";
        case Kind::List: return "list";
        case Kind::IntList: return "list of integers";
    }
    return "?";
}

const char *category_name(Category c) {
    switch (c) {
        case Category::Data: return "data";
        case Category::Compute: return "compute";
        case Category::Sink: return "sink";
        case Category::Layer: return "layer";
        case Category::Loss: return "loss";
        case Category::Optimizer: return "optimizer";
        case Category::Section: return "section";
    }
    return "?";
}

const KeySpec *NodeSpec::key(const std::string &name) const {
    for (const auto &k : keys)
        if (k.name == name) return &k;
    return nullptr;
}
const PortSpec *NodeSpec::input(const std::string &name) const {
    for (const auto &p : inputs)
        if (p.name == name) return &p;
    return nullptr;
}
const PortSpec *NodeSpec::output(const std::string &name) const {
    for (const auto &p : outputs)
        if (p.name == name) return &p;
    return nullptr;
}

std::string resolve_path(const ConfigFile &cfg, const std::string &p) {
    namespace fs = std::filesystem;
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(cfg.dir) / p).lexically_normal().string();
}

// Every key's value is resolved here, once: the one given, or its default parsed from the
// spec's text; lookups are then a map search.
Params::Params(const NodeSpec *spec, const ConfigFile *cfg, YAML::Node node, std::string context)
    : spec_(spec), cfg_(cfg), node_(node), context_(std::move(context)) {
    for (const KeySpec &ks : spec_->keys) {
        if (has(ks.name))
            values_[ks.name] = static_cast<const YAML::Node &>(node_)[ks.name];
        else if (!ks.def.empty())
            values_[ks.name] = YAML::Load(ks.def);
    }
}

bool Params::has(const std::string &key) const {
    return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

YAML::Node Params::given(const std::string &key) const {
    return has(key) ? static_cast<const YAML::Node &>(node_)[key] : YAML::Node();
}

namespace {
struct Problem {
    std::string msg, hint;  // msg empty: none
};
Problem value_problem(const KeySpec &ks, const YAML::Node &v, const std::string &context);
}  // namespace

YAML::Node Params::value(const std::string &key) const {
    const KeySpec *ks = spec_->key(key);
    if (!ks) throw RuntimeError("internal: " + spec_->type + " has no key '" + key + "'");
    auto it = values_.find(key);
    if (it == values_.end()) {
        if (ks->required) fail(key, "'" + key + "' is required");
        return YAML::Node(YAML::NodeType::Null);
    }
    if (it->second.IsNull()) return it->second;
    if (Problem pr = value_problem(*ks, it->second, context_); !pr.msg.empty())
        throw ConfigError(pos_of(*cfg_, it->second), pr.msg, pr.hint);
    return it->second;
}

void Params::read(const std::string &key, int64_t &out) const {
    if (YAML::Node v = value(key); !v.IsNull()) out = v.as<int64_t>();
}
void Params::read(const std::string &key, int &out) const {
    // key() refuses an int field whose key's range reaches beyond int.
    if (YAML::Node v = value(key); !v.IsNull()) out = int(v.as<int64_t>());
}
void Params::read(const std::string &key, double &out) const {
    if (YAML::Node v = value(key); !v.IsNull()) out = v.as<double>();
}
void Params::read(const std::string &key, bool &out) const {
    if (YAML::Node v = value(key); !v.IsNull()) out = v.as<bool>();
}
void Params::read(const std::string &key, std::string &out) const {
    YAML::Node v = value(key);
    if (v.IsNull()) return;
    // A path's default (if any) is used as written; a given one is relative to the config.
    out = spec_->key(key)->kind == Kind::Path && has(key) ? resolve_path(*cfg_, v.Scalar()) : v.Scalar();
}
void Params::read(const std::string &key, std::vector<int64_t> &out) const {
    if (YAML::Node v = value(key); !v.IsNull()) out = v.as<std::vector<int64_t>>();
}
void Params::read(const std::string &key, YAML::Node &out) const {
    if (YAML::Node v = value(key); !v.IsNull()) out = v;
}

SourcePos Params::where() const { return pos_of(*cfg_, node_); }
SourcePos Params::pos(const std::string &key) const {
    return has(key) ? pos_of(*cfg_, node_[key]) : where();
}

void Params::fail(const std::string &key, const std::string &msg, const std::string &hint) const {
    throw ConfigError(pos(key), context_ + ": " + msg, hint);
}

namespace {

template <class T>
bool converts(const YAML::Node &n) {
    if (!n.IsScalar()) return false;
    T v;
    return YAML::convert<T>::decode(n, v);
}

const std::pair<std::string, std::string> *renamed_key(const NodeSpec &spec, const std::string &key) {
    for (const auto &r : spec.renamed)
        if (r.first == key) return &r;
    return nullptr;
}

// Returns "" if `v` fits `ks`, else what was expected.
std::string kind_mismatch(const KeySpec &ks, const YAML::Node &v) {
    switch (ks.kind) {
        case Kind::Int: return converts<int64_t>(v) ? "" : "an integer";
        case Kind::Float: return converts<double>(v) ? "" : "a number";
        case Kind::Bool: return converts<bool>(v) ? "" : "true or false";
        case Kind::String:
        case Kind::Path: return v.IsScalar() ? "" : "a string";
        case Kind::Enum: {
            if (v.IsScalar())
                for (const auto &c : ks.choices)
                    if (c == v.Scalar()) return "";
            std::string s = "one of";
            for (const auto &c : ks.choices) s += " " + c;
            return s;
        }
        case Kind::Map: return (v.IsMap() || v.IsScalar()) ? "" : "a map";
        case Kind::List: return v.IsSequence() ? "" : "a list";
        case Kind::IntList:
            if (!v.IsSequence()) return "a list of integers";
            for (const auto &e : v)
                if (!converts<int64_t>(e)) return "a list of integers";
            return "";
    }
    return "";
}

// Returns "" if the numeric value `v` (already of the right kind) is in the key's range, else
// what was expected. NaN and infinities are never valid: a YAML .nan learning rate would
// otherwise pass validation and poison the first step.
std::string range_mismatch(const KeySpec &ks, const YAML::Node &v) {
    auto check = [&](const YAML::Node &n) -> std::string {
        const double x = ks.kind == Kind::Float ? n.as<double>() : double(n.as<int64_t>());
        if (!std::isfinite(x)) return ks.range.set ? "a finite number " + ks.range.text() : "a finite number";
        if (ks.range.set && !ks.range.contains(x)) return ks.range.text();
        // Numbers are computed in 32-bit floats: 1e39 would be inf there (and lr: 1e-50 zero),
        // so a value that passes as a double would still fail at the first step.
        const double f = double(float(x));
        if (ks.kind == Kind::Float && (!std::isfinite(f) || (ks.range.set && !ks.range.contains(f))))
            return (ks.range.set ? ks.range.text() + " " : std::string()) +
                   "as a 32-bit float (magnitude at most 3.4e+38, at least 1.4e-45 unless 0)";
        return "";
    };
    if (ks.kind == Kind::Int || ks.kind == Kind::Float) return check(v);
    if (ks.kind == Kind::IntList)
        for (const auto &e : v)
            if (std::string want = check(e); !want.empty()) return "a list of integers, each " + want;
    return "";
}

// What is wrong with a given value of key `ks` (its kind, choices, range), as check_params
// and Params::value both report it.
Problem value_problem(const KeySpec &ks, const YAML::Node &v, const std::string &context) {
    std::string want = kind_mismatch(ks, v);
    if (want.empty()) want = range_mismatch(ks, v);
    if (want.empty()) return {};
    std::string near = ks.kind == Kind::Enum && v.IsScalar() ? nearest(v.Scalar(), ks.choices) : "";
    return {context + ": '" + ks.name + "' must be " + want + ", got " + describe(v),
            near.empty() ? "" : "did you mean '" + near + "'?"};
}

}  // namespace

Params check_params(const NodeSpec &spec, const ConfigFile &cfg, const YAML::Node &map, const std::string &context,
                    Diags &diags, const std::set<std::string> &skip) {
    if (map.IsDefined() && !map.IsNull() && !map.IsMap()) {
        diags.error(pos_of(cfg, map), context + ": expected a map of keys, got " + describe(map));
        return Params(&spec, &cfg, YAML::Node(YAML::NodeType::Map), context);
    }
    // A missing section (e.g. no `train:`) comes as an invalid node from a const lookup,
    // whose IsMap() would throw; it counts as empty.
    const bool is_map = map.IsDefined() && map.IsMap();
    std::vector<std::string> names;
    for (const auto &k : spec.keys) names.push_back(k.name);
    if (is_map) {
        for (auto it = map.begin(); it != map.end(); ++it) {
            // A complex key (`? [a, b]`, `{a: 1}: x`) has no name: as<string>() would throw
            // yaml-cpp's bare "bad conversion" (found by tests/fuzz/fuzz_config).
            if (!it->first.IsScalar()) {
                diags.error(pos_of(cfg, it->first), context + ": a key must be a name, got " + describe(it->first));
                continue;
            }
            std::string key = it->first.Scalar();
            if (skip.count(key)) continue;
            const std::string shown = clip_text(key);
            const KeySpec *ks = spec.key(key);
            if (!ks && renamed_key(spec, key)) {
                diags.error(pos_of(cfg, it->first), context + ": '" + key + "' is no longer accepted",
                            renamed_key(spec, key)->second);
                continue;
            }
            if (!ks) {
                std::vector<std::string> candidates(names);
                candidates.insert(candidates.end(), skip.begin(), skip.end());  // e.g. 'typ' -> 'type'
                std::string near = nearest(key, candidates);
                diags.error(pos_of(cfg, it->first), context + ": unknown key '" + shown + "'",
                            near.empty() ? "known keys: " + [&] {
                                std::string s;
                                for (const auto &n : names) s += (s.empty() ? "" : ", ") + n;
                                return s.empty() ? std::string("(none)") : s;
                            }()
                                         : "did you mean '" + near + "'?");
                continue;
            }
            if (it->second.IsNull()) continue;
            if (Problem pr = value_problem(*ks, it->second, context); !pr.msg.empty())
                diags.error(pos_of(cfg, it->second), pr.msg, pr.hint);
        }
    }
    for (const auto &k : spec.keys) {
        bool given = is_map && map[k.name].IsDefined() && !map[k.name].IsNull();
        if (k.required && !given)
            diags.error(pos_of(cfg, map), context + ": missing required key '" + k.name + "'",
                        "add '" + k.name + "' (" + k.doc + ")");
    }
    return Params(&spec, &cfg, map.IsDefined() ? map : YAML::Node(YAML::NodeType::Map), context);
}

}  // namespace aepipe
