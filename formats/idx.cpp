#include "formats/idx.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"

namespace aepipe {

int64_t IdxHeader::count() const {
    int64_t c = 1;
    for (auto d : dims) c *= d;
    return c;
}

namespace {

bool is_gz(const std::string &path) { return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0; }

// Sequential reader over a raw or gzip file. gzip is read as zlib defines it (RFC 1952): one
// member after another until the file ends, each checked by its CRC-32 and length; the
// trailer's size field is never trusted for anything else, so the payload size of a .gz file
// is known only by inflating it. Offsets in messages count uncompressed bytes (the IDX
// layout); where the compressed stream fails, the message adds its byte in the file.
class Source {
public:
    explicit Source(const std::string &path) : path_(path), fd_(open_regular(path, "an IDX file")) {
        try {
            start();
        } catch (...) {  // no destructor runs for a constructor that throws
            ::close(fd_);
            throw;
        }
    }
    ~Source() {
        if (gz_) inflateEnd(&zs_);
        ::close(fd_);
    }
    Source(const Source &) = delete;
    Source &operator=(const Source &) = delete;

private:
    void start() {
        struct stat st {};
        stored_ = ::fstat(fd_, &st) == 0 ? int64_t(st.st_size) : 0;
        if (!is_gz(path_)) return;
        if (stored_ < 18) fail(0, "too short to be a gzip file");
        in_.resize(1 << 18);
        out_.resize(1 << 18);
        refill();
        // zlib would read a non-gzip file as is ("transparent" mode); a .gz name promises gzip.
        if (zs_.avail_in < 2 || in_[0] != 0x1f || in_[1] != 0x8b)
            fail(0, "not a gzip file: the name ends in .gz, but the file does not start with the gzip magic 1f 8b");
        if (inflateInit2(&zs_, 15 + 16) != Z_OK) fail(0, "zlib cannot start inflating");
        gz_ = true;
    }

public:
    int64_t stored_size() const { return stored_; }  // bytes on disk
    bool gz() const { return gz_; }
    int64_t pos() const { return pos_; }
    // Reads up to n bytes; fewer only at the end of the data.
    int64_t read_upto(void *dst, int64_t n, const char *what) {
        char *d = static_cast<char *>(dst);
        int64_t got = 0;
        while (got < n) {
            if (!gz_) {
                ssize_t r = ::read(fd_, d + got, size_t(std::min<int64_t>(n - got, 1 << 30)));
                if (r < 0 && errno == EINTR) continue;
                if (r < 0) fail(pos_ + got, std::string("cannot read ") + what + " (" + std::strerror(errno) + ")");
                if (r == 0) break;
                got += r;
                continue;
            }
            if (out_pos_ == out_len_ && !produce(what, pos_ + got)) break;
            const int64_t k = std::min<int64_t>(n - got, int64_t(out_len_ - out_pos_));
            std::memcpy(d + got, out_.data() + out_pos_, size_t(k));
            out_pos_ += size_t(k), got += k;
        }
        pos_ += got;
        return got;
    }
    // Reads n bytes; a short read is an error at the current offset.
    void read(void *dst, int64_t n, const char *what) {
        const int64_t at = pos_, got = read_upto(dst, n, what);
        if (got < n)
            fail(at + got, std::string("file ends early: expected ") + std::to_string(n) + " bytes of " + what +
                               " from byte " + std::to_string(at) + ", got " + std::to_string(got));
    }
    // Reads to the end and returns how many bytes that was (a damaged stream fails here).
    int64_t count_rest(const char *what) {
        std::vector<char> sink(1 << 16);
        int64_t n = 0, r;
        while ((r = read_upto(sink.data(), int64_t(sink.size()), what)) > 0) n += r;
        return n;
    }

private:
    [[noreturn]] void fail(int64_t at, const std::string &why) const { throw DataError(path_, at, why); }
    int64_t compressed_at() const { return consumed_ - int64_t(zs_.avail_in); }
    // Moves unread input to the front and reads more; false when the file has no more.
    bool refill() {
        const size_t keep = zs_.avail_in;
        if (keep) std::memmove(in_.data(), zs_.next_in, keep);
        ssize_t r;
        do r = ::read(fd_, in_.data() + keep, in_.size() - keep);
        while (r < 0 && errno == EINTR);
        if (r < 0) fail(pos_, std::string("cannot read the gzip data (") + std::strerror(errno) + ")");
        consumed_ += r;
        zs_.next_in = in_.data();
        zs_.avail_in = uInt(keep + size_t(r));
        return r > 0;
    }
    // Inflates the next piece into out_; false at the end of the last member.
    bool produce(const char *what, int64_t at) {
        out_pos_ = out_len_ = 0;
        while (out_len_ == 0) {
            if (between_members_) {
                if (zs_.avail_in < 2) refill();
                if (zs_.avail_in == 0) return false;  // the file ends after a whole member
                if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b)
                    fail(at, "unexpected bytes after gzip member " + std::to_string(member_) + " at byte " +
                                 std::to_string(compressed_at()) + " of the file: neither the end of the file nor "
                                 "another gzip member (magic 1f 8b)");
                inflateReset(&zs_);
                between_members_ = false;
                ++member_;
            }
            if (zs_.avail_in == 0 && !refill())
                fail(at, std::string("the gzip data ends early (truncated file?): the file ends at byte ") +
                             std::to_string(stored_) + " inside gzip member " + std::to_string(member_) +
                             ", while reading " + what);
            zs_.next_out = out_.data();
            zs_.avail_out = uInt(out_.size());
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            out_len_ = out_.size() - zs_.avail_out;
            if (rc == Z_STREAM_END) between_members_ = true;
            else if (rc != Z_OK && rc != Z_BUF_ERROR)
                fail(at, std::string("corrupt gzip data (") + (zs_.msg ? zs_.msg : zError(rc)) + ") while reading " +
                             what + "; the compressed stream fails at byte " + std::to_string(compressed_at()) +
                             " of the file, in gzip member " + std::to_string(member_));
        }
        return true;
    }

