// The training step, with no flow graph: forward, loss and backward over row shards, the sum
// of the shards' gradients (and across MPI ranks), the finite check, clipping, the optimizer.
//
//   rows (N, D) -> shard k: rows [N*k/S, N*(k+1)/S) -> fwd[0..L-1], loss, bwd[L-1..0] -> g_k
//   update: g = sum_k g_k (+ allreduce over ranks) -> |g| finite? -> clip -> optimizer(w, g)
//
// Fused update: with one single-threaded shard, one process and no clipping nothing needs the whole gradient
// before the update, so each layer's weights are updated right after its backward step, while
// its gradient and weights are still in cache (bwd[l] -> finite? -> optimizer on layer l).
// Then a non-finite gradient stops training with the layers after it already updated; the
// run keeps its last good checkpoint either way (no checkpoint follows a failed step).
//
// Each shard runs its rows through its own copy of the layers (own primitives, workspace and
// gradient slab), so shards may run at the same time on different threads with no shared
// mutable state; each shard's oneDNN primitives run on an OpenMP team of omp_per_shard
// threads. Every shard's loss gradient is scaled by rows / total, so the sum over the shards
// of all ranks is the gradient of the whole batch, whatever the split.
//
// The train node (nodes/nn/train.cpp) wires run_shard() and update() into the flow graph;
// tests and bench/train_loop call step(). The weights, the optimizer state and the step
// count live here; checkpoints, epochs, progress and signals are the train node's.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/aligned.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"

namespace aepipe {

// The training step's keys in the `train` section (added to it by step_engine.cpp through
// SectionKeys; the framework names no domain key), read once by the training node.
struct StepKeys {
    double clip_grad_norm = 0;
    bool fuse_update = true, allreduce_overlap = true;
    static const Keys<StepKeys> &keys();
};

struct StepOptions {
    int64_t shards = 1;     // row shards (each its own Model copy and Workspace)
    int omp_per_shard = 1;  // OpenMP threads for each shard's primitives and the update
    double clip_grad_norm = 0;  // clip the global gradient norm to this (0: off)
    uint64_t seed = 42;         // initial weights; noise of stochastic layers
    // Across MPI ranks with one shard per rank: each layer's gradients start their allreduce
    // as soon as its backward step has made them (else one allreduce in update()).
    bool overlap = false;
    Precision precision = Precision::F32;  // of the shards' matmuls and convolutions
    // Update each layer right after its backward step when the step allows it (see above).
    bool fuse_update = true;
    // Test seam: sees the summed gradient slab of step `step` (1-based) before it is checked
    // (fused: after each layer's backward step, before that layer is checked).
    std::function<void(int64_t step, float *grads, int64_t n)> grad_hook = nullptr;
};

// One step's batch as this process sees it.
struct StepRows {
    const float *x = nullptr;       // rows x in_dim inputs
    const float *target = nullptr;  // what the loss compares with (null: x itself)
    int64_t rows = 0;               // this process's rows
    int64_t total = 0;              // rows of the whole batch over all ranks (0: = rows)
    int64_t step = 0;               // global step index (the noise of stochastic layers)
    int64_t row0 = 0;               // this process's first row within the whole batch
    int64_t batch_rows() const { return total > 0 ? total : rows; }
};

// A step's loss summed over the batch's rows: the loss, its reconstruction part and its KL
// part (a VAE, in nats). Divide by the rows for means.
struct StepSums {
    double loss = 0, recon = 0, kl = 0;
};

enum class StepPart { Forward, Loss, Backward, Update };

// Sees the parts of a shard's pass (profiling); without one the engine reads no clock.
class StepTrace {
public:
    virtual ~StepTrace() = default;
    virtual double now() const = 0;
    virtual void part(StepPart part, size_t layer, double t0) = 0;
};

class StepEngine {
public:
    // Builds one Model per shard from `spec` and initialises the weights from options.seed.
    StepEngine(std::shared_ptr<const ModelSpec> spec, std::unique_ptr<Optimizer> opt, StepOptions options);
    ~StepEngine();

    const Model &model() const { return *model_; }
    float *params() { return params_.data(); }
    // A copy of the parameters (the live slab is 64-byte aligned storage: params()).
    std::vector<float> params_copy() const { return {params_.begin(), params_.end()}; }
    Optimizer &optimizer() { return *opt_; }
    int64_t shards() const { return int64_t(shards_.size()); }
    int64_t updates() const { return updates_; }  // steps done by this engine (not restored ones)
    bool fused() const { return fused_; }          // layers updated during the backward pass

    // Forward, loss and backward of shard k's rows of `b`. Shards may run concurrently, one
    // thread each; every shard runs once per step, then update().
    void run_shard(int64_t k, const StepRows &b, StepTrace *trace = nullptr);
    // Sums the shards' gradients (and over the ranks), checks loss and gradients are finite,
    // clips, and applies the optimizer. A non-finite loss or gradient throws RuntimeError
    // (the weights are left as they were), naming the parameter and ending with failure_note.
    StepSums update(const StepRows &b);
    // A whole step: the shards on TBB threads, then update().
    StepSums step(const StepRows &b, StepTrace *trace = nullptr);

    // Appended to the error of a failed step (e.g. "; the last good checkpoint is X").
    void set_failure_note(std::string note) { note_ = std::move(note); }
    // Across ranks: seconds waiting for the gradient allreduce, and seconds from one update's
    // reduction to the next (whole steps, the first one excluded).
    double comm_seconds() const { return comm_s_; }
    double step_seconds() const { return step_s_; }

private:
    struct Shard;
    static constexpr int64_t kChunk = 1 << 14;

    StepSums local_sums() const;
    StepSums finish_overlapped();
    StepSums reduce_across_ranks(const StepSums &local);
    void start_layer_allreduce(Shard &sh, size_t l);
    void check_loss(const StepSums &s, int64_t total) const;
    void check_and_apply();
    void update_layer(size_t l);
    void add_shards(int64_t b, int64_t e);
    template <class F>
    void for_chunks(int64_t chunks, F &&body);
    void time_comm(double wait_s);

    StepOptions o_;
    std::unique_ptr<Model> model_;  // layout; the shards run their own copies
    std::unique_ptr<Optimizer> opt_;
    Floats params_;  // 64-byte aligned
    std::vector<std::unique_ptr<Shard>> shards_;
    std::vector<double> chunk_sq_;  // per-chunk sums of squared gradients
    std::string note_;
    int64_t updates_ = 0;
    bool fused_ = false;
    double comm_s_ = 0, step_s_ = 0, last_update_ = -1;
};

}  // namespace aepipe
