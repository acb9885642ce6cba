#include "pipeline/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

std::string read_file(const std::string &path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw DataError(path, "file not found");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path, "cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
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
