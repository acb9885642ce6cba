// pipeline/worker: jobs run in the order posted, on a thread other than the caller's, and
// every queued job runs before the Worker is destroyed.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// The nice value of the calling thread (Linux: per thread).
int thread_nice() { return getpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid))); }

int nice_of_a_job_on(Worker &w) {
    std::promise<int> nice;
    w.post([&] { nice.set_value(thread_nice()); });
    return nice.get_future().get();
}

TEST(Worker, ABackgroundWorkerRunsAtTheLowestPriorityAndANormalOneAtTheCallers) {
    if (thread_nice() >= 19) GTEST_SKIP() << "the test runs at nice 19 already: a background thread looks the same";
    Worker background(Worker::Priority::Background), normal;
    EXPECT_EQ(nice_of_a_job_on(background), 19);
    EXPECT_EQ(nice_of_a_job_on(normal), thread_nice());
}

}  // namespace
}  // namespace aepipe
