// Reconstruction losses: value and gradient with respect to the model output.
#pragma once

#include <cstdint>
#include <memory>

#include "pipeline/registry.hpp"

namespace aepipe {

class Loss {
public:
    virtual ~Loss() = default;
    // Mean loss over the n*d elements; writes grad_scale * dL/dy into dy (n, d). A row shard
    // of a larger batch passes rows/batch, so shard gradients simply add up.
    virtual double forward_backward(int64_t n, int64_t d, const float *y, const float *t, float *dy,
                                    double grad_scale = 1.0) const = 0;
    // Loss value only (evaluation).
    virtual double value(int64_t n, int64_t d, const float *y, const float *t) const = 0;
    // Maps model output to image space (probabilities); identity unless the loss takes logits.
    virtual void to_image(int64_t count, const float *y, float *out) const;
    virtual bool outputs_logits() const { return false; }
};

using LossRegistry = Registry<Loss>;

// Mean squared error per element between images (used for test metrics whatever the loss).
double mse_per_element(int64_t count, const float *a, const float *b);

}  // namespace aepipe
