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

std::string clip_text(const std::string &text, size_t max) {
    if (text.size() <= max) return text;
    return text.substr(0, max) + "... (" + std::to_string(text.size()) + " bytes)";
}

// Each line is bounded too (echo sites clip what they quote; this catches any they miss).
std::string Diagnostic::str() const {
    // An error of the command line (--resume DIR) has no place in a file: no "<config>: ".
    const bool nowhere = pos.file.empty() && pos.line <= 0;
    std::string s = (nowhere ? "" : pos.str() + ": ") + "error: " + clip_text(message, 2000);
    if (!hint.empty()) s += "\nhint: " + clip_text(hint, 2000);
    return s;
}

static std::string join_diags(const std::vector<Diagnostic> &diags, size_t omitted) {
    std::string s;
    for (size_t i = 0; i < diags.size() && i < kMaxListedErrors; ++i) {
        if (!s.empty()) s += "\n";
        s += diags[i].str();
    }
    const size_t rest = diags.size() - std::min(diags.size(), kMaxListedErrors) + omitted;
    if (rest > 0)
        s += "\n... and " + std::to_string(rest) + " more error" + (rest == 1 ? "" : "s") +
             " (fix the ones above first)";
    return s;
}

ConfigError::ConfigError(std::vector<Diagnostic> diags, size_t omitted)
    : std::runtime_error(join_diags(diags, omitted)), diags_(std::move(diags)), omitted_(omitted) {}

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
    // Names are short: a long word is no typo of one, and the distance is quadratic.
    if (word.size() > 100) return "";
    std::string best;
    size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto &c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best_d) best_d = d, best = c;
    }
    return best;
}

}  // namespace aepipe
