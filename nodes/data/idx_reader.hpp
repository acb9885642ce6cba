#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/graph.hpp"

namespace aepipe {

// The samples an idx_reader node emits per epoch (those of its `classes`, if set), from the
// headers and labels read when the config was validated; -1 for another node or unreadable files.
int64_t idx_samples(const FlowNode &n);

// What an idx_reader node reads: its files and its `classes` filter (empty: every sample), so
// that a trained model's card can name the very test set its run evaluated.
struct IdxSource {
    std::string images, labels;    // resolved paths; labels "" when unset
    std::vector<int64_t> classes;  // empty: no filter
};
// The source of an idx_reader node; images "" for a node of another type.
IdxSource idx_source(const FlowNode &n);

}  // namespace aepipe
