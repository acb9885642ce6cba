// Naive reference kernels (see reference.hpp): the spec of dense, activations, losses and
// optimizers. Loops are written in index order, with the shapes they walk in comments.
#include "nodes/math/reference.hpp"

#include <algorithm>
#include <cmath>

namespace aepipe::ref {

double act(Act a, double x) {
    switch (a) {
        case Act::Identity: return x;
        case Act::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
        case Act::Relu: return x > 0 ? x : 0.0;
        case Act::Tanh: return std::tanh(x);
    }
    return x;
}

double act_grad(Act a, double x) {
    switch (a) {
        case Act::Identity: return 1.0;
        case Act::Sigmoid: {
            double s = 1.0 / (1.0 + std::exp(-x));
            return s * (1.0 - s);
        }
        case Act::Relu: return x > 0 ? 1.0 : 0.0;
        case Act::Tanh: {
            double th = std::tanh(x);
            return 1.0 - th * th;
        }
    }
    return 1.0;
}

void act_forward(Act a, int64_t count, const float *x, double *y) {
    for (int64_t i = 0; i < count; ++i) y[i] = act(a, x[i]);
}

void act_backward(Act a, int64_t count, const float *x, const float *dy, double *dx) {
    for (int64_t i = 0; i < count; ++i) dx[i] = double(dy[i]) * act_grad(a, x[i]);
}

// z (n, out) = x W + b
static std::vector<double> pre_activation(int64_t n, int64_t in, int64_t out, const float *x, const float *w,
                                          const float *b) {
    std::vector<double> z(size_t(n * out));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < out; ++j) {
            double s = b ? double(b[j]) : 0.0;
            for (int64_t k = 0; k < in; ++k) s += double(x[i * in + k]) * double(w[k * out + j]);
            z[size_t(i * out + j)] = s;
        }
    return z;
}

void dense_forward(int64_t n, int64_t in, int64_t out, Act a, const float *x, const float *w, const float *b,
                   double *y) {
    std::vector<double> z = pre_activation(n, in, out, x, w, b);
    for (int64_t i = 0; i < n * out; ++i) y[i] = act(a, z[size_t(i)]);
}

void dense_backward(int64_t n, int64_t in, int64_t out, Act a, const float *x, const float *w, const float *b,
                    const float *dy, double *dx, double *dw, double *db) {
    std::vector<double> dz = pre_activation(n, in, out, x, w, b);
    for (int64_t i = 0; i < n * out; ++i) dz[size_t(i)] = double(dy[i]) * act_grad(a, dz[size_t(i)]);
    // dW (in, out) = x^T (in, n) dz (n, out)
    for (int64_t k = 0; k < in; ++k)
        for (int64_t j = 0; j < out; ++j) {
            double s = 0;
            for (int64_t i = 0; i < n; ++i) s += double(x[i * in + k]) * dz[size_t(i * out + j)];
            dw[k * out + j] = s;
        }
    // db (out) = column sums of dz
    if (db)
        for (int64_t j = 0; j < out; ++j) {
            double s = 0;
            for (int64_t i = 0; i < n; ++i) s += dz[size_t(i * out + j)];
            db[j] = s;
        }
    // dx (n, in) = dz (n, out) W^T (out, in)
    if (dx)
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < in; ++k) {
                double s = 0;
                for (int64_t j = 0; j < out; ++j) s += dz[size_t(i * out + j)] * double(w[k * out + j]);
                dx[i * in + k] = s;
            }
}

double mse(int64_t count, const float *y, const float *t, double *dy) {
    double s = 0;
    for (int64_t i = 0; i < count; ++i) {
        double e = double(y[i]) - double(t[i]);
        s += e * e;
        if (dy) dy[i] = 2.0 * e / double(count);
    }
    return s / double(count);
}

