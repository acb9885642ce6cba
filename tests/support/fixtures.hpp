// Test fixtures: temporary folders, small IDX files, a tiny synthetic dataset that an
// autoencoder learns in a second, a config for it, and running the aepipe binary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aepipe::test {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
public:
    explicit TempDir(const std::string &tag = "aepipe");
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string operator/(const std::string &name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

void write_bytes(const std::string &path, const std::string &bytes);
std::string read_bytes(const std::string &path);
// Entries of a folder (names only, sorted); empty if it does not exist.
std::vector<std::string> list_dir(const std::string &dir);

// Images (n, h, w) u8 with deterministic contents; labels are i % 10.
std::vector<uint8_t> ramp_pixels(int64_t n, int64_t h, int64_t w);
// IDX u8 files through aepipe::write_idx (gzip when the path ends in .gz).
void write_images(const std::string &path, int64_t n, int64_t h, int64_t w, const std::vector<uint8_t> &px);
void write_labels(const std::string &path, const std::vector<uint8_t> &labels);
// An IDX header followed by `payload` arbitrary bytes: lets tests lie about the sizes.
std::string idx_bytes(const std::vector<int64_t> &dims, const std::string &payload, uint8_t type = 0x08);

// `n` images of side x side: one or two bright bars (a row and/or a column) of varying
// brightness on a dark background. Label: 0 row bar, 1 column bar, 2 cross. Deterministic.
struct Shapes {
    int64_t n = 0, side = 0;
    std::vector<uint8_t> pixels, labels;
};
Shapes make_shapes(int64_t n, int64_t side, uint64_t seed);

// Train and test sets of shapes written as IDX files into `dir`.
struct TinyData {
    std::string train_images, train_labels, test_images, test_labels;
    int64_t n_train = 0, n_test = 0, side = 0;
};
TinyData write_tiny_data(const std::string &dir, int64_t n_train = 256, int64_t n_test = 64, int64_t side = 8,
                         bool gz = true);
// The TinyData that write_tiny_data(dir, ...) writes, without writing it (a shared run's data).
TinyData tiny_data_in(const std::string &dir, int64_t n_train = 256, int64_t n_test = 64, int64_t side = 8,
                      bool gz = true);

// A complete config for TinyData (absolute data paths): side*side -> 32 -> 16 -> 32 -> side*side
// with Adam, batch 16, and every node of a real run (metrics, image grid, checkpoint).
std::string tiny_config_yaml(const TinyData &d, int64_t epochs, const std::string &name = "tiny");
// Writes tiny_config_yaml into dir/name.yaml and returns its path.
std::string write_tiny_config(const std::string &dir, const TinyData &d, int64_t epochs,
                              const std::string &name = "tiny");

// The shipped configs/<name>.yaml, unchanged except that every idx_reader reads `d` (a node
// whose id names "test" reads the test set), written to dir/<name>.yaml; returns its path.
// Tests of shipped configs never depend on data/mnist, which a clean checkout (CI) lacks.
std::string shipped_config_on(const std::string &name, const TinyData &d, const std::string &dir);

// Runs the aepipe binary with `args` in `cwd` (default: the source tree), stdin from /dev/null.
struct RunResult {
    int exit_code = -1;  // 128 + signal number when killed by a signal
    std::string out, err;
};
RunResult run_aepipe(const std::vector<std::string> &args, const std::string &cwd = AEPIPE_SOURCE_DIR);
// The same with extra environment entries ("NAME=value") and, when fsize_limit > 0, an
// RLIMIT_FSIZE of that many bytes in the child (a file-size limit: writes past it fail EFBIG).
RunResult run_aepipe_with(const std::vector<std::string> &args, const std::vector<std::string> &env,
                          long long fsize_limit = 0, const std::string &cwd = AEPIPE_SOURCE_DIR);
// Runs any program (argv[0] is a path) the same way; after `timeout_s` seconds (0: none) its
// whole process group is killed and exit_code is 128 + SIGKILL.
RunResult run_program(const std::vector<std::string> &argv, const std::string &cwd = AEPIPE_SOURCE_DIR,
                      int timeout_s = 0, const std::vector<std::string> &env = {}, long long fsize_limit = 0);

// Splits text into lines (no trailing empty line).
std::vector<std::string> lines_of(const std::string &text);

}  // namespace aepipe::test
