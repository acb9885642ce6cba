#include "formats/ckpt_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"

namespace aepipe {

static const char kMagic[8] = {'A', 'E', 'P', 'C', 'K', 'P', 'T', '\0'};
constexpr uint32_t kVersion = 1;

const CkptTensor *CkptFile::find(const std::string &name) const {
    for (const auto &[n, t] : tensors)
        if (n == name) return &t;
    return nullptr;
}

void CkptFile::add(std::string name, std::vector<int64_t> shape, const float *data) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    tensors.emplace_back(std::move(name), CkptTensor{std::move(shape), std::vector<float>(data, data + n)});
}

template <class T>
static void put(std::string &s, T v) {
    s.append(reinterpret_cast<const char *>(&v), sizeof v);
}
template <class T>
static T get(const std::string &s, size_t at) {
    T v;
    std::memcpy(&v, s.data() + at, sizeof v);
    return v;
}

static uint32_t crc_of(const char *p, size_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {  // zlib takes uInt lengths
        uInt k = uInt(std::min<size_t>(n, 1u << 30));
        c = crc32(c, reinterpret_cast<const Bytef *>(p), k);
        p += k, n -= k;
    }
    return uint32_t(c);
}

std::string encode_ckpt(const CkptFile &f) {
    nlohmann::json h{{"state", f.state}, {"tensors", nlohmann::json::array()}};
    uint64_t data = 0;
    for (const auto &[name, t] : f.tensors) {
        h["tensors"].push_back({{"name", name}, {"shape", t.shape}});
        data += t.data.size() * sizeof(float);
    }
    std::string header = h.dump();
    std::string s;
    s.reserve(kCkptPrefix + header.size() + data + 4);
    s.append(kMagic, 8);
    put<uint32_t>(s, kVersion);
    put<uint32_t>(s, 0);
    put<uint64_t>(s, header.size());
    put<uint64_t>(s, data);
    s += header;
    for (const auto &[name, t] : f.tensors)
        s.append(reinterpret_cast<const char *>(t.data.data()), t.data.size() * sizeof(float));
    put<uint32_t>(s, crc_of(s.data(), s.size()));
    return s;
}

// The tensors of header entries `list`, back to back from byte `at`; they must fill the `db`
// data bytes exactly and hold finite values only (weights and optimizer state: a NaN or Inf
// there would carry on into every step after a resume).
static void read_tensors(const std::string &b, const nlohmann::json &list, uint64_t at, uint64_t db,
                         const std::string &path, CkptFile &f) {
    const uint64_t start = at, end = at + db;
    for (const auto &t : list) {
        if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("shape") ||
            !t["shape"].is_array())
            throw DataError(path, int64_t(kCkptPrefix), "header: a tensor entry needs 'name' and 'shape'");
        const std::string name = t["name"];
        CkptTensor ct;
        uint64_t n = 1;
        for (const auto &d : t["shape"]) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0)
                throw DataError(path, int64_t(kCkptPrefix), "header: tensor '" + name + "' has a bad dimension");
            uint64_t dim = d.get<uint64_t>();
            // Checked against the bytes left before multiplying further: no overflow, no huge alloc.
            if (dim != 0 && n > (end - at) / sizeof(float) / dim)
                throw DataError(path, int64_t(at),
                                "header: tensor '" + name + "' claims more values than the " +
                                    std::to_string(end - at) + " data bytes left");
            n *= dim;
            ct.shape.push_back(int64_t(dim));
        }
        ct.data.resize(n);
        if (n) std::memcpy(ct.data.data(), b.data() + at, n * sizeof(float));  // empty: data() may be null
        for (uint64_t i = 0; i < n; ++i)
            if (!std::isfinite(ct.data[i]))
                throw DataError(path, int64_t(at + i * sizeof(float)),
                                "tensor '" + name + "': value " + std::to_string(i) + " is " +
                                    (std::isnan(ct.data[i]) ? "NaN" : ct.data[i] > 0 ? "+Inf" : "-Inf") +
                                    " (a checkpoint holds finite numbers only)");
        at += n * sizeof(float);
        f.tensors.emplace_back(name, std::move(ct));
    }
    if (at != end)
        throw DataError(path, int64_t(at),
                        "header: the tensors cover " + std::to_string(at - start) + " of the " + std::to_string(db) +
                            " data bytes");
}

CkptFile decode_ckpt(const std::string &b, const std::string &path) {
    const uint64_t size = b.size();
    if (size < kCkptPrefix + 4)
        throw DataError(path, int64_t(size),
                        "truncated: " + std::to_string(size) + " bytes, a checkpoint has at least " +
                            std::to_string(kCkptPrefix + 4));
    if (std::memcmp(b.data(), kMagic, 8) != 0)
        throw DataError(path, 0, "not an aepipe checkpoint (bad magic; expected \"AEPCKPT\\0\")");
    if (uint32_t v = get<uint32_t>(b, 8); v != kVersion)
        throw DataError(path, 8, "unsupported checkpoint version " + std::to_string(v) + " (this aepipe reads " +
                                     std::to_string(kVersion) + ")");
    const uint64_t hb = get<uint64_t>(b, 16), db = get<uint64_t>(b, 24);
    // Compared without overflow: each claimed size must fit in what the file has.
    const uint64_t room = size - kCkptPrefix - 4;
    if (hb > room || db > room - hb)
        throw DataError(path, int64_t(size),
                        "truncated or damaged: the header claims " + std::to_string(hb) + " header bytes and " +
                            std::to_string(db) + " data bytes, but the file has only " + std::to_string(room) +
                            " bytes for them");
    if (hb + db != room)
        throw DataError(path, int64_t(kCkptPrefix + hb + db + 4),
                        std::to_string(room - hb - db) + " unexpected bytes after the checksum");
    const size_t crc_at = size_t(size - 4);
    uint32_t stored = get<uint32_t>(b, crc_at), actual = crc_of(b.data(), crc_at);
    if (stored != actual) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "checksum mismatch (stored %08x, computed %08x): the file is damaged", stored,
                      actual);
        throw DataError(path, int64_t(crc_at), buf);
    }
    CkptFile f;
    nlohmann::json h;
    try {
        h = nlohmann::json::parse(b.begin() + kCkptPrefix, b.begin() + int64_t(kCkptPrefix + hb));
    } catch (const nlohmann::json::parse_error &e) {
        throw DataError(path, int64_t(kCkptPrefix + e.byte), std::string("header is not valid JSON: ") + e.what());
    }
    if (!h.is_object() || !h.contains("state") || !h["state"].is_object() || !h.contains("tensors") ||
        !h["tensors"].is_array())
        throw DataError(path, int64_t(kCkptPrefix), "header must be a JSON object with 'state' and 'tensors'");
    f.state = h["state"];
    read_tensors(b, h["tensors"], kCkptPrefix + hb, db, path, f);
    return f;
}

CkptFile read_ckpt(const std::string &path) { return decode_ckpt(read_file(path, "an aepipe checkpoint (.ckpt)"), path); }

void write_ckpt(const std::string &path, const CkptFile &f) { write_file_atomic(path, encode_ckpt(f)); }

}  // namespace aepipe
