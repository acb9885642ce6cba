// Memory a run will need, estimated from the config before anything is allocated, and the
// memory there is. A run that would not fit is refused by `validate` and `run` naming the
// layer (or node) that takes the most and the bytes, instead of allocating for minutes and
// dying with a bare std::bad_alloc.
#pragma once

#include <string>
#include <vector>

#include "pipeline/error.hpp"

namespace aepipe {

// What one part of the run holds at once, in bytes (doubles: sizes from a hostile config
// must not overflow before they are compared).
struct MemoryItem {
    std::string what;    // "model.layers[0] (dense)"
    SourcePos pos;       // where the config defines it
    double bytes = 0;
    std::string detail;  // "parameters 9.4 GB, gradients ..., optimizer state ..."
};

// The memory this process may still use: MemAvailable of /proc/meminfo, lowered by a cgroup
// (v2) limit and by the process's own limits (ulimit -v, ulimit -d: what is left of them)
// when set; infinity when none can be read. `name` says which bound it is.
struct MemoryBound {
    double bytes;
    std::string name;  // "MemAvailable", "the cgroup's memory.max", "the address-space limit, ulimit -v", ...
};
MemoryBound available_memory_bound();
double available_memory();

// "9.41 GB" (decimal units, 3 significant digits).
std::string human_bytes(double bytes);

// Throws ConfigError at the largest item when the sum exceeds min(available, max_memory)
// (max_memory <= 0: no limit of its own). max_memory_pos: where train.max_memory is set.
void check_memory(const std::vector<MemoryItem> &items, double available, double max_memory,
                  const SourcePos &max_memory_pos, const std::string &available_name = "MemAvailable");

}  // namespace aepipe
