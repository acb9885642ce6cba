// `aepipe validate` checks everything `aepipe run` checks before training, with the same code
// (Pipeline::preflight): every data file exists, is a regular readable file with a valid IDX
// header, and the labels file holds one label per image. Each used to say "ok" (exit 0)
// while `run` stopped with exit 1; now both exit 1 with the same message.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

class ValidateData : public ::testing::Test {
protected:
    void SetUp() override {
        data_ = write_tiny_data(dir_.path(), 32, 16);
        config_ = write_tiny_config(dir_.path(), data_, 1);
    }
    // validate and run (into a folder of the temp dir) give the same exit code and first line.
    std::string both_fail(const std::vector<std::string> &overrides) {
        std::vector<std::string> v{"validate", config_}, r{"run", config_, "--out", dir_ / "runs"};
        v.insert(v.end(), overrides.begin(), overrides.end());
        r.insert(r.end(), overrides.begin(), overrides.end());
        RunResult rv = run_aepipe(v), rr = run_aepipe(r);
        EXPECT_EQ(rv.exit_code, 1) << rv.err;
        EXPECT_EQ(rr.exit_code, 1) << rr.err;
        EXPECT_EQ(lines_of(rv.err).at(0), lines_of(rr.err).at(0));
        EXPECT_TRUE(list_dir(dir_ / "runs").empty()) << "run created a folder before failing";
        return lines_of(rv.err).at(0);
    }
    TempDir dir_{"aepipe-validate-data"};
    TinyData data_;
    std::string config_;
};

TEST_F(ValidateData, MissingImagesFile) {  // the example
    EXPECT_EQ(both_fail({"graph.nodes[0].images=/nonexistent.gz"}),
              "error: node 'train_set' (idx_reader, " + config_ + ":16:7): data file not found: /nonexistent.gz");
}

TEST_F(ValidateData, MissingLabelsFile) {
    EXPECT_EQ(both_fail({"graph.nodes[test_set].labels=/nonexistent-labels.gz"}),
              "error: node 'test_set' (idx_reader, " + config_ + ":21:7): data file not found: /nonexistent-labels.gz");
}

TEST_F(ValidateData, LabelsCountDiffersFromImages) {
    write_labels(dir_ / "few.idx", std::vector<uint8_t>(5, 1));
    EXPECT_EQ(both_fail({"graph.nodes[train_set].labels=" + dir_ / "few.idx"}),
              dir_ / "few.idx" + ": byte 4: error: expected 32 labels (one per image in " + data_.train_images +
                  "), got 5");
}

TEST_F(ValidateData, BadImagesHeader) {
    write_bytes(dir_ / "bad.idx", std::string("\x00\x00\x09\x03", 4) + std::string(12, '\0'));
    const std::string first = both_fail({"graph.nodes[0].images=" + dir_ / "bad.idx"});
    EXPECT_EQ(first.rfind(dir_ / "bad.idx" + ": byte ", 0), 0u) << first;
}

TEST_F(ValidateData, AFolderOrAFifoIsNotADataFile) {
    EXPECT_EQ(both_fail({"graph.nodes[0].images=" + dir_.path()}),
              "error: node 'train_set' (idx_reader, " + config_ + ":16:7): data file " + dir_.path() +
                  " is a directory, expected an IDX file");
    ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
    EXPECT_EQ(both_fail({"graph.nodes[0].images=" + dir_ / "fifo"}),  // used to block forever in open()
              "error: node 'train_set' (idx_reader, " + config_ + ":16:7): data file " + dir_ / "fifo" +
                  " is a FIFO (named pipe), expected an IDX file (aepipe reads only regular files: this one could "
                  "block or never end)");
}

// A path of any length is echoed clipped (its first 400 characters and its length).
TEST_F(ValidateData, LongMissingPathIsClipped) {
    const std::string path = "/" + std::string(1000, 'p');  // longer than NAME_MAX: stat says so
    EXPECT_EQ(both_fail({"graph.nodes[0].images=" + path}),
              "error: node 'train_set' (idx_reader, " + config_ + ":16:7): data file " + path.substr(0, 400) +
                  "... (1001 bytes): cannot read (File name too long)");
    const std::string missing = "/tmp/" + std::string(200, 'q') + "/" + std::string(200, 'q') + "/x.gz";
    EXPECT_EQ(both_fail({"graph.nodes[0].images=" + missing}),
              "error: node 'train_set' (idx_reader, " + config_ + ":16:7): data file not found: " +
                  missing.substr(0, 400) + "... (" + std::to_string(missing.size()) + " bytes)");
}

// A batch larger than the data set with drop_last has no step: `run` stopped at step 1
// (exit 1, after making its folder) while `validate` said ok.
TEST_F(ValidateData, DropLastBatchLargerThanTheDataSet) {
    EXPECT_EQ(both_fail({"train.batch=33", "graph.nodes[batches].drop_last=true"}),
              "error: node 'batches' (batch, " + config_ + ":18:7): the dataset has 32 samples, fewer than one batch of "
              "33 (drop_last is on)");
}

// The same counted after `classes` keeps 3 of the 32 samples.
TEST_F(ValidateData, DropLastBatchLargerThanTheKeptClasses) {
    std::vector<uint8_t> labels(32, 0);
    labels[3] = labels[9] = labels[20] = 1;
    write_labels(dir_ / "l.idx", labels);
    EXPECT_EQ(both_fail({"graph.nodes[train_set].labels=" + dir_ / "l.idx", "graph.nodes[train_set].classes=[1]",
                         "train.batch=4", "graph.nodes[batches].drop_last=true"}),
              "error: node 'batches' (batch, " + config_ + ":18:7): the dataset has 3 samples, fewer than one batch of "
              "4 (drop_last is on)");
}

TEST_F(ValidateData, ValidConfigStillOk) {
    RunResult r = run_aepipe({"validate", config_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, config_ + ": ok (10 nodes, 9 edges)\n");
}

}  // namespace
}  // namespace aepipe::test
