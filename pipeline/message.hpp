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
class Model;
struct Normalizer;
struct Corruption;

struct EpochReport {
    int64_t epoch = 0;  // 0-based
    int64_t steps = 0;  // global steps done so far
    int64_t samples = 0;
    double train_loss = 0, seconds = 0, samples_per_s = 0;
    double train_recon = 0, train_kl = 0;  // VAE: reconstruction and KL (nats) parts of train_loss
    std::shared_ptr<const std::vector<float>> params;  // snapshot after the epoch's last step
    const Model *model = nullptr;                      // layout of `params` (read-only)
    bool last = false;                                 // the run's final epoch
};

// Whether a sink writing "every N epochs" (0: never) writes after this epoch.
inline bool periodic_epoch(int64_t every, const EpochReport &r) { return every > 0 && (r.epoch + 1) % every == 0; }

struct EvalReport {
    double test_loss = 0, test_mse_per_px = 0, seconds = 0;
    double test_recon = 0, test_kl = 0;  // VAE: reconstruction and KL (nats) parts of test_loss
    int64_t test_samples = 0;
    // Restoration (the test inputs were corrupted): PSNR against the clean originals.
    bool restoration = false;
    double psnr_corrupt_db = 0, psnr_restored_db = 0;
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
    std::shared_ptr<const EpochReport> report;
    std::shared_ptr<const EvalReport> eval;
    const Normalizer *norm = nullptr;  // eval: how pixels were mapped to model inputs
    const Corruption *corrupt = nullptr;  // eval: how test inputs were corrupted (null: clean)
    double t_ready = -1;               // profiling: when this message was emitted (s)

    int64_t sample(int64_t k) const { return order ? (*order)[size_t(begin + k)] : begin + k; }
};

}  // namespace aepipe
