#include "pipeline/registry.hpp"

#include <stdexcept>

namespace aepipe {

std::vector<const NodeSpec *> &all_specs() {
    static std::vector<const NodeSpec *> specs;
    return specs;
}

std::vector<const NodeSpec *> &section_specs() {
    static std::vector<const NodeSpec *> specs;
    return specs;
}

const NodeSpec *find_spec(const std::string &type) {
    for (const NodeSpec *s : all_specs())
        if (s->type == type) return s;
    return nullptr;
}

SectionKeys::SectionKeys(NodeSpec &section, std::vector<KeySpec> keys) {
    for (auto &k : keys) {
        if (section.key(k.name)) throw std::logic_error("section key registered twice: " + section.type + "." + k.name);
        section.keys.push_back(std::move(k));
    }
}

void add_spec(const NodeSpec *spec) {
    if (find_spec(spec->type)) throw std::logic_error("node type registered twice: " + spec->type);
    all_specs().push_back(spec);
}

}  // namespace aepipe
