#include "formats/safetensors.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>
#include <nlohmann/json.hpp>

#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"

namespace aepipe {

using json = nlohmann::json;

std::string encode_safetensors(const StFile &f) {
    json h = json::object();
    uint64_t off = 0;
    for (const auto &[name, t] : f.tensors) {
        uint64_t bytes = t.data.size() * sizeof(float);
        h[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {off, off + bytes}}};
        off += bytes;
    }
    if (!f.metadata.empty()) h["__metadata__"] = f.metadata;
    std::string hs = h.dump();
    while ((hs.size() + 8) % 8) hs += ' ';  // align the data to 8 bytes
    std::string out(8, '\0');
    uint64_t n = hs.size();
    for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
    out += hs;
    for (const auto &[name, t] : f.tensors)
        out.append(reinterpret_cast<const char *>(t.data.data()), t.data.size() * sizeof(float));
    return out;
}

void write_safetensors(const std::string &path, const StFile &f) { write_file_atomic(path, encode_safetensors(f)); }

namespace {

struct Span {
    uint64_t begin, end;
    std::string name;
};

// As the format defines it (and safetensors' own loader checks): the tensors tile the data
// exactly, each beginning where the one before it (by offset) ends, with no overlap, no hole
// and no byte left over. Two tensors sharing bytes would alias weights silently.
void check_layout(const std::string &path, std::vector<Span> spans, uint64_t data_start, uint64_t data_size) {
    std::sort(spans.begin(), spans.end(),
              [](const Span &a, const Span &b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    uint64_t at = 0;
    const Span *prev = nullptr;
    auto range = [](const Span &s) { return "[" + std::to_string(s.begin) + ", " + std::to_string(s.end) + "]"; };
    for (const Span &s : spans) {
        if (s.begin < at)
            throw DataError(path, int64_t(data_start + s.begin),
                            "tensor '" + s.name + "': data_offsets " + range(s) + " overlap tensor '" + prev->name +
                                "' " + range(*prev) + " (each tensor needs bytes of its own)");
        if (s.begin > at)
            throw DataError(path, int64_t(data_start + at),
                            "tensor '" + s.name + "': data_offsets " + range(s) + " leave bytes [" +
                                std::to_string(at) + ", " + std::to_string(s.begin) +
                                ") of the data to no tensor (the tensors must follow each other without gaps)");
        at = s.end;
        prev = &s;
    }
    if (at != data_size)
        throw DataError(path, int64_t(data_start + at),
                        std::to_string(data_size - at) + " bytes after the last tensor" +
                            (prev ? " ('" + prev->name + "')" : "") + " belong to no tensor");
}

// Weights are finite: a NaN or Inf would be written through to every output made from them.
void check_finite(const std::string &path, const std::string &name, const std::vector<float> &v, uint64_t at) {
    for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
            throw DataError(path, int64_t(at + i * sizeof(float)),
                            "tensor '" + name + "': value " + std::to_string(i) + " is " +
                                (std::isnan(v[i]) ? "NaN" : v[i] > 0 ? "+Inf" : "-Inf") +
                                " (weights must be finite numbers)");
}

}  // namespace

StFile read_safetensors(const std::string &path) {
    std::string b = read_file(path, "a safetensors file");
    if (b.size() < 8) throw DataError(path, 0, "too short for a safetensors file (no 8-byte header length)");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(b[size_t(i)])) << (8 * i);
    if (n > b.size() - 8) throw DataError(path, 0, "header length " + std::to_string(n) + " exceeds the file size");
    json h;
    try {
        h = json::parse(b.begin() + 8, b.begin() + 8 + int64_t(n));
    } catch (const json::parse_error &e) {
        throw DataError(path, 8 + int64_t(e.byte) - 1, std::string("malformed JSON header: ") + e.what());
    }
    if (!h.is_object()) throw DataError(path, 8, "the header must be a JSON object");
    StFile f;
    std::vector<Span> spans;
    const uint64_t data_start = 8 + n, data_size = b.size() - data_start;
    for (auto it = h.begin(); it != h.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it->is_object()) throw DataError(path, 8, "__metadata__ must be an object");
            for (auto m = it->begin(); m != it->end(); ++m)
                f.metadata[m.key()] = m->is_string() ? m->get<std::string>() : m->dump();
            continue;
        }
        const json &t = *it;
        auto bad = [&](const std::string &why) { throw DataError(path, 8, "tensor '" + it.key() + "': " + why); };
        if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
            bad("needs dtype, shape and data_offsets");
        if (t["dtype"] != "F32") bad("dtype " + t["dtype"].dump() + " is not supported (F32 only)");
        StTensor st;
        uint64_t count = 1;
        if (!t["shape"].is_array()) bad("shape must be a list");
        for (const auto &d : t["shape"]) {
            if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t(1) << 32)) bad("bad dimension " + d.dump());
            const uint64_t dim = d.get<uint64_t>();
            st.shape.push_back(int64_t(dim));
            // Checked before multiplying, so the product cannot wrap round to a small number.
            if (dim != 0 && count > data_size / sizeof(float) / dim) bad("shape is larger than the file's data");
            count *= dim;
        }
        const json &o = t["data_offsets"];
        if (!o.is_array() || o.size() != 2 || !o[0].is_number_unsigned() || !o[1].is_number_unsigned())
            bad("data_offsets must be [begin, end]");
        uint64_t b0 = o[0], b1 = o[1];
        if (b0 > b1 || b1 > data_size)
            throw DataError(path, int64_t(data_start + std::min(b0, data_size)),
                            "tensor '" + it.key() + "': data_offsets [" + std::to_string(b0) + ", " +
                                std::to_string(b1) + "] outside the " + std::to_string(data_size) + " data bytes");
        if (b1 - b0 != count * sizeof(float)) bad("data_offsets do not match the shape");
        st.data.resize(count);
        if (count) std::memcpy(st.data.data(), b.data() + data_start + b0, b1 - b0);
        check_finite(path, it.key(), st.data, data_start + b0);
        spans.push_back({b0, b1, it.key()});
        f.tensors[it.key()] = std::move(st);
    }
    check_layout(path, spans, data_start, data_size);
    return f;
}

}  // namespace aepipe
