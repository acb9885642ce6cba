// Counter-based standard normal draws: a pure function of (seed, stream, row, col), so any
// thread or row shard can draw any element in any order and get the same value, and a run
// restarted at step s draws what the first run drew at step s. SplitMix64 mixes the counters
// (each word hashed into the previous one); Box-Muller turns two 53-bit uniforms into N(0, 1).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace aepipe {

inline uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Key of one row: hash of (seed, stream, row); then counter_normal(key, col) per element.
inline uint64_t noise_row_key(uint64_t seed, int64_t stream, int64_t row) {
    return splitmix64(splitmix64(splitmix64(seed) ^ uint64_t(stream)) ^ uint64_t(row));
}

inline float counter_normal(uint64_t row_key, int64_t col) {
    const uint64_t a = splitmix64(row_key ^ (uint64_t(col) << 1)), b = splitmix64(row_key ^ (uint64_t(col) << 1 | 1));
    const double u1 = (double(a >> 11) + 0.5) * 0x1p-53;  // (0, 1): log(u1) is finite
    const double u2 = double(b >> 11) * 0x1p-53;
    return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

inline float counter_normal(uint64_t seed, int64_t stream, int64_t row, int64_t col) {
    return counter_normal(noise_row_key(seed, stream, row), col);
}

}  // namespace aepipe
