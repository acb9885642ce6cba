// A YAML config file with its source positions, command-line overrides and schema checks.
//
// Relative paths: every key declared as a path resolves against the directory of the
// config file that contains it (not the working directory), so a config runs the same from
// anywhere. The resolved config written into a run folder holds absolute paths.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "pipeline/error.hpp"

namespace aepipe {

// A value set on the command line: where it came from (for messages) and the node it set.
struct Override {
    std::string origin;  // "command-line argument 3 'train.epochs=0'", "option --seed 5"
    YAML::Node value;
    std::vector<YAML::Node> keys;  // map keys the override added (an unknown key is reported at them)
};

struct ConfigFile {
    std::string path;  // as given by the user (used in messages)
    std::string dir;   // absolute directory of the file, for relative paths
    YAML::Node root;
    std::vector<Override> overrides;
};

// Configs are a few KB; anything past this is refused before parsing (yaml-cpp needed 99 s
// and 5.6 GB for a 40 MB file).
constexpr size_t kMaxConfigBytes = 1 << 20;

// Reads and parses a YAML file; a missing file, one over kMaxConfigBytes or a syntax error
// is a ConfigError.
ConfigFile load_config(const std::string &path);
ConfigFile parse_config(const std::string &text, const std::string &name);

// Applies "a.b[2].c=value" to the tree. The value is parsed as YAML. A list item is picked by
// index ([2]) or, in a list of maps with ids (graph.nodes), by id ([test_set]). `origin`
// names the override in messages ("" = "command-line override 'EXPR'").
void apply_override(ConfigFile &cfg, const std::string &expr, const std::string &origin = "");
// "command-line argument I 'TEXT'" (I: the argument's index in argv), with TEXT clipped.
std::string override_origin(int argv_index, const std::string &text);

// Position of a node: its own mark, or the origin of the override that set it.
SourcePos pos_of(const ConfigFile &cfg, const YAML::Node &node);

// Collects diagnostics of one pass; throw_if_any() raises them all as one ConfigError.
// Keeps the first kMaxKeptErrors diagnostics and counts the rest, so that a file of 100,000
// mistakes costs no more memory than a few.
class Diags {
public:
    static constexpr size_t kMaxKeptErrors = 100;
    void error(SourcePos pos, std::string msg, std::string hint = "") {
        if (list_.size() >= kMaxKeptErrors) {
            ++omitted_;
            return;
        }
        list_.push_back({std::move(pos), std::move(msg), std::move(hint)});
    }
    bool empty() const { return list_.empty(); }
    void merge(const Diags &other) {
        for (const auto &d : other.list_) error(d.pos, d.message, d.hint);
        omitted_ += other.omitted_;
    }
    void add(const ConfigError &e) {
        for (const auto &d : e.diagnostics()) error(d.pos, d.message, d.hint);
        omitted_ += e.omitted();
    }
    void throw_if_any() const {
        if (!list_.empty()) throw ConfigError(list_, omitted_);
    }

private:
    std::vector<Diagnostic> list_;
    size_t omitted_ = 0;
};

// YAML node kind as a word for messages: "a map", "a list", "a scalar", "nothing".
std::string describe(const YAML::Node &node);

}  // namespace aepipe
