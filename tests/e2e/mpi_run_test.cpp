// Training across processes through `mpirun -np 2 aepipe run` (registered only when aepipe is
// built with MPI): two ranks train the same model as one process, to within float reduction
// order; only rank 0 writes; a batch that does not divide among the ranks, a rank that fails
// and a rank that stops arriving each end the whole job with a message naming the rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <thread>

#include "formats/safetensors.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// 249 training samples in batches of 16: the last batch has 9 rows, split 4 / 5 between the
// ranks; 63 test samples, split 31 / 32.
constexpr int64_t kTrain = 249, kTest = 63, kSide = 8, kEpochs = 3;
constexpr int kLimitS = 120;  // a hung job is killed and fails the test instead of blocking CI

class Mpi : public ::testing::Test {
protected:
    static void TearDownTestSuite() {
        data_.reset();
        tmp_.reset();
    }
    static const TempDir &tmp() {
        if (!tmp_) {
            tmp_ = std::make_unique<TempDir>("aepipe-mpi");
            data_ = std::make_unique<TinyData>(write_tiny_data(tmp_->path(), kTrain, kTest, kSide));
            config_ = write_tiny_config(tmp_->path(), *data_, kEpochs);
        }
        return *tmp_;
    }
    static const std::string &config() { return tmp(), config_; }

    // mpirun [env] -np 2 aepipe run CONFIG --out OUT --threads T [extra...]; `rank1` replaces
    // the arguments of rank 1 (an MPMD launch) when not empty; T "" leaves --threads out.
    static RunResult mpirun(const std::string &out, const std::vector<std::string> &extra,
                            const std::vector<std::string> &rank1 = {}, const std::vector<std::string> &env = {},
                            const std::string &threads = "1") {
        // Its own session directory: two mpiruns that start at once (ctest -j) in a fresh /tmp
        // both mkdir /tmp/ompi.HOST.UID and one fails with "File exists" (seen in a clean root).
        std::vector<std::string> argv{AEPIPE_MPIEXEC, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                      "--mca", "orte_tmpdir_base", tmp().path()};
        for (const auto &e : env) argv.insert(argv.end(), {"-x", e});
        std::vector<std::string> run{AEPIPE_BINARY, "run", config(), "--out", tmp() / out};
        if (!threads.empty()) run.insert(run.end(), {"--threads", threads});
        std::vector<std::string> r0 = run;
        r0.insert(r0.end(), extra.begin(), extra.end());
        if (rank1.empty()) {
            argv.insert(argv.end(), {"-np", "2"});
            argv.insert(argv.end(), r0.begin(), r0.end());
        } else {
            std::vector<std::string> r1 = run;
            r1.insert(r1.end(), rank1.begin(), rank1.end());
            argv.insert(argv.end(), {"-np", "1"});
            argv.insert(argv.end(), r0.begin(), r0.end());
            argv.insert(argv.end(), {":", "-np", "1"});
            argv.insert(argv.end(), r1.begin(), r1.end());
        }
        return run_program(argv, AEPIPE_SOURCE_DIR, kLimitS);
    }
    static std::string only_run(const std::string &out) {
        auto dirs = list_dir(tmp() / out);
        EXPECT_EQ(dirs.size(), 1u) << "run folders under " << out;
        return dirs.empty() ? "" : tmp() / out + "/" + dirs[0];
    }
    static std::vector<std::vector<double>> metrics(const std::string &dir) {
        std::vector<std::vector<double>> rows;
        auto lines = lines_of(read_bytes(dir + "/metrics.csv"));
        for (size_t i = 1; i < lines.size(); ++i) {
            std::vector<double> row;
            std::stringstream ss(lines[i]);
            for (std::string f; std::getline(ss, f, ',');) row.push_back(std::stod(f));
            rows.push_back(row);
        }
        return rows;
    }

    static inline std::unique_ptr<TempDir> tmp_;
    static inline std::unique_ptr<TinyData> data_;
    static inline std::string config_;
};

int count_of(const std::string &s, const std::string &needle) {
    int n = 0;
    for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
}

