// Self-registration of node types by YAML type name.
//
// Each node's .cpp ends with one static Registrar that adds its spec and factory. The type
// name is written in that one place. nodes/ is built as an object library, so the linker
// never drops a registrar.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/config.hpp"
#include "pipeline/schema.hpp"

namespace aepipe {

// Every spec of every category, in registration order (for list-nodes, validation, tests).
std::vector<const NodeSpec *> &all_specs();
const NodeSpec *find_spec(const std::string &type);
// Adds a spec; a type name registered twice is a fatal programming error (throws).
void add_spec(const NodeSpec *spec);

// The sections of a config file (top level, model, train, graph): the specs that validate them,
// kept apart from the node types because a section may share a node's name (train).
std::vector<const NodeSpec *> &section_specs();
struct SectionRegistrar {
    explicit SectionRegistrar(const NodeSpec &spec) { section_specs().push_back(&spec); }
};
// Keys that a layer above the core adds to a section the core owns: the core validates the
// `train` section but reads only the run's settings (epochs, batch, threads, ...); a node's
// own keys there (the optimizer, gradient clipping) are added by the node's .cpp, so the
// framework names no domain key. Static registrars run before main, before any spec is read.
struct SectionKeys {
    SectionKeys(NodeSpec &section, std::vector<KeySpec> keys);
};

template <class Product, class... Args>
class Registry {
public:
    using Factory = std::function<std::unique_ptr<Product>(const Params &, Args...)>;
    struct Entry {
        NodeSpec spec;
        Factory make;
    };

    static Registry &get() {
        static Registry r;
        return r;
    }
    void add(NodeSpec spec, Factory make) {
        std::string type = spec.type;
        auto [it, fresh] = entries_.emplace(type, Entry{std::move(spec), std::move(make)});
        if (!fresh) throw std::logic_error("node type registered twice: " + it->first);
        add_spec(&it->second.spec);
    }
    const Entry *find(const std::string &type) const {
        auto it = entries_.find(type);
        return it == entries_.end() ? nullptr : &it->second;
    }
    std::vector<std::string> names() const {
        std::vector<std::string> v;
        for (const auto &[k, e] : entries_) v.push_back(k);
        return v;
    }

private:
    std::map<std::string, Entry> entries_;
};

template <class R>
struct Registrar {
    Registrar(NodeSpec spec, typename R::Factory make) { R::get().add(std::move(spec), std::move(make)); }
};

// Finds the entry named by a `type:` map (or a bare type name) in registry R; an unknown or
// missing type goes to diags at the type's position, with a did-you-mean and the known types.
template <class R>
const typename R::Entry *lookup_type(const ConfigFile &cfg, const YAML::Node &node, const std::string &ctx,
                                       const char *what, Diags &diags) {
    YAML::Node type = node.IsMap() ? node["type"] : node;
    if (!type.IsDefined() || !type.IsScalar()) {
        diags.error(pos_of(cfg, node), ctx + ": missing 'type' of the " + what);
        return nullptr;
    }
    const auto *e = R::get().find(type.Scalar());
    if (!e) {
        auto names = R::get().names();
        std::string near = nearest(type.Scalar(), names), all;
        for (const auto &n : names) all += (all.empty() ? "" : ", ") + n;
        diags.error(pos_of(cfg, type), ctx + ": unknown " + what + " type '" + type.Scalar() + "'",
                    near.empty() ? "known: " + all : "did you mean '" + near + "'? known: " + all);
    }
    return e;
}


}  // namespace aepipe
