// NumPy .npy files (format version 1.0), as numpy.load reads them:
//   "\x93NUMPY" 0x01 0x00, u16 little-endian header length, then the header - a Python dict
//   literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, K), } padded with spaces and
//   ended by '\n' so that the data starts on a 64-byte boundary - then the values, C order,
//   little-endian. Written atomically (pipeline/file_io.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aepipe {

// The header bytes for `descr` ('<f4', '<i8') and `shape` (one or two dims).
std::string npy_header(const std::string &descr, const std::vector<int64_t> &shape);
// float32 [rows, cols].
void write_npy(const std::string &path, int64_t rows, int64_t cols, const float *data);
// int64 [n] (labels).
void write_npy_labels(const std::string &path, const std::vector<int64_t> &labels);

}  // namespace aepipe
