#pragma once

#include <cstdint>
#include <vector>

namespace aepipe {

// The sample order of `epoch`: a permutation of 0..n-1 that depends only on (seed, epoch).
std::vector<int32_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace aepipe
