// Determinism with more than one thread: two runs with the same seed, thread count and shard
// count (2 threads, 2 row shards: TBB runs the shards in parallel and `update` sums them) give
// byte-identical weights and identical metrics (every column but the timings). The one-thread
// case is E2E.SameSeedOnOneThreadGivesIdenticalRuns.
#include <gtest/gtest.h>

#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

struct RunOutput {
    std::string weights;
    std::vector<std::string> metrics;  // metrics.csv rows without the timing columns
};

RunOutput run_sharded(const TempDir &tmp, const std::string &config, const std::string &out) {
    RunResult r = run_aepipe({"run", config, "--out", tmp / out, "--threads", "2", "--seed", "5", "train.shards=2"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> dirs = list_dir(tmp / out);
    if (dirs.size() != 1) {
        ADD_FAILURE() << "expected one run folder in " << tmp / out;
        return {};
    }
    const std::string dir = tmp / out + "/" + dirs[0];
    RunOutput run{read_bytes(dir + "/model.safetensors"), {}};
    for (const std::string &line : lines_of(read_bytes(dir + "/metrics.csv"))) {
        size_t cut = 0;  // epoch,steps,train_loss,test_loss,test_mse_per_px | timings
        for (int commas = 0; commas < 5 && cut != std::string::npos; ++commas) cut = line.find(',', cut + 1);
        run.metrics.push_back(line.substr(0, cut));
    }
    return run;
}

TEST(Determinism, SameSeedOnTwoThreadsAndTwoShardsGivesIdenticalWeightsAndMetrics) {
    TempDir tmp("aepipe-determinism");
    TinyData d = write_tiny_data(tmp.path(), 128, 32, 8);
    const std::string config = write_tiny_config(tmp.path(), d, 3);
    RunOutput a = run_sharded(tmp, config, "a"), b = run_sharded(tmp, config, "b");
    ASSERT_EQ(a.metrics.size(), 4u) << "header and one row per epoch";
    EXPECT_FALSE(a.weights.empty());
    EXPECT_TRUE(a.weights == b.weights) << "model.safetensors differs between the two runs";
    EXPECT_EQ(a.metrics, b.metrics);
}

}  // namespace
}  // namespace aepipe::test
