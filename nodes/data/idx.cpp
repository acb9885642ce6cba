#include "nodes/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"

namespace aepipe {

namespace fs = std::filesystem;

int64_t IdxHeader::count() const {
    int64_t c = 1;
    for (auto d : dims) c *= d;
    return c;
}

namespace {

bool is_gz(const std::string &path) { return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0; }

// Sequential reader over a raw or gzip file that knows the (uncompressed) payload size.
class Source {
public:
    explicit Source(const std::string &path) : path_(path) {
        std::error_code ec;
        if (!fs::exists(path, ec)) throw DataError(path, "file not found");
        if (fs::is_directory(path, ec)) throw DataError(path, "is a directory, expected an IDX file");
        if (is_gz(path)) {
            FILE *f = std::fopen(path.c_str(), "rb");
            if (!f) throw DataError(path, "cannot open");
            // ISIZE: the last 4 bytes of a gzip member hold the uncompressed size mod 2^32.
            unsigned char t[4] = {0, 0, 0, 0}, m[2] = {0, 0};
            long fsz = (std::fseek(f, 0, SEEK_END) == 0) ? std::ftell(f) : -1;
            bool ok = fsz >= 18 && std::fseek(f, -4, SEEK_END) == 0 && std::fread(t, 1, 4, f) == 4 &&
                      std::fseek(f, 0, SEEK_SET) == 0 && std::fread(m, 1, 2, f) == 2;
            std::fclose(f);
            if (!ok) throw DataError(path, 0, "too short to be a gzip file");
            // zlib would read a non-gzip file as is ("transparent" mode); a .gz name promises gzip.
            if (m[0] != 0x1f || m[1] != 0x8b)
                throw DataError(path, 0,
                                "not a gzip file: the name ends in .gz, but the file does not start with the gzip "
                                "magic 1f 8b");
            size_ = int64_t(t[0]) | int64_t(t[1]) << 8 | int64_t(t[2]) << 16 | int64_t(t[3]) << 24;
            stored_ = int64_t(fsz);
            gz_ = gzopen(path.c_str(), "rb");
            if (!gz_) throw DataError(path, "cannot open");
            gzbuffer(gz_, 1 << 18);
        } else {
            size_ = stored_ = int64_t(fs::file_size(path, ec));
            raw_ = std::fopen(path.c_str(), "rb");
            if (!raw_) throw DataError(path, "cannot open");
        }
    }
    ~Source() {
        if (gz_) gzclose(gz_);
        if (raw_) std::fclose(raw_);
    }
    int64_t size() const { return size_; }  // exact for raw; mod 2^32 for gzip
    int64_t stored_size() const { return stored_; }  // bytes on disk
    bool gz() const { return gz_ != nullptr; }
    // Reads n bytes; a short read is an error at the current offset.
    void read(void *dst, int64_t n, const char *what) {
        int64_t got = 0;
        while (got < n) {
            int64_t want = std::min<int64_t>(n - got, 1 << 30);
            int64_t r = gz_ ? gzread(gz_, static_cast<char *>(dst) + got, unsigned(want))
                            : int64_t(std::fread(static_cast<char *>(dst) + got, 1, size_t(want), raw_));
            if (r < 0)
                throw DataError(path_, pos_ + got, "corrupt gzip data (" + gz_message() + ") while reading " + what);
            if (r == 0) break;
            got += r;
        }
        if (got < n)
            throw DataError(path_, pos_ + got,
                            std::string("file ends early: expected ") + std::to_string(n) + " bytes of " + what +
                                " from byte " + std::to_string(pos_) + ", got " + std::to_string(got));
        pos_ += n;
    }
    // True at the end of the data; a damaged gzip trailer (CRC, length) shows up here.
    bool at_end() {
        char c;
        if (!gz_) return std::fread(&c, 1, 1, raw_) == 0;
        int r = gzread(gz_, &c, 1);
        if (r < 0) throw DataError(path_, pos_, "corrupt gzip data (" + gz_message() + ") after the data");
        return r == 0;
    }
    int64_t pos() const { return pos_; }

private:
    // zlib's message without the "PATH: " it puts in front.
    std::string gz_message() {
        int err = 0;
        std::string msg = gzerror(gz_, &err);
        return msg.rfind(path_ + ": ", 0) == 0 ? msg.substr(path_.size() + 2) : msg;
    }
    std::string path_;
    gzFile gz_ = nullptr;
    FILE *raw_ = nullptr;
    int64_t size_ = 0, stored_ = 0, pos_ = 0;
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
    // The payload must fit the file: no allocation is trusted to a header alone.
    int64_t payload = 1;
    for (auto d : h.dims) {
        if (payload > (int64_t(1) << 40) / d)
            throw DataError(path, 4, "dimensions claim more than 1 TiB of data");
        payload *= d;
    }
    int64_t want = h.header_bytes + payload, have = src.size();
    bool fits = src.gz() ? (want & 0xffffffffLL) == have : want == have;
    std::string dims;
    for (auto d : h.dims) dims += (dims.empty() ? "" : "x") + std::to_string(d);
    const std::string claim = "header claims " + dims + " = " + std::to_string(payload) + " bytes of data, ";
    if (!fits)
        throw DataError(path, h.header_bytes,
                        claim + "but the file " + (src.gz() ? "decompresses to " : "holds ") +
                            std::to_string(have - h.header_bytes) + " bytes after the header");
    // The gzip trailer holds the size mod 2^32 only, so a header claiming 2^32 more would pass
    // the check above; deflate expands at most 1032:1, which bounds what the file can hold.
    if (src.gz() && want > src.stored_size() * 1032)
        throw DataError(path, h.header_bytes,
                        claim + "more than a gzip file of " + std::to_string(src.stored_size()) + " bytes can hold");
    return h;
}

}  // namespace

IdxHeader read_idx_header(const std::string &path) {
    Source src(path);
    return parse_header(src, path);
}

IdxArray read_idx(const std::string &path) {
    Source src(path);
    IdxArray a;
    a.header = parse_header(src, path);
    a.data.resize(size_t(a.header.count()));
    src.read(a.data.data(), int64_t(a.data.size()), "data");
    if (!src.at_end()) throw DataError(path, src.pos(), "unexpected bytes after the data");
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

Dataset load_dataset(const std::string &images, const std::string &labels) {
    Dataset ds;
    ds.path = images;
    IdxArray a = read_idx(images);
    image_dims(images, a.header, ds.n, ds.h, ds.w, ds.c);
    ds.pixels = std::move(a.data);
    if (!labels.empty()) {
        IdxArray l = read_idx(labels);
        const auto &ld = l.header.dims;
        if (ld.size() != 1 || ld[0] != ds.n) {
            std::string got = std::to_string(ld[0]);
            for (size_t i = 1; i < ld.size(); ++i) got += "x" + std::to_string(ld[i]);
            throw DataError(labels, ld.size() != 1 ? 3 : 4,
                            "expected " + std::to_string(ds.n) + " labels (one per image in " + images + "), got " +
                                (ld.size() != 1 ? "an array of " + got : got));
        }
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
