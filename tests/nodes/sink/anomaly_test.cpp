// Anomaly figures against values worked out by hand (and equal to scikit-learn's on the same
// inputs): ROC AUC as the Mann-Whitney statistic with ties counting half, average precision
// with tied scores as one threshold, numpy's percentile, precision and recall at a threshold.
#include <gtest/gtest.h>

#include <cmath>

#include "nodes/sink/anomaly.hpp"
#include "pipeline/error.hpp"
#include "support/expect_error.hpp"

namespace aepipe::test {
namespace {

// scikit-learn's documentation example: 3 of the 4 (anomaly, normal) pairs are ordered right.
TEST(Anomaly, RocAucCountsOrderedPairs) {
    EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
    EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.2, 0.3, 0.4}, {false, false, true, true}), 1.0);
    EXPECT_DOUBLE_EQ(roc_auc({0.4, 0.3, 0.2, 0.1}, {false, false, true, true}), 0.0);
}

// Anomalies {0.5, 0.9} against normals {0.5, 0.5}: 0.5 + 0.5 + 1 + 1 over 4 pairs.
TEST(Anomaly, RocAucTiesCountHalf) {
    EXPECT_DOUBLE_EQ(roc_auc({0.5, 0.5, 0.5, 0.9}, {false, true, false, true}), 0.75);
    EXPECT_DOUBLE_EQ(roc_auc({1, 1, 1, 1}, {false, true, false, true}), 0.5);
}

// Descending: 0.8 (anomaly) P=1 R=.5; 0.4 (normal); 0.35 (anomaly) P=2/3 R=1.
// AP = .5*1 + .5*2/3 = 5/6.
TEST(Anomaly, AveragePrecisionSumsPrecisionOverRecallSteps) {
    EXPECT_DOUBLE_EQ(average_precision({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 5.0 / 6.0);
}

// 0.9 (anomaly): P=1 R=.5; then the tie at 0.5 as one threshold: P=2/4 R=1. AP = .5 + .25.
TEST(Anomaly, AveragePrecisionTiesFormOneThreshold) {
    EXPECT_DOUBLE_EQ(average_precision({0.5, 0.5, 0.5, 0.9}, {false, true, false, true}), 0.75);
}

TEST(Anomaly, UndefinedWithoutBothKinds) {
    EXPECT_NE(error_of<RuntimeError>([] { roc_auc({1, 2}, {false, false}); }).find("no anomaly"), std::string::npos);
    EXPECT_NE(error_of<RuntimeError>([] { average_precision({1, 2}, {true, true}); }).find("no normal sample"),
              std::string::npos);
}

// A NaN score is an error naming the sample (the tie loops used to spin on it forever);
// infinite scores order as the largest and tie with each other.
TEST(Anomaly, NanScoreIsAnErrorInfinityOrders) {
    const double nan = std::nan("");
    for (const auto &f : {roc_auc, average_precision})
        EXPECT_NE(error_of<RuntimeError>([&] { f({0.1, nan, 0.3}, {false, true, true}); })
                      .find("the score of sample 1 is NaN"),
                  std::string::npos);
    EXPECT_NE(error_of<RuntimeError>([&] { percentile({1, nan}, 50); }).find("percentile: the score of sample 1 is NaN"),
              std::string::npos);
    const double inf = INFINITY;
    EXPECT_DOUBLE_EQ(roc_auc({0.1, inf, inf, 0.2}, {false, true, true, false}), 1.0);
    EXPECT_DOUBLE_EQ(average_precision({0.1, inf, inf, 0.2}, {false, true, false, false}), 0.5);
}

TEST(Anomaly, PercentileInterpolatesLikeNumpy) {
    EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
    EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 99), 3.97);  // 2.97 -> 3 + .97 * (4 - 3)
    EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0), 1);
    EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 100), 4);
}

// Threshold 0.5 flags 0.6 and 0.9: one anomaly of two found, one false alarm.
TEST(Anomaly, PrecisionAndRecallAtAThreshold) {
    Detection d = detect({0.1, 0.6, 0.9, 0.3}, {false, false, true, true}, 0.5);
    EXPECT_EQ(d.tp, 1);
    EXPECT_EQ(d.fp, 1);
    EXPECT_EQ(d.fn, 1);
    EXPECT_EQ(d.tn, 1);
    EXPECT_DOUBLE_EQ(d.precision(), 0.5);
    EXPECT_DOUBLE_EQ(d.recall(), 0.5);
}

// Radius 0 is the plain MSE; a constant residual survives the blur whole (e^2); a checkerboard
// of +-e mostly cancels: on a 4x4 image a corner's window (2x2) and an edge's (2x3) hold as
// many +e as -e, and an inner pixel's 3x3 window holds five of its own sign and four of the other.
TEST(Anomaly, BlurredMseRadiusZeroIsMse) {
    const std::vector<float> a = {0.1f, 0.5f, 0.9f, 0.3f, 0.2f, 0.8f}, b = {0.f, 0.f, 1.f, 1.f, 0.5f, 0.5f};
    double want = 0;
    for (size_t i = 0; i < a.size(); ++i) want += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    EXPECT_NEAR(blurred_mse(2, 3, 1, a.data(), b.data(), 0), want / 6, 1e-12);
    EXPECT_NEAR(blurred_mse(1, 2, 3, a.data(), b.data(), 0), want / 6, 1e-12);  // channels kept apart
}

TEST(Anomaly, BlurredMseKeepsRegionsAndAveragesPixelNoise) {
    const float e = 0.5f;
    std::vector<float> flat(16, e), checker(16), zero(16, 0.f);
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) checker[size_t(i * 4 + j)] = (i + j) % 2 ? -e : e;
    EXPECT_NEAR(blurred_mse(4, 4, 1, flat.data(), zero.data(), 1), double(e) * e, 1e-12);
    EXPECT_NEAR(blurred_mse(4, 4, 1, checker.data(), zero.data(), 0), double(e) * e, 1e-12);
    // 4 corners and 8 edges: mean 0; 4 inner pixels: mean +-e / 9.
    const double want = 4 * (1.0 / 81) * e * e / 16;
    EXPECT_NEAR(blurred_mse(4, 4, 1, checker.data(), zero.data(), 1), want, 1e-12);
}

}  // namespace
}  // namespace aepipe::test
