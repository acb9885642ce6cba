// What `aepipe run` prints and how it names a run: each epoch's lines in order (its epoch line
// first, then its sinks' lines); samples/s counts training steps only; --name and the config's
// name: name the run folder; the checkpoint node's one key per meaning.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "pipeline/cli/cli.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"
#include "support/shared_run.hpp"

namespace aepipe::test {
namespace {

constexpr int64_t kTrain = 256, kTest = 64, kSide = 8, kEpochs = 3;

std::string with_checkpoint(std::string yaml, const std::string &keys) {
    const std::string from = "{id: ckpt, type: checkpoint}";
    yaml.replace(yaml.find(from), from.size(), "{id: ckpt, type: checkpoint" + keys + "}");
    return yaml;
}

// One run of 3 epochs (its console output in run.exit, run.out, run.err), made once per ctest
// run (support/shared_run.hpp) and shared by the tests of the suite.
SharedRun &shared() {
    static SharedRun s("RunConsole", [](const std::string &dir) {
        TinyData d = write_tiny_data(dir, kTrain, kTest, kSide);
        write_bytes(dir + "/tiny.yaml", with_checkpoint(tiny_config_yaml(d, kEpochs), ", snapshot_every_epochs: 1"));
        save_result(dir + "/run",
                    run_aepipe({"run", dir + "/tiny.yaml", "--out", dir + "/out", "--name", "fashion_ae"}));
    });
    return s;
}
TEST(SharedRuns, RunConsole) { shared().make_for_ctest(); }

class RunConsole : public ::testing::Test {
protected:
    static void SetUpTestSuite() { result_ = load_result(shared().dir() + "/run"); }
    static const RunResult &run() { return result_; }
    static std::string run_dir() { return only_run_in(shared().dir() + "/out"); }
    static inline RunResult result_;
};

TEST_F(RunConsole, EachEpochsLinesComeAfterItsEpochLine) {
    ASSERT_EQ(run().exit_code, 0) << run().out << run().err;
    const auto lines = lines_of(run().out);
    int64_t epoch = 0;  // the newest epoch line seen
    int sink_lines = 0;
    for (const auto &l : lines) {
        if (l.rfind("epoch ", 0) == 0) {
            EXPECT_EQ(l.rfind("epoch " + std::to_string(epoch + 1) + "/", 0), 0u) << l;
            ++epoch;
        } else if (l.rfind("checkpoint: ", 0) == 0 || l.rfind("images: ", 0) == 0) {
            // Both are written after the last epoch: they belong after its line.
            EXPECT_EQ(epoch, kEpochs) << l << " before the last epoch line in\n" << run().out;
            ++sink_lines;
        }
    }
    EXPECT_EQ(epoch, kEpochs) << run().out;
    EXPECT_EQ(sink_lines, 2) << run().out;
    EXPECT_EQ(run().out.find('\r'), std::string::npos) << "progress codes in a pipe";
}

TEST_F(RunConsole, SamplesPerSecondCountsTrainingStepsOnly) {
    ASSERT_EQ(run().exit_code, 0) << run().err;
    const auto rows = lines_of(read_bytes(run_dir() + "/metrics.csv"));
    ASSERT_EQ(rows.size(), size_t(kEpochs + 1));
    // columns: epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,...
    for (size_t i = 2; i < rows.size(); ++i) {  // epoch 1 leaves out its start-up step
        std::vector<double> f;
        std::stringstream ss(rows[i]);
        for (std::string x; std::getline(ss, x, ',');) f.push_back(std::stod(x));
        // Steps alone take no longer than the epoch they are part of. The CSV prints samples/s
        // to 0.1 and epoch_s to 0.0001 s: a tiny epoch lasts a few ms, so allow each figure its
        // rounding (half a printed unit) before comparing.
        EXPECT_GE((f[5] + 0.05) * (f[6] + 0.00005), double(kTrain) * 0.999) << rows[i];
    }
}

TEST_F(RunConsole, NameOptionNamesTheRunFolder) {
    ASSERT_EQ(run().exit_code, 0) << run().err;
    const std::string dir = run_dir();
    EXPECT_EQ(dir.substr(dir.rfind('/') + 1).rfind("fashion_ae-", 0), 0u) << dir;
    EXPECT_NE(read_bytes(dir + "/config.yaml").find("name: fashion_ae"), std::string::npos);
}

TEST_F(RunConsole, SnapshotEveryEpochsWritesEachEpochsWeights) {
    ASSERT_EQ(run().exit_code, 0) << run().err;
    const auto files = list_dir(run_dir());
    for (int e = 1; e <= kEpochs; ++e)
        EXPECT_TRUE(std::count(files.begin(), files.end(), "checkpoint_epoch" + std::to_string(e) + ".safetensors"))
            << e;
}

// aepipe profile measures training throughput as the epoch lines do: over the whole run it is
// a weighted mean of the epochs' figures, so it lies between the slowest and the fastest.
TEST(ProfileThroughput, AgreesWithTheEpochLines) {
    TempDir tmp("aepipe-profile-throughput");
    TinyData d = write_tiny_data(tmp.path(), kTrain, kTest, kSide);
    write_bytes(tmp / "tiny.yaml", tiny_config_yaml(d, kEpochs));
    RunResult r = run_aepipe({"profile", tmp / "tiny.yaml", "--out", tmp / "out"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string dir = tmp / "out/" + list_dir(tmp / "out").at(0);
    std::smatch m;
    const std::string prof = read_bytes(dir + "/profile.txt");
    ASSERT_TRUE(std::regex_search(prof, m, std::regex(R"(training: (\d+) steps, \d+ samples in [\d.]+ s of steps \(of [\d.]+ s wall\): (\d+) samples/s)")))
        << prof;
    EXPECT_EQ(std::stoi(m[1]), kEpochs * kTrain / 16 - 1);  // the start-up step left out
    const double whole = std::stod(m[2]);
    double lo = 1e300, hi = 0;
    const auto rows = lines_of(read_bytes(dir + "/metrics.csv"));
    for (size_t i = 1; i < rows.size(); ++i) {
        std::stringstream ss(rows[i]);
        std::string f;
        for (int c = 0; c <= 5; ++c) std::getline(ss, f, ',');
        lo = std::min(lo, std::stod(f)), hi = std::max(hi, std::stod(f));
    }
    EXPECT_GE(whole, 0.97 * lo) << prof;
    EXPECT_LE(whole, 1.03 * hi) << prof;
    // The limit: the model's FLOPs per training sample, GFLOP/s at the training figure, and
    // the share of the FMA peak measured at the run's thread count.
    ASSERT_TRUE(std::regex_search(
        prof, m, std::regex(R"(limit: (\d+) FLOP per training sample: ([\d.]+) GFLOP/s, (\d+)% of the f32 FMA peak \(([\d.]+) GFLOP/s on \d+ threads?, (avx512f|avx2\+fma|scalar)\))")))
        << prof;
    const double flops = std::stod(m[1]), gflops = std::stod(m[2]), peak = std::stod(m[4]);
    EXPECT_GT(flops, 0);
    EXPECT_NEAR(gflops, whole * flops / 1e9, 0.05 + 0.01 * gflops) << prof;
    EXPECT_NEAR(std::stod(m[3]), 100 * gflops / peak, 1.0) << prof;
}

TEST(RunName, ConfigNameWinsAndOverridesRenameIt) {
    ConfigFile named = parse_config("name: mnist_ae\nmodel: {}\n", "configs/mnist_ae.yaml");
    EXPECT_EQ(cli::run_name(named, "configs/x.yaml"), "mnist_ae");
    apply_override(named, "name=fashion_ae");
    EXPECT_EQ(cli::run_name(named, "configs/x.yaml"), "fashion_ae");
    ConfigFile unnamed = parse_config("model: {}\n", "configs/x.yaml");
    EXPECT_EQ(cli::run_name(unnamed, "configs/x.yaml"), "x");
}

// An empty --name (YAML null) used to name the folder 'null-DATE'; now a usage error, no folder.
TEST(RunName, EmptyNameIsAnErrorAndMakesNoFolder) {
    TempDir tmp("aepipe-empty-name");
    TinyData d = write_tiny_data(tmp.path(), 32, 16, 8);
    write_bytes(tmp / "tiny.yaml", tiny_config_yaml(d, 1));
    RunResult r = run_aepipe({"run", tmp / "tiny.yaml", "--out", tmp / "out", "--name", ""});
    expect_exit(r, 2, "config: 'name' is empty: give a plain name");
    EXPECT_TRUE(!std::filesystem::exists(tmp / "out") || list_dir(tmp / "out").empty());
}

TEST(CheckpointKeys, OldEveryKeyIsAnErrorNamingTheNewKeys) {
    TempDir tmp("aepipe-ckpt-keys");
    TinyData d = write_tiny_data(tmp.path(), 32, 16, 8);
    std::string msg = config_error(with_checkpoint(tiny_config_yaml(d, 1), ", every: 10"));
    EXPECT_NE(msg.find("test.yaml:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'every' is no longer accepted"), std::string::npos) << msg;
    EXPECT_NE(msg.find("snapshot_every_epochs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'every_epochs'"), std::string::npos) << msg;
}

// image_grid's periodic files have the checkpoint node's name for the same meaning.
TEST(ImageGridKeys, OldEveryKeyIsAnErrorNamingTheNewKey) {
    TempDir tmp("aepipe-grid-keys");
    TinyData d = write_tiny_data(tmp.path(), 32, 16, 8);
    std::string yaml = tiny_config_yaml(d, 1);
    const std::string from = "type: image_grid, count: 8}";
    ASSERT_NE(yaml.find(from), std::string::npos);
    std::string old = yaml, now = yaml;
    old.replace(old.find(from), from.size(), "type: image_grid, count: 8, every: 2}");
    now.replace(now.find(from), from.size(), "type: image_grid, count: 8, snapshot_every_epochs: 2}");
    const std::string msg = config_error(old);
    EXPECT_NE(msg.find("'every' is no longer accepted"), std::string::npos) << msg;
    EXPECT_NE(msg.find("renamed: 'snapshot_every_epochs' (NAME_epoch<E>.png every N epochs)"), std::string::npos)
        << msg;
    ConfigFile cfg = parse_config(now, "test.yaml");
    EXPECT_NO_THROW(Pipeline(cfg, RunSettings{})) << "the new key is valid";
}

}  // namespace
}  // namespace aepipe::test
