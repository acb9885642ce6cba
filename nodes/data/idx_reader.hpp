#pragma once

#include <string>

#include "pipeline/graph.hpp"

namespace aepipe {

// The images file (resolved path) of an idx_reader node; "" for a node of another type.
std::string idx_images(const FlowNode &n);
// The samples an idx_reader node emits per epoch (those of its `classes`, if set), from the
// headers and labels read when the config was validated; -1 for another node or unreadable files.
int64_t idx_samples(const FlowNode &n);

}  // namespace aepipe
