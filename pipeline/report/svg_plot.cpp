#include "pipeline/report/svg_plot.hpp"

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

// ---- ticks ------------------------------------------------------------------------------

// A tick value printed with the decimals its step needs: 0.01, 0.02 for a step of 0.01; 1.5e+12
// for a step of 5e11; never "-0".
static std::string tick_label(double v, double step, double max_abs) {
    char b[64];
    const int step_exp = int(std::floor(std::log10(step) + 1e-9));
    if (max_abs >= 1e6 || max_abs < 1e-4) {
        if (v == 0) return "0";
        const int digits = std::clamp(int(std::floor(std::log10(max_abs) + 1e-9)) - step_exp, 0, 15);
        std::snprintf(b, sizeof b, "%.*e", digits, v);
    } else {
        std::snprintf(b, sizeof b, "%.*f", std::clamp(-step_exp, 0, 15), v);
    }
    return b;
}

AxisTicks linear_ticks(double lo, double hi, bool integer, bool widen, int max_ticks) {
    const double big = 1e300;
    lo = std::isfinite(lo) ? std::clamp(lo, -big, big) : 0, hi = std::isfinite(hi) ? std::clamp(hi, -big, big) : 1;
    if (lo > hi) std::swap(lo, hi);
    if (lo == hi) {  // one value: a range around it
        const double d = integer ? 1 : lo == 0 ? 1 : std::abs(lo) * 0.1;
        lo -= d, hi += d;
    }
    max_ticks = std::max(max_ticks, 2);
    const double span = hi / 2 - lo / 2;  // halves: no overflow at +-1e300
    const double e = 1e-9;                // slack for values that sit on a tick up to rounding
    double step = 0, first = 0, last = 0;
    for (int p = int(std::floor(std::log10(span * 2 / max_ticks))) - 1; step == 0; ++p)
        for (double m : {1.0, 2.0, 5.0}) {
            double s = m * std::pow(10.0, p);
            if ((integer && s < 1) || step != 0) continue;
            double f = widen ? std::floor(lo / s + e) : std::ceil(lo / s - e);
            double l = widen ? std::ceil(hi / s - e) : std::floor(hi / s + e);
            if (l - f + 1 <= max_ticks) step = s, first = f, last = l;
        }
    AxisTicks t;
    t.lo = widen ? first * step : lo, t.hi = widen ? last * step : hi;
    const double max_abs = std::max(std::abs(first), std::abs(last)) * step;
    for (double i = first; i <= last; ++i) {
        double v = i * step + 0.0;  // + 0.0: no negative zero
        t.values.push_back(v);
        t.labels.push_back(tick_label(v, step, max_abs));
    }
    return t;
}

// m * 10^p for every mantissa m and power p with values around [lo, hi], ascending.
static std::vector<double> mantissa_grid(double lo, double hi, const std::vector<double> &mantissas) {
    std::vector<double> v;
    for (int p = int(std::floor(std::log10(lo))) - 1; p <= int(std::ceil(std::log10(hi))) + 1; ++p)
        for (double m : mantissas) v.push_back(m * std::pow(10.0, p));
    return v;
}

// The grid values from the last one <= lo to the first one >= hi.
static std::vector<double> cover(const std::vector<double> &grid, double lo, double hi) {
    std::vector<double> out;
    for (size_t i = 0; i < grid.size(); ++i)
        if ((i + 1 < grid.size() && grid[i + 1] > lo * (1 + 1e-9)) && (i == 0 || grid[i - 1] < hi * (1 - 1e-9)))
            out.push_back(grid[i]);
    return out;
}

AxisTicks log_ticks(double lo, double hi, int max_ticks) {
    const double tiny = 1e-300, big = 1e300;
    lo = std::isfinite(lo) ? std::clamp(lo, tiny, big) : tiny, hi = std::isfinite(hi) ? std::clamp(hi, tiny, big) : 1;
    if (lo > hi) std::swap(lo, hi);
    if (lo == hi) lo /= 1.5, hi *= 1.5;
    max_ticks = std::max(max_ticks, 2);
    AxisTicks t;
    auto take = [&](const std::vector<double> &v) {
        t.lo = v.front(), t.hi = v.back(), t.values = v;
        for (double x : v) {
            char b[32];
            std::snprintf(b, sizeof b, "%g", x);
            t.labels.push_back(b);
        }
        return t;
    };
    const int d0 = int(std::floor(std::log10(lo) + 1e-9)), d1 = int(std::ceil(std::log10(hi) - 1e-9));
    if (d1 - d0 <= 3) {  // within a few decades: subdivide them
        // 1-2-5 when that gives 4 ticks or more; else 1..9 (0.03, 0.04, 0.05, 0.06 rather than 0.02, 0.05, 0.1).
        std::vector<double> v125 = cover(mantissa_grid(lo, hi, {1, 2, 5}), lo, hi);
        if (v125.size() >= 4 && int(v125.size()) <= max_ticks) return take(v125);
        std::vector<double> v19 = cover(mantissa_grid(lo, hi, {1, 2, 3, 4, 5, 6, 7, 8, 9}), lo, hi);
        if (v19.size() >= 3 && int(v19.size()) <= max_ticks) return take(v19);
        if (v125.size() >= 3 && int(v125.size()) <= max_ticks) return take(v125);
        if (d1 - d0 <= 1) {  // under a factor of ~2: round linear values on the log axis
            t = linear_ticks(lo, hi, false, true, max_ticks);
            if (t.lo <= 0) t = linear_ticks(lo, hi, false, false, max_ticks);
            return t;
        }
    }
    int every = 1, first = d0, last = d1;  // decades per tick, the fewest that keep to max_ticks
    for (; (last - first) / every + 1 > max_ticks; ++every)
        first = int(std::floor(double(d0) / (every + 1))) * (every + 1), last = int(std::ceil(double(d1) / (every + 1))) * (every + 1);
    std::vector<double> v;
    for (int p = first; p <= last; p += every) v.push_back(std::pow(10.0, p));
    return take(v);
}

