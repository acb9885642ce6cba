// A folder of outputs that the tests of a suite share (a tiny trained run, its data and
// config), made once per CTest run instead of once per test process.
//
// CTest runs each test in a process of its own, so a run made on first use in a static was
// made again by every test of the suite. Now each such suite has a fixture-setup test,
// SharedRuns.<Suite>, that makes the folder in $AEPIPE_SHARED_RUNS/<Suite> (FIXTURES_SETUP;
// the suite's tests are FIXTURES_REQUIRED: tests/CMakeLists.txt, aepipe_shared_run). The
// tests only read it; what a test writes goes into a TempDir of its own.
//
// Without that variable or folder (the test binary run directly, or ctest -FA), the first
// test of a process makes the folder in a TempDir itself, as before.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "support/fixtures.hpp"

namespace aepipe::test {

class SharedRun {
public:
    // make(dir) fills the empty folder `dir` and reports what goes wrong with gtest assertions.
    using Make = std::function<void(const std::string &dir)>;
    SharedRun(std::string suite, Make make);

    // The folder: CTest's, when its setup test finished it, else made here on first use.
    const std::string &dir();
    // The body of the setup test SharedRuns.<suite>: (re)makes the folder for CTest; without
    // $AEPIPE_SHARED_RUNS it is dir(), so running the binary directly checks the making too.
    void make_for_ctest();

private:
    std::string suite_, dir_;
    Make make_;
    std::unique_ptr<TempDir> own_;  // the folder when this process made its own
};

// A command's exit code, stdout and stderr kept as files `<prefix>.{exit,out,err}`, so a test
// can look at the console output of the shared run.
void save_result(const std::string &prefix, const RunResult &r);
RunResult load_result(const std::string &prefix);

// The one run folder under `out` ("" and a test failure if there is not exactly one).
std::string only_run_in(const std::string &out);

}  // namespace aepipe::test
