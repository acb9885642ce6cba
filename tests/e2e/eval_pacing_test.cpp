// With a core free, the evaluation of each epoch runs beside training on a thread of its own,
// and training never runs more than two epochs ahead of it, even when the flow graph has one
// thread (where it used to wait until training had finished). Checked in the --profile trace
// of a run on one thread with 2 CPUs (with one, it runs between epochs:
// between_epochs_eval_test.cpp): evaluate's events sit on the "other threads" track, and the
// evaluation of epoch e has begun before any step of epoch e + 2. An evaluation that fails (on that thread) ends
// the run with the node named, keeping the metrics rows and checkpoints written before.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "formats/ckpt_file.hpp"
#include "pipeline/profile.hpp"
#include "support/cpus.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

constexpr int64_t kTrain = 256, kBatch = 16, kSteps = kTrain / kBatch, kEpochs = 8;

TEST(EvalPacing, EvaluationKeepsUpWithTrainingOnOneThread) {
    const OnlyCpus only(2);  // a core free for the evaluation
    if (!only.ok()) GTEST_SKIP() << "needs 2 CPUs: with one the evaluation runs between epochs";
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), kTrain, 64);
    std::string config = write_tiny_config(tmp.path(), d, kEpochs);
    RunResult r = run_aepipe({"run", config, "--out", tmp / "runs", "--threads", "1", "--quiet", "--profile"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto runs = list_dir(tmp / "runs");
    ASSERT_EQ(runs.size(), 1u);
    auto trace = nlohmann::json::parse(read_bytes(tmp / "runs" + "/" + runs[0] + "/trace.json"));
    std::map<int64_t, double> eval_start;   // epoch -> start (us)
    std::map<int64_t, double> first_step;   // epoch -> earliest training event of the epoch
    for (const auto &e : trace["traceEvents"]) {
        if (e["ph"] != "X") continue;
        const std::string cat = e["cat"];
        const int64_t step = e["args"]["step"];
        const double ts = e["ts"];
        if (cat == "evaluate") {
            EXPECT_EQ(e["tid"], Profiler::kOtherThreads) << "evaluate ran on a flow-graph thread";
            eval_start[(step + 1) / kSteps - 1] = ts;
        } else if (cat == "train" && step >= 0) {
            const int64_t epoch = step / kSteps;
            if (!first_step.count(epoch) || ts < first_step[epoch]) first_step[epoch] = ts;
        }
    }
    ASSERT_EQ(int64_t(eval_start.size()), kEpochs);
    ASSERT_EQ(int64_t(first_step.size()), kEpochs);
    for (int64_t e = 0; e + 2 < kEpochs; ++e)
        EXPECT_LT(eval_start[e], first_step[e + 2]) << "epoch " << e << "'s evaluation began after epoch " << e + 2
                                                    << " had started training";
}

TEST(EvalPacing, AFailedEvaluationEndsTheRunNamingTheNodeAndKeepsEarlierOutputs) {
    const OnlyCpus only(2);
    if (!only.ok()) GTEST_SKIP() << "needs 2 CPUs: with one the evaluation runs between epochs";
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 64, 16);  // 4 steps per epoch
    std::string config = write_tiny_config(tmp.path(), d, 6);
    RunResult r = run_aepipe(
        {"run", config, "--out", tmp / "runs", "--threads", "1", "--quiet", "--test-hook", "fail_eval=2"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("node 'eval' (evaluate, " + config + ":"), std::string::npos) << r.err;
    // epoch 3 (0-based 2) ends with the 12th step
    EXPECT_NE(r.err.find("at step 12: test hook fail_eval: evaluation failed"), std::string::npos)
        << r.err;
    auto runs = list_dir(tmp / "runs");
    ASSERT_EQ(runs.size(), 1u);
    const std::string dir = tmp / "runs" + "/" + runs[0];
    // Rows written before the failure stay (epochs 1 and 2, or fewer: rows on their way to the
    // metrics sink when the run is cancelled are dropped, as for any error); none after it.
    // Every checkpoint left reads back (their epochs not yet recorded are evaluated on resume).
    std::vector<std::string> rows = lines_of(read_bytes(dir + "/metrics.csv"));
    ASSERT_GE(rows.size(), 1u);
    ASSERT_LE(rows.size(), 3u) << read_bytes(dir + "/metrics.csv");
    EXPECT_EQ(rows[0].rfind("epoch,", 0), 0u);
    for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i].rfind(std::to_string(i) + ",", 0), 0u) << rows[i];
    const auto ckpts = list_dir(dir + "/checkpoints");
    EXPECT_FALSE(ckpts.empty());
    for (const auto &c : ckpts) EXPECT_NO_THROW(read_ckpt(dir + "/checkpoints/" + c)) << c;
}

}  // namespace
}  // namespace aepipe::test
