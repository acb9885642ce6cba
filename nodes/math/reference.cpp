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

}  // namespace aepipe::ref
