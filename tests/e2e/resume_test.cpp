// Never losing a run, through the aepipe binary on the fixtures' tiny config (128 images,
// batch 16: 8 steps per epoch, 3 epochs, one thread): a run killed with SIGKILL at a random
// step and resumed ends with the same weights, optimizer state and metrics as one never
// interrupted; SIGTERM/SIGINT write a checkpoint and exit 143/130 printing the resume command;
// a file-size limit fails with exit 1 and keeps the previous checkpoint; a changed config is
// refused naming what differs; a damaged newest checkpoint is skipped; --init-from loads
// weights only. Metrics are compared on their deterministic columns (epoch, steps, train_loss,
// test_loss, test_mse_per_px); the timing columns (samples/s, seconds) are wall-clock.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "nodes/sink/checkpoint.hpp"
#include "formats/ckpt_file.hpp"
#include "pipeline/report/tiny_run.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

constexpr int kStepsPerEpoch = 8, kEpochs = 3, kSteps = kStepsPerEpoch * kEpochs;

class Resume : public ::testing::Test {
protected:
    TempDir tmp{"aepipe-resume"};
    TinyData data = write_tiny_data(tmp.path(), 128, 32);
    std::string config = write_tiny_config(tmp.path(), data, kEpochs);

    // aepipe run CONFIG --out OUT --threads 1 --quiet graph.nodes[9].every_steps=5 EXTRA...
    RunResult run(const std::string &out, const std::vector<std::string> &extra = {},
                  const std::vector<std::string> &env = {}, long long fsize = 0, const std::string &threads = "1") {
        std::vector<std::string> args{"run", config, "--out", tmp / out, "--threads", threads, "--quiet",
                                      "graph.nodes[9].every_steps=5"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_aepipe_with(args, env, fsize);
    }
    std::string only_run(const std::string &out) {
        auto runs = list_dir(tmp / out);
        EXPECT_EQ(runs.size(), 1u) << out;
        return runs.empty() ? "" : tmp / out + "/" + runs[0];
    }
    std::string reference() {
        RunResult r = run("ref");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return only_run("ref");
    }
};

std::vector<std::string> csv_deterministic(const std::string &dir) {
    std::vector<std::string> rows;
    for (const auto &line : lines_of(read_bytes(dir + "/metrics.csv"))) {
        std::stringstream ss(line);
        std::string f, row;
        for (int k = 0; k < 5 && std::getline(ss, f, ','); ++k) row += f + ",";
        rows.push_back(row);
    }
    return rows;
}

std::vector<std::string> jsonl_deterministic(const std::string &dir) {
    std::vector<std::string> rows;
    for (const auto &line : lines_of(read_bytes(dir + "/metrics.jsonl"))) {
        auto j = nlohmann::json::parse(line);
        rows.push_back(nlohmann::json{{"epoch", j["epoch"]},
                                      {"steps", j["steps"]},
                                      {"train_loss", j["train_loss"]},
                                      {"test_loss", j["test_loss"]},
                                      {"test_mse_per_px", j["test_mse_per_px"]}}
                           .dump());
    }
    return rows;
}

// Same final weights (bytes of model.safetensors), same newest training checkpoint (every
// tensor: weights and optimizer moments, and the step counters) and same metrics.
void expect_same_run(const std::string &a, const std::string &b) {
    EXPECT_EQ(read_bytes(a + "/model.safetensors"), read_bytes(b + "/model.safetensors"));
    EXPECT_EQ(csv_deterministic(a), csv_deterministic(b));
    EXPECT_EQ(jsonl_deterministic(a), jsonl_deterministic(b));
    EXPECT_EQ(lines_of(read_bytes(a + "/metrics.csv")).size(), size_t(kEpochs + 1));
    auto ca = list_train_checkpoints(a), cb = list_train_checkpoints(b);
    ASSERT_FALSE(ca.empty());
    ASSERT_FALSE(cb.empty());
    EXPECT_EQ(fs::path(ca.back()).filename(), fs::path(cb.back()).filename());
    // Weights and optimizer state; epoch_end.<E>.params (epochs still in flight to the sinks
    // when the checkpoint was taken) depend on thread timing, not on the training.
    auto trained = [](const CkptFile &f) {
        std::vector<std::pair<std::string, std::vector<float>>> v;
        for (const auto &[name, t] : f.tensors)
            if (name.rfind("epoch_end.", 0) != 0) v.emplace_back(name, t.data);
        return v;
    };
    auto ta = trained(read_ckpt(ca.back())), tb = trained(read_ckpt(cb.back()));
    ASSERT_EQ(ta.size(), 10u);  // 4 layers x (weight, bias), Adam's exp_avg and exp_avg_sq
    ASSERT_EQ(ta.size(), tb.size());
    for (size_t i = 0; i < ta.size(); ++i) {
        EXPECT_EQ(ta[i].first, tb[i].first);
        EXPECT_TRUE(ta[i].second == tb[i].second) << ta[i].first;
    }
    CkptFile fa = read_ckpt(ca.back()), fb = read_ckpt(cb.back());
    for (const char *k : {"steps", "optimizer_steps", "epochs_done", "epoch_loss_sum_bits", "seed"})
        EXPECT_EQ(fa.state[k], fb.state[k]) << k;
}

TEST_F(Resume, KilledAtARandomStepThenResumedEqualsAnUninterruptedRun) {
    std::string ref = reference();
    std::random_device rd;
    // The hook kills before a due checkpoint is written, so the first one to resume from is
    // step 5's: a kill after step 6..24 (24: the last update done, nothing of the end written).
    const int kill_at = 6 + int(rd() % (kSteps - 5));
    SCOPED_TRACE("SIGKILL after step " + std::to_string(kill_at));
    RunResult killed = run("b", {"--test-hook", "raise_at_step=" + std::to_string(kill_at) + ":9"});
    ASSERT_EQ(killed.exit_code, 128 + 9) << killed.err;
    std::string dir = only_run("b");
    RunResult resumed = run("b", {"--resume", dir});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(list_dir(tmp / "b").size(), 1u) << "a resumed run continues in the same folder";
    expect_same_run(ref, dir);
}

// A denoising graph (a corrupt node after normalize) resumes too: its batches restart at the
// checkpoint's step and the corrupt node's reordering starts there as well (it once waited
// for step 0, and the resumed run trained nothing).
TEST_F(Resume, ADenoisingRunKilledMidEpochResumesToTheSameResult) {
    std::string yaml = read_bytes(config);
    const std::string edge = "    - scale -> model\n";
    yaml.replace(yaml.find(edge), edge.size(), "    - scale -> noisy\n    - noisy -> model\n");
    yaml.insert(yaml.find("  edges:\n"), "    - {id: noisy, type: corrupt, noise_std: 0.3}\n");  // nodes[10]
    write_bytes(config, yaml);
    std::string ref = reference();
    ASSERT_EQ(run("b", {"--test-hook", "raise_at_step=11:9"}).exit_code, 128 + 9);  // epoch 2, step 3 of 8
    std::string dir = only_run("b");
    RunResult resumed = run("b", {"--resume", dir});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    expect_same_run(ref, dir);
}

TEST_F(Resume, KilledRightAfterAnEpochEndResumesAcrossTheBoundary) {
    std::string ref = reference();
    // Step 8 ends epoch 1; the kill comes before its checkpoint, so the run resumes from step 5.
    ASSERT_EQ(run("b", {"--test-hook", "raise_at_step=8:9"}).exit_code, 128 + 9);
    std::string dir = only_run("b");
    RunResult resumed = run("b", {"--resume", dir});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    expect_same_run(ref, dir);
}

// train.max_steps=11 closes epoch 2 after 3 of its 8 steps. Resumed without the limit, the run
// trains epoch 3 with steps 12..19 (it once waited for step 12 while the stream began at step
// 16, epoch 3's first had no epoch been shortened, and ended having trained nothing); resumed
// with the limit unchanged, it says that nothing is left to train.
TEST_F(Resume, ARunStoppedByMaxStepsTrainsOnWhenResumedWithoutTheLimit) {
    ASSERT_EQ(run("b", {"train.max_steps=11"}).exit_code, 0);
    std::string dir = only_run("b");
    ASSERT_EQ(lines_of(read_bytes(dir + "/metrics.csv")).size(), 3u);  // header, epochs 1 and 2
    fs::copy(dir, tmp / "c", fs::copy_options::recursive);

    RunResult same = run("c", {"train.max_steps=11", "--resume", tmp / "c"});
    ASSERT_EQ(same.exit_code, 0) << same.err;
    EXPECT_NE(same.err.find("note: nothing left to train: the checkpoint is at step 11 and train.max_steps is 11"),
              std::string::npos)
        << same.err;
    EXPECT_EQ(lines_of(read_bytes(tmp / "c" + "/metrics.csv")).size(), 3u);

    RunResult resumed = run("b", {"--resume", dir});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto rows = csv_deterministic(dir);
    ASSERT_EQ(rows.size(), size_t(kEpochs + 1));
    EXPECT_EQ(rows[2].substr(0, 5), "2,11,");
    EXPECT_EQ(rows[3].substr(0, 5), "3,19,");
    EXPECT_EQ(fs::path(list_train_checkpoints(dir).back()).filename(), "step-00000019.ckpt");
}

TEST_F(Resume, ResumedRunReportShowsEveryEpoch) {
    write_bytes(config, tiny_report_config(data, kEpochs, "tiny"));  // + a report node fed by eval
    std::string ref = reference();
    ASSERT_EQ(run("b", {"--test-hook", "raise_at_step=20:9"}).exit_code, 128 + 9);
    std::string dir = only_run("b");
    RunResult resumed = run("b", {"--resume", dir});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    // The curves plot train loss and test MSE of every epoch: the same as the uninterrupted run's.
    EXPECT_EQ(read_bytes(dir + "/loss.svg"), read_bytes(ref + "/loss.svg"));
}

TEST_F(Resume, SigtermWritesACheckpointExits143AndPrintsTheResumeCommand) {
    std::string ref = reference();
    RunResult r = run("b", {"--test-hook", "raise_at_step=6:15"});
    ASSERT_EQ(r.exit_code, 143) << r.err;
    std::string dir = only_run("b");
    EXPECT_NE(r.err.find("interrupted by SIGTERM after step 6; checkpoint written: " + dir +
                         "/checkpoints/step-00000006.ckpt"),
              std::string::npos)
        << r.err;
    size_t at = r.err.find("resume with: aepipe ");
    ASSERT_NE(at, std::string::npos) << r.err;
    std::string line = r.err.substr(at + 20, r.err.find('\n', at) - at - 20);
    EXPECT_NE(line.find(" --resume " + dir), std::string::npos) << line;
    std::vector<std::string> args;  // the printed command, word by word as a shell splits it
    RunResult words = run_program({"/bin/sh", "-c", "printf '%s\\0' " + line});
    ASSERT_EQ(words.exit_code, 0) << line;
    for (size_t at = 0, nul; (nul = words.out.find('\0', at)) != std::string::npos; at = nul + 1)
        args.push_back(words.out.substr(at, nul - at));
    EXPECT_NE(line.find(" 'graph.nodes[9].every_steps=5' "), std::string::npos) << "[ ] must be quoted: " << line;
    RunResult resumed = run_aepipe(args);
    ASSERT_EQ(resumed.exit_code, 0) << line << "\n" << resumed.err;
    expect_same_run(ref, dir);
}

TEST_F(Resume, SigintExits130AfterACheckpointAndAutoFindsTheRun) {
    RunResult r = run("b", {"--test-hook", "raise_at_step=3:2"});
    ASSERT_EQ(r.exit_code, 130) << r.err;
    std::string dir = only_run("b");
    EXPECT_NE(r.err.find("interrupted by SIGINT after step 3"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(dir + "/checkpoints/step-00000003.ckpt"));
    EXPECT_FALSE(fs::exists(dir + "/model.safetensors")) << "the run did not finish";
    RunResult resumed = run("b", {"--resume", "auto"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_TRUE(fs::exists(dir + "/model.safetensors"));
    EXPECT_EQ(list_train_checkpoints(dir).back(), dir + "/checkpoints/step-00000024.ckpt");
}

TEST_F(Resume, FileSizeLimitFailsWithExit1AndKeepsThePreviousCheckpoint) {
    ASSERT_EQ(run("b", {"train.epochs=1"}).exit_code, 0);
    std::string dir = only_run("b");
    const std::string prev = dir + "/checkpoints/step-00000008.ckpt";
    const std::string before = read_bytes(prev);
    ASSERT_GT(before.size(), 40000u);  // adam: weights and two moments of 5,264 parameters
    // Resume for more epochs with a 30 kB file-size limit: metrics and images fit, a checkpoint does not.
    RunResult r = run("b", {"train.epochs=3", "--resume", dir}, {}, 30000);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(dir + "/checkpoints/step-00000010.ckpt: cannot write (file size limit reached (EFBIG))"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(read_bytes(prev), before);
    EXPECT_NO_THROW(read_ckpt(prev));
    EXPECT_EQ(list_dir(dir + "/checkpoints"), (std::vector<std::string>{"step-00000005.ckpt", "step-00000008.ckpt"}))
        << "no torn or temporary file";
}

TEST_F(Resume, ChangedModelIsRefusedNamingTheDifference) {
    ASSERT_EQ(run("b", {"train.max_steps=6"}).exit_code, 0);
    std::string dir = only_run("b");
    RunResult r = run("b", {"model.layers[1].units=8", "--resume", dir});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("cannot resume " + dir + " from " + dir + "/checkpoints/step-00000006.ckpt"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("  model.layers[1].units: checkpoint 16, config 8"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--init-from"), std::string::npos) << r.err;
}

TEST_F(Resume, DamagedNewestCheckpointIsSkippedWithAWarning) {
    std::string ref = reference();
    ASSERT_EQ(run("b", {"--test-hook", "raise_at_step=12:9"}).exit_code, 128 + 9);
    std::string dir = only_run("b");
    auto ckpts = list_train_checkpoints(dir);
    ASSERT_EQ(fs::path(ckpts.back()).filename(), "step-00000010.ckpt");
    std::string bytes = read_bytes(ckpts.back());
    bytes[bytes.size() / 2] ^= 0x01;
    write_bytes(ckpts.back(), bytes);
    std::vector<std::string> args{"run", config, "--threads", "1", "graph.nodes[9].every_steps=5", "--resume", dir};
    RunResult r = run_aepipe(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("warning: skipping a damaged checkpoint: " + ckpts.back() + ": byte "), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("resumed from " + dir + "/checkpoints/step-00000008.ckpt (step 8, epoch 2)"),
              std::string::npos)
        << r.out;
    expect_same_run(ref, dir);
}

TEST_F(Resume, InitFromLoadsOnlyTheWeights) {
    std::string ref = reference();
    const std::string src = list_train_checkpoints(ref).back();
    // lr 1e-30 (0 is refused): Adam's steps (at most about lr) vanish in float next to the
    // trained weights, so the weights stay what was loaded and the new run's model equals the source's.
    RunResult r = run("b", {"train.epochs=1", "train.optimizer.lr=1e-30", "--init-from", src});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string dir = only_run("b");
    EXPECT_EQ(read_ckpt(list_train_checkpoints(dir).back()).find("layers.0.weight")->data,
              read_ckpt(src).find("layers.0.weight")->data);
    EXPECT_EQ(read_ckpt(list_train_checkpoints(dir).back()).state["steps"], kStepsPerEpoch);
}

TEST_F(Resume, InitFromAnotherModelShapeIsRefusedByTensorName) {
    std::string ref = reference();
    RunResult r = run("b", {"model.layers[1].units=8", "--init-from", ref + "/model.safetensors"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("tensor 'layers.1.weight' has shape"), std::string::npos) << r.err;
}

TEST_F(Resume, TwoRunsWithTwoShardsOnTwoThreadsAreIdentical) {
    ASSERT_EQ(run("a", {"train.shards=2"}, {}, 0, "2").exit_code, 0);
    ASSERT_EQ(run("b", {"train.shards=2"}, {}, 0, "2").exit_code, 0);
    expect_same_run(only_run("a"), only_run("b"));
}

}  // namespace
}  // namespace aepipe::test
