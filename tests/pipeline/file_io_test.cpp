// Inputs that are not regular files (a FIFO, a directory, a character device) are refused
// wherever aepipe opens a file a user named: data (IDX raw and gzip), configs, checkpoints
// (.ckpt and safetensors) and PNG pictures; through the binary, a FIFO as a data path ends
// `validate` and `run` at once with the path in the message instead of blocking in open().
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "formats/idx.hpp"
#include "formats/png.hpp"
#include "formats/safetensors.hpp"
#include "formats/ckpt_file.hpp"
#include "pipeline/config.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

const std::string kFifoTail = " (aepipe reads only regular files: this one could block or never end)";

class NonRegular : public ::testing::Test {
protected:
    TempDir tmp{"aepipe-nonreg"};
    std::string fifo(const std::string &name) {
        const std::string path = tmp / name;
        EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
        return path;
    }
};

TEST_F(NonRegular, FifoAsIdxDataRawAndGzip) {
    for (const char *name : {"pipe.idx", "pipe.idx.gz"}) {
        const std::string p = fifo(name);
        const std::string want = p + ": error: is a FIFO (named pipe), expected an IDX file" + kFifoTail;
        EXPECT_EQ(error_of<DataError>([&] { read_idx(p); }), want);
        EXPECT_EQ(error_of<DataError>([&] { read_idx_header(p); }), want);
        EXPECT_EQ(error_of<DataError>([&] { load_dataset(p, ""); }), want);
    }
}

TEST_F(NonRegular, CharacterDeviceAsDataAndLabels) {
    write_images(tmp / "i.idx", 4, 2, 2, ramp_pixels(4, 2, 2));
    EXPECT_EQ(error_of<DataError>([&] { read_idx("/dev/zero"); }),
              "/dev/zero: error: is a character device, expected an IDX file" + kFifoTail);
    EXPECT_EQ(error_of<DataError>([&] { load_dataset(tmp / "i.idx", "/dev/null"); }),
              "/dev/null: error: is a character device, expected an IDX file" + kFifoTail);
}

// The example: a checkpoint that is a directory said "truncated: 0 bytes".
TEST_F(NonRegular, CheckpointsThatAreADirectoryOrAFifo) {
    std::filesystem::create_directories(tmp / "step-00000008.ckpt");
    EXPECT_EQ(error_of<DataError>([&] { read_ckpt(tmp / "step-00000008.ckpt"); }),
              tmp / "step-00000008.ckpt" + ": error: is a directory, expected an aepipe checkpoint (.ckpt)");
    const std::string p = fifo("model.safetensors");
    EXPECT_EQ(error_of<DataError>([&] { read_safetensors(p); }),
              p + ": error: is a FIFO (named pipe), expected a safetensors file" + kFifoTail);
}

TEST_F(NonRegular, PngAndAnyFileReadWhole) {
    const std::string p = fifo("digit.png");
    EXPECT_EQ(error_of<DataError>([&] { read_png(p); }),
              p + ": error: is a FIFO (named pipe), expected a PNG file" + kFifoTail);
    EXPECT_EQ(error_of<DataError>([&] { read_file(tmp.path()); }),
              tmp.path() + ": error: is a directory, expected a regular file");
    EXPECT_EQ(regular_file_problem(tmp / "none"), "file not found");
    write_bytes(tmp / "ok", "x");
    EXPECT_EQ(regular_file_problem(tmp / "ok"), "");
    EXPECT_EQ(read_file(tmp / "ok"), "x");
}

// The example: a directory given as the config said "got nothing".
TEST_F(NonRegular, ConfigThatIsADirectoryOrAFifo) {
    EXPECT_EQ(error_of<ConfigError>([&] { load_config(tmp.path()); }),
              tmp.path() + ": error: cannot read the config: is a directory, expected a YAML config file\n"
                           "hint: check the path; configs live in configs/");
    const std::string p = fifo("c.yaml");
    EXPECT_NE(error_of<ConfigError>([&] { load_config(p); })
                  .find(p + ": error: cannot read the config: is a FIFO (named pipe), expected a YAML config file"),
              std::string::npos);
}

// Through the binary: nothing waits for a writer that never comes (the timeout would kill it).
TEST_F(NonRegular, ValidateAndRunRefuseAFifoDataPathAtOnce) {
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    std::filesystem::remove(d.test_images);
    ASSERT_EQ(::mkfifo(d.test_images.c_str(), 0600), 0);
    const std::string config = write_tiny_config(tmp.path(), d, 1);
    const std::string want = "data file " + d.test_images + " is a FIFO (named pipe), expected an IDX file";
    RunResult v = run_program({AEPIPE_BINARY, "validate", config}, AEPIPE_SOURCE_DIR, 60);
    EXPECT_EQ(v.exit_code, 1) << v.err;
    EXPECT_NE(v.err.find(want), std::string::npos) << v.err;
    RunResult r = run_program({AEPIPE_BINARY, "run", config, "--out", tmp / "runs"}, AEPIPE_SOURCE_DIR, 60);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
    EXPECT_TRUE(list_dir(tmp / "runs").empty()) << "no run folder for a run that cannot start";
    RunResult c = run_program({AEPIPE_BINARY, "validate", tmp.path()}, AEPIPE_SOURCE_DIR, 60);
    EXPECT_EQ(c.exit_code, 2) << c.err;
    EXPECT_NE(c.err.find("is a directory, expected a YAML config file"), std::string::npos) << c.err;
}

}  // namespace
}  // namespace aepipe::test
