// The machine's f32 FMA peak: what no training step can beat. A register-resident loop of
// independent fused multiply-adds runs on T threads at once for a fixed time; its rate is the
// ceiling that `aepipe bench` and `aepipe profile` quote their GFLOP/s against, and its
// T-thread / 1-thread ratio is the hardware's own scaling, printed beside the pipeline's.
// The kernel is chosen at run time for the CPU's widest FMA (AVX-512, else AVX2+FMA, else
// scalar), so one binary measures each machine correctly.
#pragma once

#include <string>

namespace aepipe {

struct FmaPeak {
    int threads = 1;
    double gflops = 0;  // f32, multiply and add counted as two
    std::string isa;    // "avx512f", "avx2+fma" or "scalar"
};

// The widest FMA this CPU runs: "avx512f", "avx2+fma" or "scalar".
std::string fma_isa();
// Runs the probe on `threads` threads for about `seconds`; the best of `rounds` rounds.
FmaPeak measure_fma_peak(int threads, double seconds = 0.1, int rounds = 3);
// "12.3 GFLOP/s, 45% of the f32 FMA peak (27.5 GFLOP/s on 2 threads, avx512f)" for a
// training throughput and the model's FLOPs per training sample.
std::string share_of_peak(double samples_per_s, double flops_per_sample, const FmaPeak &peak);

}  // namespace aepipe
