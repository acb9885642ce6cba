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

#include "pipeline/schema.hpp"

namespace aepipe {

// Every spec of every category, in registration order (for list-nodes, validation, tests).
std::vector<const NodeSpec *> &all_specs();
const NodeSpec *find_spec(const std::string &type);
// Adds a spec; a type name registered twice is a fatal programming error (throws).
void add_spec(const NodeSpec *spec);

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

}  // namespace aepipe
