// Anomaly-detection figures from per-sample scores (higher = more anomalous) and which samples
// are anomalies. Definitions follow scikit-learn's, so figures compare with Python baselines:
//   ROC AUC: the Mann-Whitney statistic, P(score of an anomaly > score of a normal sample)
//            + 1/2 P(equal), from midranks (ties count half);
//   average precision: sum over distinct thresholds (descending) of (R_t - R_{t-1}) * P_t,
//            tied scores forming one threshold (sklearn.metrics.average_precision_score);
//   percentile: linear interpolation between order statistics (numpy.percentile's default).
#pragma once

#include <cstdint>
#include <vector>

namespace aepipe {

// RuntimeError when there is no anomaly or no normal sample (the figure is undefined), or when
// a score is NaN (also for percentile).
double roc_auc(const std::vector<double> &scores, const std::vector<bool> &anomaly);
double average_precision(const std::vector<double> &scores, const std::vector<bool> &anomaly);
// p in [0, 100]; RuntimeError on an empty list.
double percentile(std::vector<double> values, double p);

// Samples flagged as anomalies: score > threshold.
struct Detection {
    int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0.0; }
    double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0.0; }
};
Detection detect(const std::vector<double> &scores, const std::vector<bool> &anomaly, double threshold);

// Mean square of the residual a - b of one h x w x c image (NHWC) after a box blur: each
// residual becomes the mean over the (2 radius + 1)^2 window around it, clipped to the image.
// Blurring keeps errors that cover a region (a wrong shape) and averages away pixel-level
// ones (texture, edges off by a pixel), which any class reconstructs imperfectly.
// radius 0 is the plain MSE per element.
double blurred_mse(int64_t h, int64_t w, int64_t c, const float *a, const float *b, int64_t radius);

}  // namespace aepipe