    std::string path_;
    int fd_ = -1;
    bool gz_ = false, between_members_ = false;
    z_stream zs_{};
    std::vector<unsigned char> in_, out_;
    size_t out_pos_ = 0, out_len_ = 0;
    int64_t stored_ = 0, pos_ = 0, consumed_ = 0, member_ = 1;
};

IdxHeader parse_header(Source &src, const std::string &path) {
    unsigned char magic[4];
    src.read(magic, 4, "the IDX magic number");
    if (magic[0] != 0 || magic[1] != 0)
        throw DataError(path, 0, "not an IDX file: the magic number must start with two zero bytes"
                                 " (a gzip file needs a .gz name)");
    if (magic[2] != 0x08)
        throw DataError(path, 2, "unsupported IDX element type 0x" + [&] {
            char b[8];
            std::snprintf(b, sizeof b, "%02x", magic[2]);
            return std::string(b);
        }() + ": aepipe reads unsigned bytes (0x08)");
    int nd = magic[3];
    if (nd < 1 || nd > 4) throw DataError(path, 3, "IDX files with " + std::to_string(nd) + " dimensions are not supported (1 to 4)");
    IdxHeader h;
    h.header_bytes = 4 + 4 * nd;
    for (int i = 0; i < nd; ++i) {
        unsigned char b[4];
        src.read(b, 4, "the IDX dimensions");
        int64_t d = int64_t(b[0]) << 24 | int64_t(b[1]) << 16 | int64_t(b[2]) << 8 | int64_t(b[3]);
        if (d == 0 || d > (int64_t(1) << 31))
            throw DataError(path, 4 + 4 * i,
                            "dimension " + std::to_string(i) + " is " + std::to_string(d) + ", expected 1 to " +
                                std::to_string(int64_t(1) << 31));
        h.dims.push_back(d);
    }
    // A bound before anything is multiplied further; the size itself is checked against the
    // file by the callers, before (raw) or while (gzip) anything is allocated for it.
    int64_t payload = 1;
    for (auto d : h.dims) {
        if (payload > (int64_t(1) << 40) / d)
            throw DataError(path, 4, "dimensions claim more than 1 TiB of data");
        payload *= d;
    }
    return h;
}

std::string size_mismatch(const IdxHeader &h, bool gz, int64_t have) {
    std::string dims;
    for (auto d : h.dims) dims += (dims.empty() ? "" : "x") + std::to_string(d);
    return "header claims " + dims + " = " + std::to_string(h.count()) + " bytes of data, but the file " +
           (gz ? "decompresses to " : "holds ") + std::to_string(have) + " bytes after the header";
}

// The payload size must be what the header claims: for a raw file its size on disk says so;
// a gzip file is inflated to the end (its trailer's size field is not evidence).
void check_payload_size(Source &src, const IdxHeader &h, const std::string &path) {
    const int64_t have = src.gz() ? src.count_rest("data") : src.stored_size() - h.header_bytes;
    if (have != h.count()) throw DataError(path, h.header_bytes, size_mismatch(h, src.gz(), have));
}

// The data of a gzip file, in pieces that grow with what really inflates: the header alone
// never sizes an allocation.
void read_gz_payload(Source &src, const IdxHeader &h, const std::string &path, std::vector<uint8_t> &data) {
    const int64_t want = h.count();
    data.clear();
    data.reserve(size_t(std::min<int64_t>(want, std::max<int64_t>(src.stored_size(), 1 << 20))));
    int64_t got = 0;
    while (got < want) {
        const int64_t chunk = std::min<int64_t>(want - got, std::max<int64_t>(got, 1 << 20));
        data.resize(size_t(got + chunk));
        const int64_t r = src.read_upto(data.data() + got, chunk, "data");
        got += r;
        if (r < chunk) throw DataError(path, h.header_bytes, size_mismatch(h, true, got));
    }
    if (const int64_t extra = src.count_rest("data"); extra > 0)
        throw DataError(path, h.header_bytes, size_mismatch(h, true, got + extra));
}

}  // namespace

