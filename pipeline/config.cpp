#include "pipeline/config.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "pipeline/file_io.hpp"

namespace aepipe {

namespace fs = std::filesystem;

namespace {

// Containers already checked, and those on the current path, by byte offset: an alias
// (*name) is the very node its anchor names, so a shared node is checked once (a "billion
// laughs" file stays linear) and an alias inside its own anchor is a cycle, not a stack overflow.
struct Walk {
    std::set<size_t> done, path;
};

// yaml-cpp keeps both entries of a repeated key and lookups see only one of them, so a
// repeated key would silently lose a value: it is an error at the second occurrence.
void check_duplicate_keys(const ConfigFile &cfg, const YAML::Node &node, Diags &diags, Walk &walk) {
    if (!node.IsMap() && !node.IsSequence()) return;
    const size_t at = size_t(node.Mark().pos);
    if (walk.path.count(at)) {
        diags.error(pos_of(cfg, node), "this " + std::string(node.IsMap() ? "map" : "list") +
                                           " contains an alias to itself",
                    "an alias (*name) must not refer to an anchor (&name) that encloses it");
        return;
    }
    if (!walk.done.insert(at).second) return;
    walk.path.insert(at);
    if (node.IsSequence())
        for (const auto &item : node) check_duplicate_keys(cfg, item, diags, walk);
    if (node.IsMap()) {
        std::map<std::string, SourcePos> seen;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (it->first.IsScalar()) {
                auto [first, fresh] = seen.emplace(it->first.Scalar(), pos_of(cfg, it->first));
                if (!fresh)
                    diags.error(pos_of(cfg, it->first), "duplicate key '" + it->first.Scalar() + "'",
                                "it is already set at line " + std::to_string(first->second.line) +
                                    "; a key may appear once in a map");
            }
            check_duplicate_keys(cfg, it->second, diags, walk);
        }
    }
    walk.path.erase(at);
}

}  // namespace

ConfigFile parse_config(const std::string &text, const std::string &name) {
    ConfigFile cfg;
    cfg.path = name;
    cfg.dir = fs::absolute(fs::path(name)).parent_path().string();
    try {
        cfg.root = YAML::Load(text);
    } catch (const YAML::ParserException &e) {
        throw ConfigError({name, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg);
    }
    if (!cfg.root.IsMap())
        throw ConfigError({name, 1, 1}, "a config must be a YAML map with sections model, train and graph, got " +
                                            describe(cfg.root));
    Diags diags;
    Walk walk;
    check_duplicate_keys(cfg, cfg.root, diags, walk);
    diags.throw_if_any();
    return cfg;
}

ConfigFile load_config(const std::string &path) {
    // A directory would read as an empty file, a FIFO would block: only regular files.
    if (std::string why = regular_file_problem(path, "a YAML config file"); !why.empty())
        throw ConfigError({path, 0, 0}, why == "file not found" ? "cannot open config file" : "cannot read the config: " + why,
                          "check the path; configs live in configs/");
    std::string text;
    try {
        text = read_file(path, "a YAML config file");
    } catch (const DataError &e) {
        throw ConfigError({path, 0, 0}, std::string("cannot read the config: ") + e.what());
    }
    return parse_config(text, path);
}

SourcePos pos_of(const ConfigFile &cfg, const YAML::Node &node) {
    if (!node.IsDefined()) return {cfg.path, 0, 0};
    YAML::Mark m = node.Mark();
    if (m.is_null() || m.line < 0) return {"command-line override", 0, 0};
    return {cfg.path, m.line + 1, m.column + 1};
}

std::string describe(const YAML::Node &node) {
    if (!node.IsDefined() || node.IsNull()) return "nothing";
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    return "'" + node.Scalar() + "'";
}

namespace {

struct PathStep {
    bool is_index = false;
    std::string key;
    size_t index = 0;
};

std::vector<PathStep> parse_path(const std::string &path, const std::string &expr) {
    std::vector<PathStep> steps;
    size_t i = 0;
    auto fail = [&](const std::string &why) {
        throw ConfigError({"command-line override", 0, 0}, "bad override '" + expr + "': " + why,
                          "write overrides as section.key=value or model.layers[2].units=32");
    };
    while (i < path.size()) {
        if (path[i] == '.') {
            ++i;
            continue;
        }
        if (path[i] == '[') {
            size_t close = path.find(']', i);
            if (close == std::string::npos) fail("missing ']'");
            std::string num = path.substr(i + 1, close - i - 1);
            if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos)
                fail("list index '" + num + "' is not a number");
            steps.push_back({true, "", std::stoul(num)});
            i = close + 1;
            continue;
        }
        size_t end = path.find_first_of(".[", i);
        if (end == std::string::npos) end = path.size();
        steps.push_back({false, path.substr(i, end - i), 0});
        i = end;
    }
    if (steps.empty()) fail("empty key path");
    return steps;
}

}  // namespace

void apply_override(ConfigFile &cfg, const std::string &expr) {
    size_t eq = expr.find('=');
    if (eq == std::string::npos || eq == 0)
        throw ConfigError({"command-line override", 0, 0}, "bad override '" + expr + "': expected key=value",
                          "for example train.epochs=3");
    std::string path = expr.substr(0, eq), text = expr.substr(eq + 1);
    auto steps = parse_path(path, expr);

    YAML::Node value;
    try {
        value = YAML::Load(text);
    } catch (const YAML::Exception &e) {
        throw ConfigError({"command-line override", 0, 0}, "bad override '" + expr + "': value is not valid YAML");
    }
    // Scalars are rebuilt without a source mark so that messages say "command-line override".
    if (value.IsScalar()) value.reset(YAML::Node(value.Scalar()));

    YAML::Node cur;
    cur.reset(cfg.root);  // reset() rebinds; operator= would assign into the tree
    std::string walked;
    for (size_t s = 0; s < steps.size(); ++s) {
        const auto &st = steps[s];
        bool last = s + 1 == steps.size();
        if (st.is_index) {
            walked += "[" + std::to_string(st.index) + "]";
            if (!cur.IsSequence() || st.index >= cur.size())
                throw ConfigError({"command-line override", 0, 0},
                                  "bad override '" + expr + "': '" + walked + "' is not in the config",
                                  cur.IsSequence() ? "the list has " + std::to_string(cur.size()) + " items"
                                                   : "that part of the config is not a list");
            if (last) {
                cur[st.index] = value;
                return;
            }
            YAML::Node next = cur[st.index];
            cur.reset(next);
        } else {
            if (cur.IsDefined() && !cur.IsNull() && !cur.IsMap())  // never the root: it is a map
                throw ConfigError({"command-line override", 0, 0},
                                  "bad override '" + expr + "': '" + walked + "' is " + describe(cur) +
                                      ", not a map, so it has no key '" + st.key + "'",
                                  cur.IsSequence() ? "pick an item first: " + walked + "[0]." + st.key : "");
            walked += (walked.empty() ? "" : ".") + st.key;
            if (last) {
                cur[st.key] = value;
                return;
            }
            YAML::Node next = cur[st.key];
            cur.reset(next);
        }
    }
}

}  // namespace aepipe
