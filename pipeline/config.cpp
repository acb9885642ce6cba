#include "pipeline/config.hpp"

#include <cctype>
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
    if (text.size() > kMaxConfigBytes)
        throw ConfigError({name, 0, 0},
                          "config file is larger than " + std::to_string(kMaxConfigBytes >> 20) +
                              " MiB; a config describes a model and a graph in a few KB",
                          "is this the right file?");
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
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError({path, 0, 0}, "cannot open config file", "check the path; configs live in configs/");
    // Read at most one byte past the cap: a huge file is refused without reading it all.
    std::string text(kMaxConfigBytes + 1, '\0');
    in.read(text.data(), std::streamsize(text.size()));
    text.resize(size_t(in.gcount()));
    return parse_config(text, path);
}

static bool same_or_inside(const YAML::Node &tree, const YAML::Node &node) {
    if (tree.is(node)) return true;
    if (tree.IsMap())
        for (auto it = tree.begin(); it != tree.end(); ++it)
            if (same_or_inside(it->second, node)) return true;
    if (tree.IsSequence())
        for (const auto &item : tree)
            if (same_or_inside(item, node)) return true;
    return false;
}

SourcePos pos_of(const ConfigFile &cfg, const YAML::Node &node) {
    if (!node.IsDefined()) return {cfg.path, 0, 0};
    YAML::Mark m = node.Mark();
    if (!m.is_null() && m.line >= 0) return {cfg.path, m.line + 1, m.column + 1};
    for (auto it = cfg.overrides.rbegin(); it != cfg.overrides.rend(); ++it) {  // the last one wins
        if (same_or_inside(it->value, node)) return {it->origin, 0, 0};
        for (const auto &k : it->keys)
            if (k.is(node)) return {it->origin, 0, 0};
    }
    return {"command-line override", 0, 0};
}

std::string describe(const YAML::Node &node) {
    if (!node.IsDefined() || node.IsNull()) return "nothing";
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    return "'" + clip_text(node.Scalar()) + "'";
}

namespace {

struct PathStep {
    enum Type { Key, Index, Id } type = Key;
    std::string key;  // Key: the map key; Id: the item's id
    size_t index = 0;
};

[[noreturn]] void bad_override(const std::string &origin, const std::string &expr, const std::string &why,
                               const std::string &hint = "") {
    throw ConfigError({origin, 0, 0}, "bad override '" + clip_text(expr) + "': " + why, hint);
}

std::vector<PathStep> parse_path(const std::string &path, const std::string &expr, const std::string &origin) {
    static const char *kHint = "write overrides as section.key=value, model.layers[2].units=32 or graph.nodes[ID].key=value";
    std::vector<PathStep> steps;
    size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '.') {
            ++i;
            continue;
        }
        if (path[i] == '[') {
            size_t close = path.find(']', i);
            if (close == std::string::npos) bad_override(origin, expr, "missing ']'", kHint);
            std::string in = path.substr(i + 1, close - i - 1);
            if (in.empty()) bad_override(origin, expr, "empty list index '[]'", kHint);
            if (in.find_first_not_of("0123456789") == std::string::npos) {
                if (in.size() > 9) bad_override(origin, expr, "list index '" + clip_text(in) + "' is too large", kHint);
                steps.push_back({PathStep::Index, "", std::stoul(in)});
            } else if (std::isalpha(static_cast<unsigned char>(in[0])) || in[0] == '_') {
                steps.push_back({PathStep::Id, in, 0});
            } else {
                bad_override(origin, expr, "list index '" + clip_text(in) + "' is neither a number nor a node id",
                             kHint);
            }
            i = close + 1;
            continue;
        }
        size_t end = path.find_first_of(".[", i);
        if (end == std::string::npos) end = path.size();
        steps.push_back({PathStep::Key, path.substr(i, end - i), 0});
        i = end;
    }
    if (steps.empty()) bad_override(origin, expr, "empty key path");
    return steps;
}

