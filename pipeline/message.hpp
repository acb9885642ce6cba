// What travels on the flow-graph edges: one small message type for every edge, copied by
// value (a few integers and shared handles; no pixel data is ever copied between nodes).
//
// Port kinds (checked when the graph is built; see each node's spec):
//   dataset  one per epoch: a dataset handle, and after `shuffle` the epoch's sample order
//   batch    a slice of the epoch order (begin, count), no pixels yet
//   tensor   a batch whose pixels are in a pooled float buffer (x, rows x dim); after a
//            `corrupt` node x holds the corrupted inputs and target the clean originals
//   epoch    end of a training epoch: train statistics and a snapshot of the parameters
//   eval     an epoch plus its test-set evaluation
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace aepipe {

struct Dataset;
class SlotPool;
// What a port kind's nodes define and the core only carries: the epoch and eval reports
// (nodes/nn/reports.hpp). The framework knows no model or loss; a node reads a payload back
// through a typed accessor that checks its type.
struct Payload {
    virtual ~Payload() = default;
};

struct Msg {
    int64_t epoch = 0;  // 0-based
    int64_t step = 0;   // global step of a batch; the sequence number for reordering
    const Dataset *data = nullptr;
    std::shared_ptr<const std::vector<int32_t>> order;  // epoch order (null = natural order)
    int64_t begin = 0, count = 0;                        // slice of the order (this rank's rows)
    int64_t total = 0;  // rows of the whole batch over all ranks (pipeline/dist.hpp); = count with one
    bool last_in_epoch = false;
    float *x = nullptr;  // tensor: count x dim floats in a pool slot
    int slot = -1;
    SlotPool *pool = nullptr;
    // tensor: what the loss compares with (count x dim; null = x itself), in its own slot.
    // Both slots go back to their pools after the training step (release_buffers).
    const float *target = nullptr;
    int target_slot = -1;
    SlotPool *target_pool = nullptr;
    std::shared_ptr<const Payload> report;  // epoch, eval: the training epoch (EpochReport)
    std::shared_ptr<const Payload> eval;    // eval: the test-set evaluation (EvalReport)
    double t_ready = -1;               // profiling: when this message was emitted (s)

    int64_t sample(int64_t k) const { return order ? (*order)[size_t(begin + k)] : begin + k; }
};

}  // namespace aepipe
