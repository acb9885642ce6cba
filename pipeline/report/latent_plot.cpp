#include "pipeline/report/latent_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "pipeline/file_io.hpp"
#include "pipeline/report/html.hpp"
#include "pipeline/report/svg_plot.hpp"

namespace aepipe {

namespace {

// Top eigenvector of a symmetric positive semi-definite matrix (K x K), by power iteration from
// a fixed start (deterministic). Returns its eigenvalue.
double top_eigen(const std::vector<double> &c, int64_t k, std::vector<double> &v) {
    v.assign(size_t(k), 0);
    for (int64_t i = 0; i < k; ++i) v[size_t(i)] = 1.0 + 0.01 * double(i);  // not orthogonal to any axis in practice
    double lambda = 0;
    std::vector<double> w(static_cast<size_t>(k));
    for (int it = 0; it < 1000; ++it) {
        for (int64_t i = 0; i < k; ++i) {
            double s = 0;
            for (int64_t j = 0; j < k; ++j) s += c[size_t(i * k + j)] * v[size_t(j)];
            w[size_t(i)] = s;
        }
        double norm = 0;
        for (double x : w) norm += x * x;
        norm = std::sqrt(norm);
        if (norm == 0) return 0;  // nothing left: the data lies in fewer dimensions
        double change = 0;
        for (int64_t i = 0; i < k; ++i) change += std::abs(w[size_t(i)] / norm - v[size_t(i)]);
        for (int64_t i = 0; i < k; ++i) v[size_t(i)] = w[size_t(i)] / norm;
        lambda = norm;
        if (change < 1e-12 * double(k)) break;
    }
    auto big = std::max_element(v.begin(), v.end(), [](double a, double b) { return std::abs(a) < std::abs(b); });
    if (*big < 0)
        for (double &x : v) x = -x;
    return lambda;
}

}  // namespace

Pca2 pca_2d(const float *rows, int64_t n, int64_t k) {
    Pca2 p;
    p.mean.assign(size_t(k), 0);
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < k; ++j) p.mean[size_t(j)] += rows[r * k + j] / double(n);
    std::vector<double> cov(static_cast<size_t>(k * k), 0), d(static_cast<size_t>(k));
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t j = 0; j < k; ++j) d[size_t(j)] = rows[r * k + j] - p.mean[size_t(j)];
        for (int64_t i = 0; i < k; ++i)
            for (int64_t j = 0; j < k; ++j) cov[size_t(i * k + j)] += d[size_t(i)] * d[size_t(j)] / double(n);
    }
    for (int64_t i = 0; i < k; ++i) p.total += cov[size_t(i * k + i)];
    for (int a = 0; a < 2; ++a) {
        p.variance[a] = top_eigen(cov, k, p.axis[a]);
        for (int64_t i = 0; i < k; ++i)  // deflate: remove what the axis explains
            for (int64_t j = 0; j < k; ++j)
                cov[size_t(i * k + j)] -= p.variance[a] * p.axis[a][size_t(i)] * p.axis[a][size_t(j)];
    }
    return p;
}

std::vector<double> pca_project(const Pca2 &p, const float *rows, int64_t n, int64_t k) {
    std::vector<double> out(size_t(n * 2), 0);
    for (int64_t r = 0; r < n; ++r)
        for (int a = 0; a < 2; ++a)
            for (int64_t j = 0; j < k; ++j)
                out[size_t(r * 2 + a)] += (rows[r * k + j] - p.mean[size_t(j)]) * p.axis[a][size_t(j)];
    return out;
}

namespace {

// matplotlib's tab10: ten labels, ten colours people already know from Python plots.
const char *kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string fmt(const char *f, double a, double b = 0, double c = 0, double d = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, a, b, c, d);
    return buf;
}

struct Frame {
    double x0, x1, y0, y1;
    AxisTicks xt{}, yt{};  // round values (1-2-5 steps), as the loss plots have; the axes end on them
    double L = 60, R = 110, T = 36, B = 46, W = 560, H = 460;
    double px(double x) const { return L + (x - x0) / (x1 - x0) * (W - L - R); }
    double py(double y) const { return H - B - (y - y0) / (y1 - y0) * (H - T - B); }
};

// A range too narrow to divide by, relative to its size (1e26 +- 1 is still 1e26), widened.
void widen(double &lo, double &hi) {
    const double pad = std::max(1.0, 1e-3 * std::max(std::abs(lo), std::abs(hi)));
    if (hi - lo <= 1e-9 * pad) lo -= pad, hi += pad;
}

Frame frame_of(const std::vector<double> &xy) {
    Frame f{1e300, -1e300, 1e300, -1e300};
    for (size_t i = 0; i + 1 < xy.size(); i += 2) {
        f.x0 = std::min(f.x0, xy[i]), f.x1 = std::max(f.x1, xy[i]);
        f.y0 = std::min(f.y0, xy[i + 1]), f.y1 = std::max(f.y1, xy[i + 1]);
    }
    if (f.x0 > f.x1) f.x0 = f.y0 = 0, f.x1 = f.y1 = 1;
    widen(f.x0, f.x1);  // a range of equal huge values first (linear_ticks pads by 1 only)
    widen(f.y0, f.y1);
    f.xt = linear_ticks(f.x0, f.x1, false, true, 6);
    f.yt = linear_ticks(f.y0, f.y1, false, true, 6);
    f.x0 = f.xt.lo, f.x1 = f.xt.hi, f.y0 = f.yt.lo, f.y1 = f.yt.hi;
    return f;
}

