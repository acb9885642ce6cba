// aepipe bench: each run's figure is printed as it comes, speedup and efficiency are relative to
// 1 thread whatever order the counts are given in (1 is measured when not listed), and a row
// whose repeats spread wide carries a warning. By default a run times its second epoch whole.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "pipeline/cli/cli.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// speedup and efficiency of the table row of `threads` in bench's output; {-1, -1} if none.
std::pair<double, double> row_of(const std::string &out, int threads) {
    static const std::regex row(R"(^ *(\d+) +\d+ +\d+ +\d+ +([\d.]+) +(\d+)%( .*)?$)");
    for (const auto &l : lines_of(out)) {
        std::smatch m;
        if (std::regex_match(l, m, row) && std::stoi(m[1]) == threads) return {std::stod(m[2]), std::stod(m[3])};
    }
    return {-1, -1};
}

class Bench : public ::testing::Test {
protected:
    TempDir tmp{"aepipe-bench"};
    // A tiny config and a few steps: the figures are meaningless, the bookkeeping is not.
    RunResult bench(const std::string &threads) {
        TinyData d = write_tiny_data(tmp.path(), 64, 16, 8);
        std::string cfg = write_tiny_config(tmp.path(), d, 1);
        return run_aepipe({"bench", cfg, "--threads", threads, "--steps", "3", "--warmup", "1", "--repeats", "2",
                           "--out", tmp / "out"});
    }
};

TEST_F(Bench, OneThreadIsTheBaseWhateverTheOrder) {
    RunResult r = bench("2,1");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(row_of(r.out, 1), std::make_pair(1.0, 100.0)) << r.out;
    EXPECT_GE(row_of(r.out, 2).first, 0) << r.out;  // present; its value depends on the machine
    // The rows come in ascending thread order.
    EXPECT_LT(r.out.find("\n       1 "), r.out.find("\n       2 ")) << r.out;
}

