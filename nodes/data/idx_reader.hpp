#pragma once

#include <string>

#include "pipeline/graph.hpp"

namespace aepipe {

// The images file (resolved path) of an idx_reader node; "" for a node of another type.
std::string idx_images(const FlowNode &n);

}  // namespace aepipe
