#pragma once

#include <cstdint>

#include "nodes/data/normalize.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {

// How one image is corrupted, in raw pixel space v = p / 255 in [0, 1], in this order:
//   noise:        v += noise_std * N(0, 1), then clipped to [0, 1]
//   salt/pepper:  each pixel (all its channels) with probability salt_pepper becomes 0 or 1,
//                 half and half
//   masks:        `masks` rectangles, each side uniform in [mask_min, mask_max] (at most the
//                 image's side), placed uniformly inside the image, filled with mask_value
// and then mapped to model inputs by the normalizer. Every random number is a hash of
// (seed, epoch, sample index, counter) (splitmix64), so the result depends on nothing else:
// not on threads, batch boundaries or a resumed run.
struct Corruption {
    double noise_std = 0, salt_pepper = 0, mask_value = 0;
    int64_t masks = 0, mask_min = 1, mask_max = 1;
    uint64_t seed = 0;

    // The test set is corrupted with this "epoch", the same every epoch.
    static constexpr int64_t kTestEpoch = -1;
    uint64_t key(int64_t epoch, int64_t index) const;
    // One image (h, w, c) u8 -> dst (h * w * c model inputs).
    void apply(const uint8_t *src, int64_t h, int64_t w, int64_t c, uint64_t key, const Normalizer &norm,
               float *dst) const;
};

class CorruptNode : public FlowNode {
public:
    explicit CorruptNode(const Params &p);
    void resolve(Pipeline &p, Diags &d) override;
    void build(Pipeline &p) override;
    InPort in(const std::string &, const std::string &) override { return *node_; }
    OutPort out(const std::string &) override { return *order_; }
    const Corruption &corruption() const { return corruption_; }

private:
    Corruption corruption_;
    std::optional<int64_t> seed_;  // unset: train.seed
    const Normalizer *norm_ = nullptr;
    SlotPool *pool_ = nullptr;  // Pipeline::pool
    std::unique_ptr<flow::function_node<TensorMsg, TensorMsg>> node_;
    std::unique_ptr<flow::sequencer_node<TensorMsg>> order_;
};

// Whether the graph has a corrupt node (then evaluation measures restoration).
bool has_corruption(const Pipeline &p);

}  // namespace aepipe
