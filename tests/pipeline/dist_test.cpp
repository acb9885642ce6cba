// pipeline/dist without mpirun (every build): one rank, collectives leave the data as it is.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace aepipe::dist
