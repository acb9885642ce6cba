// pipeline/shared_loop: every iteration runs exactly once however many threads join, wait()
// returns only when the iterations other threads claimed are done, and a failed iteration
// ends the loop early with its error rethrown by wait().
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pipeline/shared_loop.hpp"

namespace aepipe {
namespace {

TEST(SharedLoop, EveryIterationRunsOnceWhateverThreadsJoin) {
    constexpr int64_t kN = 2000;
    SharedLoop loop(kN);
    std::vector<std::atomic<int>> runs(kN);
    auto body = [&](int64_t i) { runs[size_t(i)].fetch_add(1); };
    std::vector<std::future<int64_t>> helpers;
    for (int k = 0; k < 3; ++k) helpers.push_back(std::async(std::launch::async, [&] { return loop.run(body); }));
    int64_t ran = loop.run(body);
    loop.wait();
    for (auto &h : helpers) ran += h.get();
    EXPECT_EQ(ran, kN);
    for (int64_t i = 0; i < kN; ++i) EXPECT_EQ(runs[size_t(i)].load(), 1) << "iteration " << i;
    EXPECT_TRUE(loop.all_claimed());
    EXPECT_EQ(loop.run(body), 0) << "a late joiner finds nothing left";
}

TEST(SharedLoop, WaitReturnsOnlyWhenAnotherThreadsIterationIsDone) {
    SharedLoop loop(2);
    std::promise<void> claimed, release;
    std::shared_future<void> go = release.get_future().share();
    std::atomic<bool> helper_done{false};
    // The helper claims iteration 0 and holds it until released.
    auto helper = std::async(std::launch::async, [&] {
        bool first = true;
        loop.run([&](int64_t) {
            if (first) {
                first = false;
                claimed.set_value();
                go.wait();
                helper_done = true;
            }
        });
    });
    claimed.get_future().wait();
    EXPECT_EQ(loop.run([](int64_t) {}), 1);  // iteration 1
    EXPECT_TRUE(loop.all_claimed());
    auto waiter = std::async(std::launch::async, [&] { loop.wait(); });
    EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout)
        << "iteration 0 is still running";
    release.set_value();
    waiter.get();
    EXPECT_TRUE(helper_done);
    helper.get();
}

TEST(SharedLoop, AFailedIterationSkipsTheRestAndWaitRethrowsIt) {
    SharedLoop loop(100);
    std::atomic<int> ran{0};
    const int64_t n = loop.run([&](int64_t i) {
        if (i == 3) throw std::runtime_error("batch 3 failed");
        ++ran;
    });
    EXPECT_EQ(n, 3);
    EXPECT_EQ(ran.load(), 3);
    EXPECT_TRUE(loop.all_claimed());
    try {
        loop.wait();
        FAIL() << "wait() did not rethrow";
    } catch (const std::runtime_error &e) {
        EXPECT_STREQ(e.what(), "batch 3 failed");
    }
}

TEST(SharedLoop, AnEmptyLoopIsDoneAtOnce) {
    SharedLoop loop(0);
    EXPECT_EQ(loop.run([](int64_t) { FAIL() << "no iteration to run"; }), 0);
    loop.wait();
    EXPECT_EQ(SharedLoop(-5).size(), 0);
}

}  // namespace
}  // namespace aepipe
