// bench/oneclass.sh --select end to end on a tiny Fashion-MNIST-shaped folder (28x28 bars, three
// labels): the split, the dense run, four conv candidates from one run (snapshot and final, each
// scored plain and blurred), the choice by validation AUROC, then the test AUROC of the chosen
// one beside dense and PCA-64; a second call on the same OUT reuses the finished runs.
// A smoke test of the script's plumbing (the figures of such tiny data mean nothing).
#include <gtest/gtest.h>

#include <regex>

#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

bool python_has_numpy() { return run_program({"/usr/bin/python3", "-c", "import numpy"}).exit_code == 0; }

// The four files of the Fashion-MNIST layout, as the script's --data expects them.
void write_fashion_layout(const std::string &dir) {
    const Shapes train = make_shapes(150, 28, 1), test = make_shapes(40, 28, 2);
    write_images(dir + "/train-images-idx3-ubyte.gz", train.n, 28, 28, train.pixels);
    write_labels(dir + "/train-labels-idx1-ubyte.gz", train.labels);
    write_images(dir + "/t10k-images-idx3-ubyte.gz", test.n, 28, 28, test.pixels);
    write_labels(dir + "/t10k-labels-idx1-ubyte.gz", test.labels);
}

TEST(OneclassBench, SelectChoosesOnValidationAndReportsTest) {
    if (!python_has_numpy()) GTEST_SKIP() << "no /usr/bin/python3 with numpy (bench/pca_baseline.py needs it)";
    TempDir tmp("aepipe-oneclass");
    write_fashion_layout(tmp.path());
    RunResult r = run_program({"/bin/bash", "bench/oneclass.sh", "--select", "--classes", "0", "--val", "40",
                               "--dense-epochs", "1", "--threads", "1", "--candidates",
                               "configs/fashion_oneclass_conv_ae.yaml:1,2", "--blurs", "0 1", "--data", tmp.path()},
                              AEPIPE_SOURCE_DIR, 300, {"AEPIPE=" AEPIPE_BINARY, "OUT=" + (tmp / "out")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Both candidates got a validation AUROC, one was chosen, and the final table has every column.
    for (const char *key : {"1:blur0", "1:blur1", "2:blur0", "2:blur1"})
        EXPECT_TRUE(std::regex_search(
            r.out, std::regex(std::string("\\| fashion_oneclass_conv_ae:") + key + " \\| [01]\\.[0-9]{4} \\|")))
            << key << "\n" << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("chosen by mean validation AUROC: fashion_oneclass_conv_ae:[12]:blur[01] ")))
        << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\\| mean( \\| [01]\\.[0-9]{4}){8} \\|"))) << r.out;
    // The split held out the last 40 training images: the fit set is the other 110.
    EXPECT_NE(r.err.find("split: fit 110, validation 40"), std::string::npos) << r.err;
    // Again on the same OUT: no run is trained twice (each run folder still holds one run).
    const std::string runs = tmp / "out/select/fashion_oneclass_conv_ae-e2-class0";
    ASSERT_EQ(list_dir(runs).size(), 1u);
    RunResult again = run_program({"/bin/bash", "bench/oneclass.sh", "--select", "--classes", "0", "--val", "40",
                                   "--dense-epochs", "1", "--threads", "1", "--candidates",
                                   "configs/fashion_oneclass_conv_ae.yaml:1,2", "--blurs", "0", "--data", tmp.path()},
                                  AEPIPE_SOURCE_DIR, 300, {"AEPIPE=" AEPIPE_BINARY, "OUT=" + (tmp / "out")});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(list_dir(runs), list_dir(tmp / "out/select/fashion_oneclass_conv_ae-e2-class0"));
    EXPECT_NE(again.out.find("| fashion_oneclass_conv_ae:2:blur0 |"), std::string::npos) << again.out;
}

// The plain mode (the benchmark, no validation split): the dense and conv AEs and PCA-64
// per class, each scored plain and with the default blur (1), one table row per class and the
// mean, every figure an AUROC.
TEST(OneclassBench, PlainModeReportsDenseConvAndPcaPlainAndBlurred) {
    if (!python_has_numpy()) GTEST_SKIP() << "no /usr/bin/python3 with numpy (bench/pca_baseline.py needs it)";
    TempDir tmp("aepipe-oneclass");
    write_fashion_layout(tmp.path());
    RunResult r = run_program({"/bin/bash", "bench/oneclass.sh", "--classes", "0 1", "--dense-epochs", "1",
                               "--conv-epochs", "1", "--threads", "1", "--data", tmp.path()},
                              AEPIPE_SOURCE_DIR, 300, {"AEPIPE=" AEPIPE_BINARY, "OUT=" + (tmp / "out")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("conv: fashion_oneclass_conv_ae, 1 epochs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| class | dense AE | dense AE, blur 1 | conv AE | conv AE, blur 1 | PCA-64 | PCA-64, blur 1 |"),
              std::string::npos)
        << r.out;
    for (const char *row : {"0", "1", "mean"})
        EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string("\\| ") + row + "( \\| [01]\\.[0-9]{4}){6} \\|")))
            << row << "\n" << r.out;
    // Both scorings of one model come from one run: a conv run folder per class, each with one run.
    for (const char *c : {"0", "1"})
        EXPECT_EQ(list_dir(tmp / (std::string("out/plain/fashion_oneclass_conv_ae-e1-class") + c)).size(), 1u) << c;
}

