// The latent space as a picture: codes (N, K) as a 2-D scatter coloured by label. A 2-D code is
// drawn as it is; a wider one through its first two principal components (the caption says so),
// a 1-D one against zero. Standalone SVG, for `aepipe encode` and the run report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aepipe {

// The first two principal axes of rows (N, K), K >= 2: centred, covariance (K x K) in double,
// power iteration with deflation. Axes are unit length, signed so that their largest component
// is positive; `variance` holds the variance along each, `total` the total variance.
struct Pca2 {
    std::vector<double> mean, axis[2];
    double variance[2] = {0, 0}, total = 0;
};
Pca2 pca_2d(const float *rows, int64_t n, int64_t k);
// Rows projected onto the two axes: (N, 2).
std::vector<double> pca_project(const Pca2 &p, const float *rows, int64_t n, int64_t k);

// The scatter of codes; labels may be empty (one colour). At most `max_points` are drawn
// (an even stride through the data; the caption gives the count).
struct LatentPicture {
    std::string svg, caption;
};
LatentPicture latent_svg(const float *codes, int64_t n, int64_t k, const std::vector<int64_t> &labels,
                         const std::string &title, int64_t max_points = 2000);

// The run report's latent section: RUN/latent.svg inline with the caption in RUN/latent.txt
// (both written by nodes/sink/latent_report.hpp at the end of a run); "" when there is none.
std::string latent_section(const std::string &run_dir);

}  // namespace aepipe
