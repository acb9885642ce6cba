// Minimal line plots as standalone SVG (no plotting service): labelled axes, ticks, legend.
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
    bool integer_x = false;  // x ticks on whole numbers only (epochs, thread counts)
};

std::string svg_line_plot(const PlotSpec &spec, const std::vector<Series> &series);

}  // namespace aepipe