// Same seed and global batch: the weights after 3 epochs (48 Adam steps, each epoch with a
// partial last batch) agree to |a - b| <= 1e-5 + 1e-4 |a| (measured: 4.2e-7 at most); only the
// order of float additions differs (the ranks' gradient sums are added by the allreduce).
void expect_same_weights(const std::string &a, const std::string &b) {
    StFile wa = read_safetensors(a + "/model.safetensors"), wb = read_safetensors(b + "/model.safetensors");
    ASSERT_EQ(wa.tensors.size(), wb.tensors.size());
    double worst = 0;
    for (const auto &[name, ta] : wa.tensors) {
        ASSERT_TRUE(wb.tensors.count(name)) << name;
        const StTensor &tb = wb.tensors.at(name);
        ASSERT_EQ(ta.shape, tb.shape) << name;
        for (size_t i = 0; i < ta.data.size(); ++i) {
            const double d = std::fabs(double(ta.data[i]) - double(tb.data[i]));
            worst = std::max(worst, d);
            ASSERT_LE(d, 1e-5 + 1e-4 * std::fabs(double(ta.data[i])))
                << name << "[" << i << "]: 1 process " << ta.data[i] << ", 2 ranks " << tb.data[i];
        }
    }
    std::cout << "largest weight difference, 1 process vs 2 ranks: " << worst << "\n";
}

TEST_F(Mpi, TwoRanksTrainTheSameModelAsOneProcess) {
    RunResult one = run_aepipe({"run", config(), "--out", tmp() / "one", "--threads", "1", "--quiet"});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    RunResult two = mpirun("two", {});
    ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
    const std::string a = only_run("one"), b = only_run("two");
    expect_same_weights(a, b);
    // Train loss (averaged over ranks) and the test figures (test set split across ranks).
    auto ma = metrics(a), mb = metrics(b);
    ASSERT_EQ(ma.size(), size_t(kEpochs));
    ASSERT_EQ(mb.size(), ma.size());
    for (size_t e = 0; e < ma.size(); ++e) {
        EXPECT_EQ(ma[e][1], mb[e][1]) << "steps, epoch " << e + 1;
        for (int col : {2, 3, 4})  // train_loss, test_loss, test_mse_per_px
            EXPECT_NEAR(mb[e][size_t(col)], ma[e][size_t(col)], 1e-3 * ma[e][size_t(col)])
                << "column " << col << ", epoch " << e + 1;
    }
}

// Each rank cuts its rows into 2 shards (4 + 4 of a full batch; 2 + 2 and 2 + 3 of the last):
// the shard sum on each rank, then the allreduce, still give one process's weights.
TEST_F(Mpi, TwoRanksOfTwoShardsTrainTheSameModelAsOneProcess) {
    RunResult one = run_aepipe({"run", config(), "--out", tmp() / "one1", "--threads", "1", "--quiet"});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    RunResult two = mpirun("two2", {"train.shards=2"});
    ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
    EXPECT_NE(two.out.find("2 shard(s) x 1 thread(s) per rank, 2 MPI ranks"), std::string::npos) << two.out;
    expect_same_weights(only_run("one1"), only_run("two2"));
}

TEST_F(Mpi, OnlyRankZeroWritesAndTalks) {
    RunResult two = mpirun("talk", {});
    ASSERT_EQ(two.exit_code, 0) << two.err;
    const std::string dir = only_run("talk");  // rank 1 made no folder of its own
    for (const char *f : {"config.yaml", "metrics.csv", "model.safetensors", "recon.png"})
        EXPECT_FALSE(read_bytes(dir + "/" + f).empty()) << f;
    EXPECT_EQ(count_of(two.out, "run: "), 1) << two.out;
    EXPECT_EQ(count_of(two.out, "2 MPI ranks"), 2) << two.out;  // the run and model lines, rank 0's
    EXPECT_NE(two.out.find("allreduce: 2 ranks, "), std::string::npos) << two.out;
    EXPECT_EQ(two.err, "");
}