TEST_F(Bench, OneThreadIsMeasuredWhenNotListedAndRunsPrintAsTheyCome) {
    RunResult r = bench("2");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(row_of(r.out, 1), std::make_pair(1.0, 100.0)) << r.out;
    const size_t first = r.out.find("  run 1 of 2 at 1 threads: "), last = r.out.find("  run 2 of 2 at 2 threads: ");
    ASSERT_NE(first, std::string::npos) << r.out;
    ASSERT_NE(last, std::string::npos) << r.out;
    EXPECT_LT(last, r.out.find("threads      samples/s")) << "progress before the table:\n" << r.out;
    // Rounds: every count runs once before any count runs again (a busy spell of a shared
    // machine falls on all counts alike).
    EXPECT_LT(r.out.find("  run 1 of 2 at 2 threads: "), r.out.find("  run 2 of 2 at 1 threads: ")) << r.out;
    // bench/compare_torch.sh takes the line whose first field is the thread count: the row.
    int rows = 0;
    for (const auto &l : lines_of(r.out)) {
        std::istringstream ss(l);
        std::string first;
        ss >> first;
        rows += first == "2";
    }
    EXPECT_EQ(rows, 1) << r.out;
    auto dirs = list_dir(tmp / "out");
    ASSERT_EQ(dirs.size(), 1u);
    std::string csv = read_bytes(tmp / "out/" + dirs[0] + "/bench.csv");
    EXPECT_NE(csv.find("\n1,0,"), std::string::npos) << csv;
    // Each row names the limit: the probe's peak at its count and the share of it.
    EXPECT_NE(r.out.find("  FMA probe at 2 threads: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("GFLOP/s  %peak  peak GFLOP/s  peak speedup"), std::string::npos) << r.out;
    EXPECT_NE(csv.find("\n2,1,"), std::string::npos) << csv;
}

// bench.csv's timed_samples column, one value per run.
std::vector<long> timed_samples(const std::string &csv) {
    std::vector<long> v;
    for (const auto &l : lines_of(csv)) {
        if (l.rfind("threads,", 0) == 0) continue;
        std::vector<std::string> f;
        std::stringstream ss(l);
        for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
        if (f.size() == 6) v.push_back(std::stol(f[4]));
    }
    return v;
}

TEST_F(Bench, ByDefaultItTimesTheSecondEpochWholeAfterTheFirst) {
    // 100 images in batches of 16: six full steps and a tail of 4 per epoch.
    TinyData d = write_tiny_data(tmp.path(), 100, 16, 8);
    std::string cfg = write_tiny_config(tmp.path(), d, 1);
    RunResult r = run_aepipe({"bench", cfg, "train.batch=16", "--threads", "1", "--repeats", "2", "--out", tmp / "out"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("bench: epoch 2 (after epoch 1 as warm-up), 2 run(s) at each of 1 threads"),
              std::string::npos)
        << r.out;
    auto dirs = list_dir(tmp / "out");
    ASSERT_EQ(dirs.size(), 1u);
    const std::string csv = read_bytes(tmp / "out/" + dirs[0] + "/bench.csv");
    EXPECT_EQ(lines_of(csv)[0], "threads,repeat,samples_per_s,peak_gflops,timed_samples,timed_s");
    EXPECT_EQ(timed_samples(csv), (std::vector<long>{100, 100})) << csv;
}

TEST_F(Bench, StepsTimeThatManyStepsAfterTheWarmUp) {
    RunResult r = bench("1");  // --steps 3 --warmup 1, batch 16
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("bench: 3 steps after 1 warm-up"), std::string::npos) << r.out;
    auto dirs = list_dir(tmp / "out");
    ASSERT_EQ(dirs.size(), 1u);
    EXPECT_EQ(timed_samples(read_bytes(tmp / "out/" + dirs[0] + "/bench.csv")), (std::vector<long>{48, 48}));
}

TEST_F(Bench, AWarmUpWithoutStepsIsAUsageError) {
    TinyData d = write_tiny_data(tmp.path(), 64, 16, 8);
    std::string cfg = write_tiny_config(tmp.path(), d, 1);
    RunResult r = run_aepipe({"bench", cfg, "--warmup", "5", "--out", tmp / "out"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("--warmup goes with --steps"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "out"));
}

TEST_F(Bench, AnEpochTooLongToTimeWholeIsRefusedBeforeAnyRun) {
    TinyData d = write_tiny_data(tmp.path(), 20001, 16, 4);  // 20,001 steps of 1 image
    std::string cfg = write_tiny_config(tmp.path(), d, 1);
    RunResult r = run_aepipe({"bench", cfg, "train.batch=1", "--out", tmp / "out"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("an epoch of this config is 20001 steps (more than 20000)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--steps 500"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "out"));
}

TEST(BenchThreads, MoreThanTheCoresWarnsNamingThem) {
    EXPECT_EQ(cli::oversubscribed_warning({1, 2, 4, 8}, 2),
              "warning: --threads 4,8: more threads than the 2 cores of this machine; those rows measure threads "
              "taking turns on the cores, not scaling\n");
    EXPECT_EQ(cli::oversubscribed_warning({1, 2}, 2), "");
}

TEST_F(Bench, AThreadCountAboveTheCoresIsWarnedOnStderr) {
    const std::string over = std::to_string(std::thread::hardware_concurrency() + 1);
    RunResult r = bench(over);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("warning: --threads " + over + ": more threads than the"), std::string::npos) << r.err;
}

TEST(BenchRow, WideSpreadWarns) {
    std::string row = cli::bench_row(2, {1631, 5846, 4000}, 2000);
    EXPECT_NE(row.find("warning: 2 threads: the repeats range from 1631 to 5846 samples/s (max/min 3.58 > 1.25)"),
              std::string::npos)
        << row;
}

TEST(BenchRow, NarrowSpreadDoesNot) {
    std::string row = cli::bench_row(4, {3900, 4000, 4100}, 1000);
    EXPECT_EQ(row.find("warning"), std::string::npos) << row;
    EXPECT_EQ(row, "       4           4000           3900           4100      4.00        100%\n");
}

// GFLOP/s from the model's FLOPs per sample, its share of the probe's peak, the probe's speedup.
TEST(BenchRow, LimitColumns) {
    cli::BenchLimit lim{2.5e6, 200, 110};  // 4000 samples/s x 2.5 MFLOP = 10 GFLOP/s = 5% of 200
    EXPECT_EQ(cli::bench_row(2, {3900, 4000, 4100}, 2000, lim),
              "       2           4000           3900           4100      2.00        100%      10.0     5%         200.0          1.82\n");
    EXPECT_NE(cli::bench_header(true).find("GFLOP/s  %peak  peak GFLOP/s  peak speedup"), std::string::npos);
}

TEST(BenchRow, SpreadJustOverTheLimitWarns) {
    EXPECT_NE(cli::bench_row(1, {1000, 1260}, 1000).find("warning"), std::string::npos);
    EXPECT_EQ(cli::bench_row(1, {1000, 1250}, 1000).find("warning"), std::string::npos);
}

}  // namespace
}  // namespace aepipe::test
