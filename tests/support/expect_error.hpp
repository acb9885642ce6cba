// What an error case throws: error_of<E>(f) runs f and returns the message of the E it throws;
// any other exception, or none, is a test failure (and ""). config_error(text, name) is the
// ConfigError of building a pipeline from config text, as `aepipe validate` would.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <string>

#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"

namespace aepipe::test {

template <class E, class F>
std::string error_of(F &&f) {
    try {
        f();
    } catch (const E &e) {
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "expected another kind of error, got: " << e.what();
        return "";
    }
    ADD_FAILURE() << "expected an error, nothing was thrown";
    return "";
}

inline std::string config_error(const std::string &text, const std::string &name = "test.yaml") {
    return error_of<ConfigError>([&] {
        ConfigFile cfg = parse_config(text, name);
        Pipeline p(cfg, RunSettings{});
    });
}

}  // namespace aepipe::test
