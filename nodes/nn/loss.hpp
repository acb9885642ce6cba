// Reconstruction losses: value and gradient with respect to the model output.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pipeline/registry.hpp"

namespace aepipe {

class Loss {
public:
    explicit Loss(bool sum = false) : sum_(sum) {}
    virtual ~Loss() = default;
    // Mean loss over the n*d elements (reduction: mean), or the sum over each sample's d
    // values averaged over the n samples (reduction: sum, e.g. nats per image); writes
    // grad_scale * dL/dy into dy (n, d). A row shard of a larger batch passes rows/batch,
    // so shard gradients simply add up.
    virtual double forward_backward(int64_t n, int64_t d, const float *y, const float *t, float *dy,
                                    double grad_scale = 1.0) const = 0;
    // Loss value only (evaluation).
    virtual double value(int64_t n, int64_t d, const float *y, const float *t) const = 0;
    // Maps model output to image space (probabilities); identity unless the loss takes logits.
    virtual void to_image(int64_t count, const float *y, float *out) const;
    virtual bool outputs_logits() const { return false; }
    bool sums_per_sample() const { return sum_; }
    // Unit of the loss value for metric names: "nats_per_img", "per_px", ...
    virtual std::string unit() const { return sum_ ? "per_img" : "per_px"; }

protected:
    // What the summed loss is divided by.
    double denominator(int64_t n, int64_t d) const { return double(sum_ ? n : n * d); }

private:
    bool sum_;
};

using LossRegistry = Registry<Loss>;

// Mean squared error per element between images (used for test metrics whatever the loss).
double mse_per_element(int64_t count, const float *a, const float *b);

}  // namespace aepipe
