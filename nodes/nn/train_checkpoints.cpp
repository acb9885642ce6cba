#include "nodes/nn/train_checkpoints.hpp"

#include <algorithm>

#include "nodes/nn/step_engine.hpp"

namespace aepipe {

void TrainCheckpoints::add_pending(std::shared_ptr<const EpochReport> r) {
    prune_pending();
    pending_.push_back(std::move(r));
}

void TrainCheckpoints::prune_pending() {
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(), [](const auto &r) { return r.use_count() == 1; }),
                   pending_.end());
}

bool TrainCheckpoints::after_step(StepEngine &engine, const Model &model, const TrainProgress &progress,
                                  bool epoch_end, bool run_end, bool forced) {
    if (!policy_ || !(forced || policy_->state_due(progress.steps, epoch_end, progress.epochs_done, run_end)))
        return false;
    prune_pending();
    std::vector<const EpochReport *> pending;
    for (const auto &r : pending_) pending.push_back(r.get());
    last_ = policy_->save_state(run_dir_, progress.steps,
                                make_train_checkpoint(model, engine.params(), engine.optimizer(), progress, pending,
                                                      seed_, fingerprint_));
    return true;
}

}  // namespace aepipe
