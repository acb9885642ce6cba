// bf16 copies of f32 tensors for the layers that run their matmul / convolution in bf16
// (train.precision: bf16): a oneDNN reorder per batch size into one buffer allocated for the
// largest batch, so a step converts but never allocates.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "pipeline/dnnl_ctx.hpp"

namespace aepipe {

// rows x width f32 values -> bf16, for any number of rows up to the largest prepared.
class Bf16Copy {
public:
    explicit Bf16Copy(int64_t width) : width_(width) {}
    // Builds the reorder for `rows` once and grows the buffer; returns the scratchpad bytes.
    size_t prepare(int64_t rows);
    // Converts rows x width values of src; returns the bf16 copy.
    const void *convert(int64_t rows, const float *src, void *scratch);
    // The copy made by the last convert().
    const void *data() const { return buf_.data(); }

private:
    int64_t width_;
    std::map<int64_t, Exec> execs_;
    std::vector<uint16_t> buf_;  // bf16 bit patterns
};

}  // namespace aepipe
