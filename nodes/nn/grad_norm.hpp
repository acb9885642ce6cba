// Gradient checks shared by the training node: the global L2 norm (for clipping and for
// spotting non-finite values in the same pass) and the naming of a non-finite gradient.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nodes/nn/model.hpp"

namespace aepipe {

// Sum of g[i]^2 over [begin, end), accumulated in double (inf/nan propagate).
double sum_squares(const float *g, int64_t begin, int64_t end);

// torch.nn.utils.clip_grad_norm_: the factor min(1, max_norm / (norm + 1e-6)) that scales
// every gradient; 1 when max_norm <= 0 (clipping off).
double clip_coef(double norm, double max_norm);

// "gradient of 'layers.2.weight' is nan at element 17 (of 512)" for the first non-finite
// value of the slab g (n values laid out as `params`); "" when every value is finite.
// The first non-finite element of g[begin, n), named by its parameter tensor.
std::string first_non_finite(const std::vector<NamedParam> &params, const float *g, int64_t n, int64_t begin = 0);

}  // namespace aepipe
