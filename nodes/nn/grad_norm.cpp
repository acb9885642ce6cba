#include "nodes/nn/grad_norm.hpp"

#include "pipeline/simd.hpp"

#include <algorithm>
#include <cmath>

#include "pipeline/graph.hpp"

namespace aepipe {

AEPIPE_SIMD_CLONES
double sum_squares(const float *g, int64_t begin, int64_t end) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = begin; i < end; ++i) s += double(g[i]) * double(g[i]);
    return s;
}

double clip_coef(double norm, double max_norm) {
    if (max_norm <= 0) return 1.0;
    return std::min(1.0, max_norm / (norm + 1e-6));
}

std::string first_non_finite(const std::vector<NamedParam> &params, const float *g, int64_t n, int64_t begin) {
    for (int64_t i = begin; i < n; ++i) {
        if (std::isfinite(g[i])) continue;
        std::string what = std::isnan(g[i]) ? "nan" : g[i] > 0 ? "inf" : "-inf";
        for (const auto &p : params)
            if (i >= p.offset && i < p.offset + p.size())
                return "gradient of '" + p.name + "' is " + what + " at element " + std::to_string(i - p.offset) +
                       " (of " + std::to_string(p.size()) + ")";
        return "gradient element " + std::to_string(i) + " is " + what;
    }
    return "";
}

}  // namespace aepipe
