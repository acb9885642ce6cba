// bench/oneclass.sh --select end to end on a tiny Fashion-MNIST-shaped folder (28x28 bars, three
// labels): the split, the dense run, two conv candidates from one run (snapshot and final), the
// choice by validation AUROC, then the test AUROC of the chosen one beside dense and PCA-64.
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
                               "configs/fashion_oneclass_conv_ae.yaml:1,2", "--data", tmp.path()},
                              AEPIPE_SOURCE_DIR, 300, {"AEPIPE=" AEPIPE_BINARY, "OUT=" + (tmp / "out")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Both candidates got a validation AUROC, one was chosen, and the final table has every column.
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\\| fashion_oneclass_conv_ae:1 \\| [01]\\.[0-9]{4} \\|"))) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\\| fashion_oneclass_conv_ae:2 \\| [01]\\.[0-9]{4} \\|"))) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("chosen by mean validation AUROC: fashion_oneclass_conv_ae:[12] "))) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\\| mean( \\| [01]\\.[0-9]{4}){6} \\|"))) << r.out;
    // The split held out the last 40 training images: the fit set is the other 110.
    EXPECT_NE(r.err.find("split: fit 110, validation 40"), std::string::npos) << r.err;
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
