// The training checkpoint format (.ckpt): everything needed to continue a run exactly,
// in one self-checking file. Little-endian:
//
//   offset 0   8 bytes  magic "AEPCKPT\0"
//          8   u32      version (1)
//         12   u32      0 (reserved)
//         16   u64      H: header bytes
//         24   u64      D: data bytes
//         32   H bytes  header: JSON {"state": {...}, "tensors": [{"name", "shape"}, ...]}
//     32 + H   D bytes  the tensors' f32 values, back to back in header order
//  32 + H + D  u32      crc32 (zlib) of every byte before it
//
// The reader checks the size, magic, version and the checksum before parsing anything, then
// that the tensors fill the data exactly; every error names the path and a byte offset.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace aepipe {

struct CkptTensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

struct CkptFile {
    nlohmann::json state = nlohmann::json::object();
    std::vector<std::pair<std::string, CkptTensor>> tensors;  // file order

    const CkptTensor *find(const std::string &name) const;
    void add(std::string name, std::vector<int64_t> shape, const float *data);
};

constexpr size_t kCkptPrefix = 32;  // magic, version, reserved, H, D

std::string encode_ckpt(const CkptFile &f);
// DataError (path, byte offset) on any damage; allocates no more than bytes.size() justifies.
CkptFile decode_ckpt(const std::string &bytes, const std::string &path);
CkptFile read_ckpt(const std::string &path);
// Atomic (temporary file, fsync, rename, directory fsync): a crash never leaves a torn file.
void write_ckpt(const std::string &path, const CkptFile &f);

}  // namespace aepipe