// A parsed override value with every source mark dropped (the marks of the override's own
// text would point into the config file): messages find it through ConfigFile::overrides.
YAML::Node unmarked(const YAML::Node &n) {
    if (n.IsScalar()) return YAML::Node(n.Scalar());
    if (n.IsSequence()) {
        YAML::Node out(YAML::NodeType::Sequence);
        for (const auto &item : n) out.push_back(unmarked(item));
        return out;
    }
    if (n.IsMap()) {
        YAML::Node out(YAML::NodeType::Map);
        for (auto it = n.begin(); it != n.end(); ++it) out[unmarked(it->first)] = unmarked(it->second);
        return out;
    }
    return YAML::Node(n.Type());
}

// The index of the item of list `list` whose `id` is `id`; a did-you-mean error otherwise.
size_t index_of_id(const YAML::Node &list, const std::string &id, const std::string &walked, const std::string &expr,
                   const std::string &origin) {
    std::vector<std::string> ids;
    for (size_t k = 0; k < list.size(); ++k) {
        const YAML::Node item = list[k];
        if (!item.IsMap() || !item["id"] || !item["id"].IsScalar()) continue;
        if (item["id"].Scalar() == id) return k;
        ids.push_back(item["id"].Scalar());
    }
    if (ids.empty())
        bad_override(origin, expr, "'" + walked + "' has no items with an id", "pick an item by index: " + walked + "[0]");
    std::string near = nearest(id, ids), all;
    for (const auto &x : ids) all += (all.empty() ? "" : ", ") + x;
    bad_override(origin, expr, "'" + walked + "' has no item with id '" + clip_text(id) + "'",
                 (near.empty() ? "" : "did you mean '" + near + "'? ") + "ids: " + clip_text(all, 400));
}

}  // namespace

std::string override_origin(int argv_index, const std::string &text) {
    return "command-line argument " + std::to_string(argv_index) + " '" + clip_text(text) + "'";
}

void apply_override(ConfigFile &cfg, const std::string &expr, const std::string &origin_in) {
    const std::string origin = origin_in.empty() ? "command-line override '" + clip_text(expr) + "'" : origin_in;
    size_t eq = expr.find('=');
    if (eq == std::string::npos || eq == 0)
        throw ConfigError({origin, 0, 0}, "bad override '" + clip_text(expr) + "': expected key=value",
                          "for example train.epochs=3");
    std::string path = expr.substr(0, eq), text = expr.substr(eq + 1);
    auto steps = parse_path(path, expr, origin);

    YAML::Node value;
    try {
        value = unmarked(YAML::Load(text));
    } catch (const YAML::Exception &e) {
        bad_override(origin, expr, "value is not valid YAML");
    }
    cfg.overrides.push_back({origin, value, {}});

    YAML::Node cur;
    cur.reset(cfg.root);  // reset() rebinds; operator= would assign into the tree
    std::string walked;
    for (size_t s = 0; s < steps.size(); ++s) {
        PathStep st = steps[s];
        bool last = s + 1 == steps.size();
        if (st.type != PathStep::Key) {
            if (st.type == PathStep::Id && cur.IsSequence())
                st.index = index_of_id(cur, st.key, walked, expr, origin);
            walked += "[" + (st.type == PathStep::Id ? clip_text(st.key) : std::to_string(st.index)) + "]";
            if (!cur.IsSequence() || st.index >= cur.size())
                bad_override(origin, expr, "'" + walked + "' is not in the config",
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
                bad_override(origin, expr,
                             "'" + walked + "' is " + describe(cur) + ", not a map, so it has no key '" +
                                 clip_text(st.key) + "'",
                             cur.IsSequence() ? "pick an item first: " + walked + "[0]." + st.key : "");
            walked += (walked.empty() ? "" : ".") + st.key;
            const bool added = !cur[st.key].IsDefined();
            YAML::Node next = cur[st.key];
            if (last) next = value;  // assigns into the tree
            if (added)
                for (auto it = cur.begin(); it != cur.end(); ++it)
                    if (it->first.IsScalar() && it->first.Scalar() == st.key) cfg.overrides.back().keys.push_back(it->first);
            if (last) return;
            cur.reset(next);
        }
    }
}

}  // namespace aepipe
