// Shared by the libFuzzer targets (tests/fuzz/fuzz_<target>.cpp): the readers under test open
// files by path, so each input is written to one scratch file per process and read back
// through the same function aepipe uses. A reader may reject the input only with a DataError
// or a ConfigError (a clear message naming file and offset/line); any other exception, a
// crash, a sanitizer report or an allocation past -malloc_limit_mb is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "pipeline/error.hpp"

namespace aepipe::fuzz {

// PATH of a scratch file ending in `suffix` holding the input (in /dev/shm when it exists).
inline std::string input_file(const uint8_t *data, size_t size, const std::string &suffix) {
    static const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    const std::string path = dir + "/aepipe-fuzz-" + std::to_string(getpid()) + suffix;
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path;
}

// Runs f; the clear rejections are fine, everything else propagates (and aborts the run).
template <class F>
void expect_clear_errors(F &&f) {
    try {
        f();
    } catch (const DataError &) {
    } catch (const ConfigError &) {
    }
}

}  // namespace aepipe::fuzz
