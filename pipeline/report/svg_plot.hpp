// Minimal line plots as standalone SVG (no plotting service): labelled axes, round tick values,
// a legend that does not cover the curves.
#pragma once

#include <string>
#include <vector>

namespace aepipe {

struct Series {
    std::string label;
    std::vector<double> x, y;
    std::string color = "#1f77b4";
    bool dashed = false;
};

struct PlotSpec {
    std::string title, x_label, y_label;
    bool log_y = false;
    int width = 640, height = 400;
    bool integer_x = false;  // x ticks on whole numbers only (epochs, thread counts); also when every x is whole
};

// Tick marks of one axis, as matplotlib's and gnuplot's: round values (1, 2 or 5 times a power of
// ten apart on linear axes; decades, or 1-2-5 / 1..9 mantissas when the data span less than a
// couple of decades, on log axes), labelled with as many decimals as the step needs.
struct AxisTicks {
    double lo = 0, hi = 1;            // the axis range: the data range, widened to the outer ticks when asked
    std::vector<double> values;       // ascending, within [lo, hi]
    std::vector<std::string> labels;  // one per value
};
// Ticks for data in [lo, hi] (either order; lo == hi gets a range around the value). `integer`:
// whole-number steps only. `widen`: the axis range grows to the nearest ticks outside the data.
AxisTicks linear_ticks(double lo, double hi, bool integer = false, bool widen = true, int max_ticks = 8);
// Ticks for positive data in [lo, hi] on a log axis (values <= 0 are clamped to a tiny positive).
AxisTicks log_ticks(double lo, double hi, int max_ticks = 8);

// Whether one linear axis would squash some series: all values positive, and one series' largest
// value under 1/20 of another's, so it would lie flat along the bottom.
bool wants_log_scale(const std::vector<Series> &series);

std::string svg_line_plot(const PlotSpec &spec, const std::vector<Series> &series);

// Several plots (each from svg_line_plot) side by side, `columns` per row, as one SVG document.
std::string svg_panels(const std::vector<std::string> &plots, int columns = 2);

}  // namespace aepipe