IdxHeader read_idx_header(const std::string &path) {
    Source src(path);
    IdxHeader h = parse_header(src, path);
    check_payload_size(src, h, path);
    return h;
}

IdxArray read_idx(const std::string &path) {
    Source src(path);
    IdxArray a;
    a.header = parse_header(src, path);
    if (src.gz()) {
        read_gz_payload(src, a.header, path, a.data);
        return a;
    }
    check_payload_size(src, a.header, path);
    a.data.resize(size_t(a.header.count()));
    src.read(a.data.data(), int64_t(a.data.size()), "data");
    return a;
}

void write_idx(const std::string &path, const std::vector<int64_t> &dims, const uint8_t *data) {
    std::string bytes;
    bytes += std::string("\0\0\x08", 3);
    bytes += char(dims.size());
    int64_t count = 1;
    for (auto d : dims) {
        for (int s = 24; s >= 0; s -= 8) bytes += char((d >> s) & 0xff);
        count *= d;
    }
    bytes.append(reinterpret_cast<const char *>(data), size_t(count));
    if (is_gz(path)) bytes = gzip_bytes(bytes);
    write_file_atomic(path, bytes);
}

void image_dims(const std::string &path, const IdxHeader &h, int64_t &n, int64_t &hh, int64_t &w, int64_t &c) {
    if (h.dims.size() < 3)
        throw DataError(path, 3, "expected images (N x H x W or N x H x W x C), got " +
                                     std::to_string(h.dims.size()) + " dimension(s)");
    n = h.dims[0], hh = h.dims[1], w = h.dims[2], c = h.dims.size() == 4 ? h.dims[3] : 1;
}

void check_label_dims(const std::string &labels, const IdxHeader &lh, int64_t n_images, const std::string &images) {
    const auto &ld = lh.dims;
    if (ld.size() == 1 && ld[0] == n_images) return;
    std::string got = ld.empty() ? "0" : std::to_string(ld[0]);
    for (size_t i = 1; i < ld.size(); ++i) got += "x" + std::to_string(ld[i]);
    throw DataError(labels, ld.size() != 1 ? 3 : 4,
                    "expected " + std::to_string(n_images) + " labels (one per image in " + images + "), got " +
                        (ld.size() != 1 ? "an array of " + got : got));
}

Dataset load_dataset(const std::string &images, const std::string &labels) {
    Dataset ds;
    ds.path = images;
    IdxArray a = read_idx(images);
    image_dims(images, a.header, ds.n, ds.h, ds.w, ds.c);
    ds.pixels = std::move(a.data);
    if (!labels.empty()) {
        IdxArray l = read_idx(labels);
        check_label_dims(labels, l.header, ds.n, images);
        ds.labels = std::move(l.data);
    }
    return ds;
}

std::string label_set(const std::vector<uint8_t> &labels) {
    bool seen[256] = {};
    for (uint8_t l : labels) seen[l] = true;
    std::string s;
    for (int v = 0; v < 256; ++v)
        if (seen[v]) s += (s.empty() ? "" : ", ") + std::to_string(v);
    return s.empty() ? "none" : s;
}

void keep_classes(Dataset &ds, const std::vector<int64_t> &classes, const std::string &labels_path) {
    if (ds.labels.empty())
        throw DataError(ds.path, "'classes' keeps samples by label, but no labels file was given for these images");
    if (classes.empty()) throw DataError(labels_path, "'classes' is empty: it would keep no sample");
    bool keep[256] = {};
    for (int64_t c : classes) {
        if (c < 0 || c > 255 ||
            std::find(ds.labels.begin(), ds.labels.end(), uint8_t(c)) == ds.labels.end())
            throw DataError(labels_path, "'classes' names label " + std::to_string(c) +
                                             ", which no sample has (labels present: " + label_set(ds.labels) + ")");
        keep[c] = true;
    }
    const int64_t dim = ds.dim();
    int64_t m = 0;
    for (int64_t i = 0; i < ds.n; ++i) {
        if (!keep[ds.labels[size_t(i)]]) continue;
        if (m != i) std::copy_n(ds.image(i), dim, ds.pixels.begin() + m * dim);
        ds.labels[size_t(m++)] = ds.labels[size_t(i)];
    }
    ds.n = m;
    ds.pixels.resize(size_t(m * dim));
    ds.labels.resize(size_t(m));
}

}  // namespace aepipe
