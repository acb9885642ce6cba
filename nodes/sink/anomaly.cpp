#include "nodes/sink/anomaly.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "pipeline/error.hpp"

namespace aepipe {

namespace {

// NaN compares unequal to itself and unordered to everything: the tie loops below would never
// advance and a sort would be undefined, so NaN is refused (inf orders and ties as it should).
void check_not_nan(const std::vector<double> &scores, const char *what) {
    for (size_t i = 0; i < scores.size(); ++i)
        if (std::isnan(scores[i]))
            throw RuntimeError(std::string(what) + ": the score of sample " + std::to_string(i) + " is NaN");
}

void check(const std::vector<double> &scores, const std::vector<bool> &anomaly, const char *what) {
    check_not_nan(scores, what);
    if (scores.size() != anomaly.size())
        throw RuntimeError(std::string(what) + ": " + std::to_string(scores.size()) + " scores but " +
                           std::to_string(anomaly.size()) + " labels");
    const auto pos = std::count(anomaly.begin(), anomaly.end(), true);
    if (pos == 0 || pos == int64_t(anomaly.size()))
        throw RuntimeError(std::string(what) + " needs both normal samples and anomalies; the data has " +
                           (pos == 0 ? "no anomaly" : "no normal sample"));
}

// Sample indices by score, descending (stable: equal scores keep input order).
std::vector<size_t> by_score_desc(const std::vector<double> &s) {
    std::vector<size_t> idx(s.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
    return idx;
}

}  // namespace

double roc_auc(const std::vector<double> &scores, const std::vector<bool> &anomaly) {
    check(scores, anomaly, "ROC AUC");
    std::vector<size_t> idx = by_score_desc(scores);
    std::reverse(idx.begin(), idx.end());  // ascending
    double rank_sum = 0, pos = 0;
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) ++j;
        const double midrank = (double(i + 1) + double(j)) / 2;  // ranks i+1 .. j share their mean
        for (size_t k = i; k < j; ++k)
            if (anomaly[idx[k]]) rank_sum += midrank, ++pos;
        i = j;
    }
    const double neg = double(scores.size()) - pos;
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double average_precision(const std::vector<double> &scores, const std::vector<bool> &anomaly) {
    check(scores, anomaly, "average precision");
    const std::vector<size_t> idx = by_score_desc(scores);
    const double pos = double(std::count(anomaly.begin(), anomaly.end(), true));
    double tp = 0, seen = 0, ap = 0, prev_recall = 0;
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        for (; j < idx.size() && scores[idx[j]] == scores[idx[i]]; ++j) tp += anomaly[idx[j]] ? 1 : 0, ++seen;
        const double recall = tp / pos;
        ap += (recall - prev_recall) * (tp / seen);
        prev_recall = recall;
        i = j;
    }
    return ap;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) throw RuntimeError("percentile of no values");
    check_not_nan(v, "percentile");
    std::sort(v.begin(), v.end());
    const double pos = std::clamp(p, 0.0, 100.0) / 100 * double(v.size() - 1);
    const size_t lo = size_t(pos), hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

Detection detect(const std::vector<double> &scores, const std::vector<bool> &anomaly, double threshold) {
    Detection d;
    for (size_t i = 0; i < scores.size(); ++i) {
        const bool flagged = scores[i] > threshold;
        (anomaly[i] ? (flagged ? d.tp : d.fn) : (flagged ? d.fp : d.tn)) += 1;
    }
    return d;
}

double blurred_mse(int64_t h, int64_t w, int64_t c, const float *a, const float *b, int64_t radius) {
    // Summed-area table of the residual, per channel: each window's sum in four look-ups.
    std::vector<double> sat(size_t((h + 1) * (w + 1) * c), 0.0);
    auto at = [&](int64_t i, int64_t j, int64_t k) -> double & { return sat[size_t((i * (w + 1) + j) * c + k)]; };
    for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j)
            for (int64_t k = 0; k < c; ++k) {
                const int64_t p = (i * w + j) * c + k;
                at(i + 1, j + 1, k) = double(a[p]) - double(b[p]) + at(i, j + 1, k) + at(i + 1, j, k) - at(i, j, k);
            }
    double sum = 0;
    for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) {
            const int64_t i0 = std::max<int64_t>(0, i - radius), i1 = std::min(h, i + radius + 1);
            const int64_t j0 = std::max<int64_t>(0, j - radius), j1 = std::min(w, j + radius + 1);
            const double cells = double((i1 - i0) * (j1 - j0));
            for (int64_t k = 0; k < c; ++k) {
                const double m = (at(i1, j1, k) - at(i0, j1, k) - at(i1, j0, k) + at(i0, j0, k)) / cells;
                sum += m * m;
            }
        }
    return sum / double(h * w * c);
}

}  // namespace aepipe
