#include "nodes/nn/step_engine.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <oneapi/tbb/parallel_for.h>

#include "nodes/nn/grad_norm.hpp"
#include "pipeline/dist.hpp"
#include "pipeline/error.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {

const Keys<StepKeys> &StepKeys::keys() {
    using P = StepKeys;
    static const Keys<P> k{
        key(&P::clip_grad_norm, {"clip_grad_norm", Kind::Float, "0",
                                 "scale gradients so their global L2 norm is at most this (0: off)", {}, false,
                                 at_least(0)}),
        key(&P::fuse_update,
            {"fuse_update", Kind::Bool, "true",
             "update each layer right after its backward step, while its gradient is in cache, when nothing needs "
             "the whole gradient first (one shard, one process, no clipping)"}),
        key(&P::allreduce_overlap,
            {"allreduce_overlap", Kind::Bool, "true",
             "under mpirun with one shard per rank: reduce each layer's gradients during the backward pass"})};
    return k;
}
static const SectionKeys kTrainKeys(train_section_spec(), StepKeys::keys().specs());

namespace {

// The step's sums travel after the gradients, in the same allreduce: loss, recon, kl.
constexpr int kSums = 3;

double wall_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

struct StepEngine::Shard {
    std::unique_ptr<Model> model;
    std::unique_ptr<Workspace> ws;
    Floats grads;  // num_params gradients + kSums sums
    int64_t rows = 0;
    StepSums sums;             // over the shard's rows
};

StepEngine::StepEngine(std::shared_ptr<const ModelSpec> spec, std::unique_ptr<Optimizer> opt, StepOptions options)
    : o_(std::move(options)), model_(std::make_unique<Model>(spec)), opt_(std::move(opt)) {
    params_.assign(size_t(model_->num_params()), 0.f);
    model_->init_params(params_.data(), o_.seed);
    opt_->init(model_->num_params());
    chunk_sq_.assign(size_t((model_->num_params() + kChunk - 1) / kChunk), 0.0);
    // Fused only on a single-threaded shard: measured (batch 50-64, 2 cores), the per-layer
    // parallel regions of an OpenMP team of 2 cost more than the cache saves (0.6-0.9x), while
    // one thread gains 8-17%.
    fused_ = o_.fuse_update && o_.shards <= 1 && o_.omp_per_shard <= 1 && !dist::parallel() &&
             o_.clip_grad_norm <= 0;
    for (int64_t k = 0; k < std::max<int64_t>(1, o_.shards); ++k) {
        auto sh = std::make_unique<Shard>();
        sh->model = std::make_unique<Model>(spec, o_.precision);
        sh->grads.assign(params_.size() + kSums, 0.f);
        shards_.push_back(std::move(sh));
    }
}

StepEngine::~StepEngine() = default;

void StepEngine::run_shard(int64_t k, const StepRows &b, StepTrace *trace) {
    omp_set_num_threads(o_.omp_per_shard);  // per-thread ICV: this thread's OpenMP team
    Shard &sh = *shards_[size_t(k)];
    const int64_t s = shards(), begin = b.rows * k / s, total = b.batch_rows();
    sh.rows = b.rows * (k + 1) / s - begin;
    if (sh.rows == 0) {  // a batch smaller than the shard count (rare tail): contribute zero
        std::fill(sh.grads.begin(), sh.grads.end(), 0.f);
        sh.sums = {};
        if (o_.overlap)  // the other ranks' reductions need this rank's zeros, in the same order
            for (size_t l = sh.model->num_layers(); l-- > 0;) start_layer_allreduce(sh, l);
        return;
    }
    const int64_t d = model_->in_dim();
    if (!sh.ws) sh.ws = std::make_unique<Workspace>(*sh.model, sh.rows);
    Workspace &ws = *sh.ws;
    ws.prepare(sh.rows);
    ws.set_input(b.x + begin * d);
    // Noise of stochastic layers: a function of (seed, step, row in the whole batch) only, so a
    // stochastic layer draws the same noise for a row under any number of ranks and shards.
    ws.begin_pass({o_.seed, b.step, b.row0 + begin, 1.0 / double(total), true});
    auto timed = [&](StepPart part, size_t l, auto &&body) {
        const double t0 = trace ? trace->now() : 0;
        body();
        if (trace) trace->part(part, l, t0);
    };
    for (size_t l = 0; l < sh.model->num_layers(); ++l)
        timed(StepPart::Forward, l, [&] { ws.forward_layer(l, sh.rows, params_.data()); });
    timed(StepPart::Loss, 0, [&] {
        const float *t = (b.target ? b.target : b.x) + begin * d;  // clean originals when denoising
        const double rows = double(sh.rows);
        const double recon = sh.model->loss().forward_backward(sh.rows, d, ws.output(), t, ws.output_grad(),
                                                               rows / double(total));
        sh.sums = {recon * rows + ws.weighted_penalty_sum(), recon * rows, ws.penalty_sum()};
        float *extra = sh.grads.data() + model_->num_params();  // reduced with the last layer (overlap)
        extra[0] = float(sh.sums.loss), extra[1] = float(sh.sums.recon), extra[2] = float(sh.sums.kl);
    });
    if (fused_) {
        check_loss(sh.sums, total);
        opt_->begin_step();
    }
    for (size_t l = sh.model->num_layers(); l-- > 0;) {
        timed(StepPart::Backward, l, [&] { ws.backward_layer(l, sh.rows, params_.data(), sh.grads.data()); });
        if (o_.overlap) start_layer_allreduce(sh, l);
        if (fused_) timed(StepPart::Update, l, [&] { update_layer(l); });
    }
}

// Fused: layer l's gradient is complete (and its weights no longer needed by this step). A
// fused step runs on one thread (see the constructor), so the layer is checked and updated in
// plain loops, with no parallel region per layer.
void StepEngine::update_layer(size_t l) {
    float *g = shards_[0]->grads.data();
    if (o_.grad_hook) o_.grad_hook(opt_->steps(), g, model_->num_params());
    const int64_t b = model_->offset(l), e = l + 1 < model_->num_layers() ? model_->offset(l + 1) : model_->num_params();
    if (!std::isfinite(sum_squares(g, b, e)))
        throw RuntimeError(first_non_finite(model_->named_params(), g, e, b) +
                           "; training stopped during this update (the layers after it were updated)" + note_ +
                           "\nhint: lower the learning rate or set train.clip_grad_norm");
    opt_->update_range(params_.data(), g, b, e);
}

void StepEngine::check_loss(const StepSums &s, int64_t total) const {
    if (!std::isfinite(s.loss / double(total)))
        throw RuntimeError("the loss is " + std::to_string(s.loss / double(total)) +
                           " (diverged); lower the learning rate" + note_);
}

// Starts summing layer l's gradients over the ranks (the last layer's range also holds the
// step's sums) and moves the reductions already started along.
void StepEngine::start_layer_allreduce(Shard &sh, size_t l) {
    const size_t last = model_->num_layers() - 1;
    const int64_t b = model_->offset(l), e = l == last ? model_->num_params() + kSums : model_->offset(l + 1);
    dist::start_allreduce_sum(sh.grads.data() + b, size_t(e - b), dist::Channel::Train);
    dist::progress(dist::Channel::Train);
}

StepSums StepEngine::update(const StepRows &b) {
    if (fused_) {  // checked and applied layer by layer in run_shard
        ++updates_;
        return local_sums();
    }
    StepSums s = o_.overlap ? finish_overlapped() : dist::parallel() ? reduce_across_ranks(local_sums()) : local_sums();
    check_loss(s, b.batch_rows());
    check_and_apply();
    ++updates_;
    return s;
}

StepSums StepEngine::step(const StepRows &b, StepTrace *trace) {
    if (shards() == 1)
        run_shard(0, b, trace);
    else
        tbb::parallel_for(int64_t(0), shards(), [&](int64_t k) { run_shard(k, b, trace); });
    return update(b);
}

StepSums StepEngine::local_sums() const {
    StepSums s;
    for (const auto &sh : shards_) s.loss += sh->sums.loss, s.recon += sh->sums.recon, s.kl += sh->sums.kl;
    return s;
}

// g = sum_k g_k and each chunk's sum of squares; the global norm (summed in chunk order:
// deterministic) finds non-finite gradients and gives the clipping factor; then the
// optimizer. Chunks run in parallel: on TBB's threads when there are several shards, else on
// the OpenMP team (TBB then has one). With several ranks g_0 already holds the sum over the
// shards of all ranks (reduce_across_ranks / finish_overlapped).
void StepEngine::check_and_apply() {
    const int64_t n = model_->num_params(), chunks = int64_t(chunk_sq_.size());
    const bool summed = dist::parallel();
    float *g = shards_[0]->grads.data();
    if (o_.grad_hook) o_.grad_hook(opt_->steps() + 1, g, n);
    for_chunks(chunks, [&](int64_t c) {
        const int64_t b = c * kChunk, e = std::min(n, b + kChunk);
        if (!summed) add_shards(b, e);
        chunk_sq_[size_t(c)] = sum_squares(g, b, e);
    });
    double sq = 0;
    for (double v : chunk_sq_) sq += v;
    if (!std::isfinite(sq))
        throw RuntimeError(first_non_finite(model_->named_params(), g, n) + "; training stopped before this update" +
                           note_ + "\nhint: lower the learning rate or set train.clip_grad_norm");
    const float scale = float(clip_coef(std::sqrt(sq), o_.clip_grad_norm));
    opt_->begin_step();
    for_chunks(chunks, [&](int64_t c) {
        const int64_t b = c * kChunk, e = std::min(n, b + kChunk);
        if (scale < 1.f) {
#pragma omp simd
            for (int64_t i = b; i < e; ++i) g[i] *= scale;
        }
        opt_->update_range(params_.data(), g, b, e);
    });
}

// g_0 += g_k for k = 1..S-1 over parameters [b, e).
void StepEngine::add_shards(int64_t b, int64_t e) {
    float *g = shards_[0]->grads.data();
    for (size_t k = 1; k < shards_.size(); ++k) {
        const float *gk = shards_[k]->grads.data();
#pragma omp simd
        for (int64_t i = b; i < e; ++i) g[i] += gk[i];
    }
}

template <class F>
void StepEngine::for_chunks(int64_t chunks, F &&body) {
    if (shards_.size() > 1) {
        tbb::parallel_for(int64_t(0), chunks, body);
    } else {
        // Dynamic: the halves of a static split were 97 and 167 us per step apart (batch 50,
        // 2 threads, Adam): the layers the backward pass made last are still in cache.
        omp_set_num_threads(o_.omp_per_shard);
#pragma omp parallel for schedule(dynamic)
        for (int64_t c = 0; c < chunks; ++c) body(c);
    }
}

// Only the wait that the backward pass did not hide counts as communication time.
void StepEngine::time_comm(double wait_s) {
    const double now = wall_s();
    if (updates_ > 0) {  // the first step's wait includes the other ranks' start-up
        comm_s_ += wait_s;
        step_s_ += now - last_update_;
    }
    last_update_ = now;
}

// Waits for the per-layer reductions started during the backward pass.
StepSums StepEngine::finish_overlapped() {
    const double t1 = wall_s();
    dist::wait_started(dist::Channel::Train);
    time_comm(wall_s() - t1);
    const float *extra = shards_[0]->grads.data() + model_->num_params();
    return {double(extra[0]), double(extra[1]), double(extra[2])};
}

// Sums this rank's shards, then allreduces gradients and the step's sums over the ranks (one
// message of num_params + kSums floats).
StepSums StepEngine::reduce_across_ranks(const StepSums &local) {
    const int64_t np = model_->num_params();
    for_chunks(int64_t(chunk_sq_.size()), [&](int64_t c) { add_shards(c * kChunk, std::min(np, c * kChunk + kChunk)); });
    float *g = shards_[0]->grads.data();
    g[np] = float(local.loss), g[np + 1] = float(local.recon), g[np + 2] = float(local.kl);
    const double t1 = wall_s();
    dist::allreduce_sum(g, size_t(np + kSums), dist::Channel::Train);
    time_comm(wall_s() - t1);
    return {double(g[np]), double(g[np + 1]), double(g[np + 2])};
}

}  // namespace aepipe
