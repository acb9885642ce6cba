// Each kernel keeps 16 independent accumulators in vector registers: FMA latency (4 cycles)
// times two FMA pipes needs at least 8 in flight. The inner loop is fully unrolled so that GCC
// keeps them in registers (with an array and a rolled loop it spills them and measures a
// third of the peak; see ../shared/bench/fma_peak.c). x * a + b with a ~ 1 keeps values finite.
#include "pipeline/cli/fma_probe.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace aepipe {

namespace {

constexpr int kAcc = 16;

__attribute__((target("avx512f"))) double kernel_avx512(long iters) {
    __m512 acc[kAcc];
    for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_set1_ps(float(j));
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
    for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 16
        for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
    }
    for (int j = 1; j < kAcc; ++j) acc[0] = _mm512_add_ps(acc[0], acc[j]);
    alignas(64) float out[16];  // not _mm512_reduce_add_ps: GCC 12 warns inside it (-Wuninitialized)
    _mm512_store_ps(out, acc[0]);
    double s = 0;
    for (float v : out) s += v;
    return s;
}

__attribute__((target("avx2,fma"))) double kernel_avx2(long iters) {
    __m256 acc[kAcc];
    for (int j = 0; j < kAcc; ++j) acc[j] = _mm256_set1_ps(float(j));
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
    for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 16
        for (int j = 0; j < kAcc; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
    }
    for (int j = 1; j < kAcc; ++j) acc[0] = _mm256_add_ps(acc[0], acc[j]);
    alignas(32) float out[8];
    _mm256_store_ps(out, acc[0]);
    double s = 0;
    for (float v : out) s += v;
    return s;
}

double kernel_scalar(long iters) {
    float acc[kAcc];
    for (int j = 0; j < kAcc; ++j) acc[j] = float(j);
    for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 16
        for (int j = 0; j < kAcc; ++j) acc[j] = acc[j] * 0.999999f + 1e-6f;
    }
    double s = 0;
    for (float v : acc) s += v;
    return s;
}

struct Kernel {
    double (*run)(long);
    int lanes;  // floats per vector
};

Kernel kernel_for(const std::string &isa) {
    if (isa == "avx512f") return {kernel_avx512, 16};
    if (isa == "avx2+fma") return {kernel_avx2, 8};
    return {kernel_scalar, 1};
}

// All threads start together and run `iters` loop trips; the rate is over the wall time of
// the slowest, so a thread that lost its core shows as a lower peak, as it would in training.
double one_round(const Kernel &k, int threads, long iters) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> sink(size_t(threads), 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            sink[size_t(t)] = k.run(iters);
        });
    while (ready.load() < threads) std::this_thread::yield();
    auto t0 = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    for (auto &th : pool) th.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    volatile double keep = sink[0];  // the result is used: the loop cannot be optimised away
    (void)keep;
    return 2.0 * kAcc * k.lanes * double(iters) * threads / secs / 1e9;
}

}  // namespace

std::string fma_isa() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512f";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2+fma";
    return "scalar";
}

FmaPeak measure_fma_peak(int threads, double seconds, int rounds) {
    FmaPeak p;
    p.threads = std::max(1, threads);
    p.isa = fma_isa();
    const Kernel k = kernel_for(p.isa);
    // Calibrate the trip count on one thread so that a round lasts about `seconds`.
    long iters = 1 << 14;
    for (;;) {
        auto t0 = std::chrono::steady_clock::now();
        volatile double keep = k.run(iters);
        (void)keep;
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > seconds / 8 || iters > (1L << 40)) {
            iters = long(double(iters) * seconds / std::max(s, 1e-9));
            break;
        }
        iters *= 4;
    }
    for (int r = 0; r < std::max(1, rounds); ++r) p.gflops = std::max(p.gflops, one_round(k, p.threads, iters));
    return p;
}

std::string share_of_peak(double samples_per_s, double flops_per_sample, const FmaPeak &peak) {
    const double gflops = samples_per_s * flops_per_sample / 1e9;
    char line[192];
    std::snprintf(line, sizeof line, "%.1f GFLOP/s, %.0f%% of the f32 FMA peak (%.1f GFLOP/s on %d thread%s, %s)", gflops,
                  peak.gflops > 0 ? 100 * gflops / peak.gflops : 0.0, peak.gflops, peak.threads,
                  peak.threads == 1 ? "" : "s", peak.isa.c_str());
    return line;
}

}  // namespace aepipe
