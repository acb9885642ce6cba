#include "nodes/sink/npy.hpp"

#include <bit>
#include <cstring>

#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"

namespace aepipe {

static_assert(std::endian::native == std::endian::little, ".npy data is written as the host's bytes ('<')");

std::string npy_header(const std::string &descr, const std::vector<int64_t> &shape) {
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ",";  // Python's one-element tuple
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    // magic (6) + version (2) + length (2) + dict + padding + '\n' is a multiple of 64.
    const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64, len = total - 10;
    if (len > 0xffff) throw RuntimeError(".npy header of " + std::to_string(len) + " bytes does not fit version 1.0");
    dict.append(len - dict.size() - 1, ' ');
    dict += '\n';
    std::string h = "\x93NUMPY";
    h += char(1), h += char(0), h += char(len & 0xff), h += char(len >> 8);
    return h + dict;
}

void write_npy(const std::string &path, int64_t rows, int64_t cols, const float *data) {
    std::string bytes = npy_header("<f4", {rows, cols});
    bytes.append(reinterpret_cast<const char *>(data), size_t(rows * cols) * sizeof(float));
    write_file_atomic(path, bytes);
}

void write_npy_labels(const std::string &path, const std::vector<int64_t> &labels) {
    std::string bytes = npy_header("<i8", {int64_t(labels.size())});
    bytes.append(reinterpret_cast<const char *>(labels.data()), labels.size() * sizeof(int64_t));
    write_file_atomic(path, bytes);
}

}  // namespace aepipe
