// What an error case throws, in one place for every test:
//   thrown<E>(f)    runs f and returns the E it throws (a copy), for tests that look inside it
//                   (a ConfigError's diagnostics);
//   error_of<E>(f)  the same, but only its message.
// Any other exception, or none, is a test failure reported at the caller's line, naming the
// type expected and what came instead; the result is then empty (nullopt, ""), so a test that
// goes on comparing messages fails once more rather than crashing.
// config_error(text, name) is the ConfigError of building a pipeline from config text, as
// `aepipe validate` would. expect_exit(r, code, text) checks a command that failed: its exit
// code and a part of its stderr.
#pragma once

#include <cxxabi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>

#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {

// "aepipe::DataError", not the mangled name typeid gives.
inline std::string type_name(const std::type_info &t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void *)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? name.get() : t.name();
}

// file and line: the caller's (std::source_location is missing from clang 14, which builds the
// sanitizer tests).
template <class E, class F>
std::optional<E> thrown(F &&f, const char *file = __builtin_FILE(), int line = __builtin_LINE()) {
    const std::string expected = type_name(typeid(E));
    try {
        f();
    } catch (const E &e) {
        return e;
    } catch (const std::exception &e) {
        ADD_FAILURE_AT(file, line)
            << "expected a " << expected << ", got a " << type_name(typeid(e)) << ": " << e.what();
        return std::nullopt;
    } catch (...) {
        ADD_FAILURE_AT(file, line) << "expected a " << expected << ", got a non-std exception";
        return std::nullopt;
    }
    ADD_FAILURE_AT(file, line) << "expected a " << expected << ", nothing was thrown";
    return std::nullopt;
}

template <class E, class F>
std::string error_of(F &&f, const char *file = __builtin_FILE(), int line = __builtin_LINE()) {
    std::optional<E> e = thrown<E>(std::forward<F>(f), file, line);
    return e ? std::string(e->what()) : std::string();
}

inline std::string config_error(const std::string &text, const std::string &name = "test.yaml",
                                const char *file = __builtin_FILE(), int line = __builtin_LINE()) {
    return error_of<ConfigError>(
        [&] {
            ConfigFile cfg = parse_config(text, name);
            Pipeline p(cfg, RunSettings{});
        },
        file, line);
}

inline void expect_exit(const RunResult &r, int code, const std::string &text, const char *file = __builtin_FILE(),
                        int line = __builtin_LINE()) {
    ::testing::ScopedTrace at(file, line, "expect_exit");
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << "expected in stderr: " << text << "\nstderr: " << r.err;
}

}  // namespace aepipe::test
