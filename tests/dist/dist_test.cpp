// pipeline/dist without mpirun (every build): one rank, collectives leave the data as it is,
// and the Reducer runs its jobs in order on a thread other than the caller's.
#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "pipeline/dist.hpp"

namespace aepipe::dist {
namespace {

TEST(Dist, WithoutMpirunThereIsOneRank) {
    EXPECT_EQ(rank(), 0);
    EXPECT_EQ(size(), 1);
    EXPECT_FALSE(parallel());
}

TEST(Dist, CollectivesOfOneRankKeepTheData) {
    std::vector<float> f{1.5f, -2.f, 3.25f};
    std::vector<double> d{0.1, 0.2};
    allreduce_sum(f.data(), f.size(), Channel::Train);
    allreduce_sum(d.data(), d.size(), Channel::Eval);
    broadcast(f.data(), f.size() * sizeof(float));
    barrier();
    EXPECT_EQ(f, (std::vector<float>{1.5f, -2.f, 3.25f}));
    EXPECT_EQ(d, (std::vector<double>{0.1, 0.2}));
}

TEST(Dist, ReducerRunsJobsInOrderOffTheCallersThread) {
    std::vector<int> seen;
    std::thread::id where;
    std::promise<void> done;
    {
        Reducer r;
        for (int k = 0; k < 5; ++k) r.post([&seen, k] { seen.push_back(k); });
        r.post([&] {
            where = std::this_thread::get_id();
            done.set_value();
        });
        done.get_future().wait();
    }
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_NE(where, std::this_thread::get_id());
}

TEST(Dist, ReducerFinishesQueuedJobsBeforeItIsDestroyed) {
    int ran = 0;
    {
        Reducer r;
        for (int k = 0; k < 100; ++k) r.post([&ran] { ++ran; });
    }
    EXPECT_EQ(ran, 100);
}

}  // namespace
}  // namespace aepipe::dist
