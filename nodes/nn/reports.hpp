// What the training and evaluate nodes report on the `epoch` and `eval` ports. The core's
// message (pipeline/message.hpp) carries these as opaque payloads, so that the framework knows
// no model, normalizer or loss; the nodes that read them use the accessors below.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "pipeline/message.hpp"

namespace aepipe {

class Model;
struct Normalizer;
struct Corruption;

struct EpochReport : Payload {
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

struct EvalReport : Payload {
    double test_loss = 0, test_mse_per_px = 0, seconds = 0;
    double test_recon = 0, test_kl = 0;  // VAE: reconstruction and KL (nats) parts of test_loss
    int64_t test_samples = 0;
    // Restoration (the test inputs were corrupted): PSNR against the clean originals.
    bool restoration = false;
    double psnr_corrupt_db = 0, psnr_restored_db = 0;
    const Normalizer *norm = nullptr;     // how pixels were mapped to model inputs
    const Corruption *corrupt = nullptr;  // how test inputs were corrupted (null: clean)
};

// The reports of an `epoch` or `eval` message. The graph builder checks port kinds, so a
// message without its report is a bug in the sending node: a logic_error, never a crash.
inline const EpochReport &epoch_report(const EpochMsg &m) {
    const auto *r = dynamic_cast<const EpochReport *>(m.report.get());
    if (!r) throw std::logic_error("internal: an epoch message without its EpochReport");
    return *r;
}
inline const EvalReport &eval_report(const EvalMsg &m) {
    const auto *r = dynamic_cast<const EvalReport *>(m.eval.get());
    if (!r) throw std::logic_error("internal: an eval message without its EvalReport");
    return *r;
}

}  // namespace aepipe
