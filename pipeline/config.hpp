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

struct ConfigFile {
    std::string path;  // as given by the user (used in messages)
    std::string dir;   // absolute directory of the file, for relative paths
    YAML::Node root;
};

// Reads and parses a YAML file; a missing file or a syntax error is a ConfigError.
ConfigFile load_config(const std::string &path);
ConfigFile parse_config(const std::string &text, const std::string &name);

// Applies "a.b[2].c=value" to the tree. The value is parsed as YAML.
void apply_override(ConfigFile &cfg, const std::string &expr);

// Position of a node: its own mark, or "command-line override" for values set by one.
SourcePos pos_of(const ConfigFile &cfg, const YAML::Node &node);

// Collects diagnostics of one pass; throw_if_any() raises them all as one ConfigError.
class Diags {
public:
    void error(SourcePos pos, std::string msg, std::string hint = "") {
        list_.push_back({std::move(pos), std::move(msg), std::move(hint)});
    }
    bool empty() const { return list_.empty(); }
    void merge(const Diags &other) { list_.insert(list_.end(), other.list_.begin(), other.list_.end()); }
    void add(const ConfigError &e) { list_.insert(list_.end(), e.diagnostics().begin(), e.diagnostics().end()); }
    void throw_if_any() const {
        if (!list_.empty()) throw ConfigError(list_);
    }

private:
    std::vector<Diagnostic> list_;
};

// YAML node kind as a word for messages: "a map", "a list", "a scalar", "nothing".
std::string describe(const YAML::Node &node);

}  // namespace aepipe
