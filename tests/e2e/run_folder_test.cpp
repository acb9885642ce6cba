// One run folder, one writer, and what a run folder tells its user: a second process on a
// locked folder stops at once naming the holder's PID and writes nothing; retention keeps
// `keep` checkpoints that read back (garbage named like one is neither counted nor deleted);
// messages after a resume are true (no hint to add a checkpoint node the config has, no
// warning about rows that the run then writes); the printed resume command survives any
// shell. Through the aepipe binary on the fixtures' tiny config (8 steps per epoch).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>

#include "nodes/sink/checkpoint.hpp"
#include "formats/ckpt_file.hpp"
#include "pipeline/cli/cli.hpp"
#include "pipeline/file_io.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

class RunFolder : public ::testing::Test {
protected:
    TempDir tmp{"aepipe-runfolder"};
    TinyData data = write_tiny_data(tmp.path(), 128, 32);
    std::string config = write_tiny_config(tmp.path(), data, 3);

    RunResult run(const std::vector<std::string> &extra, const std::vector<std::string> &env = {},
                  long long fsize = 0) {
        std::vector<std::string> args{"run", config, "--out", tmp / "runs", "--threads", "1", "--quiet",
                                      "graph.nodes[9].every_steps=5"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_aepipe_with(args, env, fsize);
    }
    std::string only_run() {
        auto runs = list_dir(tmp / "runs");
        EXPECT_EQ(runs.size(), 1u);
        return runs.empty() ? "" : tmp / "runs/" + runs[0];
    }
    // Every file under dir with its bytes.
    static std::map<std::string, std::string> snapshot(const std::string &dir) {
        std::map<std::string, std::string> m;
        for (const auto &e : fs::recursive_directory_iterator(dir))
            if (e.is_regular_file()) m[e.path().string()] = read_bytes(e.path().string());
        return m;
    }
};

// The example is two `--resume` of one folder at once; the test holds the lock itself
// (flock conflicts between any two open file descriptions), so the overlap is certain.
TEST_F(RunFolder, ASecondWriterStopsNamingTheHoldersPidAndWritesNothing) {
    ASSERT_EQ(run({"train.epochs=1"}).exit_code, 0);
    const std::string dir = only_run();
    {
        RunLock held(dir);
        const auto before = snapshot(dir);  // the lock file holds this process's PID now
        const std::string want = dir + ": the run folder is in use by another aepipe process (PID " +
                                 std::to_string(::getpid()) + ", which holds " + dir + "/.aepipe.lock)";
        for (const std::string &which : {dir, std::string("auto")}) {
            RunResult r = run({"--resume", which});
            EXPECT_EQ(r.exit_code, 1) << r.err;
            EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
            EXPECT_TRUE(snapshot(dir) == before) << "the second process wrote into the folder";
        }
    }
    // Released (as the kernel does when a holder dies): the resume proceeds.
    RunResult r = run({"--resume", dir});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines_of(read_bytes(dir + "/metrics.csv")).size(), 4u);
}

