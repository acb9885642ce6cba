// Element-wise hot loops (the optimizers, the gradient's sum of squares, bytes to floats) are
// built three times, for AVX-512, AVX2 and baseline x86-64, and the loader picks the best the
// CPU has (GCC function multiversioning, target_clones). Debian builds for baseline x86-64
// (SSE2), where Adam's update ran 4 floats per instruction: a quarter of a batch-64 step of
// the seed model on one core (profile: 517 of 2,194 us). oneDNN dispatches on its own.
// Clang (the sanitizer builds) gets the baseline loop alone.
#pragma once

//
// Loops bound by a square root and a division per element (Adam, RMSProp) stop at AVX2: on the
// AMD EPYC (Zen) of the 2026-12 benchmarks Adam over the seed model's 484,944 parameters took
// 184 us as AVX-512 and 144 us as AVX2 on one core (the 512-bit divider and square root give
// no more floats per cycle than the 256-bit ones; Intel's tables say the same of theirs).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AEPIPE_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define AEPIPE_SIMD_CLONES_DIV_SQRT __attribute__((target_clones("avx2", "default")))
#else
#define AEPIPE_SIMD_CLONES
#define AEPIPE_SIMD_CLONES_DIV_SQRT
#endif
