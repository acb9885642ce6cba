// The latent picture: PCA finds a known principal axis, and the SVG says when it is a
// projection and colours points by label.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>

#include "pipeline/report/latent_plot.hpp"

namespace aepipe::test {
namespace {

// Points t * (0.6, 0.8, 0) + s * (0, 0, 1) + (1, 2, 3), t with spread 3, s with spread 0.5:
// the first axis is (0.6, 0.8, 0), the second (0, 0, 1); variances follow t's and s's.
std::vector<float> known_axes(int64_t n, std::vector<double> &ts, std::vector<double> &ss) {
    std::mt19937 rng(7);
    std::normal_distribution<double> t(0, 3), s(0, 0.5);
    std::vector<float> rows;
    for (int64_t i = 0; i < n; ++i) {
        ts.push_back(t(rng)), ss.push_back(s(rng));
        rows.push_back(float(1 + 0.6 * ts.back()));
        rows.push_back(float(2 + 0.8 * ts.back()));
        rows.push_back(float(3 + ss.back()));
    }
    return rows;
}

double var(const std::vector<double> &v) {
    double m = 0, s = 0;
    for (double x : v) m += x / double(v.size());
    for (double x : v) s += (x - m) * (x - m) / double(v.size());
    return s;
}

TEST(LatentPlot, PcaFindsTheKnownAxes) {
    std::vector<double> ts, ss;
    const std::vector<float> rows = known_axes(2000, ts, ss);
    const Pca2 p = pca_2d(rows.data(), 2000, 3);
    EXPECT_NEAR(p.axis[0][0], 0.6, 1e-3);
    EXPECT_NEAR(p.axis[0][1], 0.8, 1e-3);
    EXPECT_NEAR(p.axis[0][2], 0.0, 1e-3);
    EXPECT_NEAR(std::abs(p.axis[1][2]), 1.0, 1e-3);
    EXPECT_NEAR(p.variance[0], var(ts), 0.01 * var(ts));
    EXPECT_NEAR(p.variance[1], var(ss), 0.02 * var(ss));
    EXPECT_NEAR(p.mean[1], 2.0, 0.2);
    // Projections are the centred t (up to float rounding), axis signed with its largest part positive.
    const std::vector<double> xy = pca_project(p, rows.data(), 2000, 3);
    double mt = 0;
    for (double t : ts) mt += t / 2000;
    EXPECT_NEAR(xy[10], ts[5] - mt, 1e-3 * 3);
}

TEST(LatentPlot, WideCodesSayPca) {
    std::vector<double> ts, ss;
    const std::vector<float> rows = known_axes(50, ts, ss);
    std::vector<int64_t> labels(50);
    for (int64_t i = 0; i < 50; ++i) labels[size_t(i)] = i % 3;
    const LatentPicture pic = latent_svg(rows.data(), 50, 3, labels, "codes");
    EXPECT_NE(pic.caption.find("PCA projection of the 3-number codes"), std::string::npos) << pic.caption;
    EXPECT_NE(pic.caption.find("50 of 50 samples, coloured by label"), std::string::npos) << pic.caption;
    EXPECT_NE(pic.svg.find("principal component 1"), std::string::npos);
    EXPECT_NE(pic.svg.find("label 2"), std::string::npos);
    EXPECT_EQ(pic.svg.find("label 3"), std::string::npos);
    size_t circles = 0;
    for (size_t at = pic.svg.find("<circle"); at != std::string::npos; at = pic.svg.find("<circle", at + 1)) ++circles;
    EXPECT_EQ(circles, 50u + 3u);  // the points and one legend dot per label
}

TEST(LatentPlot, TwoDimensionalCodesAreDrawnAsTheyAre) {
    const std::vector<float> codes = {0, 0, 1, 2, -1, 5, 3, 3};
    const LatentPicture pic = latent_svg(codes.data(), 4, 2, {}, "codes", 2);
    EXPECT_EQ(pic.caption, "the 2-D codes as they are, 2 of 4 samples");
    EXPECT_EQ(pic.svg.find("principal"), std::string::npos);
    EXPECT_NE(pic.svg.find("code[1]"), std::string::npos);
}

// Codes that are all one large value (a saturated code layer): the frame is widened relative to
// their size, so no coordinate is 0/0 (1e26 +- 1 was still 1e26, and every tick read "nan").
TEST(LatentPlot, EqualHugeCodesGiveFiniteCoordinates) {
    for (int64_t k : {2, 3}) {
        const std::vector<float> codes(size_t(6 * k), 2.9e26f);
        const LatentPicture pic = latent_svg(codes.data(), 6, k, {}, "codes");
        EXPECT_EQ(pic.svg.find("nan"), std::string::npos) << k << "\n" << pic.svg;
        EXPECT_EQ(pic.svg.find("inf"), std::string::npos) << k << "\n" << pic.svg;
    }
}

// A diverged model's codes (inf, NaN) are left out of the picture, and the caption says how many;
// the finite ones are drawn with their labels.
TEST(LatentPlot, CodesThatAreNotFiniteAreLeftOut) {
    const float inf = INFINITY, nan = NAN;
    for (int64_t k : {2, 3}) {
        std::vector<float> codes;
        for (int64_t i = 0; i < 5; ++i)
            for (int64_t j = 0; j < k; ++j) codes.push_back(float(i * 3 + j) + (i == 1 && j == 0 ? inf : 0.f));
        codes[size_t(3 * k + k - 1)] = nan;
        const LatentPicture pic = latent_svg(codes.data(), 5, k, {0, 1, 2, 3, 4}, "codes");
        EXPECT_NE(pic.caption.find("3 of 5 samples, coloured by label (2 with codes that are not finite left out)"),
                  std::string::npos)
            << pic.caption;
        EXPECT_EQ(pic.svg.find("nan"), std::string::npos) << pic.svg;
        EXPECT_EQ(pic.svg.find("inf"), std::string::npos) << pic.svg;
        EXPECT_EQ(pic.svg.find("label 1"), std::string::npos) << "sample 1 is not finite";
        EXPECT_NE(pic.svg.find("label 4"), std::string::npos);
    }
}

// Numbers drawn as tick labels along one axis ("middle": x, "end": y), in order.
std::vector<double> tick_values(const std::string &svg, const char *anchor) {
    std::vector<double> v;
    const std::regex tick(std::string("text-anchor=\"") + anchor + "\">(-?[0-9.]+(e[-+]?[0-9]+)?)</text>");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick); it != std::sregex_iterator(); ++it)
        v.push_back(std::stod((*it)[1]));
    return v;
}

