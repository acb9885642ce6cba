// The error helper every test uses (support/expect_error.hpp): it returns what the expected
// type throws, and turns anything else (another type, a non-std throw, no throw) into one
// test failure at the caller's line that names both. A helper that quietly returned "" would
// let a test of an error message pass on code that throws nothing.
#include "support/expect_error.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "pipeline/error.hpp"

namespace aepipe::test {
namespace {

struct Failure {
    std::string message, file;
    int line = 0;
};

// The failures `f` reports, intercepted so they do not fail this test.
template <class F>
std::vector<Failure> failures_of(F &&f) {
    ::testing::TestPartResultArray results;
    {
        ::testing::ScopedFakeTestPartResultReporter reporter(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
        f();
    }
    std::vector<Failure> v;
    for (int i = 0; i < results.size(); ++i) {
        const ::testing::TestPartResult &r = results.GetTestPartResult(i);
        std::string msg = r.message();
        if (msg.rfind("Failed\n", 0) == 0) msg.erase(0, 7);  // what ADD_FAILURE puts first
        v.push_back({msg, r.file_name() ? r.file_name() : "", r.line_number()});
    }
    return v;
}

TEST(ErrorOf, ReturnsTheMessageOfTheExpectedType) {
    std::string msg;
    auto failures = failures_of([&] { msg = error_of<DataError>([] { throw DataError("f.idx", 16, "bad"); }); });
    EXPECT_TRUE(failures.empty());
    EXPECT_EQ(msg, "f.idx: byte 16: error: bad");
}

TEST(ErrorOf, CatchesADerivedTypeAsItsBase) {
    std::string msg;
    auto failures = failures_of([&] { msg = error_of<std::runtime_error>([] { throw RuntimeError("boom"); }); });
    EXPECT_TRUE(failures.empty());
    EXPECT_EQ(msg, "boom");
}

TEST(ErrorOf, AnotherTypeFailsAtTheCallerNamingBothTypes) {
    std::string msg = "unset";
    int line = 0;
    auto failures = failures_of([&] {
        line = __LINE__ + 1;
        msg = error_of<DataError>([] { throw RuntimeError("node 'x' failed"); });
    });
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].message, "expected a aepipe::DataError, got a aepipe::RuntimeError: node 'x' failed");
    EXPECT_EQ(failures[0].file, __FILE__);
    EXPECT_EQ(failures[0].line, line);
    EXPECT_EQ(msg, "");
}

TEST(ErrorOf, NothingThrownFails) {
    std::string msg = "unset";
    auto failures = failures_of([&] { msg = error_of<ConfigError>([] {}); });
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].message, "expected a aepipe::ConfigError, nothing was thrown");
    EXPECT_EQ(msg, "");
}

TEST(ErrorOf, ANonStdThrowFails) {
    auto failures = failures_of([] { error_of<std::invalid_argument>([] { throw 42; }); });
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].message, "expected a std::invalid_argument, got a non-std exception");
}

TEST(Thrown, KeepsTheWholeErrorForItsDiagnostics) {
    std::optional<ConfigError> e = thrown<ConfigError>([] { throw ConfigError({"c.yaml", 3, 7}, "no", "try yes"); });
    ASSERT_TRUE(e);
    ASSERT_EQ(e->diagnostics().size(), 1u);
    EXPECT_EQ(e->diagnostics()[0].pos.line, 3);
    EXPECT_EQ(e->diagnostics()[0].hint, "try yes");
}

TEST(ConfigErrorOf, NamesTheFile) {
    std::string msg;
    auto failures = failures_of([&] { msg = config_error("graph: [}", "x.yaml"); });
    EXPECT_TRUE(failures.empty());
    EXPECT_EQ(msg.rfind("x.yaml:1:", 0), 0u) << msg;
}

TEST(ExpectExit, NamesAWrongCodeAndAMissingText) {
    const RunResult r{1, "", "x.yaml: error: bad\n"};
    EXPECT_TRUE(failures_of([&] { expect_exit(r, 1, "error: bad"); }).empty());
    auto failures = failures_of([&] { expect_exit(r, 2, "error: other"); });
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_NE(failures[0].message.find("Which is: 1"), std::string::npos) << failures[0].message;
    EXPECT_NE(failures[1].message.find("expected in stderr: error: other"), std::string::npos) << failures[1].message;
}

}  // namespace
}  // namespace aepipe::test
