#include "nodes/nn/psnr.hpp"

#include <algorithm>
#include <cmath>

namespace aepipe {

double psnr_db(double mse) {
    if (std::isnan(mse)) return mse;
    if (mse <= 0) return kMaxPsnrDb;
    return std::min(kMaxPsnrDb, 10.0 * std::log10(1.0 / mse));
}

double unit_sse(int64_t count, const float *a, const float *b, const Normalizer &norm) {
    double s = 0;
    for (int64_t i = 0; i < count; ++i) {
        double e = double(std::clamp(norm.to_unit(a[i]), 0.f, 1.f)) - double(norm.to_unit(b[i]));
        s += e * e;
    }
    return s;
}

}  // namespace aepipe
