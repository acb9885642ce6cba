// Finite-difference gradient checks for layers, losses and whole models.
//
// Objective for a layer: L = sum_i r_i y_i with a fixed random r, so dL/dy = r and every
// output element is weighted differently (a transposed or permuted gradient cannot pass).
// Numeric derivatives are central differences: each input element or parameter is moved by
// +-eps in float, the objective is summed in double from the float outputs, and the step
// actually taken (float(v+eps) - float(v-eps)) is the denominator.
// An element passes when |analytic - numeric| <= tol * max(|analytic|, |numeric|, 1); a
// failure names the tensor, the index (with its row/column) and both values.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nodes/nn/layer.hpp"
#include "nodes/nn/loss.hpp"

namespace aepipe::test {

struct GradCheckOptions {
    // eps 1e-2 suits float32 forward passes: truncation error ~eps^2 f'''/6 stays near 1e-5,
    // while float rounding of the outputs divided by 2 eps stays below 1e-5 too.
    double eps = 1e-2;
    double tol = 1e-3;
    uint64_t seed = 7;   // seeds r
    int max_report = 8;  // failures printed per tensor
};

// "[7] (row 1, col 2)" for element 7 of a tensor of this row-major shape.
std::string index_str(int64_t i, const std::vector<int64_t> &shape);

// actual[i] against expected[i] with the tolerance rule above, for every element.
testing::AssertionResult all_close(const std::string &tensor, const std::vector<int64_t> &shape, const float *actual,
                                   const double *expected, double tol, int max_report = 8);

// Central differences of objective() with respect to each element of v (moved in place and
// restored), compared with analytic[i].
testing::AssertionResult check_numeric(const std::string &tensor, const std::vector<int64_t> &shape, float *v,
                                       const float *analytic, const std::function<double()> &objective,
                                       const GradCheckOptions &opt = {});

// Every gradient of a layer at batch n: dx and each of its parameters (params() views of w).
// Fills dx and the parameter gradients with NaN first, so an element the backward pass
// forgets to write (or accumulates into) fails.
testing::AssertionResult check_layer(Layer &layer, int64_t n, std::vector<float> x, std::vector<float> w,
                                     const GradCheckOptions &opt = {});

// dL/dy of a loss at (y, t), y of shape (n, d). The objective is the summed loss
// (count * mean), so gradients are O(1) and the floor of 1 in the tolerance hides nothing.
testing::AssertionResult check_loss(const Loss &loss, int64_t n, int64_t d, std::vector<float> y,
                                    const std::vector<float> &t, const GradCheckOptions &opt = {});

}  // namespace aepipe::test
