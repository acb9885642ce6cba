// The training counters and clocks of the train node: steps, the current epoch's loss sums,
// and its samples/s, turned into an EpochReport at the end of each epoch.
//
// Training throughput counts the steps alone: from a step's start to the end of its update,
// so waits for data, evaluation and sinks between steps are left out (what overlaps a step
// still slows it). The run's first step (primitive JIT, first touch of every buffer) is
// start-up: it counts only when its epoch has no other step. aepipe bench and profile read
// the same clock (Pipeline::step_marks, Pipeline::record_step).
#pragma once

#include <chrono>
#include <memory>

#include "nodes/nn/reports.hpp"
#include "nodes/nn/step_engine.hpp"
#include "nodes/nn/train_state.hpp"

namespace aepipe {

class EpochStats {
public:
    using clk = std::chrono::steady_clock;

    const TrainProgress &progress() const { return p_; }  // what a checkpoint keeps
    void restore(const TrainProgress &p) { p_ = p; }
    int64_t steps() const { return p_.steps; }
    int64_t epochs_done() const { return p_.epochs_done; }

    // A step of this epoch starts (the first one of an epoch also starts the epoch's clock).
    void begin_step(int64_t step);
    // It ended with these loss sums over `samples` rows; returns its seconds.
    double end_step(const StepSums &s, int64_t samples);
    double samples_per_s() const;
    double mean_loss() const { return p_.samples ? p_.loss_sum / double(p_.samples) : 0.0; }
    // The epoch that ended with step `last_step`: its report, and the counters move on.
    std::shared_ptr<EpochReport> end_epoch(int64_t epoch, int64_t last_step);

private:
    TrainProgress p_;
    clk::time_point epoch_start_ = clk::now(), step_start_{};
    // This epoch's steps: seconds and samples, the start-up step apart.
    double busy_s_ = 0, startup_s_ = 0;
    int64_t busy_samples_ = 0, startup_samples_ = 0;
    bool started_ = false;
};

}  // namespace aepipe
