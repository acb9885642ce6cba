// When training takes every core this process may use, the evaluation runs between epochs:
// training waits for it, and it computes on the graph's own threads, one lane per shard
// (nodes/nn/evaluate.cpp). With a core free it runs beside training on a thread of its own.
// The tests limit the run to 1 or 2 CPUs (support/cpus.hpp) to choose: the test figures must
// be the same to the last digit either way, the trace must show no training step while an
// evaluation runs, and a stopped or failed run keeps what it recorded.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/profile.hpp"
#include "support/cpus.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

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

// `aepipe run ARGS` on the first `cpus` CPUs; the run's folder, or "" (a failure is reported).
std::string run_on(int cpus, std::vector<std::string> args, const std::string &out) {
    const OnlyCpus only(cpus);
    if (!only.ok()) {
        ADD_FAILURE() << "cannot limit the run to " << cpus << " CPUs";
        return "";
    }
    args.insert(args.end(), {"--out", out, "--quiet"});
    const RunResult r = run_aepipe(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? only_run(out) : "";
}

// Test batches of 16 rows: several per evaluation, for the lanes to share.
constexpr const char *kSmallEvalBatches = "graph.nodes[eval].batch=16";

TEST(BetweenEpochsEvaluation, GivesTheSameFiguresAsBesideTraining) {
    if (!OnlyCpus(2).ok()) GTEST_SKIP() << "needs 2 CPUs: one run with a core free for the evaluation";
    TempDir tmp;
    const TinyData d = write_tiny_data(tmp.path(), 128, 64, 28);  // MNIST's size: mnist_denoise's layers
    for (const std::string name : {"tiny", "mnist_denoise"})
        for (const std::string shards : {"1", "2"}) {  // between epochs: one lane per shard
            SCOPED_TRACE(name + ", " + shards + " shard(s)");
            const std::string config =
                name == "tiny" ? write_tiny_config(tmp.path(), d, 4) : shipped_config_on(name, d, tmp.path());
            const std::vector<std::string> args{"run",     config, "train.epochs=4", "train.batch=16", "train.shards=" + shards,
                                                kSmallEvalBatches, "--threads", "1"};
            const std::string tag = name + "-" + shards;
            const std::string beside = run_on(2, args, tmp / tag + "-beside"), between = run_on(1, args, tmp / tag + "-between");
            ASSERT_FALSE(beside.empty());
            ASSERT_FALSE(between.empty());
            const auto want = test_columns(beside);
            ASSERT_EQ(want.size(), 5u);
            EXPECT_EQ(test_columns(between), want);
        }
}

// In the --profile trace: every evaluation begins after its epoch's last shard pass (its
// update may still be writing a checkpoint on another thread) and ends before the next
// epoch's first training event, on a flow-graph thread.
void expect_between_epochs(const std::string &run_dir, int64_t steps_per_epoch, int64_t epochs) {
    const auto trace = nlohmann::json::parse(read_bytes(run_dir + "/trace.json"));
    std::map<int64_t, std::pair<double, double>> eval;  // epoch -> [start, end] (us)
    std::map<int64_t, double> first, last;               // epoch -> first training event, last shard pass
    for (const auto &e : trace["traceEvents"]) {
        if (e["ph"] != "X") continue;
        const std::string cat = e["cat"];
        const int64_t step = e["args"]["step"];
        const double ts = e["ts"], end = ts + double(e["dur"]);
        if (cat == "evaluate") {
            EXPECT_NE(e["tid"], Profiler::kOtherThreads) << "the evaluation ran beside training";
            eval[(step + 1) / steps_per_epoch - 1] = {ts, end};
        } else if (cat == "train" && step >= 0) {
            const int64_t epoch = step / steps_per_epoch;
            first[epoch] = first.count(epoch) ? std::min(first[epoch], ts) : ts;
            if (std::string(e["name"]).find("shard") != std::string::npos) last[epoch] = std::max(last[epoch], end);
        }
    }
    ASSERT_EQ(int64_t(eval.size()), epochs);
    ASSERT_EQ(int64_t(first.size()), epochs);
    for (int64_t e = 0; e < epochs; ++e) {
        EXPECT_GE(eval[e].first, last[e]) << "epoch " << e << "'s evaluation began before its training ended";
        if (e + 1 < epochs) {
            EXPECT_LE(eval[e].second, first[e + 1]) << "epoch " << e + 1 << " trained during epoch " << e << "'s evaluation";
        }
    }
}

TEST(BetweenEpochsEvaluation, TrainingWaitsForItOnTheGraphThreads) {
    TempDir tmp;
    const TinyData d = write_tiny_data(tmp.path(), 128, 64);  // 8 steps per epoch
    const std::string config = write_tiny_config(tmp.path(), d, 4);
    const std::vector<std::string> args{"run", config, "train.batch=16", kSmallEvalBatches, "--profile"};
    {
        SCOPED_TRACE("1 thread on 1 CPU");
        std::vector<std::string> one = args;
        one.insert(one.end(), {"--threads", "1"});
        const std::string dir = run_on(1, one, tmp / "one");
        ASSERT_FALSE(dir.empty());
        expect_between_epochs(dir, 8, 4);
    }
    if (!OnlyCpus(2).ok()) GTEST_SKIP() << "needs 2 CPUs for two lanes at once";
    SCOPED_TRACE("2 threads, 2 shards on 2 CPUs: two lanes");
    std::vector<std::string> two = args;
    two.insert(two.end(), {"--threads", "2", "train.shards=2"});
    const std::string dir = run_on(2, two, tmp / "two");
    ASSERT_FALSE(dir.empty());
    expect_between_epochs(dir, 8, 4);
}

// `aepipe run` of the tiny config (6 epochs, n_train / n_test images) with `extra` arguments,
// on one CPU, into tmp/runs; the config is tmp/tiny.yaml.
RunResult tiny_run_on_one_cpu(const TempDir &tmp, int64_t n_train, int64_t n_test, const std::vector<std::string> &extra) {
    const std::string config = write_tiny_config(tmp.path(), write_tiny_data(tmp.path(), n_train, n_test), 6);
    const OnlyCpus only(1);
    EXPECT_TRUE(only.ok());
    std::vector<std::string> args{"run", config, "--threads", "1", "--quiet", "--out", tmp / "runs"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_aepipe(args);
}

TEST(BetweenEpochsEvaluation, AStoppedRunStillRecordsTheEpochsItTrained) {
    TempDir tmp;
    const RunResult r = tiny_run_on_one_cpu(tmp, 128, 64,  // 8 steps per epoch; SIGTERM in epoch 2
                                            {"train.batch=16", kSmallEvalBatches, "--test-hook", "raise_at_step=12:15"});
    ASSERT_EQ(r.exit_code, 143) << r.err;
    const auto rows = test_columns(only_run(tmp / "runs"));
    ASSERT_EQ(rows.size(), 2u) << "the header and epoch 1:\n" << r.err;
    EXPECT_EQ(rows[1].rfind("1,", 0), 0u) << rows[1];
}

TEST(BetweenEpochsEvaluation, AFailedEvaluationEndsTheRunNamingTheNode) {
    TempDir tmp;
    const RunResult r = tiny_run_on_one_cpu(tmp, 64, 16, {"--test-hook", "fail_eval=2"});  // 4 steps per epoch
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("node 'eval' (evaluate, " + tmp / "tiny.yaml" + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("at step 12: test hook fail_eval: evaluation failed"), std::string::npos) << r.err;
    // Training waited for epoch 3's evaluation: nothing of epoch 4 was recorded.
    const std::vector<std::string> rows = lines_of(read_bytes(only_run(tmp / "runs") + "/metrics.csv"));
    ASSERT_GE(rows.size(), 1u);
    EXPECT_LE(rows.size(), 3u);
}

}  // namespace
}  // namespace aepipe::test