// A holder killed outright leaves its lock file behind but no lock.
TEST_F(RunFolder, ALockDiesWithItsProcess) {
    ASSERT_EQ(run({"--test-hook", "raise_at_step=12:9"}).exit_code, 128 + 9);
    const std::string dir = only_run();
    EXPECT_TRUE(fs::exists(dir + "/.aepipe.lock"));
    RunResult r = run({"--resume", dir});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

// The example: garbage named step-99999999.ckpt took one of the `keep: 3` places and
// a valid checkpoint was deleted instead. One more of the class: a folder named like one.
TEST_F(RunFolder, RetentionCountsOnlyCheckpointsThatReadBack) {
    ASSERT_EQ(run({"train.epochs=1"}).exit_code, 0);  // checkpoints 5, 8
    const std::string dir = only_run();
    write_bytes(dir + "/checkpoints/step-99999999.ckpt", "garbage, not a checkpoint");
    fs::create_directories(dir + "/checkpoints/step-00000009.ckpt");
    RunResult r = run({"--resume", dir});  // 10, 15, 16, 20, 24
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(list_dir(dir + "/checkpoints"),
              (std::vector<std::string>{"step-00000009.ckpt", "step-00000016.ckpt", "step-00000020.ckpt",
                                        "step-00000024.ckpt", "step-99999999.ckpt"}));
    for (const char *kept : {"step-00000016.ckpt", "step-00000020.ckpt", "step-00000024.ckpt"})
        EXPECT_NO_THROW(read_ckpt(dir + "/checkpoints/" + kept)) << kept;
    EXPECT_NE(r.err.find("warning: not counted toward the checkpoint node's 'keep: 3' and left in place: " + dir +
                         "/checkpoints/step-99999999.ckpt: "),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(dir + "/checkpoints/step-00000009.ckpt: error: is a directory"), std::string::npos) << r.err;
}

// The example: the hint said to add a checkpoint node that the config has.
TEST_F(RunFolder, ResumeWithoutCheckpointsGivesTheRightHint) {
    fs::create_directories(tmp / "runs/tiny-20260101-000000");
    RunResult r = run({"--resume", tmp / "runs/tiny-20260101-000000"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    // An error of the command line, not of a file: it said "<config>: error: --resume ...".
    EXPECT_EQ(lines_of(r.err).at(0),
              "error: --resume " + tmp / "runs/tiny-20260101-000000" + ": no checkpoints/step-N.ckpt in it");
    EXPECT_NE(r.err.find("hint: the config's checkpoint node 'ckpt' writes them (every_epochs, every_steps), but this "
                         "run stopped before its first one; start it anew: aepipe run " + config),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("needs a checkpoint node"), std::string::npos) << r.err;
    // A node that writes training checkpoints only after the last step is named as such.
    RunResult off = run({"graph.nodes[ckpt].every_epochs=0", "graph.nodes[ckpt].every_steps=0", "--resume",
                         tmp / "runs/tiny-20260101-000000"});
    EXPECT_EQ(off.exit_code, 2) << off.err;
    EXPECT_NE(off.err.find("hint: the config's checkpoint node 'ckpt' has every_epochs: 0 and every_steps: 0, so it "
                           "writes one only after the last step"),
              std::string::npos)
        << off.err;
    // A config without one gets the other hint.
    std::string text = read_bytes(config);
    text = text.substr(0, text.find("    - {id: ckpt")) + text.substr(text.find("  edges:"));
    text = text.substr(0, text.find("    - model.epoch -> ckpt"));
    write_bytes(tmp / "nockpt.yaml", text);
    RunResult r2 = run_aepipe({"run", tmp / "nockpt.yaml", "--resume", tmp / "runs/tiny-20260101-000000"});
    EXPECT_EQ(r2.exit_code, 2) << r2.err;
    EXPECT_NE(r2.err.find("the run needs a checkpoint node"), std::string::npos) << r2.err;
}

// Epochs of metrics.csv (its first column) after the header.
std::set<int64_t> csv_epochs(const std::string &dir) {
    std::set<int64_t> s;
    auto lines = lines_of(read_bytes(dir + "/metrics.csv"));
    for (size_t i = 1; i < lines.size(); ++i) s.insert(std::atoll(lines[i].c_str()));
    return s;
}

// The example: "metrics rows of epochs 1..1 are missing" though the resumed run then
// wrote that row (the checkpoint held the epoch for evaluation). The warning must name exactly
// the epochs that stay without a row: with the rows the kill left, and with none at all.
TEST_F(RunFolder, MissingRowsWarningNamesExactlyTheRowsThatStayMissing) {
    for (bool wipe : {false, true}) {
        SCOPED_TRACE(wipe ? "metrics wiped" : "metrics as the kill left them");
        fs::remove_all(tmp / "runs");
        ASSERT_EQ(run({"graph.nodes[9].every_steps=0", "--test-hook", "raise_at_step=17:9"}).exit_code, 128 + 9);
        const std::string dir = only_run();
        if (wipe) {
            write_bytes(dir + "/metrics.csv", lines_of(read_bytes(dir + "/metrics.csv"))[0] + "\n");
            write_bytes(dir + "/metrics.jsonl", "");
        }
        RunResult r = run({"graph.nodes[9].every_steps=0", "--resume", dir});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        std::set<int64_t> have = csv_epochs(dir);
        std::vector<int64_t> missing;
        for (int64_t e = 1; e <= 3; ++e)
            if (!have.count(e)) missing.push_back(e);
        std::smatch m;
        const std::string all = r.out + r.err;
        if (missing.empty()) {
            EXPECT_EQ(all.find("are missing"), std::string::npos) << all;
        } else {
            ASSERT_TRUE(std::regex_search(all, m, std::regex("metrics rows of epochs ([0-9., ]+) are missing")))
                << all;
            std::string want;
            for (auto e : missing) want += (want.empty() ? "" : ", ") + std::to_string(e);
            EXPECT_EQ(std::regex_replace(std::string(m[1]), std::regex("(\\d+)\\.\\.(\\d+)"), "$1, $2"), want);
        }
    }
}

// Metrics on stop: a run stopped by a signal right after an epoch ends (its evaluation not yet
// begun, one thread) first evaluates and records every epoch it trained, then exits 143; the
// resume writes the rest, each row once.
TEST_F(RunFolder, SigtermRecordsEveryTrainedEpochBeforeExiting) {
    for (int step : {16, 8}) {
        SCOPED_TRACE("SIGTERM after step " + std::to_string(step));
        fs::remove_all(tmp / "runs");
        RunResult r = run({"--test-hook", "raise_at_step=" + std::to_string(step) + ":15"});
        ASSERT_EQ(r.exit_code, 143) << r.err;
        const std::string dir = only_run();
        std::set<int64_t> want;
        for (int64_t e = 1; e <= step / 8; ++e) want.insert(e);
        EXPECT_EQ(csv_epochs(dir), want) << read_bytes(dir + "/metrics.csv");
        EXPECT_EQ(lines_of(read_bytes(dir + "/metrics.jsonl")).size(), want.size());
        EXPECT_EQ(r.err.find("are not written"), std::string::npos) << r.err;
        ASSERT_EQ(run({"--resume", dir}).exit_code, 0);
        EXPECT_EQ(csv_epochs(dir), (std::set<int64_t>{1, 2, 3}));
        EXPECT_EQ(lines_of(read_bytes(dir + "/metrics.csv")).size(), 4u) << "each row once";
    }
}

// Metrics on stop, a write failure: the checkpoint at the end of epoch 2 cannot be written
// (file-size limit: metrics and images fit, a checkpoint does not); the run exits 1 naming the
// file, after the rows of both trained epochs are written.
TEST_F(RunFolder, FailedCheckpointWriteStillRecordsTheTrainedEpochs) {
    RunResult r = run({"graph.nodes[9].every_steps=0", "graph.nodes[9].every_epochs=2"}, {}, 30000);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const std::string dir = only_run();
    EXPECT_NE(r.err.find(dir + "/checkpoints/step-00000016.ckpt: cannot write (file size limit reached (EFBIG))"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(csv_epochs(dir), (std::set<int64_t>{1, 2})) << read_bytes(dir + "/metrics.csv");
    EXPECT_FALSE(fs::exists(dir + "/checkpoints/step-00000016.ckpt"));
}

// Metrics on stop, a divergence: a NaN gradient in the first step of epoch 2 (the test hook
// --test-hook nan_grad=STEP:ELEMENT) ends the run with exit 1, after epoch 1's row is written.
TEST_F(RunFolder, ADivergedStepStillRecordsTheTrainedEpochs) {
    RunResult r = run({"--test-hook", "nan_grad=9:2100"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(" at step 9: gradient of 'layers.1.weight' is nan"), std::string::npos) << r.err;
    const std::string dir = only_run();
    EXPECT_EQ(csv_epochs(dir), (std::set<int64_t>{1})) << read_bytes(dir + "/metrics.csv");
}

// The example: `graph.nodes[9].every_steps=50` was printed bare. Every word must come
// back unchanged through a shell, also one with strict globbing (bash -O failglob).
TEST(ResumeCommand, EveryArgumentSurvivesAShellWithStrictGlobbing) {
    const std::vector<std::string> args{"configs/x.yaml", "graph.nodes[9].every_steps=50", "a b", "it's",
                                        "$HOME",          "*",                             "?x",  "\"q\"",
                                        "",               "tab\there",                     "~",   "!x",
                                        "a;b|c&d",        "plain-arg_1.5,=:@%+"};
    const std::string dir = "/tmp/runs/my run [1]";
    const std::string cmd = cli::resume_command(args, dir);
    EXPECT_NE(cmd.find(" 'graph.nodes[9].every_steps=50' "), std::string::npos) << cmd;
    EXPECT_NE(cmd.find(" plain-arg_1.5,=:@%+ "), std::string::npos) << "safe words stay bare: " << cmd;
    ASSERT_EQ(cmd.rfind("aepipe run ", 0), 0u);
    RunResult r = run_program({"/bin/bash", "-O", "failglob", "-c", "printf '%s\\0' " + cmd.substr(11)});
    ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
    std::vector<std::string> words;
    for (size_t at = 0, nul; (nul = r.out.find('\0', at)) != std::string::npos; at = nul + 1)
        words.push_back(r.out.substr(at, nul - at));
    std::vector<std::string> want = args;
    want.push_back("--resume");
    want.push_back(dir);
    EXPECT_EQ(words, want) << cmd;
    RunResult sh = run_program({"/bin/sh", "-c", "printf '%s\\0' " + cmd.substr(11)});
    EXPECT_EQ(sh.out, r.out);
}

}  // namespace
}  // namespace aepipe::test
