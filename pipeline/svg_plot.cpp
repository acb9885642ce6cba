#include "pipeline/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace aepipe {

static std::string esc(const std::string &s) {
    std::string o;
    for (char c : s) o += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return o;
}

static std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, std::abs(v) >= 1e4 || (std::abs(v) < 1e-2 && v != 0) ? "%.3g" : "%.4g", v);
    return b;
}

std::string svg_line_plot(const PlotSpec &spec, const std::vector<Series> &series) {
    const double L = 84, R = 20, T = 40, B = 55, W = spec.width, H = spec.height;
    double x0 = std::numeric_limits<double>::max(), x1 = -x0, y0 = x0, y1 = -x0;
    auto ty = [&](double v) { return spec.log_y ? std::log10(std::max(v, 1e-30)) : v; };
    for (const auto &s : series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.y[i])) continue;
            x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
            y0 = std::min(y0, ty(s.y[i])), y1 = std::max(y1, ty(s.y[i]));
        }
    if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (x1 == x0) x1 = x0 + 1;
    if (y1 == y0) y1 = y0 + (y0 == 0 ? 1 : std::abs(y0) * 0.1);
    const double data_y0 = y0, pad = (y1 - y0) * 0.05;
    y0 -= pad, y1 += pad;
    if (!spec.log_y && data_y0 >= 0 && y0 < (y1 - y0)) y0 = 0;  // non-negative data: the axis starts at 0
    auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    auto py = [&](double y) { return H - B - (ty(y) - y0) / (y1 - y0) * (H - T - B); };
    auto pyt = [&](double t) { return H - B - (t - y0) / (y1 - y0) * (H - T - B); };

    std::string o;
    char b[512];
    std::snprintf(b, sizeof b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
                  "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  W, H, W, H);
    o += b;
    std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">%s</text>\n", W / 2,
                  esc(spec.title).c_str());
    o += b;
    // Axes and ticks.
    std::snprintf(b, sizeof b, "<path d=\"M%g %g V%g H%g\" stroke=\"black\" fill=\"none\"/>\n", L, T, H - B, W - R);
    o += b;
    std::vector<double> xticks;
    if (spec.integer_x) {
        double step = std::max(1.0, std::ceil((x1 - x0) / 6));
        for (double xv = std::ceil(x0); xv <= x1 + 1e-9; xv += step) xticks.push_back(xv);
    } else {
        for (int k = 0; k <= 5; ++k) xticks.push_back(x0 + (x1 - x0) * k / 5);
    }
    for (double xv : xticks) {
        std::snprintf(b, sizeof b,
                      "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                      "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
                      px(xv), T, px(xv), H - B, px(xv), H - B + 16, num(xv).c_str());
        o += b;
    }
    for (int k = 0; k <= 5; ++k) {
        double tv = y0 + (y1 - y0) * k / 5, yv = spec.log_y ? std::pow(10.0, tv) : tv;
        std::snprintf(b, sizeof b,
                      "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                      "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%s</text>\n",
                      L, pyt(tv), W - R, pyt(tv), L - 6, pyt(tv) + 4, num(yv).c_str());
        o += b;
    }
    std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n", (L + W - R) / 2, H - 15,
                  esc(spec.x_label).c_str());
    o += b;
    std::snprintf(b, sizeof b,
                  "<text x=\"16\" y=\"%g\" text-anchor=\"middle\" transform=\"rotate(-90 16 %g)\">%s</text>\n",
                  (T + H - B) / 2, (T + H - B) / 2, esc(spec.y_label + (spec.log_y ? " (log scale)" : "")).c_str());
    o += b;
    // Series and legend.
    for (size_t s = 0; s < series.size(); ++s) {
        const auto &se = series[s];
        std::string pts;
        for (size_t i = 0; i < se.x.size() && i < se.y.size(); ++i) {
            if (!std::isfinite(se.y[i])) continue;
            std::snprintf(b, sizeof b, "%.1f,%.1f ", px(se.x[i]), py(se.y[i]));
            pts += b;
            std::snprintf(b, sizeof b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", px(se.x[i]),
                          py(se.y[i]), se.color.c_str());
            o += b;
        }
        std::snprintf(b, sizeof b, "\n<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                      pts.c_str(), se.color.c_str(), se.dashed ? " stroke-dasharray=\"6 4\"" : "");
        o += b;
        double ly = T + 8 + 18 * double(s);
        std::snprintf(b, sizeof b,
                      "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                      "<text x=\"%g\" y=\"%g\">%s</text>\n",
                      W - R - 170, ly, W - R - 145, ly, se.color.c_str(), se.dashed ? " stroke-dasharray=\"6 4\"" : "",
                      W - R - 140, ly + 4, esc(se.label).c_str());
        o += b;
    }
    return o + "</svg>\n";
}

}  // namespace aepipe
