// The train node's counters (nodes/nn/epoch_stats.hpp): loss means per epoch, the counters a
// checkpoint keeps, and samples/s that leaves the run's first step (start-up) out.
#include "nodes/nn/epoch_stats.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace aepipe {
namespace {

void step(EpochStats &s, int64_t at, double loss_sum, int64_t rows, int sleep_ms = 0) {
    s.begin_step(at);
    if (sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    s.end_step({loss_sum, loss_sum * 0.75, loss_sum * 0.25}, rows);
}

TEST(EpochStats, AnEpochReportsMeansAndTheCountersMoveOn) {
    EpochStats s;
    step(s, 0, 10, 4);
    step(s, 1, 6, 4);
    EXPECT_DOUBLE_EQ(s.mean_loss(), 2.0);
    const auto r = s.end_epoch(0, 1);
    EXPECT_EQ(r->epoch, 0);
    EXPECT_EQ(r->steps, 2);
    EXPECT_EQ(r->samples, 8);
    EXPECT_DOUBLE_EQ(r->train_loss, 2.0);
    EXPECT_DOUBLE_EQ(r->train_recon, 1.5);
    EXPECT_DOUBLE_EQ(r->train_kl, 0.5);
    EXPECT_EQ(s.epochs_done(), 1);
    EXPECT_EQ(s.progress().first_step_of_epoch, 2);
    EXPECT_EQ(s.progress().samples, 0);
    EXPECT_DOUBLE_EQ(s.mean_loss(), 0.0);
}

// The first step is start-up: with other steps in its epoch, samples/s counts them alone.
TEST(EpochStats, SamplesPerSecondLeavesTheFirstStepOut) {
    EpochStats s;
    step(s, 0, 1, 1000, 500);  // a slow first step
    EXPECT_GT(s.samples_per_s(), 0.0);  // alone in its epoch: it counts
    EXPECT_LT(s.samples_per_s(), 1000 / 0.5 * 1.01);
    step(s, 1, 1, 1000);
    step(s, 2, 1, 1000);
    EXPECT_GT(s.samples_per_s(), 1000 / 0.5 * 2);  // the fast steps alone (two in under 0.5 s)
}

TEST(EpochStats, RestoreKeepsACheckpointsCounters) {
    EpochStats s;
    s.restore({7, 1, 5, 8, 3.5, 3.0, 0.5});
    EXPECT_EQ(s.steps(), 7);
    EXPECT_EQ(s.epochs_done(), 1);
    step(s, 7, 0.5, 2);
    const auto r = s.end_epoch(1, 7);
    EXPECT_EQ(r->steps, 8);
    EXPECT_EQ(r->samples, 10);
    EXPECT_DOUBLE_EQ(r->train_loss, 0.4);
    EXPECT_EQ(s.progress().first_step_of_epoch, 8);
}

}  // namespace
}  // namespace aepipe