double bce(int64_t count, const float *y, const float *t, double eps, double *dy) {
    double s = 0;
    for (int64_t i = 0; i < count; ++i) {
        double p = std::clamp(double(y[i]), eps, 1.0 - eps), ti = t[i];
        s -= ti * std::log(p) + (1.0 - ti) * std::log(1.0 - p);
        // d/dp of -(t log p + (1-t) log(1-p)) = -t/p + (1-t)/(1-p)
        if (dy) dy[i] = (-ti / p + (1.0 - ti) / (1.0 - p)) / double(count);
    }
    return s / double(count);
}

double bce_logits(int64_t count, const float *z, const float *t, double *dz) {
    double s = 0;
    for (int64_t i = 0; i < count; ++i) {
        double p = 1.0 / (1.0 + std::exp(-double(z[i]))), ti = t[i];
        s -= ti * std::log(p) + (1.0 - ti) * std::log(1.0 - p);
        if (dz) dz[i] = (p - ti) / double(count);
    }
    return s / double(count);
}

// g' = g + weight_decay * w
static double decayed(const std::vector<double> &w, const std::vector<double> &g, size_t i, double wd) {
    return g[i] + wd * w[i];
}

void Sgd::step(std::vector<double> &w, const std::vector<double> &g) {
    ++t;
    if (momentum_buffer.size() != w.size()) momentum_buffer.assign(w.size(), 0.0);
    for (size_t i = 0; i < w.size(); ++i) {
        double gi = decayed(w, g, i, weight_decay), d = gi;
        if (momentum != 0) {
            double &v = momentum_buffer[i];
            v = t == 1 ? gi : momentum * v + gi;
            d = nesterov ? gi + momentum * v : v;
        }
        w[i] -= lr * d;
    }
}

void RmsProp::step(std::vector<double> &w, const std::vector<double> &g) {
    if (square_avg.size() != w.size()) square_avg.assign(w.size(), 0.0);
    for (size_t i = 0; i < w.size(); ++i) {
        double gi = decayed(w, g, i, weight_decay);
        square_avg[i] = alpha * square_avg[i] + (1 - alpha) * gi * gi;
        w[i] -= lr * gi / (std::sqrt(square_avg[i]) + eps);
    }
}

