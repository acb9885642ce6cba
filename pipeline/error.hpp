// Error types. Library code throws; only main() maps them to exit codes:
// ConfigError -> 2 (the config or the command line is wrong), everything else -> 1.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace aepipe {

// A position in a config file; line and col are 1-based, 0 = unknown.
struct SourcePos {
    std::string file;
    int line = 0;
    int col = 0;
    std::string str() const;  // "file:line:col" (parts that are known)
};

// One diagnostic: "file:line:col: error: message" plus an optional hint line.
struct Diagnostic {
    SourcePos pos;
    std::string message;
    std::string hint;
    std::string str() const;
};

// A config/usage error; may carry several diagnostics collected in one pass. Its message
// lists at most kMaxListedErrors of them, then how many more there are (`omitted` counts
// diagnostics that were not even kept, see Diags): 100,000 unknown keys must not print
// 200,000 lines.
constexpr size_t kMaxListedErrors = 20;
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::vector<Diagnostic> diags, size_t omitted = 0);
    ConfigError(SourcePos pos, std::string message, std::string hint = "");
    const std::vector<Diagnostic> &diagnostics() const { return diags_; }
    size_t omitted() const { return omitted_; }

private:
    std::vector<Diagnostic> diags_;
    size_t omitted_ = 0;
};

// A malformed or missing data file (IDX, PNG, checkpoint): path and byte offset.
class DataError : public std::runtime_error {
public:
    DataError(const std::string &path, int64_t offset, const std::string &message);
    DataError(const std::string &path, const std::string &message);  // no offset
    // An already formatted "PATH: byte N: error: ..." message with context appended.
    static DataError with_context(const DataError &e, const std::string &context);

private:
    struct Raw {};
    DataError(Raw, const std::string &formatted) : std::runtime_error(formatted) {}
};

// Any other failure while running; main() exits 1.
class RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `text` as it may be echoed in a message: at most `max` bytes, else its start, "..." and
// its full length. A 50 MB value in a config must not come back 50 MB long on stderr.
std::string clip_text(const std::string &text, size_t max = 80);

// Edit distance based suggestion: nearest of `candidates` to `word`, or "" if none is close.
std::string nearest(const std::string &word, const std::vector<std::string> &candidates);

}  // namespace aepipe
