// The SVG plots: round tick values on linear, integer and log axes over many ranges, a legend
// that covers no curve, and the automatic log scale.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>
#include <string>

#include "pipeline/report/svg_plot.hpp"

namespace aepipe::test {
namespace {

// m * 10^k with m one of `mantissas`, up to rounding.
bool is_round(double v, std::initializer_list<double> mantissas, double tol = 1e-9) {
    if (v == 0) return true;
    double p = std::pow(10.0, std::floor(std::log10(std::abs(v)) + 1e-12)), m = std::abs(v) / p;
    for (double want : mantissas)
        if (std::abs(m - want) < tol * want) return true;
    return false;
}

struct TickCase {
    double lo, hi;
    bool integer, log;
};

class Ticks : public ::testing::TestWithParam<TickCase> {};

TEST_P(Ticks, RoundEvenlyStepsCoveringTheData) {
    const TickCase c = GetParam();
    AxisTicks t = c.log ? log_ticks(c.lo, c.hi) : linear_ticks(c.lo, c.hi, c.integer);
    SCOPED_TRACE(::testing::Message() << "[" << c.lo << ", " << c.hi << "]" << (c.log ? " log" : "")
                                      << (c.integer ? " integer" : ""));
    ASSERT_GE(t.values.size(), 3u);
    ASSERT_LE(t.values.size(), 8u);
    ASSERT_EQ(t.labels.size(), t.values.size());
    // The axis holds the data and ends on ticks.
    EXPECT_LE(t.lo, std::min(c.lo, c.hi));
    EXPECT_GE(t.hi, std::max(c.lo, c.hi));
    EXPECT_EQ(t.values.front(), t.lo);
    EXPECT_EQ(t.values.back(), t.hi);
    std::set<std::string> distinct(t.labels.begin(), t.labels.end());
    EXPECT_EQ(distinct.size(), t.labels.size());
    for (size_t i = 0; i < t.values.size(); ++i) {
        const double v = t.values[i];
        if (i > 0) {
            EXPECT_LT(t.values[i - 1], v);
        }
        // The label reads back as the value, with no "-0" and no run of noise digits.
        double back = std::strtod(t.labels[i].c_str(), nullptr);
        EXPECT_NEAR(back, v, std::max(std::abs(t.values.back() - t.values.front()) * 1e-9, std::abs(v) * 1e-15))
            << t.labels[i];
        EXPECT_NE(t.labels[i], "-0");
        EXPECT_LE(t.labels[i].size(), 12u) << t.labels[i];
        if (c.integer) {
            EXPECT_EQ(v, std::round(v)) << t.labels[i];
        }
        if (c.log) {
            EXPECT_GT(v, 0);
        }
    }
    // The step from the ends: differences of neighbours lose digits when the range is tiny beside its values.
    const double step = (t.values.back() - t.values.front()) / double(t.values.size() - 1);
    if (c.log) {
        // Decades, or 1-2-5 or 1..9 mantissas, or (within a factor of ~2) even round steps.
        bool mantissas = true;
        for (double v : t.values) mantissas = mantissas && is_round(v, {1, 2, 3, 4, 5, 6, 7, 8, 9});
        bool even = is_round(step, {1, 2, 5}, 1e-6);
        for (size_t i = 1; i < t.values.size(); ++i) even = even && std::abs(t.values[i] - t.values[i - 1] - step) < step * 1e-6;
        EXPECT_TRUE(mantissas || even) << t.labels.front() << " .. " << t.labels.back();
    } else {
        EXPECT_TRUE(is_round(step, {1, 2, 5}, 1e-6)) << step;
        for (size_t i = 1; i < t.values.size(); ++i)
            EXPECT_NEAR(t.values[i] - t.values[i - 1], step, step * 1e-6);
        for (double v : t.values) EXPECT_NEAR(v / step, std::round(v / step), 1e-6 * std::max(1.0, std::abs(v / step))) << v;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Ranges, Ticks,
    ::testing::Values(TickCase{0.01304, 0.03911, false, false}, TickCase{0, 0.03911, false, false},
                      TickCase{1, 3.4, true, false}, TickCase{1, 16, true, false}, TickCase{1, 20, true, false},
                      TickCase{1, 1000, true, false}, TickCase{5, 5, true, false}, TickCase{1e-9, 3e-9, false, false},
                      TickCase{1e12, 5e12, false, false}, TickCase{-3.7, -0.2, false, false},
                      TickCase{-5, 5, false, false}, TickCase{42, 42, false, false}, TickCase{0, 0, false, false},
                      TickCase{-1e-7, -1e-7, false, false}, TickCase{1.0000001, 1.0000002, false, false},
                      TickCase{0.5, 1e6, false, false}, TickCase{3, 1, false, false}, TickCase{-1e300, 1e300, false, false},
                      TickCase{99.5, 100.4, false, false}, TickCase{0.02168, 1.115, false, true},
                      TickCase{0.3, 0.4, false, true}, TickCase{0.31, 0.33, false, true}, TickCase{1e-5, 1e5, false, true},
                      TickCase{1e-30, 1e30, false, true}, TickCase{150, 190, false, true}, TickCase{2, 2, false, true},
                      TickCase{0.9, 9, false, true}, TickCase{0.0011, 0.99, false, true}, TickCase{1, 10, false, true},
                      TickCase{0.012, 180, false, true}, TickCase{3e-7, 5e-7, false, true}));

std::vector<std::string> labels(const AxisTicks &t) { return t.labels; }

// The axes get what matplotlib and gnuplot would show.
TEST(Ticks, TheReportedAxes) {
    EXPECT_EQ(labels(linear_ticks(0.01304, 0.03911)),
              (std::vector<std::string>{"0.010", "0.015", "0.020", "0.025", "0.030", "0.035", "0.040"}));
    EXPECT_EQ(labels(linear_ticks(0, 0.03911)), (std::vector<std::string>{"0.00", "0.01", "0.02", "0.03", "0.04"}));
    EXPECT_EQ(labels(log_ticks(0.02168, 1.115)), (std::vector<std::string>{"0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"}));
    EXPECT_EQ(labels(log_ticks(0.0339, 0.0553)), (std::vector<std::string>{"0.03", "0.04", "0.05", "0.06"}));
    EXPECT_EQ(labels(linear_ticks(1, 3.4, true, false)), (std::vector<std::string>{"1", "2", "3"}));
    EXPECT_EQ(labels(linear_ticks(1, 8, true, false)), (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"}));
    EXPECT_EQ(labels(linear_ticks(1, 20, true, false)), (std::vector<std::string>{"5", "10", "15", "20"}));
    EXPECT_EQ(labels(log_ticks(1e-5, 1e5)), (std::vector<std::string>{"1e-06", "0.0001", "0.01", "1", "100", "10000", "1e+06"}));
    EXPECT_EQ(labels(linear_ticks(1e12, 5e12)), (std::vector<std::string>{"1e+12", "2e+12", "3e+12", "4e+12", "5e+12"}));
    EXPECT_EQ(labels(linear_ticks(-3.7, -0.2)), (std::vector<std::string>{"-4", "-3", "-2", "-1", "0"}));
}

// ---- plots -------------------------------------------------------------------------------

double attr(const std::string &tag, const std::string &name) {
    std::smatch m;
    if (!std::regex_search(tag, m, std::regex(" " + name + "=\"([-0-9.e]+)\""))) return NAN;
    return std::stod(m[1]);
}

struct Rect {
    double x, y, w, h;
};

Rect legend_box(const std::string &svg) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(svg, m, std::regex("<rect class=\"legend-box\"[^>]*>"))) << svg;
    std::string tag = m.str();
    return {attr(tag, "x"), attr(tag, "y"), attr(tag, "width"), attr(tag, "height")};
}

// Points along every polyline segment that fall inside the legend box.
int covered(const std::string &svg) {
    Rect r = legend_box(svg);
    int n = 0;
    std::regex poly("<polyline points=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), poly); it != std::sregex_iterator(); ++it) {
        std::vector<std::pair<double, double>> pts;
        std::string s = (*it)[1];
        for (size_t at = 0; at < s.size();) {
            size_t sp = s.find(' ', at);
            std::string p = s.substr(at, sp - at);
            if (!p.empty()) pts.push_back({std::stod(p), std::stod(p.substr(p.find(',') + 1))});
            at = sp == std::string::npos ? s.size() : sp + 1;
        }
        for (size_t i = 0; i + 1 < pts.size(); ++i)
            for (int k = 0; k <= 20; ++k) {
                double x = pts[i].first + (pts[i + 1].first - pts[i].first) * k / 20,
                       y = pts[i].second + (pts[i + 1].second - pts[i].second) * k / 20;
                n += x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h;
            }
    }
    return n;
}

Series line(const std::string &label, std::vector<double> y) {
    Series s{label, {}, std::move(y)};
    for (size_t i = 0; i < s.y.size(); ++i) s.x.push_back(double(i + 1));
    return s;
}

TEST(Plot, LegendCoversNoCurve) {
    PlotSpec spec{"t", "epoch", "loss"};
    const std::vector<std::vector<Series>> cases{
        {line("train loss (bce + KL)", {200, 150, 120, 110, 105}), line("test loss (bce + KL)", {190, 140, 118, 108, 104})},
        {line("rising", {1, 2, 3, 4, 5, 6}), line("rising too", {1.5, 2.5, 3.5, 4.5, 5.5, 6.5})},
        {line("flat at the top", {10, 10, 10, 10}), line("low", {0.5, 0.4, 0.3, 0.2})},
        {line("a long label for a run: mnist_ae (20261206-192301)", {0.06, 0.03, 0.02, 0.018}),
         line("another long label: mnist_ae (20261206-192399)", {0.061, 0.031, 0.021, 0.019})}};
    for (const auto &series : cases) {
        std::string svg = svg_line_plot(spec, series);
        EXPECT_EQ(covered(svg), 0) << svg;
        Rect r = legend_box(svg);
        EXPECT_LE(r.y + r.h, spec.height - 55) << "an empty corner was there: inside the plot area";
    }
}

TEST(Plot, LegendGoesBelowWhenEveryCornerHoldsData) {
    PlotSpec spec{"t", "epoch", "loss"};
    std::vector<double> zig;
    for (int i = 0; i < 40; ++i) zig.push_back(i % 2 ? 1.0 : 0.0);
    std::string svg = svg_line_plot(spec, {line("zigzag", zig), line("zag", std::vector<double>(40, 0.5))});
    EXPECT_EQ(covered(svg), 0);
    Rect r = legend_box(svg);
    EXPECT_GE(r.y, spec.height);
    EXPECT_GE(attr(svg.substr(0, svg.find('>')), "height"), r.y + r.h);  // the picture grew to hold it
}

TEST(Plot, TickLabelsAreRoundValues) {
    PlotSpec spec{"t", "threads", "speedup"};
    std::string svg = svg_line_plot(spec, {Series{"aepipe", {1, 2, 3, 4}, {1, 1.6, 2.2, 2.8}}});
    std::vector<std::string> x, y;
    std::regex tick("<text class=\"(x|y)tick\"[^>]*>([^<]*)</text>");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick); it != std::sregex_iterator(); ++it)
        ((*it)[1] == "x" ? x : y).push_back((*it)[2]);
    EXPECT_EQ(x, (std::vector<std::string>{"1", "2", "3", "4"}));  // whole thread counts
    EXPECT_EQ(y, (std::vector<std::string>{"0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"}));
    spec.log_y = true;
    svg = svg_line_plot(spec, {Series{"a", {1, 2, 3}, {0.02168, 0.1555, 1.115}}, Series{"b", {1, 2, 3}, {0, -1, 0.5}}});
    y.clear();
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick); it != std::sregex_iterator(); ++it)
        if ((*it)[1] == "y") y.push_back((*it)[2]);
    EXPECT_EQ(y, (std::vector<std::string>{"0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"}));  // non-positive values left out
}

TEST(Plot, LogScaleWhenOneAxisWouldFlattenACurve) {
    EXPECT_TRUE(wants_log_scale({line("vae", {180, 120, 105}), line("mse", {0.05, 0.03, 0.02})}));
    EXPECT_FALSE(wants_log_scale({line("a", {0.06, 0.03, 0.02}), line("b", {0.05, 0.025, 0.015})}));
    EXPECT_FALSE(wants_log_scale({line("a", {180, 120, 105}), line("b", {0.05, 0, 0.02})}));  // a zero: no log axis
    EXPECT_FALSE(wants_log_scale({line("one", {100, 1, 0.01})}));  // one series: its own range is fine
}

TEST(Plot, PanelsSideBySide) {
    PlotSpec a{"a", "x", "y"}, b{"b", "x", "y"};
    a.width = b.width = 300;
    std::string svg = svg_panels({svg_line_plot(a, {line("s", {1, 2})}), svg_line_plot(b, {line("s", {1, 2})})});
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"panels\" width=\"600\" height=\"400\"", 0), 0u) << svg;
    EXPECT_NE(svg.find("<svg x=\"300\" y=\"0\" "), std::string::npos);
}

}  // namespace
}  // namespace aepipe::test
