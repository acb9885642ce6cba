// When training takes every core, the evaluation runs in the background and a helper takes up
// its batches when training would wait for it (nodes/nn/evaluate.cpp). The test hook
// starve_eval makes the background thread run none of its batches, as if the machine gave it
// no time: the run must still finish, with the same test figures to the last digit, because
// the helper is urged when the next epoch's snapshot queues up behind an evaluation, for the
// last epoch, and when the run is stopped. (Without the helper the hook fails the run after
// 60 s, and a stopped run's drain deadline would drop the evaluations.)
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <thread>

#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// Threads that leave no core free: the evaluation runs in the background.
std::string all_cores() { return std::to_string(std::max(1u, std::thread::hardware_concurrency())); }

// metrics.csv's test columns (everything but the timings), one line per epoch.
std::vector<std::string> test_columns(const std::string &run_dir) {
    std::vector<std::string> rows = lines_of(read_bytes(run_dir + "/metrics.csv")), out;
    if (rows.empty()) return out;
    std::vector<bool> keep;
    std::stringstream head(rows[0]);
    for (std::string col; std::getline(head, col, ',');)
        keep.push_back(col == "epoch" || col.rfind("test_", 0) == 0 || col.rfind("psnr_", 0) == 0);
    for (const std::string &row : rows) {
        std::stringstream in(row);
        std::string kept;
        size_t c = 0;
        for (std::string cell; std::getline(in, cell, ','); ++c)
            if (c < keep.size() && keep[c]) kept += cell + ",";
        out.push_back(kept);
    }
    return out;
}

std::string only_run(const std::string &runs) {
    const auto dirs = list_dir(runs);
    return dirs.size() == 1 ? runs + "/" + dirs[0] : "";
}

// Test batches of 16 rows: several per evaluation, for both threads to share.
const std::vector<std::string> kSmallEvalBatches = {"graph.nodes[eval].batch=16"};

TEST(BackgroundEvaluation, AStarvedEvaluationIsTakenUpWithTheSameResults) {
    TempDir tmp;
    const TinyData d = write_tiny_data(tmp.path(), 128, 64, 28);  // MNIST's size: mnist_denoise's layers
    for (const std::string name : {"tiny", "mnist_denoise"}) {
        SCOPED_TRACE(name);
        const std::string config =
            name == "tiny" ? write_tiny_config(tmp.path(), d, 4) : shipped_config_on(name, d, tmp.path());
        std::vector<std::string> args{"run", config, "train.epochs=4", "train.batch=16", "--threads", all_cores(),
                                      "--quiet"};
        args.insert(args.end(), kSmallEvalBatches.begin(), kSmallEvalBatches.end());
        std::vector<std::string> plain = args, starved = args;
        plain.insert(plain.end(), {"--out", tmp / name + "-plain"});
        starved.insert(starved.end(), {"--out", tmp / name + "-starved", "--test-hook", "starve_eval=1"});
        const RunResult a = run_aepipe(plain), b = run_aepipe(starved);
        ASSERT_EQ(a.exit_code, 0) << a.err;
        ASSERT_EQ(b.exit_code, 0) << b.err;
        const auto want = test_columns(only_run(tmp / name + "-plain"));
        ASSERT_EQ(want.size(), 5u);
        EXPECT_EQ(test_columns(only_run(tmp / name + "-starved")), want);
    }
}

TEST(BackgroundEvaluation, AStoppedRunStillRecordsTheEpochsItTrained) {
    TempDir tmp;
    const TinyData d = write_tiny_data(tmp.path(), 128, 64);  // 8 steps per epoch
    const std::string config = write_tiny_config(tmp.path(), d, 6);
    // Stopped in epoch 2: epoch 1's evaluation is the only one queued, and no later epoch
    // urges the helper; only the stop does.
    std::vector<std::string> args{"run",    config,       "train.batch=16", "--threads", all_cores(),
                                  "--quiet", "--out",      tmp / "runs",     "--test-hook", "starve_eval=1",
                                  "--test-hook", "raise_at_step=12:15"};  // SIGTERM in epoch 2
    args.insert(args.end(), kSmallEvalBatches.begin(), kSmallEvalBatches.end());
    const RunResult r = run_aepipe(args);
    ASSERT_EQ(r.exit_code, 143) << r.err;
    const auto rows = test_columns(only_run(tmp / "runs"));
    ASSERT_EQ(rows.size(), 2u) << "the header and epoch 1:\n" << r.err;
    EXPECT_EQ(rows[1].rfind("1,", 0), 0u) << rows[1];
}

}  // namespace
}  // namespace aepipe
