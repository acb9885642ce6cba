// The training node's state <-> a checkpoint file (formats/ckpt_file.hpp).
//
// Tensors: every parameter by name in its storage layout ("layers.0.weight", dense weights
// (in, out)), every optimizer buffer over the whole slab ("optimizer.exp_avg", ...), and the
// parameters at the end of each finished epoch whose report the sinks had not finished with
// yet ("epoch_end.<E>.params", E 0-based; omitted when they equal the current ones), so a
// run killed before an epoch's metrics row was written evaluates that epoch when resumed. State: counters only: randomness in aepipe is a pure
// function of (seed, epoch, step, sample), so the step count restores the generators.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"
#include "nodes/nn/reports.hpp"
#include "formats/ckpt_file.hpp"
#include "pipeline/message.hpp"

namespace aepipe {

struct RunSettings;

// aepipe run --resume: the checkpoint to continue from, read and checked by the CLI, for the
// training node (in RunSettings::resume).
struct ResumeFrom : Payload {
    CkptFile ckpt;
    std::string path;
};
// The checkpoint of a resumed run, or nullptr for a new one.
const ResumeFrom *resume_from(const RunSettings &s);

struct TrainProgress {
    int64_t steps = 0;                // steps done
    int64_t epochs_done = 0;          // epochs whose last step is done
    int64_t first_step_of_epoch = 0;  // global step that opened the current epoch
    int64_t samples = 0;              // samples of the current epoch so far
    double loss_sum = 0;              // their summed loss (restored bit for bit)
    double recon_sum = 0, kl_sum = 0;  // a VAE's parts of it
};

CkptFile make_train_checkpoint(const Model &m, const float *params, Optimizer &opt, const TrainProgress &pr,
                               const std::vector<const EpochReport *> &pending, uint64_t seed,
                               const nlohmann::json &fingerprint);

// Restores params, optimizer state and progress; `pending` gets the reports (params included)
// of the finished epochs the sinks had not recorded. DataError (path) when it does not fit.
void restore_train_checkpoint(const CkptFile &f, const std::string &path, const Model &m, float *params,
                              Optimizer &opt, TrainProgress &pr, std::vector<std::shared_ptr<EpochReport>> &pending);

// --init-from: only the weights, from a .ckpt or a .safetensors; shapes must match.
void load_weights(const std::string &path, const Model &m, float *params);

}  // namespace aepipe
