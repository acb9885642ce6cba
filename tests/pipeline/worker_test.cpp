// pipeline/worker: jobs run in the order posted, on a thread other than the caller's, and
// every queued job runs before the Worker is destroyed.
#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "pipeline/worker.hpp"

namespace aepipe {
namespace {

TEST(Worker, RunsJobsInOrderOffTheCallersThread) {
    std::vector<int> seen;
    std::thread::id where;
    std::promise<void> done;
    {
        Worker w;
        for (int k = 0; k < 5; ++k) w.post([&seen, k] { seen.push_back(k); });
        w.post([&] {
            where = std::this_thread::get_id();
            done.set_value();
        });
        done.get_future().wait();
    }
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_NE(where, std::this_thread::get_id());
}

TEST(Worker, FinishesQueuedJobsBeforeItIsDestroyed) {
    int ran = 0;
    {
        Worker w;
        for (int k = 0; k < 100; ++k) w.post([&ran] { ++ran; });
    }
    EXPECT_EQ(ran, 100);
}

}  // namespace
}  // namespace aepipe
