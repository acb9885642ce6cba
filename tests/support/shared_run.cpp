#include "support/shared_run.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace aepipe::test {

namespace fs = std::filesystem;

namespace {

// Written last by the setup test: a folder without it is half made (the setup failed or is
// still running) and is not used.
constexpr const char *kComplete = ".complete";

std::string shared_root() {
    const char *root = std::getenv("AEPIPE_SHARED_RUNS");
    return root && *root ? root : "";
}

}  // namespace

SharedRun::SharedRun(std::string suite, Make make) : suite_(std::move(suite)), make_(std::move(make)) {}

const std::string &SharedRun::dir() {
    if (!dir_.empty()) return dir_;
    const std::string root = shared_root();
    if (!root.empty() && fs::exists(fs::path(root) / suite_ / kComplete)) return dir_ = root + "/" + suite_;
    own_ = std::make_unique<TempDir>("aepipe-" + suite_);
    make_(own_->path());
    return dir_ = own_->path();
}

void SharedRun::make_for_ctest() {
    const std::string root = shared_root();
    if (root.empty()) {
        dir();
        return;
    }
    // Made in place, not renamed into place: the outputs hold absolute paths (a run's saved
    // config names its data files), and they must be the paths the tests will see.
    const std::string d = root + "/" + suite_;
    fs::remove_all(d);
    fs::create_directories(d);
    make_(d);
    if (!::testing::Test::HasFailure()) write_bytes(d + "/" + kComplete, "");
    dir_ = d;
}

void save_result(const std::string &prefix, const RunResult &r) {
    write_bytes(prefix + ".exit", std::to_string(r.exit_code));
    write_bytes(prefix + ".out", r.out);
    write_bytes(prefix + ".err", r.err);
}

RunResult load_result(const std::string &prefix) {
    RunResult r;
    if (!fs::exists(prefix + ".exit")) return r;  // exit_code -1: never ran
    r.exit_code = std::stoi(read_bytes(prefix + ".exit"));
    r.out = read_bytes(prefix + ".out");
    r.err = read_bytes(prefix + ".err");
    return r;
}

std::string only_run_in(const std::string &out) {
    const std::vector<std::string> dirs = list_dir(out);
    EXPECT_EQ(dirs.size(), 1u) << "run folders in " << out;
    return dirs.size() == 1 ? out + "/" + dirs[0] : "";
}

}  // namespace aepipe::test
