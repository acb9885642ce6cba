// The training node's state <-> a checkpoint file (pipeline/ckpt_file.hpp).
//
// Tensors: every parameter by name in its storage layout ("layers.0.weight", dense weights
// (in, out)), every optimizer buffer over the whole slab ("optimizer.exp_avg", ...), and, for
// a checkpoint taken inside an epoch, the parameters at the end of the previous epoch
// ("epoch_end.params"), so a resumed run can still evaluate that epoch if it was killed
// before its metrics row was written. State: counters only: randomness in aepipe is a pure
// function of (seed, epoch, step, sample), so the step count restores the generators.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"
#include "pipeline/ckpt_file.hpp"
#include "pipeline/message.hpp"

namespace aepipe {

struct TrainProgress {
    int64_t steps = 0;                // steps done
    int64_t epochs_done = 0;          // epochs whose last step is done
    int64_t first_step_of_epoch = 0;  // global step that opened the current epoch
    int64_t samples = 0;              // samples of the current epoch so far
    double loss_sum = 0;              // their summed loss (restored bit for bit)
};

CkptFile make_train_checkpoint(const Model &m, const float *params, Optimizer &opt, const TrainProgress &pr,
                               const EpochReport *last_epoch, uint64_t seed, const nlohmann::json &fingerprint);

// Restores params, optimizer state and progress; `last_epoch` gets the report of the last
// finished epoch (params included) or null. DataError (path) when it does not fit the model.
void restore_train_checkpoint(const CkptFile &f, const std::string &path, const Model &m, float *params,
                              Optimizer &opt, TrainProgress &pr, std::shared_ptr<EpochReport> &last_epoch);

// --init-from: only the weights, from a .ckpt or a .safetensors; shapes must match.
void load_weights(const std::string &path, const Model &m, float *params);

}  // namespace aepipe