// --conv-config and --blur 0 give the older comparison: the other conv AE, plain MSE columns only.
TEST(OneclassBench, PlainModeWithAnotherConvConfigAndNoBlur) {
    if (!python_has_numpy()) GTEST_SKIP() << "no /usr/bin/python3 with numpy (bench/pca_baseline.py needs it)";
    TempDir tmp("aepipe-oneclass");
    write_fashion_layout(tmp.path());
    RunResult r = run_program({"/bin/bash", "bench/oneclass.sh", "--classes", "1", "--dense-epochs", "1",
                               "--conv-epochs", "1", "--threads", "1", "--conv-config", "configs/fashion_conv_ae.yaml",
                               "--blur", "0", "--data", tmp.path()},
                              AEPIPE_SOURCE_DIR, 300, {"AEPIPE=" AEPIPE_BINARY, "OUT=" + (tmp / "out")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("conv: fashion_conv_ae, 1 epochs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| class | dense AE | conv AE | PCA-64 |"), std::string::npos) << r.out;
    for (const char *row : {"1", "mean"})
        EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string("\\| ") + row + "( \\| [01]\\.[0-9]{4}){3} \\|")))
            << row << "\n" << r.out;
    EXPECT_EQ(list_dir(tmp / "out/plain/fashion_conv_ae-e1-class1").size(), 1u);
}

// Each bad option value is a usage error (exit 2) naming it, before any data is read or run.
RunResult oneclass_with(const std::vector<std::string> &args) {
    std::vector<std::string> cmd{"/bin/bash", "bench/oneclass.sh"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return run_program(cmd, AEPIPE_SOURCE_DIR, 60, {"AEPIPE=/bin/false"});
}

TEST(OneclassBench, BadClassesAreAUsageError) {
    for (const char *bad : {"", "x", "256", "0,1", "-1"}) {
        RunResult r = oneclass_with({"--classes", bad});
        EXPECT_EQ(r.exit_code, 2) << bad;
        EXPECT_NE(r.err.find("--classes '" + std::string(bad) + "': expected labels 0..255"), std::string::npos)
            << r.err;
    }
}

TEST(OneclassBench, BadCountsAreAUsageError) {
    for (const char *opt : {"--dense-epochs", "--conv-epochs", "--threads", "--val"})
        for (const char *bad : {"0", "abc", "-2"}) {
            RunResult r = oneclass_with({opt, bad});
            EXPECT_EQ(r.exit_code, 2) << opt << " " << bad;
            EXPECT_NE(r.err.find(std::string(opt) + " '" + bad + "': expected a whole number >= 1"), std::string::npos)
                << r.err;
        }
}

TEST(OneclassBench, BadBlursAreAUsageError) {
    RunResult r = oneclass_with({"--blurs", "0 65"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--blurs '0 65': expected radii 0..64"), std::string::npos) << r.err;
}

TEST(OneclassBench, BadBlurIsAUsageError) {
    for (const char *bad : {"", "65", "-1", "1 2", "x"}) {
        RunResult r = oneclass_with({"--blur", bad});
        EXPECT_EQ(r.exit_code, 2) << bad;
        EXPECT_NE(r.err.find("--blur '" + std::string(bad) + "': expected a radius 0..64"), std::string::npos) << r.err;
    }
}

TEST(OneclassBench, MissingConvConfigIsAUsageError) {
    RunResult r = oneclass_with({"--conv-config", "configs/no_such.yaml"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--conv-config 'configs/no_such.yaml': no such file"), std::string::npos) << r.err;
}

TEST(OneclassBench, OptionWithoutItsValueIsAUsageError) {
    RunResult r = oneclass_with({"--select", "--classes"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--classes: missing its value"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("usage:"), std::string::npos) << r.err;
}

TEST(OneclassBench, DataFolderWithoutTheFilesIsAUsageError) {
    TempDir tmp("aepipe-oneclass");
    RunResult r = oneclass_with({"--data", tmp.path()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--data '" + tmp.path() + "': no train-images-idx3-ubyte.gz there"), std::string::npos)
        << r.err;
}

// Each bad --candidates entry is a usage error (exit 2) naming it, before any data is read or run.
RunResult oneclass_with_candidates(const std::string &candidates) {
    return run_program({"/bin/bash", "bench/oneclass.sh", "--select", "--candidates", candidates, "--data",
                        "/nonexistent"},
                       AEPIPE_SOURCE_DIR, 60);
}

TEST(OneclassBench, CandidateWithoutEpochsIsAUsageError) {
    RunResult r = oneclass_with_candidates("configs/fashion_oneclass_conv_ae.yaml");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("'configs/fashion_oneclass_conv_ae.yaml': expected CONFIG:E1,E2"), std::string::npos) << r.err;
}

TEST(OneclassBench, CandidateWithAMissingConfigIsAUsageError) {
    RunResult r = oneclass_with_candidates("configs/no_such.yaml:10");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("'configs/no_such.yaml:10': expected CONFIG:E1,E2"), std::string::npos) << r.err;
}

TEST(OneclassBench, CandidateEpochsNotMultiplesOfTheFirstAreAUsageError) {
    RunResult r = oneclass_with_candidates("configs/fashion_oneclass_conv_ae.yaml:10,15");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("15 is not a multiple of 10"), std::string::npos) << r.err;
}

TEST(OneclassBench, UnknownOptionIsAUsageError) {
    RunResult r = run_program({"/bin/bash", "bench/oneclass.sh", "--nonsense"}, AEPIPE_SOURCE_DIR, 60);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("usage:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aepipe::test
