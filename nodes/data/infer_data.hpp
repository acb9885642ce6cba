// The data that `aepipe encode` and `aepipe score` run a trained model on:
//   - an IDX image file; labels from --labels, else the file beside it named as MNIST's are
//     (...-images-idx3-ubyte[.gz] -> ...-labels-idx1-ubyte[.gz], "images" -> "labels") when there is one;
//   - a folder of PNGs (sorted by name), each prepared as `aepipe reconstruct` prepares it;
//   - "" : the run's own test set as its test reader read it (the model card names the images,
//     the labels and the reader's `classes` filter).
// The images must have the model's input shape; every file is read and checked before any
// output is written.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/image_prep.hpp"
#include "nodes/sink/model_card.hpp"

namespace aepipe {

struct InferData {
    std::string source;         // what was read, for messages and reports
    std::string labels_source;  // "" when there are no labels
    bool pngs = false;          // a folder of PNGs (which has no labels)
    int64_t n = 0;
    Shape shape;                   // one sample (the model's input)
    std::vector<uint8_t> pixels;   // N x shape.size() bytes, channels last
    std::vector<int64_t> labels;   // N labels, or empty
    int64_t dim() const { return shape.size(); }
};

InferData load_infer_data(const std::string &data, const std::string &labels, const ModelCard &card,
                          const PrepOptions &prep = {});

// The distinct labels as text: "0, 1, 2".
std::string labels_text(const std::vector<int64_t> &labels);

// Runs `f(first_row, rows, model_inputs)` over the data in batches of up to `batch` rows, the
// pixels normalised as in training.
template <class F>
void for_batches(const InferData &d, const Normalizer &norm, int64_t batch, F &&f) {
    std::vector<float> x(size_t(std::min(batch, d.n) * d.dim()));  // --batch may exceed the data
    for (int64_t b = 0; b < d.n; b += batch) {
        const int64_t rows = std::min(batch, d.n - b);
        norm.apply(d.pixels.data() + b * d.dim(), rows * d.dim(), x.data());
        f(b, rows, x.data());
    }
}

}  // namespace aepipe