bool wants_log_scale(const std::vector<Series> &series) {
    double small = std::numeric_limits<double>::max(), large = 0;
    for (const auto &s : series) {
        double top = 0;
        for (double y : s.y) {
            if (!std::isfinite(y)) continue;
            if (y <= 0) return false;
            top = std::max(top, y);
        }
        if (top > 0) small = std::min(small, top), large = std::max(large, top);
    }
    return large > 0 && small < large / 20;
}

// ---- the plot ---------------------------------------------------------------------------

namespace {

// Data space to pixels; the plot area is [l, r] x [t, b] in pixels.
struct Frame {
    double l, r, t, b;
    AxisTicks xt, yt;
    bool log_y;
    double ty(double v) const { return log_y ? std::log10(std::max(v, 1e-300)) : v; }
    double px(double x) const { return l + (x - xt.lo) / (xt.hi - xt.lo) * (r - l); }
    double py(double y) const { return b - (ty(y) - ty(yt.lo)) / (ty(yt.hi) - ty(yt.lo)) * (b - t); }
};

bool usable(const PlotSpec &spec, double y) { return std::isfinite(y) && (!spec.log_y || y > 0); }

Frame make_frame(const PlotSpec &spec, const std::vector<Series> &series) {
    double x0 = std::numeric_limits<double>::max(), x1 = -x0, y0 = x0, y1 = -x0;
    bool whole = true;
    for (const auto &s : series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!usable(spec, s.y[i]) || !std::isfinite(s.x[i])) continue;
            x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
            y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
            whole = whole && s.x[i] == std::round(s.x[i]);
        }
    if (x0 > x1) x0 = 0, x1 = 1, y0 = spec.log_y ? 0.1 : 0, y1 = 1;
    // Non-negative data whose range is not far above zero: the linear axis starts at 0.
    if (!spec.log_y && y0 >= 0 && y0 < (y1 - y0)) y0 = 0;
    Frame f{84, spec.width - 20.0, 40, spec.height - 55.0, {}, {}, spec.log_y};
    f.xt = linear_ticks(x0, x1, spec.integer_x || whole, false);
    f.yt = spec.log_y ? log_ticks(y0, y1) : linear_ticks(y0, y1);
    return f;
}

std::string axes(const PlotSpec &spec, const Frame &f) {
    std::string o;
    char b[512];
    std::snprintf(b, sizeof b, "<path d=\"M%g %g V%g H%g\" stroke=\"black\" fill=\"none\"/>\n", f.l, f.t, f.b, f.r);
    o += b;
    for (size_t i = 0; i < f.xt.values.size(); ++i) {
        double x = f.px(f.xt.values[i]);
        std::snprintf(b, sizeof b,
                      "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#ddd\"/>"
                      "<text class=\"xtick\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
                      x, f.t, x, f.b, x, f.b + 16, f.xt.labels[i].c_str());
        o += b;
    }
    for (size_t i = 0; i < f.yt.values.size(); ++i) {
        double y = f.py(f.yt.values[i]);
        std::snprintf(b, sizeof b,
                      "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                      "<text class=\"ytick\" x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                      f.l, y, f.r, y, f.l - 6, y + 4, f.yt.labels[i].c_str());
        o += b;
    }
    std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n", (f.l + f.r) / 2,
                  double(spec.height) - 15, esc(spec.x_label).c_str());
    o += b;
    const double mid = (f.t + f.b) / 2;
    std::snprintf(b, sizeof b, "<text x=\"16\" y=\"%g\" text-anchor=\"middle\" transform=\"rotate(-90 16 %g)\">%s</text>\n",
                  mid, mid, esc(spec.y_label + (spec.log_y ? " (log scale)" : "")).c_str());
    return o + b;
}

struct Box {
    double x, y, w, h;
    bool holds(double px, double py) const { return px >= x - 3 && px <= x + w + 3 && py >= y - 3 && py <= y + h + 3; }
};

