#pragma once

#include <cstdint>

#include "pipeline/graph.hpp"

namespace aepipe {

// y = (p * scale + shift - mean) / std for a u8 pixel p; and back to a byte for images.
struct Normalizer {
    float scale = 1.f / 255.f, shift = 0.f, mean = 0.f, std = 1.f;
    void apply(const uint8_t *src, int64_t count, float *dst) const;
    uint8_t to_byte(float y) const;
    // Between model inputs y and raw pixel values v = p / 255 in [0, 1] (no clipping).
    float from_unit(float v) const { return (255.f * v * scale + shift - mean) / std; }
    float to_unit(float y) const { return (y * std + mean - shift) / (255.f * scale); }
};

// Puts batches that were prepared in parallel back in step order, from the run's first step
// (a resumed run starts at its checkpoint's).
std::unique_ptr<flow::sequencer_node<TensorMsg>> step_order(Pipeline &p);

class NormalizeNode : public FlowNode {
public:
    explicit NormalizeNode(const Params &p);
    void resolve(Pipeline &p, Diags &d) override;
    void build(Pipeline &p) override;
    InPort in(const std::string &, const std::string &) override { return *node_; }
    OutPort out(const std::string &) override { return *order_; }
    const Normalizer &normalizer() const { return norm_; }

private:
    Normalizer norm_;
    SlotPool *pool_ = nullptr;  // Pipeline::pool
    std::unique_ptr<flow::function_node<BatchMsg, TensorMsg>> node_;
    std::unique_ptr<flow::sequencer_node<TensorMsg>> order_;
};

}  // namespace aepipe
