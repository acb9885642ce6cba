// The training node's checkpoint duty, given the checkpoint node's policy: right after the
// update of a step (the only moment the training state is whole) it writes
// RUN/checkpoints/step-N.ckpt when the policy says one is due or a stop signal came. It keeps
// the epoch reports still in flight to the sinks, so that a checkpoint holds the epochs whose
// metrics rows were not written yet (a resumed run evaluates them again).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nodes/nn/checkpoint_policy.hpp"
#include "nodes/nn/reports.hpp"
#include "nodes/nn/train_state.hpp"

namespace aepipe {

class StepEngine;

class TrainCheckpoints {
public:
    // policy null or run_dir empty: writes nothing (but still keeps the pending reports).
    TrainCheckpoints(const CheckpointPolicy *policy, std::string run_dir, nlohmann::json fingerprint, uint64_t seed)
        : policy_(run_dir.empty() ? nullptr : policy), run_dir_(std::move(run_dir)),
          fingerprint_(std::move(fingerprint)), seed_(seed) {}

    // A finished epoch whose report is on its way to the sinks.
    void add_pending(std::shared_ptr<const EpochReport> r);
    const std::vector<std::shared_ptr<const EpochReport>> &pending() const { return pending_; }

    // After the update of a step: writes a checkpoint if the policy says one is due, or if
    // `forced` (a stop signal). Returns whether it wrote one (then last() is its path).
    bool after_step(StepEngine &engine, const Model &model, const TrainProgress &progress, bool epoch_end,
                    bool run_end, bool forced);
    bool writes() const { return policy_ != nullptr; }
    const std::string &last() const { return last_; }

private:
    // Reports every sink has finished with (only this list still holds them) need no place.
    void prune_pending();

    const CheckpointPolicy *policy_;
    std::string run_dir_;
    nlohmann::json fingerprint_;
    uint64_t seed_;
    std::vector<std::shared_ptr<const EpochReport>> pending_;
    std::string last_;
};

}  // namespace aepipe
