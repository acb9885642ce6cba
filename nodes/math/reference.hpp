// Naive reference kernels: the specification the oneDNN-backed nodes are tested against.
//
// Plain loops in double, written for reading, not speed. Inputs are the float tensors the
// production code sees; outputs are double so a test compares float results against the
// exact-as-possible value. Activation derivatives here are taken at the pre-activation x
// (f'(x)), not through the output y as the oneDNN "use_dst" kernels do, so the tests also
// check that rewrite.
#pragma once

#include <cstdint>
#include <vector>

#include "nodes/nn/layer.hpp"

namespace aepipe::ref {

// ---- activations (element-wise) ----
double act(Act a, double x);
double act_grad(Act a, double x);  // f'(x)
// y = f(x) over count elements.
void act_forward(Act a, int64_t count, const float *x, double *y);
// dx = dy * f'(x) over count elements.
void act_backward(Act a, int64_t count, const float *x, const float *dy, double *dx);

// ---- dense: y = act(x W + b) ----
// x (n, in), W (in, out) row-major, b (out) or null; y (n, out).
void dense_forward(int64_t n, int64_t in, int64_t out, Act a, const float *x, const float *w, const float *b,
                   double *y);
// From dy (n, out): dz = dy * act'(z) with z = x W + b; dW (in, out) = x^T dz; db (out) = sum over
// rows of dz (skipped when db is null); dx (n, in) = dz W^T (skipped when dx is null).
void dense_backward(int64_t n, int64_t in, int64_t out, Act a, const float *x, const float *w, const float *b,
                    const float *dy, double *dx, double *dw, double *db);

// ---- spatial layers: rows NHWC, s = stride, p = padding, square kernels K ----
// conv2d: z[o, i, j] = b[o] + sum_{c, u, v} x[i s - p + u, j s - p + v, c] W[o, c, u, v], y = act(z)
//   x (n, in.h, in.w, in.c), W (filters, in.c, K, K), b (filters) or null, y (n, out.h, out.w, filters).
// deconv2d (transposed): z[i s - p + u, j s - p + v, o] += x[i, j, c] W[c, o, u, v], plus b[o]
//   W (in.c, filters, K, K): the adjoint of conv2d's sum, as torch's ConvTranspose2d.
struct ConvCase {
    Shape in, out;
    int64_t kernel, stride, padding;
    bool transposed;
    Act act;
};
void conv_forward(int64_t n, const ConvCase &c, const float *x, const float *w, const float *b, double *y);
// dz = dy * act'(z); dW, db (null: skipped) and dx (null: skipped) from dz.
void conv_backward(int64_t n, const ConvCase &c, const float *x, const float *w, const float *b, const float *dy,
                   double *dx, double *dw, double *db);

// maxpool over K x K windows (padding never wins); backward sends dy to each window's argmax.
void maxpool_forward(int64_t n, Shape in, Shape out, int64_t kernel, int64_t stride, int64_t padding, const float *x,
                     double *y);
void maxpool_backward(int64_t n, Shape in, Shape out, int64_t kernel, int64_t stride, int64_t padding,
                      const float *x, const float *dy, double *dx);

// upsample by an integer factor f: nearest y[i, j] = x[i / f, j / f]; bilinear samples x at
// (i + 0.5) / f - 0.5 (clamped at 0 and the last row/column), as torch with align_corners false.
void upsample_forward(int64_t n, Shape in, int64_t f, bool bilinear, const float *x, double *y);
void upsample_backward(int64_t n, Shape in, int64_t f, bool bilinear, const float *dy, double *dx);

// ---- losses: mean over count elements; dy (nullable) receives dL/dy ----
// L = mean((y - t)^2)
double mse(int64_t count, const float *y, const float *t, double *dy);
// L = -mean(t log p + (1 - t) log(1 - p)), p = clamp(y, eps, 1 - eps); dL/dy taken at p.
double bce(int64_t count, const float *y, const float *t, double eps, double *dy);
// The same loss with p = sigmoid(z), written the naive way (no log-sum-exp): dL/dz = (p - t) / count.
double bce_logits(int64_t count, const float *z, const float *t, double *dz);

// ---- optimizers: one step each, PyTorch semantics, state in double ----
// All use g' = g + weight_decay * w.
struct Sgd {  // v = g' (first step) or momentum v + g'; w -= lr (nesterov ? g' + momentum v : v)
    double lr = 0.01, momentum = 0, weight_decay = 0;
    bool nesterov = false;
    int64_t t = 0;
    std::vector<double> momentum_buffer;
    void step(std::vector<double> &w, const std::vector<double> &g);
};

struct RmsProp {  // s = alpha s + (1 - alpha) g'^2; w -= lr g' / (sqrt(s) + eps)
    double lr = 0.01, alpha = 0.99, eps = 1e-8, weight_decay = 0;
    std::vector<double> square_avg;
    void step(std::vector<double> &w, const std::vector<double> &g);
};

struct Adam {  // m, v moving averages; w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    double lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
    int64_t t = 0;
    std::vector<double> exp_avg, exp_avg_sq;
    void step(std::vector<double> &w, const std::vector<double> &g);
};

struct AdaGrad {  // s starts at initial_accumulator; s += g'^2; w -= lr g' / (sqrt(s) + eps)
    double lr = 0.01, eps = 1e-10, initial_accumulator = 0, weight_decay = 0;
    std::vector<double> sum;
    void step(std::vector<double> &w, const std::vector<double> &g);
};

}  // namespace aepipe::ref
