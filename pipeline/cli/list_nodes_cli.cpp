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

// Keys every item of a category takes besides its type's own: the builder and the model spec
// read them, not the schemas, so they are written here (list-nodes is to show every key).
const char *common_keys(Category cat) {
    switch (cat) {
        case Category::Layer:
            return "every layer: type (required); code: true/false, default false. marks the code layer that "
                   "aepipe encode and score use (else a VAE's mu, else the narrowest layer; at most one)";
        case Category::Loss: return "a name (loss: mse) or a map with a type ({type: bce, from_logits: true})";
        case Category::Optimizer: return "a name (optimizer: adam) or a map with a type ({type: adam, lr: 0.001})";
        case Category::Section: return nullptr;
        default: return "every node: id (required, unique; edges name it), type (required)";
    }
}

void print_heading(std::ostream &os, Category cat) {
    os << "== " << heading(cat) << "\n";
    if (const char *common = common_keys(cat)) os << common << "\n";
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

// A key name asked for as if it were a node ('every_epochs', 'name'): the entries that hold it.
std::string owners_of_key(const std::string &key) {
    std::string owners;
    for (Category cat : kCategories)
        for (const NodeSpec *s : specs_of(cat))
            for (const auto &k : s->keys)
                if (k.name == key) owners += (owners.empty() ? "" : ", ") + s->type;
    return owners.empty() ? "" : owners + " (aepipe list-nodes " + owners.substr(0, owners.find(',')) + ")";
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
            print_heading(std::cout, cat);
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
            std::cout << (found ? "\n" : "");
            print_heading(std::cout, cat);
            print_spec(std::cout, *s);
            found = true;
        }
    if (found) return 0;
    const std::string near = nearest(names[0], known);
    const std::string owners = owners_of_key(names[0]);
    throw ConfigError({"command line", 0, 0}, "list-nodes: no node type, layer, loss, optimizer or section '" +
                                                  names[0] + "'",
                      !owners.empty() ? "'" + names[0] + "' is a key of " + owners
                      : near.empty()  ? "aepipe list-nodes prints them all"
                                      : "did you mean '" + near + "'? aepipe list-nodes prints them all");
}

}  // namespace aepipe::cli
