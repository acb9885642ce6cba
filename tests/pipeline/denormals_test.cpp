// pipeline/denormals.hpp: FTZ/DAZ on the calling thread, inherited by the threads it starts
// (std::thread, an OpenMP team), and what it does to arithmetic below 1.2e-38. Each case runs
// on a thread of its own, so the test process's main thread keeps IEEE denormals.
#include <gtest/gtest.h>
#include <omp.h>

#include <limits>
#include <thread>
#include <vector>

#include "pipeline/denormals.hpp"

namespace aepipe {
namespace {

template <class F>
void on_new_thread(F f) {
    std::thread t(f);
    t.join();
}

// A product that lands below the smallest normal float, and a denormal read as an input.
float tiny_product() {
    volatile float a = 1e-30f, b = 1e-10f;
    return a * b;
}
float denormal_input_times_one() {
    volatile float d = std::numeric_limits<float>::denorm_min() * 1000, one = 1.f;
    return d * one;
}

TEST(Denormals, OffUnlessSet) {
    on_new_thread([] {
        EXPECT_FALSE(denormals_flushed());
        EXPECT_GT(tiny_product(), 0.f);
        EXPECT_GT(denormal_input_times_one(), 0.f);
    });
}

TEST(Denormals, SetFlushesResultsAndInputsToZero) {
    on_new_thread([] {
        flush_denormals_to_zero();
        EXPECT_TRUE(denormals_flushed());
        EXPECT_EQ(tiny_product(), 0.f);
        EXPECT_EQ(denormal_input_times_one(), 0.f);
        volatile float normal = std::numeric_limits<float>::min() * 4;  // normal numbers are untouched
        EXPECT_EQ(normal * 0.5f, std::numeric_limits<float>::min() * 2);
    });
}

// aepipe's main() sets it before any thread starts: TBB's workers, OpenMP teams and worker
// threads are all started later, from threads that have it.
TEST(Denormals, ThreadsStartedAfterwardsInheritIt) {
    on_new_thread([] {
        flush_denormals_to_zero();
        on_new_thread([] { EXPECT_TRUE(denormals_flushed()); });
        std::vector<int> flushed(4, -1);
#pragma omp parallel num_threads(4)
        flushed[size_t(omp_get_thread_num())] = denormals_flushed();
        for (int f : flushed) EXPECT_NE(f, 0);
    });
}

}  // namespace
}  // namespace aepipe
