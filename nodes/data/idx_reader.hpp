#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/graph.hpp"

namespace aepipe {

// The images file (resolved path) of an idx_reader node; "" for a node of another type.
std::string idx_images(const FlowNode &n);

// What an idx_reader node reads: its files and its `classes` filter (empty: every sample), so
// that a trained model's card can name the very test set its run evaluated.
struct IdxSource {
    std::string images, labels;    // resolved paths; labels "" when unset
    std::vector<int64_t> classes;  // empty: no filter
};
// The source of an idx_reader node; images "" for a node of another type.
IdxSource idx_source(const FlowNode &n);

}  // namespace aepipe
