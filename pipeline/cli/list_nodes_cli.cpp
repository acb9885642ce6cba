// aepipe list-nodes [NAME]: every key a config can hold, printed from the specs that validate
// them: the config's sections (top level, model, train, graph), then the node types, layers,
// losses and optimizers.
#include <iostream>

#include "pipeline/cli/cli.hpp"
#include "pipeline/registry.hpp"

namespace aepipe::cli {
namespace {

constexpr Category kCategories[] = {Category::Section, Category::Data, Category::Compute, Category::Sink,
                                    Category::Layer,   Category::Loss, Category::Optimizer};

std::string heading(Category cat) {
    switch (cat) {
        case Category::Section: return "sections of a config file (config: its top level; model:, train:, graph:)";
        case Category::Layer: return "layers (model.layers)";
        case Category::Loss: return "losses (model.loss)";
        case Category::Optimizer: return "optimizers (train.optimizer)";
        default: return std::string(category_name(cat)) + " nodes (graph.nodes)";
    }
}

std::vector<const NodeSpec *> specs_of(Category cat) {
    std::vector<const NodeSpec *> v;
    for (const NodeSpec *s : cat == Category::Section ? section_specs() : all_specs())
        if (s->category == cat) v.push_back(s);
    return v;
}

void print_spec(std::ostream &os, const NodeSpec &s) {
    os << "\n" << s.type << ": " << s.doc << "\n";
    for (const auto &p : s.inputs) os << "  in  " << p.name << " (" << p.kinds.front() << "): " << p.doc << "\n";
    for (const auto &p : s.outputs) os << "  out " << p.name << " (" << p.kinds.front() << "): " << p.doc << "\n";
    for (const auto &k : s.keys) {
        os << "  " << k.name << ": " << kind_name(k.kind);
        for (const auto &ch : k.choices) os << " " << ch;
        os << (k.required ? ", required" : k.def.empty() ? "" : ", default " + k.def)
           << (k.range.set ? ", " + k.range.text() : "") << ". " << k.doc << "\n";
    }
    for (const auto &[old, hint] : s.renamed) os << "  (" << old << ": no longer accepted; " << hint << ")\n";
}

}  // namespace

int cmd_list_nodes(const std::vector<std::string> &args) {
    po::options_description opts("aepipe list-nodes [NAME]");
    opts.add_options()("help,h", "show this help");
    po::options_description hidden;
    std::vector<std::string> names;
    hidden.add_options()("name", po::value<std::vector<std::string>>(&names));
    po::positional_options_description pos;
    pos.add("name", -1);
    parse_with(args, opts, hidden, pos,
               "Prints every key a config can hold, with its type, default and meaning, from the schemas that\n"
               "validate configs: the sections (top level, model, train, graph), then every node type, layer,\n"
               "loss and optimizer. NAME (a node type, layer, loss, optimizer or section such as train or\n"
               "config) prints only that one; a name that is both a section and a node type prints both.\n");
    if (names.size() > 1) throw po::error("expected at most one NAME, got " + std::to_string(names.size()));
    if (names.empty()) {
        for (Category cat : kCategories) {
            std::cout << "== " << heading(cat) << "\n";
            for (const NodeSpec *s : specs_of(cat)) print_spec(std::cout, *s);
            std::cout << "\n";
        }
        return 0;
    }
    std::vector<std::string> known;
    bool found = false;
    for (Category cat : kCategories)
        for (const NodeSpec *s : specs_of(cat)) {
            known.push_back(s->type);
            if (s->type != names[0]) continue;
            std::cout << (found ? "\n" : "") << "== " << heading(cat) << "\n";
            print_spec(std::cout, *s);
            found = true;
        }
    if (found) return 0;
    const std::string near = nearest(names[0], known);
    throw ConfigError({"command line", 0, 0}, "list-nodes: no node type, layer, loss, optimizer or section '" +
                                                  names[0] + "'",
                      (near.empty() ? "" : "did you mean '" + near + "'? ") + "aepipe list-nodes prints them all");
}

}  // namespace aepipe::cli
