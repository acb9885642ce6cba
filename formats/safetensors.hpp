// safetensors files: u64 little-endian header length, a JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}
// then the raw little-endian tensor bytes. Loadable with safetensors.torch / safetensors.numpy.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace aepipe {

struct StTensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

struct StFile {
    std::map<std::string, StTensor> tensors;
    std::map<std::string, std::string> metadata;
};

std::string encode_safetensors(const StFile &f);
void write_safetensors(const std::string &path, const StFile &f);  // atomic
// Checks the header length, JSON, dtypes, shapes and offsets; DataError names path and byte.
StFile read_safetensors(const std::string &path);

}  // namespace aepipe