void Adam::step(std::vector<double> &w, const std::vector<double> &g) {
    ++t;
    if (exp_avg.size() != w.size()) {
        exp_avg.assign(w.size(), 0.0);
        exp_avg_sq.assign(w.size(), 0.0);
    }
    const double c1 = 1 - std::pow(beta1, double(t)), c2 = 1 - std::pow(beta2, double(t));
    for (size_t i = 0; i < w.size(); ++i) {
        double gi = decayed(w, g, i, weight_decay);
        exp_avg[i] = beta1 * exp_avg[i] + (1 - beta1) * gi;
        exp_avg_sq[i] = beta2 * exp_avg_sq[i] + (1 - beta2) * gi * gi;
        double m_hat = exp_avg[i] / c1, v_hat = exp_avg_sq[i] / c2;
        w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
}

void AdaGrad::step(std::vector<double> &w, const std::vector<double> &g) {
    if (sum.size() != w.size()) sum.assign(w.size(), initial_accumulator);
    for (size_t i = 0; i < w.size(); ++i) {
        double gi = decayed(w, g, i, weight_decay);
        sum[i] += gi * gi;
        w[i] -= lr * gi / (std::sqrt(sum[i]) + eps);
    }
}

// ---- spatial layers ----

// Calls f(small, big, weight) for every product term of a convolution of sample `s`: `small` is
// the index of the conv's output (or the deconv's input) element, `big` of the conv's input (or
// the deconv's output), `weight` of W. Out-of-bounds (padding) terms are skipped.
template <class F>
static void conv_terms(const ConvCase &c, int64_t s, F f) {
    const Shape &small = c.transposed ? c.in : c.out, &big = c.transposed ? c.out : c.in;
    const int64_t K = c.kernel;
    for (int64_t i = 0; i < small.h; ++i)
        for (int64_t j = 0; j < small.w; ++j)
            for (int64_t u = 0; u < K; ++u)
                for (int64_t v = 0; v < K; ++v) {
                    const int64_t bi = i * c.stride - c.padding + u, bj = j * c.stride - c.padding + v;
                    if (bi < 0 || bj < 0 || bi >= big.h || bj >= big.w) continue;
                    for (int64_t o = 0; o < c.out.c; ++o)
                        for (int64_t ch = 0; ch < c.in.c; ++ch) {
                            // conv: small channel o (output), big channel ch (input); W[o, ch, u, v].
                            // deconv: small channel ch (input), big channel o (output); W[ch, o, u, v].
                            const int64_t sc = c.transposed ? ch : o, bc = c.transposed ? o : ch;
                            const int64_t widx = c.transposed ? ((ch * c.out.c + o) * K + u) * K + v
                                                              : ((o * c.in.c + ch) * K + u) * K + v;
                            f(((s * small.h + i) * small.w + j) * small.c + sc, ((s * big.h + bi) * big.w + bj) * big.c + bc,
                              widx);
                        }
                }
}

static std::vector<double> conv_pre(int64_t n, const ConvCase &c, const float *x, const float *w, const float *b) {
    const int64_t osz = c.out.size();
    std::vector<double> z(size_t(n * osz));
    for (int64_t i = 0; i < n * osz; ++i) z[size_t(i)] = b ? double(b[i % c.out.c]) : 0.0;
    for (int64_t s = 0; s < n; ++s)
        conv_terms(c, s, [&](int64_t sm, int64_t bg, int64_t wi) {
            if (c.transposed)
                z[size_t(bg)] += double(x[sm]) * double(w[wi]);
            else
                z[size_t(sm)] += double(x[bg]) * double(w[wi]);
        });
    return z;
}

void conv_forward(int64_t n, const ConvCase &c, const float *x, const float *w, const float *b, double *y) {
    std::vector<double> z = conv_pre(n, c, x, w, b);
    for (size_t i = 0; i < z.size(); ++i) y[i] = act(c.act, z[i]);
}

void conv_backward(int64_t n, const ConvCase &c, const float *x, const float *w, const float *b, const float *dy,
                   double *dx, double *dw, double *db) {
    std::vector<double> dz = conv_pre(n, c, x, w, b);
    for (size_t i = 0; i < dz.size(); ++i) dz[i] = double(dy[i]) * act_grad(c.act, dz[i]);
    const int64_t K = c.kernel;
    if (dx) std::fill(dx, dx + n * c.in.size(), 0.0);
    if (dw) std::fill(dw, dw + c.out.c * c.in.c * K * K, 0.0);
    if (db) {
        std::fill(db, db + c.out.c, 0.0);
        for (size_t i = 0; i < dz.size(); ++i) db[i % size_t(c.out.c)] += dz[i];
    }
    for (int64_t s = 0; s < n; ++s)
        conv_terms(c, s, [&](int64_t sm, int64_t bg, int64_t wi) {
            // conv: x is big, z small; deconv: x is small, z big.
            const int64_t xi = c.transposed ? sm : bg, zi = c.transposed ? bg : sm;
            if (dx) dx[xi] += dz[size_t(zi)] * double(w[wi]);
            if (dw) dw[wi] += dz[size_t(zi)] * double(x[xi]);
        });
}

// Index of the max in the window of output (s, i, j, ch); -1 when the window holds only padding.
static int64_t window_argmax(Shape in, int64_t kernel, int64_t stride, int64_t padding, const float *x, int64_t s,
                             int64_t i, int64_t j, int64_t ch) {
    int64_t best = -1;
    for (int64_t u = 0; u < kernel; ++u)
        for (int64_t v = 0; v < kernel; ++v) {
            const int64_t r = i * stride - padding + u, q = j * stride - padding + v;
            if (r < 0 || q < 0 || r >= in.h || q >= in.w) continue;
            const int64_t k = ((s * in.h + r) * in.w + q) * in.c + ch;
            if (best < 0 || x[k] > x[best]) best = k;
        }
    return best;
}

void maxpool_forward(int64_t n, Shape in, Shape out, int64_t kernel, int64_t stride, int64_t padding, const float *x,
                     double *y) {
    for (int64_t s = 0; s < n; ++s)
        for (int64_t i = 0; i < out.h; ++i)
            for (int64_t j = 0; j < out.w; ++j)
                for (int64_t ch = 0; ch < out.c; ++ch) {
                    int64_t k = window_argmax(in, kernel, stride, padding, x, s, i, j, ch);
                    y[((s * out.h + i) * out.w + j) * out.c + ch] = k < 0 ? 0.0 : double(x[k]);
                }
}

void maxpool_backward(int64_t n, Shape in, Shape out, int64_t kernel, int64_t stride, int64_t padding,
                      const float *x, const float *dy, double *dx) {
    std::fill(dx, dx + n * in.size(), 0.0);
    for (int64_t s = 0; s < n; ++s)
        for (int64_t i = 0; i < out.h; ++i)
            for (int64_t j = 0; j < out.w; ++j)
                for (int64_t ch = 0; ch < out.c; ++ch) {
                    int64_t k = window_argmax(in, kernel, stride, padding, x, s, i, j, ch);
                    if (k >= 0) dx[k] += double(dy[((s * out.h + i) * out.w + j) * out.c + ch]);
                }
}

// The (up to 2 x 2) source taps of output row/column i and their weights along one axis.
struct Taps {
    int64_t at[2];
    double wt[2];
};
static Taps taps(int64_t i, int64_t size, int64_t f, bool bilinear) {
    if (!bilinear) return {{i / f, i / f}, {1.0, 0.0}};
    double pos = std::max((double(i) + 0.5) / double(f) - 0.5, 0.0);
    int64_t lo = std::min(int64_t(pos), size - 1), hi = std::min(lo + 1, size - 1);
    double t = pos - double(lo);
    return {{lo, hi}, {1.0 - t, t}};
}

// Calls g(src, dst, weight) for every term of the upsampling of sample s.
template <class G>
static void upsample_terms(Shape in, int64_t f, bool bilinear, int64_t s, G g) {
    for (int64_t i = 0; i < in.h * f; ++i)
        for (int64_t j = 0; j < in.w * f; ++j) {
            Taps ti = taps(i, in.h, f, bilinear), tj = taps(j, in.w, f, bilinear);
            for (int a = 0; a < 2; ++a)
                for (int b = 0; b < 2; ++b)
                    for (int64_t ch = 0; ch < in.c; ++ch)
                        g(((s * in.h + ti.at[a]) * in.w + tj.at[b]) * in.c + ch,
                          ((s * in.h * f + i) * in.w * f + j) * in.c + ch, ti.wt[a] * tj.wt[b]);
        }
}

void upsample_forward(int64_t n, Shape in, int64_t f, bool bilinear, const float *x, double *y) {
    std::fill(y, y + n * in.size() * f * f, 0.0);
    for (int64_t s = 0; s < n; ++s)
        upsample_terms(in, f, bilinear, s, [&](int64_t src, int64_t dst, double wt) { y[dst] += wt * double(x[src]); });
}

void upsample_backward(int64_t n, Shape in, int64_t f, bool bilinear, const float *dy, double *dx) {
    std::fill(dx, dx + n * in.size(), 0.0);
    for (int64_t s = 0; s < n; ++s)
        upsample_terms(in, f, bilinear, s, [&](int64_t src, int64_t dst, double wt) { dx[src] += wt * double(dy[dst]); });
}

}  // namespace aepipe::ref
