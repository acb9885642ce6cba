// Whole-file writes that never leave a torn file: write to PATH.tmp, fsync, rename over
// PATH, fsync the directory. A full disk or a file-size limit is a RuntimeError naming the
// path, and the previous PATH stays as it was.
#pragma once

#include <string>

namespace aepipe {

void write_file_atomic(const std::string &path, const std::string &bytes);
// Appends and flushes (metrics logs); a failed write is a RuntimeError naming the path.
void append_file(const std::string &path, const std::string &bytes);
std::string read_file(const std::string &path);  // DataError when missing/unreadable
std::string gzip_bytes(const std::string &bytes);

}  // namespace aepipe
