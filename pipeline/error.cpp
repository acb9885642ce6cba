#include "pipeline/error.hpp"

#include <algorithm>
#include <sstream>

namespace aepipe {

std::string SourcePos::str() const {
    std::string s = file.empty() ? "<config>" : file;
    if (line > 0) {
        s += ":" + std::to_string(line);
        if (col > 0) s += ":" + std::to_string(col);
    }
    return s;
}

std::string Diagnostic::str() const {
    std::string s = pos.str() + ": error: " + message;
    if (!hint.empty()) s += "\nhint: " + hint;
    return s;
}

static std::string join_diags(const std::vector<Diagnostic> &diags) {
    std::string s;
    for (const auto &d : diags) {
        if (!s.empty()) s += "\n";
        s += d.str();
    }
    return s;
}

ConfigError::ConfigError(std::vector<Diagnostic> diags)
    : std::runtime_error(join_diags(diags)), diags_(std::move(diags)) {}

ConfigError::ConfigError(SourcePos pos, std::string message, std::string hint)
    : ConfigError(std::vector<Diagnostic>{{std::move(pos), std::move(message), std::move(hint)}}) {}

DataError::DataError(const std::string &path, int64_t offset, const std::string &message)
    : std::runtime_error(path + ": byte " + std::to_string(offset) + ": error: " + message) {}

DataError::DataError(const std::string &path, const std::string &message)
    : std::runtime_error(path + ": error: " + message) {}

DataError DataError::with_context(const DataError &e, const std::string &context) {
    return DataError(Raw{}, std::string(e.what()) + "\n  (" + context + ")");
}

static size_t edit_distance(const std::string &a, const std::string &b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string nearest(const std::string &word, const std::vector<std::string> &candidates) {
    std::string best;
    size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto &c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best_d) best_d = d, best = c;
    }
    return best;
}

}  // namespace aepipe
