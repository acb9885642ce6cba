// Peak signal-to-noise ratio of images in raw pixel space [0, 1] (peak 1):
//   psnr_db = 10 log10(1 / mse), capped at kMaxPsnrDb (identical images).
// unit_sse maps both model-space arrays to [0, 1] with the normalizer (a clipped to the valid
// range, as an image of it would be) and sums the squared differences.
#pragma once

#include <cstdint>

#include "nodes/data/normalize.hpp"

namespace aepipe {

constexpr double kMaxPsnrDb = 100.0;
double psnr_db(double mse);
// sum_i (clip(to_unit(a_i), 0, 1) - to_unit(b_i))^2
double unit_sse(int64_t count, const float *a, const float *b, const Normalizer &norm);

}  // namespace aepipe
