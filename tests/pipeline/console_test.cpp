// The console: an epoch's sink lines (checkpoint:, images:) come after its epoch line, however
// the nodes' threads race; without a node that prints epoch lines nothing is held back; no
// terminal codes when the output is not a terminal.
#include <gtest/gtest.h>

#include "pipeline/console.hpp"

namespace aepipe {
namespace {

TEST(Console, SinkLinesWaitForTheirEpochLine) {
    testing::internal::CaptureStdout();
    {
        Console c(false);
        c.expect_epoch_lines();
        c.after_epoch(0, "images: a");
        c.after_epoch(1, "checkpoint: b");
        c.epoch_line(0, "epoch 1/2");
        c.after_epoch(0, "late: a2");
        c.epoch_line(1, "epoch 2/2");
        c.after_epoch(2, "never evaluated");
        c.line("other");
        c.flush_held();
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(),
              "epoch 1/2\nimages: a\nlate: a2\nepoch 2/2\ncheckpoint: b\nother\nnever evaluated\n");
}

TEST(Console, NothingHeldWithoutEpochLines) {
    testing::internal::CaptureStdout();
    {
        Console c(false);
        c.after_epoch(3, "checkpoint: x");
        c.line("done");
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "checkpoint: x\ndone\n");
}

TEST(Console, NoProgressCodesOffATerminal) {
    testing::internal::CaptureStdout();
    {
        Console c(false);
        c.progress("epoch 1/1  step 3");
        c.line("epoch 1/1");
        c.end_progress();
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "epoch 1/1\n");
}

TEST(Console, QuietPrintsNothingAndHoldsNothing) {
    testing::internal::CaptureStdout();
    {
        Console c(false, true);
        c.expect_epoch_lines();
        c.after_epoch(0, "checkpoint: x");
        c.epoch_line(0, "epoch 1/1");
        c.flush_held();
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
}

}  // namespace
}  // namespace aepipe
