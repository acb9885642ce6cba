// The FMA probe picks the CPU's widest FMA kernel and reports a positive, finite rate; a
// correctness test only (its figures are measured by `aepipe bench`, never asserted here).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "pipeline/cli/fma_probe.hpp"

namespace aepipe {
namespace {

bool cpu_flag(const std::string &flag) {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("flags", 0) == 0) return (line + " ").find(" " + flag + " ") != std::string::npos;
    return false;
}

TEST(FmaProbe, PicksTheWidestFmaTheCpuHas) {
    const std::string isa = fma_isa();
    if (cpu_flag("avx512f"))
        EXPECT_EQ(isa, "avx512f");
    else if (cpu_flag("avx2") && cpu_flag("fma"))
        EXPECT_EQ(isa, "avx2+fma");
    else
        EXPECT_EQ(isa, "scalar");
}

TEST(FmaProbe, ReportsAPositiveRateForEachThreadCount) {
    for (int threads : {1, 2}) {
        FmaPeak p = measure_fma_peak(threads, 0.01, 1);
        EXPECT_EQ(p.threads, threads);
        EXPECT_EQ(p.isa, fma_isa());
        EXPECT_TRUE(std::isfinite(p.gflops) && p.gflops > 0) << p.gflops;
    }
    EXPECT_EQ(measure_fma_peak(0, 0.01, 1).threads, 1);  // at least one thread
}

}  // namespace
}  // namespace aepipe
