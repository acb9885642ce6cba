// SIGINT / SIGTERM during start-up (parsing, building the model, loading data) end the run at
// once with 128 + signal and say in which phase: a SIGTERM during a large model build used to
// be ignored for 86 s. The test hook busy_build_s (--test-hook busy_build_s=S) makes the build compute for that long without
// looking at signals, like a large model's initialisation.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

struct Stopped {
    int status = -1;
    double seconds_after_signal = 0;
    std::string out, err;
};

// Starts `aepipe run CONFIG`, waits until it prints its "run:" line (it is then building),
// sends `sig`, and waits for it (killing it after 60 s).
Stopped signal_during_build(const std::string &config, const std::string &dir, int sig) {
    const std::string out = dir + "/out.txt", err = dir + "/err.txt";
    write_bytes(out, ""), write_bytes(err, "");  // polled below before the child writes them
    pid_t pid = ::fork();
    if (pid == 0) {
        if (!::freopen(out.c_str(), "w", stdout) || !::freopen(err.c_str(), "w", stderr)) ::_exit(99);
        ::execl(AEPIPE_BINARY, AEPIPE_BINARY, "run", config.c_str(), "--out", (dir + "/runs").c_str(), "--test-hook",
                "busy_build_s=60", (char *)nullptr);
        ::_exit(98);
    }
    Stopped s;
    using clk = std::chrono::steady_clock;
    for (auto until = clk::now() + std::chrono::seconds(30); clk::now() < until;) {
        if (read_bytes(out).find("run: ") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well inside the busy build
    const auto t0 = clk::now();
    ::kill(pid, sig);
    for (auto until = t0 + std::chrono::seconds(60); clk::now() < until;) {
        if (::waitpid(pid, &s.status, WNOHANG) == pid) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    s.seconds_after_signal = std::chrono::duration<double>(clk::now() - t0).count();
    if (s.status == -1) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &s.status, 0);
    }
    s.out = read_bytes(out), s.err = read_bytes(err);
    return s;
}

class SignalStartup : public ::testing::TestWithParam<int> {};

TEST_P(SignalStartup, StopsAtOnceNamingThePhase) {
    const int sig = GetParam();
    TempDir dir("aepipe-signal-startup");
    TinyData d = write_tiny_data(dir.path(), 32, 16);
    const std::string config = write_tiny_config(dir.path(), d, 1);
    Stopped s = signal_during_build(config, dir.path(), sig);
    ASSERT_TRUE(WIFEXITED(s.status)) << "status " << s.status << "\n" << s.err;
    EXPECT_EQ(WEXITSTATUS(s.status), 128 + sig) << s.err;
    EXPECT_LT(s.seconds_after_signal, 10.0);  // not the 60 s of the build
    EXPECT_NE(s.err.find(std::string("aepipe: stopped by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                         " during start-up (building the nodes and loading data; nothing was trained)"),
              std::string::npos)
        << s.err;
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalStartup, ::testing::Values(SIGTERM, SIGINT),
                         [](const auto &info) { return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM"); });

}  // namespace
}  // namespace aepipe::test
