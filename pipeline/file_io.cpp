#include "pipeline/file_io.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "pipeline/error.hpp"

namespace aepipe {

namespace fs = std::filesystem;

static std::string errno_text(int e) {
    if (e == EFBIG) return "file size limit reached (EFBIG)";
    if (e == ENOSPC) return "no space left on device";
    return std::strerror(e);
}

static void write_all(int fd, const std::string &bytes, const std::string &path) {
    // SIGXFSZ would kill the process on RLIMIT_FSIZE; we want EFBIG and a clear error instead.
    std::signal(SIGXFSZ, SIG_IGN);
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            throw RuntimeError(path + ": cannot write (" + errno_text(e) + ") after " + std::to_string(done) +
                               " of " + std::to_string(bytes.size()) + " bytes");
        }
        done += size_t(w);
    }
}

void write_file_atomic(const std::string &path, const std::string &bytes) {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw RuntimeError(path + ": cannot create " + tmp + " (" + errno_text(errno) + ")");
    try {
        write_all(fd, bytes, path);
        if (::fsync(fd) != 0) throw RuntimeError(path + ": fsync failed (" + errno_text(errno) + ")");
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw RuntimeError(path + ": cannot rename " + tmp + " (" + errno_text(e) + ")");
    }
    std::string dir = fs::path(path).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void append_file(const std::string &path, const std::string &bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw RuntimeError(path + ": cannot open for writing (" + errno_text(errno) + ")");
    try {
        write_all(fd, bytes, path);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

static std::string kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

static std::string not_regular(mode_t m, const std::string &what) {
    return "is " + kind_of(m) + ", expected " + what +
           (S_ISDIR(m) ? "" : " (aepipe reads only regular files: this one could block or never end)");
}

std::string regular_file_problem(const std::string &path, const std::string &what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) return "file not found";
        return "cannot read (" + errno_text(e) + ")";
    }
    return S_ISREG(st.st_mode) ? "" : not_regular(st.st_mode, what);
}

void require_regular_file(const std::string &path, const std::string &what, const std::string &not_found) {
    const std::string why = regular_file_problem(path, what);
    if (why == "file not found") throw DataError(path, not_found);
    if (!why.empty()) throw DataError(path, why);
}

int open_regular(const std::string &path, const std::string &what) {
    if (std::string why = regular_file_problem(path, what); !why.empty()) throw DataError(path, why);
    // O_NONBLOCK: should the path have become a FIFO since stat(), open() must not wait for a writer.
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) throw DataError(path, "cannot open (" + errno_text(errno) + ")");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw DataError(path, not_regular(st.st_mode, what));
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

std::string read_file(const std::string &path, const std::string &what) {
    int fd = open_regular(path, what);
    struct stat st {};
    std::string out;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(size_t(st.st_size));
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            ::close(fd);
            throw DataError(path, int64_t(out.size()), "cannot read (" + errno_text(e) + ")");
        }
        if (r == 0) break;
        out.append(buf, size_t(r));
    }
    ::close(fd);
    return out;
}

RunLock::RunLock(const std::string &dir) {
    const std::string path = dir + "/" + file_name();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd_ < 0) throw RuntimeError(path + ": cannot create the run folder's lock file (" + errno_text(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = {0};
        ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
        std::string holder = n > 0 ? std::string(pid, size_t(n)) : "";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        ::close(fd_);
        fd_ = -1;
        if (e != EWOULDBLOCK) throw RuntimeError(path + ": cannot lock (" + errno_text(e) + ")");
        throw RuntimeError(dir + ": the run folder is in use by another aepipe process (PID " +
                           (holder.empty() ? "unknown" : holder) + ", which holds " + path +
                           "); one run folder has one writer: wait for that process to end or stop it");
    }
    // Ours now: the PID is what a second process will name.
    std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != ssize_t(me.size()))
        std::fprintf(stderr, "warning: %s: cannot write the PID into the lock file\n", path.c_str());
}

RunLock &RunLock::operator=(RunLock &&o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

RunLock::~RunLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

std::string gzip_bytes(const std::string &bytes) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw RuntimeError("zlib: deflateInit2 failed");
    std::string out(deflateBound(&zs, uLong(bytes.size())) + 32, '\0');
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(bytes.data()));
    zs.avail_in = uInt(bytes.size());
    zs.next_out = reinterpret_cast<Bytef *>(out.data());
    zs.avail_out = uInt(out.size());
    int rc = deflate(&zs, Z_FINISH);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw RuntimeError("zlib: deflate failed");
    out.resize(zs.total_out);
    return out;
}

}  // namespace aepipe
