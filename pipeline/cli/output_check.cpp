// Commands that write several files (encode, score) check every destination before the first
// write: a folder where a file goes, or a file where a folder goes, would otherwise fail half
// way and leave some outputs replaced and others not.
#include <filesystem>

#include "pipeline/cli/cli.hpp"
#include "pipeline/error.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

void check_output_files(const std::vector<std::string> &files) {
    std::error_code ec;
    for (const auto &f : files) {
        if (fs::is_directory(f, ec)) throw DataError(f, "is a folder, but this output is a file: remove it or choose "
                                                        "another --out");
        for (fs::path a = fs::path(f).parent_path(); !a.empty(); a = a.parent_path()) {
            if (fs::is_directory(a, ec)) break;
            if (fs::exists(a, ec))
                throw DataError(a.string(), "is a file, but the output " + f + " needs a folder here");
            if (a == a.parent_path()) break;
        }
    }
}

}  // namespace aepipe::cli