// Points along every drawn segment, in pixels, a few pixels apart: what a legend must not cover.
std::vector<std::pair<double, double>> ink(const PlotSpec &spec, const Frame &f, const std::vector<Series> &series) {
    std::vector<std::pair<double, double>> pts;
    for (const auto &s : series) {
        bool have = false;
        double px = 0, py = 0;
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!usable(spec, s.y[i])) continue;
            double x = f.px(s.x[i]), y = f.py(s.y[i]);
            int n = have ? int(std::hypot(x - px, y - py) / 3) + 1 : 1;
            for (int k = 1; k <= n; ++k) pts.push_back({px + (x - px) * k / n, py + (y - py) * k / n});
            px = x, py = y, have = true;
        }
    }
    return pts;
}

// The legend in the first empty corner of the plot area (top right, top left, bottom right,
// bottom left); when every corner holds data, below the plot, where the SVG grows to hold it.
Box place_legend(const PlotSpec &spec, const Frame &f, const std::vector<Series> &series, double &svg_height) {
    size_t chars = 0;
    for (const auto &s : series) chars = std::max(chars, s.label.size());
    const double w = 40 + 7.0 * double(chars), h = 18.0 * double(series.size()) + 8, m = 8;
    std::vector<std::pair<double, double>> pts = ink(spec, f, series);
    for (Box c : {Box{f.r - m - w, f.t + m, w, h}, Box{f.l + m, f.t + m, w, h}, Box{f.r - m - w, f.b - m - h, w, h},
                  Box{f.l + m, f.b - m - h, w, h}}) {
        if (c.x < f.l || c.y + c.h > f.b) continue;  // wider or taller than the plot area
        if (std::none_of(pts.begin(), pts.end(), [&](const auto &p) { return c.holds(p.first, p.second); })) return c;
    }
    svg_height = spec.height + h + 6;
    return Box{f.l, double(spec.height), w, h};
}

std::string legend(const Box &box, const std::vector<Series> &series) {
    char b[512];
    std::snprintf(b, sizeof b,
                  "<g class=\"legend\"><rect class=\"legend-box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                  "fill=\"white\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n",
                  box.x, box.y, box.w, box.h);
    std::string o = b;
    for (size_t s = 0; s < series.size(); ++s) {
        const auto &se = series[s];
        double ly = box.y + 13 + 18 * double(s);
        std::snprintf(b, sizeof b,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                      "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                      box.x + 6, ly, box.x + 30, ly, se.color.c_str(), se.dashed ? " stroke-dasharray=\"6 4\"" : "",
                      box.x + 35, ly + 4, esc(se.label).c_str());
        o += b;
    }
    return o + "</g>\n";
}

std::string curves(const PlotSpec &spec, const Frame &f, const std::vector<Series> &series) {
    std::string o;
    char b[256];
    for (const auto &se : series) {
        std::string pts;
        for (size_t i = 0; i < se.x.size() && i < se.y.size(); ++i) {
            if (!usable(spec, se.y[i])) continue;
            std::snprintf(b, sizeof b, "%.1f,%.1f ", f.px(se.x[i]), f.py(se.y[i]));
            pts += b;
            std::snprintf(b, sizeof b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", f.px(se.x[i]),
                          f.py(se.y[i]), se.color.c_str());
            o += b;
        }
        o += "\n<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + se.color + "\" stroke-width=\"2\"" +
             (se.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    }
    return o;
}

}  // namespace

std::string svg_line_plot(const PlotSpec &spec, const std::vector<Series> &series) {
    Frame f = make_frame(spec, series);
    double height = spec.height;
    Box box = place_legend(spec, f, series, height);
    std::string o;
    char b[512];
    std::snprintf(b, sizeof b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%g\" viewBox=\"0 0 %d %g\" "
                  "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  spec.width, height, spec.width, height);
    o += b;
    std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">%s</text>\n",
                  spec.width / 2.0, esc(spec.title).c_str());
    o += b;
    o += axes(spec, f) + curves(spec, f, series);
    if (!series.empty()) o += legend(box, series);
    return o + "</svg>\n";
}

static double svg_attr(const std::string &svg, const char *name) {
    size_t at = svg.find(std::string(" ") + name + "=\"");
    return at == std::string::npos ? 0 : std::atof(svg.c_str() + at + std::char_traits<char>::length(name) + 3);
}

std::string svg_panels(const std::vector<std::string> &plots, int columns) {
    columns = std::max(columns, 1);
    std::string body;
    double width = 0, height = 0, row_y = 0, row_h = 0, x = 0;
    for (size_t i = 0; i < plots.size(); ++i) {
        if (i > 0 && i % size_t(columns) == 0) row_y += row_h, row_h = 0, x = 0;
        const std::string &p = plots[i];
        double w = svg_attr(p, "width"), h = svg_attr(p, "height");
        char b[96];
        std::snprintf(b, sizeof b, "<svg x=\"%g\" y=\"%g\" ", x, row_y);
        body += b + p.substr(p.find("<svg ") + 5);
        x += w, row_h = std::max(row_h, h);
        width = std::max(width, x), height = std::max(height, row_y + row_h);
    }
    char b[256];
    std::snprintf(b, sizeof b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"panels\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g "
                  "%g\">\n",
                  width, height, width, height);
    return b + body + "</svg>\n";
}

}  // namespace aepipe
