#include "nodes/sink/safetensors.hpp"

#include <cstring>
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

StFile read_safetensors(const std::string &path) {
    std::string b = read_file(path);
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
        std::memcpy(st.data.data(), b.data() + data_start + b0, b1 - b0);
        f.tensors[it.key()] = std::move(st);
    }
    return f;
}

}  // namespace aepipe