std::string axes(const Frame &f, const std::string &title, const std::string &xl, const std::string &yl) {
    std::string o = fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
                        "font-family=\"sans-serif\" font-size=\"12\">\n",
                        f.W, f.H, f.W, f.H);
    o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    o += fmt("<text x=\"%g\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">", (f.L + f.W - f.R) / 2) + html::esc(title) +
         "</text>\n";
    o += fmt("<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"black\"/>\n", f.L, f.T,
             f.W - f.L - f.R, f.H - f.T - f.B);
    for (size_t t = 0; t < f.xt.values.size(); ++t)
        o += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", f.px(f.xt.values[t]), f.H - f.B + 16) +
             f.xt.labels[t] + "</text>";
    o += "\n";
    for (size_t t = 0; t < f.yt.values.size(); ++t)
        o += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", f.L - 5, f.py(f.yt.values[t]) + 4) +
             f.yt.labels[t] + "</text>";
    o += "\n";
    o += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", (f.L + f.W - f.R) / 2, f.H - 10) + xl + "</text>\n";
    o += fmt("<text x=\"14\" y=\"%g\" text-anchor=\"middle\" transform=\"rotate(-90 14 %g)\">", (f.T + f.H - f.B) / 2,
             (f.T + f.H - f.B) / 2) + yl + "</text>\n";
    return o;
}

std::string points(const Frame &f, const std::vector<double> &xy, const std::vector<int64_t> &labels, int64_t n,
                   int64_t step) {
    std::map<int64_t, std::string> by_label;  // one <g> per label: a legend entry and one fill
    for (int64_t i = 0; i < n; i += step)
        by_label[labels.empty() ? -1 : labels[size_t(i)]] +=
            fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>", f.px(xy[size_t(2 * i)]), f.py(xy[size_t(2 * i + 1)]));
    std::string o;
    double ly = f.T + 8;
    for (const auto &[label, dots] : by_label) {
        const char *colour = kColours[size_t(std::max<int64_t>(label, 0) % 10)];
        o += std::string("<g fill=\"") + colour + "\" fill-opacity=\"0.6\">" + dots + "</g>\n";
        if (label < 0) continue;
        o += fmt("<circle cx=\"%g\" cy=\"%g\" r=\"4\" fill=\"", f.W - f.R + 16, ly) + colour + "\"/>";
        o += fmt("<text x=\"%g\" y=\"%g\">label %g</text>\n", f.W - f.R + 26, ly + 4, double(label));
        ly += 18;
    }
    return o;
}

// The rows whose every number is finite, with their labels: a diverged model's inf or NaN would
// make every PCA axis and every coordinate NaN. Returns how many were left out.
int64_t finite_rows(const float *codes, int64_t n, int64_t k, const std::vector<int64_t> &labels,
                    std::vector<float> &rows, std::vector<int64_t> &kept_labels) {
    for (int64_t i = 0; i < n; ++i) {
        const float *r = codes + i * k;
        if (!std::all_of(r, r + k, [](float v) { return std::isfinite(v); })) continue;
        rows.insert(rows.end(), r, r + k);
        if (!labels.empty()) kept_labels.push_back(labels[size_t(i)]);
    }
    return n - int64_t(rows.size()) / std::max<int64_t>(k, 1);
}

}  // namespace

LatentPicture latent_svg(const float *all_codes, int64_t all_n, int64_t k, const std::vector<int64_t> &all_labels,
                         const std::string &title, int64_t max_points) {
    std::vector<float> kept;
    std::vector<int64_t> labels;
    const int64_t left_out = finite_rows(all_codes, all_n, k, all_labels, kept, labels);
    const float *codes = kept.data();
    const int64_t n = all_n - left_out;
    std::vector<double> xy(size_t(n * 2), 0);
    std::string xl = "code[0]", yl = k >= 2 ? "code[1]" : "(none: a 1-D code)", caption;
    if (k > 2) {
        const Pca2 p = pca_2d(codes, n, k);
        xy = pca_project(p, codes, n, k);
        const double share = p.total > 0 ? 100 * (p.variance[0] + p.variance[1]) / p.total : 0;
        xl = "principal component 1", yl = "principal component 2";
        caption = "PCA projection of the " + std::to_string(k) + "-number codes onto their first two principal "
                  "components (" + fmt("%.0f", share) + "% of their variance)";
    } else {
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < k; ++j) xy[size_t(2 * i + j)] = codes[i * k + j];
        caption = "the " + std::to_string(k) + "-D codes as they are";
    }
    const int64_t step = std::max<int64_t>(1, (n + max_points - 1) / std::max<int64_t>(max_points, 1));
    const int64_t shown = (n + step - 1) / step;
    caption += ", " + std::to_string(shown) + " of " + std::to_string(all_n) + " samples" +
               (labels.empty() ? "" : ", coloured by label");
    if (left_out) caption += " (" + std::to_string(left_out) + " with codes that are not finite left out)";
    const Frame f = frame_of(xy);
    return {axes(f, title, xl, yl) + points(f, xy, labels, n, step) + "</svg>\n", caption};
}

std::string latent_section(const std::string &run_dir) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(run_dir + "/latent.svg", ec)) return "";
    const std::string caption = std::filesystem::is_regular_file(run_dir + "/latent.txt", ec)
                                    ? read_file(run_dir + "/latent.txt")
                                    : std::string("the test codes");
    return "<h2 id=\"latent\">Latent space</h2>\n<figure>" + read_file(run_dir + "/latent.svg") + "<figcaption>" +
           html::esc(caption) + " (latent.svg)</figcaption></figure>\n";
}

}  // namespace aepipe
