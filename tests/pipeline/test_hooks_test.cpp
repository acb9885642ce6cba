// The test hooks of `aepipe run --test-hook NAME=VALUE` (pipeline/test_hooks.hpp): each form
// parses; a malformed one is refused naming it, and `aepipe run` exits 2 (a usage error).
#include "pipeline/test_hooks.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

TEST(TestHooks, EveryFormParses) {
    const TestHooks h = parse_test_hooks(
        {"raise_at_step=12:9", "nan_grad=7:2100", "fail_eval=2", "busy_build_s=1.5"});
    EXPECT_EQ(h.raise_at_step, 12);
    EXPECT_EQ(h.raise_signal, 9);
    EXPECT_EQ(h.nan_grad_step, 7);
    EXPECT_EQ(h.nan_grad_element, 2100);
    EXPECT_EQ(h.fail_eval_epoch, 2);
    EXPECT_DOUBLE_EQ(h.busy_build_s, 1.5);
    const TestHooks none = parse_test_hooks({});
    EXPECT_EQ(none.raise_at_step, -1);
    EXPECT_EQ(none.nan_grad_step, -1);
    EXPECT_EQ(none.fail_eval_epoch, -1);
}

TEST(TestHooks, MalformedOnesAreRefused) {
    for (const char *bad : {"raise_at_step=12", "nan_grad=7:-1", "fail_eval=x", "busy_build_s=-1", "nope=1",
                            "raise_at_step=1:2:3", "fail_eval", "busy_build_s="}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(error_of<std::invalid_argument>([&] { parse_test_hooks({bad}); }),
                  std::string("--test-hook '") + bad +
                      "': expected raise_at_step=N:SIG, nan_grad=N:K, fail_eval=E or busy_build_s=S");
    }
    TempDir tmp;
    const std::string config = write_tiny_config(tmp.path(), write_tiny_data(tmp.path(), 64, 16), 1);
    const RunResult r = run_aepipe({"run", config, "--out", tmp / "runs", "--test-hook", "fail_eval=x"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--test-hook 'fail_eval=x': expected"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "runs"));
}

}  // namespace
}  // namespace aepipe::test