// The odd ticks (-3.33, -1.64, 0.0463, ...) were the range cut in four: ticks are round
// values, evenly 1, 2 or 5 times a power of ten apart, and the axis ends on them around the data.
TEST(LatentPlot, TicksAreRoundValuesAroundTheData) {
    const std::vector<float> codes = {-3.33f, 2.54f, 3.42f, -2.24f, 0.0463f, 0.152f};
    const LatentPicture pic = latent_svg(codes.data(), 3, 2, {}, "codes");
    for (const char *anchor : {"middle", "end"}) {
        const std::vector<double> t = tick_values(pic.svg, anchor);
        ASSERT_GE(t.size(), 3u) << anchor << "\n" << pic.svg;
        const double step = t[1] - t[0], p = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
        const double m = step / p;
        EXPECT_TRUE(std::abs(m - 1) < 1e-9 || std::abs(m - 2) < 1e-9 || std::abs(m - 5) < 1e-9) << step;
        for (size_t i = 0; i < t.size(); ++i) {
            EXPECT_NEAR(t[i], t[0] + double(i) * step, 1e-9) << anchor;
            EXPECT_NEAR(t[i] / step, std::round(t[i] / step), 1e-9) << t[i];
        }
        const double lo = anchor[0] == 'm' ? -3.33 : -2.24, hi = anchor[0] == 'm' ? 3.42 : 2.54;
        EXPECT_LE(t.front(), lo) << anchor;
        EXPECT_GE(t.back(), hi) << anchor;
    }
}

}  // namespace
}  // namespace aepipe::test
