// Whole-file writes that never leave a torn file: write to PATH.tmp, fsync, rename over
// PATH, fsync the directory. A full disk or a file-size limit is a RuntimeError naming the
// path, and the previous PATH stays as it was.
#pragma once

#include <string>

namespace aepipe {

void write_file_atomic(const std::string &path, const std::string &bytes);
// Appends and flushes (metrics logs); a failed write is a RuntimeError naming the path.
void append_file(const std::string &path, const std::string &bytes);

// Every file a user names as an input (data, config, checkpoint, picture) is opened through
// these. Only regular files are accepted: a FIFO would block open() and every read forever,
// a directory reads as nothing, a device never ends. `what` is the content expected there
// ("an IDX file"), for the message.
//
// Why `path` cannot be read ("file not found", "is a FIFO (named pipe), expected ..."), or ""
// when it is a regular file; for callers that report their own kind of error.
std::string regular_file_problem(const std::string &path, const std::string &what = "a regular file");
// DataError(path, not_found) when `path` does not exist, DataError(path, why) when it exists but
// is not a regular file (a directory, a FIFO) or cannot be read: for callers whose "not found"
// says what the file was for.
void require_regular_file(const std::string &path, const std::string &what, const std::string &not_found);
// A read-only descriptor (O_CLOEXEC) of the regular file `path`; DataError otherwise. The
// check is made on the opened descriptor, so nothing can swap the file in between.
int open_regular(const std::string &path, const std::string &what = "a regular file");
// The whole file; DataError when missing, not a regular file or unreadable.
std::string read_file(const std::string &path, const std::string &what = "a regular file");

// One run folder, one writer: an exclusive flock(2) on DIR/.aepipe.lock, held until the object
// dies (the kernel releases it when the process dies in any way). A folder already held by
// another process is a RuntimeError naming that process's PID; nothing has been written then.
class RunLock {
public:
    RunLock() = default;
    explicit RunLock(const std::string &dir);
    RunLock(RunLock &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    RunLock &operator=(RunLock &&o) noexcept;
    RunLock(const RunLock &) = delete;
    RunLock &operator=(const RunLock &) = delete;
    ~RunLock();
    static const char *file_name() { return ".aepipe.lock"; }

private:
    int fd_ = -1;
};
std::string gzip_bytes(const std::string &bytes);

}  // namespace aepipe
