#include "support/grad_check.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

namespace aepipe::test {

std::string index_str(int64_t i, const std::vector<int64_t> &shape) {
    std::string s = "[" + std::to_string(i) + "]";
    if (shape.size() == 2) s += " (row " + std::to_string(i / shape[1]) + ", col " + std::to_string(i % shape[1]) + ")";
    return s;
}

static int64_t count_of(const std::vector<int64_t> &shape) {
    int64_t c = 1;
    for (auto d : shape) c *= d;
    return c;
}

static std::string shape_str(const std::vector<int64_t> &shape) {
    std::string s = "(";
    for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
    return s + ")";
}

// The shared tolerance rule; NaN never passes.
static bool close(double a, double b, double tol) {
    return std::abs(a - b) <= tol * std::max({std::abs(a), std::abs(b), 1.0});
}

namespace {
// Collects failures of one tensor and renders them as one message.
struct Report {
    std::string tensor, what_a, what_b;
    std::vector<int64_t> shape;
    double tol;
    int max_report, failures = 0;
    std::ostringstream out;

    Report(std::string t, std::string a, std::string b, std::vector<int64_t> s, double tl, int mr)
        : tensor(std::move(t)), what_a(std::move(a)), what_b(std::move(b)), shape(std::move(s)), tol(tl),
          max_report(mr) {
        out.precision(9);
    }
    void add(int64_t i, double a, double b) {
        if (failures++ < max_report)
            out << "\n  " << tensor << index_str(i, shape) << ": " << what_a << " " << a << ", " << what_b << " " << b
                << ", |diff| " << std::abs(a - b);
    }
    testing::AssertionResult result() const {
        if (failures == 0) return testing::AssertionSuccess();
        return testing::AssertionFailure() << tensor << " " << shape_str(shape) << ": " << failures << " of "
                                           << count_of(shape) << " elements differ beyond tol " << tol
                                           << " * max(|a|, |b|, 1)" << out.str();
    }
};
}  // namespace

testing::AssertionResult all_close(const std::string &tensor, const std::vector<int64_t> &shape, const float *actual,
                                   const double *expected, double tol, int max_report) {
    Report rep(tensor, "actual", "expected", shape, tol, max_report);
    for (int64_t i = 0; i < count_of(shape); ++i)
        if (!close(actual[i], expected[i], tol)) rep.add(i, actual[i], expected[i]);
    return rep.result();
}

testing::AssertionResult check_numeric(const std::string &tensor, const std::vector<int64_t> &shape, float *v,
                                       const float *analytic, const std::function<double()> &objective,
                                       const GradCheckOptions &opt) {
    Report rep(tensor, "analytic", "numeric", shape, opt.tol, opt.max_report);
    for (int64_t i = 0; i < count_of(shape); ++i) {
        const float saved = v[i];
        const float hi = float(double(saved) + opt.eps), lo = float(double(saved) - opt.eps);
        v[i] = hi;
        double l_hi = objective();
        v[i] = lo;
        double l_lo = objective();
        v[i] = saved;
        double numeric = (l_hi - l_lo) / (double(hi) - double(lo));
        if (!close(analytic[i], numeric, opt.tol)) rep.add(i, analytic[i], numeric);
    }
    return rep.result();
}

static std::vector<float> uniform(size_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::vector<float> v(count);
    for (auto &e : v) e = float(u(rng));
    return v;
}

testing::AssertionResult check_layer(Layer &layer, int64_t n, std::vector<float> x, std::vector<float> w,
                                     const GradCheckOptions &opt) {
    const int64_t in = layer.in_dim(), out = layer.out_dim();
    if (int64_t(x.size()) != n * in || int64_t(w.size()) != layer.num_params())
        return testing::AssertionFailure() << "check_layer: x or w has the wrong size for " << layer.summary();
    std::vector<char> scratch(std::max<size_t>(layer.prepare(n), 1));
    const std::vector<float> r = uniform(size_t(n * out), opt.seed);
    std::vector<float> y(size_t(n * out));
    auto objective = [&] {
        layer.forward(n, x.data(), y.data(), w.data(), scratch.data());
        double s = 0;
        for (size_t i = 0; i < y.size(); ++i) s += double(r[i]) * double(y[i]);
        return s;
    };

    objective();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> dy = r, dx(x.size(), nan), g(w.size(), nan);
    layer.backward(n, x.data(), y.data(), dy.data(), dx.data(), w.data(), g.data(), scratch.data());

    const std::string name = layer.summary() + " (n=" + std::to_string(n) + ") ";
    testing::AssertionResult res = check_numeric(name + "dx", {n, in}, x.data(), dx.data(), objective, opt);
    if (!res) return res;
    for (const ParamView &p : layer.params()) {
        res = check_numeric(name + p.name, p.shape, w.data() + p.offset, g.data() + p.offset, objective, opt);
        if (!res) return res;
    }
    return testing::AssertionSuccess();
}

testing::AssertionResult check_loss(const Loss &loss, int64_t n, int64_t d, std::vector<float> y,
                                    const std::vector<float> &t, const GradCheckOptions &opt) {
    const double count = double(n * d);
    std::vector<float> dy(y.size()), scratch_dy(y.size());
    loss.forward_backward(n, d, y.data(), t.data(), dy.data());
    for (auto &e : dy) e = float(e * count);
    auto objective = [&] { return count * loss.forward_backward(n, d, y.data(), t.data(), scratch_dy.data()); };
    return check_numeric("loss dy (x count)", {n, d}, y.data(), dy.data(), objective, opt);
}

}  // namespace aepipe::test
