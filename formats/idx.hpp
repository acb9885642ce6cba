// IDX files (the MNIST format), raw or gzip-compressed: u8 arrays with big-endian dims.
//   magic: 0x00 0x00 0x08 ndims; then ndims u32 big-endian sizes; then the bytes.
// Everything is checked against the file's real size before anything is allocated (a raw
// file's size on disk; for gzip, what really inflates: every member, never the trailer's
// size field). Only regular files are opened (pipeline/file_io.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aepipe {

struct IdxHeader {
    std::vector<int64_t> dims;
    int64_t header_bytes = 0;
    int64_t count() const;  // product of dims
};

struct IdxArray {
    IdxHeader header;
    std::vector<uint8_t> data;
};

// Reads and checks the header only (and the file's payload size). Throws DataError.
IdxHeader read_idx_header(const std::string &path);
IdxArray read_idx(const std::string &path);
// Writes an IDX u8 file; gzip-compressed when the path ends in .gz.
void write_idx(const std::string &path, const std::vector<int64_t> &dims, const uint8_t *data);

// A set of images (N, H, W, C) u8, channels last, with optional labels.
struct Dataset {
    std::string path;
    int64_t n = 0, h = 0, w = 0, c = 1;
    std::vector<uint8_t> pixels;
    std::vector<uint8_t> labels;  // empty when no labels file was given
    int64_t dim() const { return h * w * c; }
    const uint8_t *image(int64_t i) const { return pixels.data() + i * dim(); }
};

// Image dims of an IDX header: [n,h,w] or [n,h,w,c]; throws DataError otherwise.
void image_dims(const std::string &path, const IdxHeader &h, int64_t &n, int64_t &hh, int64_t &w, int64_t &c);
// Labels must be one u8 per image: a DataError naming both files otherwise.
void check_label_dims(const std::string &labels, const IdxHeader &lh, int64_t n_images, const std::string &images);
Dataset load_dataset(const std::string &images, const std::string &labels);

// Keeps only the samples whose label is in `classes`, in their order (idx_reader's `classes`).
// Throws DataError naming the labels file when the dataset has no labels, `classes` is empty,
// or a class has no sample (the labels present are listed).
void keep_classes(Dataset &ds, const std::vector<int64_t> &classes, const std::string &labels_path);
// The distinct labels of a dataset as text: "0, 1, 2" (for messages).
std::string label_set(const std::vector<uint8_t> &labels);

}  // namespace aepipe