// A rank's stdout is Open MPI's pseudo-terminal even when mpirun writes into a pipe or a file:
// the progress line (redrawn with \r and ESC [K) must follow mpirun's output, not the rank's.
TEST_F(Mpi, NoProgressCodesWhenMpirunsOutputIsNoTerminal) {
    RunResult r = mpirun("pipe", {"train.epochs=1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("epoch 1/1"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\033[K"), std::string::npos) << r.out;
}

// Without --threads the two ranks on this host share its cores instead of each taking all.
TEST_F(Mpi, RanksShareTheHostsCoresByDefault) {
    RunResult r = mpirun("share", {"train.epochs=1"}, {}, {}, "");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const int each = std::max(1, int(std::thread::hardware_concurrency()) / 2);
    EXPECT_NE(r.out.find("(" + std::to_string(each) + " threads x 2 MPI ranks)"), std::string::npos) << r.out;
}

TEST_F(Mpi, BatchThatDoesNotDivideAmongRanksIsAConfigError) {
    RunResult r = mpirun("odd", {"train.batch=15"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("the batch of 15 samples does not divide among 2 MPI ranks (15 = 2 x 7 + 1)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("rank "), std::string::npos) << r.err;
    EXPECT_TRUE(list_dir(tmp() / "odd").empty());
}

// Rank 1 alone misses its training file: it reports it and takes rank 0 (waiting for every
// rank's checks before it creates the run folder) down with it.
TEST_F(Mpi, OneRankFailingEndsTheJobNamingTheRank) {
    RunResult r = mpirun("fail", {}, {"graph.nodes[0].images=" + tmp() / "missing-train.gz"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_LT(r.exit_code, 128) << "killed by the test's time limit: the job hung\n" << r.err;
    EXPECT_NE(r.err.find("rank 1: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("missing-train.gz"), std::string::npos) << r.err;
    EXPECT_TRUE(list_dir(tmp() / "fail").empty()) << "rank 0 waits for every rank's checks before writing";
}

// Rank 1 stops after 2 steps and never joins rank 0's next gradient allreduce: the bounded
// wait (AEPIPE_DIST_TIMEOUT) ends the job instead of hanging.
TEST_F(Mpi, RankThatStopsArrivingTimesOut) {
    RunResult r = mpirun("stuck", {}, {"train.max_steps=2"}, {"AEPIPE_DIST_TIMEOUT=2"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_LT(r.exit_code, 128) << "killed by the test's time limit: the job hung\n" << r.err;
    EXPECT_NE(r.err.find("did not arrive within 2 s"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("rank "), std::string::npos) << r.err;
}

// Resume across ranks: both ranks are killed at step 23 (mid epoch 2; checkpoints every 5
// steps), then `mpirun -np 2 ... --resume RUN` restores every rank from rank 0's checkpoint:
// the final weights are byte-identical to a 2-rank run never killed.
TEST_F(Mpi, TwoRanksKilledThenResumedEqualTwoRanksNeverKilled) {
    const std::vector<std::string> every5{"graph.nodes[9].every_steps=5"};
    RunResult ref = mpirun("res_ref", every5);
    ASSERT_EQ(ref.exit_code, 0) << ref.out << ref.err;
    // Every rank raises SIGKILL right after step 23 (both run the same arguments).
    RunResult killed = mpirun("res_b", {every5[0], "--test-hook", "raise_at_step=23:9"});
    ASSERT_NE(killed.exit_code, 0) << killed.out << killed.err;
    const std::string b = only_run("res_b");
    std::vector<std::string> again = every5;
    again.insert(again.end(), {"--resume", b});
    RunResult resumed = mpirun("res_b", again);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("resumed from " + b + "/checkpoints/step-00000020.ckpt (step 20"), std::string::npos)
        << resumed.out;
    EXPECT_EQ(read_bytes(only_run("res_ref") + "/model.safetensors"), read_bytes(b + "/model.safetensors"));
    EXPECT_EQ(metrics(only_run("res_ref")).size(), metrics(b).size());
}

}  // namespace
}  // namespace aepipe::test
