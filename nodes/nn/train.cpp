// train: tensor -> epoch. The model's training step (forward, loss, backward, update).
//
// Data parallel inside one process: each batch is cut into S row shards, one per flow-graph
// branch. A branch runs its shard through its own copy of the layers (own primitives,
// workspace and gradient slab), so branches run at the same time on different TBB threads
// with no shared mutable state; `update` then sums the shard gradients (weighted by rows)
// and applies the optimizer, both in one tbb::parallel_for over parameter chunks.
//
//   gate -> split -> shard[0..S-1] (fwd[0..L-1], loss, bwd[L-1..0]) -> update -> epoch
//
// S = train.shards (0 = auto: one per 64 rows, at most one per thread). TBB runs the graph
// on S threads and each shard's oneDNN primitives run on an OpenMP team of threads/S, so
// OpenMP never spins against TBB: small batches use one shard with oneDNN's own threads
// (TBB then has one thread), large batches one single-threaded shard per core. A gate admits
// one step at a time: the next step needs these weights.
//
// Across processes (mpirun, pipeline/dist.hpp) each rank gets its rows of the global batch of
// `total` rows; every shard's loss gradient is scaled by rows / total, so the sum over the
// shards of all ranks is the gradient of the global batch, whatever the split (also for the
// last partial batch, where a rank may have no rows). `update` sums the local shards, then
// one allreduce adds the ranks' sums (the loss sums ride along as extra values) and every rank
// applies the same optimizer step to the same weights. With one shard per rank the
// reduction overlaps the backward pass instead: each layer's gradients start a nonblocking
// allreduce as soon as its backward step has made them, and `update` waits for the rest.
// Rank 0's initial weights are broadcast; a resumed run restores every rank from the same
// checkpoint.
// Uses the config's `model` section and train.optimizer / train.clip_grad_norm; no keys of
// its own. After the update of a step it writes the training checkpoint when the graph's
// checkpoint node says one is due, or when SIGINT/SIGTERM arrived (then it stops the run).
// Resuming (RunSettings::resume) restores weights, optimizer state and counters in build().
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <oneapi/tbb/parallel_for.h>
#include <thread>

#include "nodes/nn/grad_norm.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"
#include "pipeline/dist.hpp"
#include "nodes/nn/train_state.hpp"
#include "nodes/sink/checkpoint.hpp"
#include "formats/fingerprint.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/signals.hpp"
#include "pipeline/slot_pool.hpp"

namespace aepipe {
namespace {

using clk = std::chrono::steady_clock;

class Train : public FlowNode {
    using Fn = flow::function_node<Msg, Msg>;
    using Update = flow::multifunction_node<Msg, std::tuple<Msg>>;

    // A step's loss sums (rows-weighted): loss, reconstruction part, KL part (a VAE). Across
    // ranks they travel as kSums extra floats after the gradients, in the same allreduce.
    static constexpr int kSums = 3;
    struct Sums {
        double v[kSums] = {0, 0, 0};
    };

    struct Shard {
        std::unique_ptr<Model> model;
        std::unique_ptr<Workspace> ws;
        std::vector<float> grads;
        int64_t begin = 0, rows = 0;
        double loss = 0, recon = 0, kl = 0;  // means over the shard's rows
        std::unique_ptr<Fn> node;
    };

public:
    void resolve(Pipeline &p, Diags &d) override {
        try {
            model_ = std::make_unique<Model>(p.config(), p.section("model"), sample_shape(p));
            opt_ = make_optimizer(p.config(), p.train_params(), d);
        } catch (const ConfigError &err) {
            d.add(err);
        }
        clip_ = p.train_params().f("clip_grad_norm");
        if (clip_ < 0)
            d.error(p.train_params().pos("clip_grad_norm"), "train: 'clip_grad_norm' must be 0 (off) or positive");
        for (const auto &n : p.nodes())
            if (auto *c = dynamic_cast<CheckpointSink *>(n.get())) ckpt_ = c;
    }

    // Per layer: the weights (the live copy, up to three epoch snapshots in flight between
    // training, evaluation and the sinks, one in a checkpoint being written), one gradient
    // copy per shard, the optimizer state (and its checkpoint copy), and per shard row the
    // layer's output and its gradient (the Workspace).
    void memory(const Pipeline &p, std::vector<MemoryItem> &out) const override {
        if (!model_) return;
        const double shards = p.shards(), batch = double(p.settings().batch);
        const double states = opt_ ? double(opt_->state_count()) : 0;
        const YAML::Node layers = p.section("model")["layers"];
        for (size_t l = 0; l < model_->num_layers(); ++l) {
            const Layer &layer = model_->layer(l);
            const double w = double(layer.num_params()) * sizeof(float), a = batch * double(layer.out_dim()) * sizeof(float);
            const double params = 5 * w, grads = shards * w, state = 2 * states * w;
            const YAML::Node item = layers[l];
            const std::string type = item.IsMap() && item["type"] ? item["type"].as<std::string>("?") : "?";
            out.push_back({"model.layers[" + std::to_string(l) + "] (" + type + ")", pos_of(p.config(), item),
                           params + grads + state + 2 * a,
                           "parameters " + human_bytes(params) + " (" + std::to_string(layer.num_params()) +
                               " weights, with snapshots), gradients " + human_bytes(grads) + ", optimizer state " +
                               human_bytes(state) + ", activations " + human_bytes(a) + ", workspace " +
                               human_bytes(a)});
        }
    }

    void build(Pipeline &p) override {
        p_ = &p;
        const int64_t s = p.shards();
        omp_per_shard_ = p.omp_per_shard();
        // One shard per rank: each layer's gradients start their allreduce as soon as its
        // backward step has made them (AEPIPE_DIST_OVERLAP=0 turns it off, for measurements).
        const char *ov = std::getenv("AEPIPE_DIST_OVERLAP");
        overlap_ = dist::parallel() && s == 1 && !(ov && std::string(ov) == "0");
        evaluated_ = p.reaches(id_, "evaluate");  // then evaluate fires epoch_done (see Pipeline)

        params_.assign(size_t(model_->num_params()), 0.f);
        model_->init_params(params_.data(), p.settings().seed);
        dist::broadcast(params_.data(), params_.size() * sizeof(float));  // every rank starts from rank 0's
        opt_->init(model_->num_params());
        restore(p);
        chunk_sq_.assign(size_t((model_->num_params() + kChunk - 1) / kChunk), 0.0);
        p.console().line("model: " + model_->summary() + "; " + std::to_string(s) + " shard(s) x " +
                         std::to_string(omp_per_shard_) + " thread(s)" +
                         (dist::parallel() ? " per rank, " + std::to_string(dist::size()) + " MPI ranks" : ""));

        auto &g = p.graph();
        gate_ = std::make_unique<flow::limiter_node<Msg>>(g, 1);
        int split_probe = p.add_probe(*this, "split");
        split_ = std::make_unique<Fn>(g, flow::serial, [this, split_probe](Msg m) {
            return p_->guard(split_probe, m, [&] {
                if (m.step == first_step_of_epoch_) epoch_start_ = clk::now();
                step_start_ = clk::now(), step_t0_ = p_->now();
                m.t_ready = p_->now();
                return m;
            });
        });
        flow::make_edge(*gate_, *split_);
        int update_probe = p.add_probe(*this, "update");
        // A failed step (non-finite loss, a checkpoint that cannot be written) ends training
        // but not the run at once: the epochs already trained are still evaluated and recorded.
        update_ = std::make_unique<Update>(g, flow::serial,
                                           [this, update_probe](const Msg &m, Update::output_ports_type &out) {
                                               try {
                                                   p_->guard(update_probe, m, [&] { arrive(m, out); });
                                               } catch (const std::exception &) {  // named by guard
                                                   stop(std::current_exception());
                                               }
                                           });
        for (size_t l = 0; l < model_->num_layers(); ++l) fwd_probe_.push_back(p.add_probe(*this, "fwd" + std::to_string(l)));
        loss_probe_ = p.add_probe(*this, "loss");
        for (size_t l = 0; l < model_->num_layers(); ++l) bwd_probe_.push_back(p.add_probe(*this, "bwd" + std::to_string(l)));
        for (int64_t k = 0; k < s; ++k) {
            auto sh = std::make_unique<Shard>();
            sh->model = std::make_unique<Model>(p.config(), p.section("model"), model_->in_shape());
            sh->grads.assign(params_.size() + kSums, 0.f);  // + the step's sums (Sums), reduced with the gradients
            Shard *raw = sh.get();
            int probe = p.add_probe(*this, "shard" + std::to_string(k));
            sh->node = std::make_unique<Fn>(g, flow::serial, [this, raw, probe, k, s](Msg m) {
                return p_->guard(probe, m, [&] {
                    run_shard(*raw, m, k, s);
                    m.t_ready = p_->now();
                    return m;
                });
            });
            flow::make_edge(*split_, *sh->node);
            flow::make_edge(*sh->node, *update_);
            shards_.push_back(std::move(sh));
        }
    }

    void finish() override {
        if (!dist::parallel() || step_s_ <= 0) return;
        const double bytes = double(model_->num_params() + kSums) * sizeof(float), steps = double(steps_ - 1);
        char buf[240];
        std::snprintf(buf, sizeof buf,
                      "allreduce: %d ranks, %.0f bytes per step%s; %.3f ms of %.3f ms per step in communication "
                      "(%.1f%%)",
                      dist::size(), bytes, overlap_ ? ", per layer during backward" : "", 1e3 * comm_s_ / steps,
                      1e3 * step_s_ / steps, 100 * comm_s_ / step_s_);
        p_->console().line(buf);
    }

    Receiver &in(const std::string &) override { return *gate_; }
    Sender &out(const std::string &) override { return flow::output_port<0>(*update_); }

    // A resumed run sends the finished epochs its checkpoint had not seen recorded once more
    // (killed before their evaluation was written); metrics skips rows it already has.
    void activate() override {
        for (const auto &r : pending_) {
            Msg o;
            o.epoch = r->epoch;
            o.step = r->steps - 1;
            o.report = r;
            std::get<0>(update_->output_ports()).try_put(o);
        }
    }

private:
    static constexpr int64_t kChunk = 1 << 14;

    void restore(Pipeline &p) {
        const RunSettings &s = p.settings();
        if (const ResumeFrom *from = resume_from(s)) {
            TrainProgress pr;
            std::vector<std::shared_ptr<EpochReport>> pending;
            restore_train_checkpoint(from->ckpt, from->path, *model_, params_.data(), *opt_, pr, pending);
            steps_ = pr.steps, epochs_done_ = pr.epochs_done, first_step_of_epoch_ = pr.first_step_of_epoch;
            samples_ = pr.samples, loss_sum_ = pr.loss_sum, recon_sum_ = pr.recon_sum, kl_sum_ = pr.kl_sum;
            for (auto &r : pending) {
                r->last = r->epoch + 1 == s.epochs || r->steps == s.max_steps;
                pending_.push_back(r);
            }
            p.console().line("resumed from " + from->path + " (step " + std::to_string(steps_) + ", epoch " +
                             std::to_string(epochs_done_ + 1) + ")");
        } else if (!s.init_from.empty()) {
            load_weights(s.init_from, *model_, params_.data());
            p.console().line("weights from " + s.init_from + " (fine-tuning: optimizer and counters start fresh)");
        }
        if (ckpt_ && !s.run_dir.empty()) fingerprint_ = config_fingerprint(p.config());
        // Test hook: raise signal SIG right after the update of step N ("N:SIG").
        if (const char *h = std::getenv("AEPIPE_TEST_RAISE_AT_STEP"))
            std::sscanf(h, "%lld:%d", &hook_step_, &hook_sig_);
        // Test hook: a NaN in the gradient slab at element K during step N ("N:K").
        if (const char *h = std::getenv("AEPIPE_TEST_NAN_GRAD"))
            if (std::sscanf(h, "%lld:%lld", &nan_step_, &nan_index_) != 2 || nan_index_ < 0 ||
                nan_index_ >= model_->num_params())
                nan_step_ = -1;
    }

    // After the update of a step: the test hook, the checkpoint if due, and a stop request.
    void after_step(const Msg &m) {
        const bool run_end = m.last_in_epoch && (m.epoch + 1 == p_->settings().epochs ||
                                                 m.step + 1 == p_->settings().max_steps);
        if (hook_sig_ && steps_ == hook_step_) std::raise(hook_sig_);
        const int sig = stop_signal();
        if (ckpt_ && !p_->settings().run_dir.empty() &&
            (sig || ckpt_->state_due(steps_, m.last_in_epoch, epochs_done_, run_end))) {
            TrainProgress pr{steps_, epochs_done_, first_step_of_epoch_, samples_, loss_sum_, recon_sum_, kl_sum_};
            prune_pending();
            std::vector<const EpochReport *> pending;
            for (const auto &r : pending_) pending.push_back(r.get());
            last_ckpt_ = ckpt_->save_state(p_->settings().run_dir, steps_,
                                           make_train_checkpoint(*model_, params_.data(), *opt_, pr, pending,
                                                                 p_->settings().seed, fingerprint_));
        }
        if (sig && !run_end) stop(std::make_exception_ptr(Interrupted{sig, steps_, ckpt_ ? last_ckpt_ : "", epochs_done_}));
        if (run_end) set_stop_phase("the last evaluation and writing (training is done)", true);
    }

    // No step after this one; the epochs already trained are still evaluated and recorded
    // (Pipeline::stop), so a stopped run's metrics hold every epoch it finished.
    void stop(std::exception_ptr why) {
        stopped_ = true;
        p_->stop(why);
    }

    // Epoch reports every sink has finished with (only this node still holds them: their
    // metrics rows are written) need no place in a checkpoint.
    void prune_pending() {
        pending_.erase(std::remove_if(pending_.begin(), pending_.end(), [](const auto &r) { return r.use_count() == 1; }),
                       pending_.end());
    }

    // Forward, loss and backward of rows [begin, begin + rows) of the batch.
    void run_shard(Shard &sh, const Msg &m, int64_t k, int64_t s) {
        omp_set_num_threads(omp_per_shard_);  // per-thread ICV: this TBB thread's OpenMP team
        sh.begin = m.count * k / s;
        sh.rows = m.count * (k + 1) / s - sh.begin;
        const int64_t total = m.total > 0 ? m.total : m.count;
        if (sh.rows == 0) {  // a batch smaller than the shard count (rare tail): contribute zero
            std::fill(sh.grads.begin(), sh.grads.end(), 0.f);
            sh.loss = sh.recon = sh.kl = 0;
            if (overlap_)  // the other ranks' reductions need this rank's zeros, in the same order
                for (size_t l = sh.model->num_layers(); l-- > 0;) start_layer_allreduce(sh, l);
            return;
        }
        const int64_t d = model_->in_dim();
        const float *x = m.x + sh.begin * d;
        const float *t = (m.target ? m.target : m.x) + sh.begin * d;  // clean originals when denoising
        if (!sh.ws) sh.ws = std::make_unique<Workspace>(*sh.model, sh.rows);
        Workspace &ws = *sh.ws;
        ws.prepare(sh.rows);
        ws.set_input(x);
        // Noise of stochastic layers: a function of (seed, step, row in the batch) only.
        // Rows are numbered within the global batch (this rank's rows start at total*r/R), so a
        // stochastic layer draws the same noise for a row under any number of ranks and shards.
        const int64_t row0 = (m.total > 0 ? m.total * dist::rank() / dist::size() : 0) + sh.begin;
        ws.begin_pass({p_->settings().seed, m.step, row0, 1.0 / double(total), true});
        for (size_t l = 0; l < sh.model->num_layers(); ++l)
            p_->guard(fwd_probe_[l], m, [&] { ws.forward_layer(l, sh.rows, params_.data()); });
        p_->guard(loss_probe_, m, [&] {
            sh.recon = sh.model->loss().forward_backward(sh.rows, d, ws.output(), t, ws.output_grad(),
                                                         double(sh.rows) / double(total));
            sh.kl = ws.penalty_sum() / double(sh.rows);
            sh.loss = sh.recon + ws.weighted_penalty_sum() / double(sh.rows);
            // The sums reduced with the last layer's gradients (overlap): loss, recon, kl.
            float *extra = sh.grads.data() + model_->num_params();
            extra[0] = float(sh.loss * double(sh.rows));
            extra[1] = float(sh.recon * double(sh.rows));
            extra[2] = float(sh.kl * double(sh.rows));
        });
        for (size_t l = sh.model->num_layers(); l-- > 0;) {
            p_->guard(bwd_probe_[l], m, [&] { ws.backward_layer(l, sh.rows, params_.data(), sh.grads.data()); });
            if (overlap_) start_layer_allreduce(sh, l);
        }
    }

    // Starts summing layer l's gradients over the ranks (the last layer's range also holds the
    // loss sum) and moves the reductions already started along.
    void start_layer_allreduce(Shard &sh, size_t l) {
        const size_t last = model_->num_layers() - 1;
        const int64_t b = model_->offset(l), e = l == last ? model_->num_params() + kSums : model_->offset(l + 1);
        dist::start_allreduce_sum(sh.grads.data() + b, size_t(e - b), dist::Channel::Train);
        dist::progress(dist::Channel::Train);
    }

    // Called once per shard per step; the last arrival reduces, updates and moves on.
    void arrive(const Msg &m, Update::output_ports_type &out) {
        if (++arrived_ < int64_t(shards_.size())) return;
        arrived_ = 0;
        const int64_t total = m.total > 0 ? m.total : m.count;
        Sums s;
        for (const auto &sh : shards_) {
            s.v[0] += sh->loss * double(sh->rows);
            s.v[1] += sh->recon * double(sh->rows);
            s.v[2] += sh->kl * double(sh->rows);
        }
        release_buffers(m);
        if (overlap_)
            s = finish_overlapped();
        else if (dist::parallel())
            s = reduce_across_ranks(s);
        const double loss = s.v[0];
        if (!std::isfinite(loss / double(total)))
            throw RuntimeError("the loss is " + std::to_string(loss / double(total)) +
                               " (diverged); lower the learning rate" +
                               (last_ckpt_.empty() ? "" : "; the last good checkpoint is " + last_ckpt_));
        loss_sum_ += loss;
        recon_sum_ += s.v[1], kl_sum_ += s.v[2];
        samples_ += total;
        reduce_and_update();
        ++steps_;
        time_step(total);
        show_progress(m);
        if (m.last_in_epoch) end_epoch(m, out);
        after_step(m);
        if (stopped_) return;  // holds the gate: no further step is admitted
        p_->step_done().try_put(flow::continue_msg());
        gate_->decrementer().try_put(flow::continue_msg());
    }

    // g = sum_k g_k (each shard's loss gradient was scaled by rows_k / n) and each chunk's
    // sum of squares; the global norm (summed in chunk order: deterministic) finds non-finite
    // gradients and gives the clipping factor; then the optimizer. Chunks run in parallel: on
    // TBB's threads when there are several shards, else on the OpenMP team (TBB then has one).
    // With several ranks g_0 already holds the sum over the shards of all ranks
    // (reduce_across_ranks / finish_overlapped).
    void reduce_and_update() {
        const int64_t total = model_->num_params(), chunks = int64_t(chunk_sq_.size());
        const bool summed = dist::parallel();
        float *g = shards_[0]->grads.data();
        if (steps_ + 1 == nan_step_) g[nan_index_] = std::nanf("");
        for_chunks(chunks, [&](int64_t c) {
            const int64_t b = c * kChunk, e = std::min(total, b + kChunk);
            if (!summed) add_shards(b, e);
            chunk_sq_[size_t(c)] = sum_squares(g, b, e);
        });
        double sq = 0;
        for (double v : chunk_sq_) sq += v;
        if (!std::isfinite(sq))
            throw RuntimeError(first_non_finite(model_->named_params(), g, total) + "; training stopped before this "
                               "update" + (last_ckpt_.empty() ? "" : "; the last good checkpoint is " + last_ckpt_) +
                               "\nhint: lower the learning rate or set train.clip_grad_norm");
        const float scale = float(clip_coef(std::sqrt(sq), clip_));
        opt_->begin_step();
        for_chunks(chunks, [&](int64_t c) {
            const int64_t b = c * kChunk, e = std::min(total, b + kChunk);
            if (scale < 1.f) {
#pragma omp simd
                for (int64_t i = b; i < e; ++i) g[i] *= scale;
            }
            opt_->update_range(params_.data(), g, b, e);
        });
    }

    // g_0 += g_k for k = 1..S-1 over parameters [b, e).
    void add_shards(int64_t b, int64_t e) {
        float *g = shards_[0]->grads.data();
        for (size_t k = 1; k < shards_.size(); ++k) {
            const float *gk = shards_[k]->grads.data();
#pragma omp simd
            for (int64_t i = b; i < e; ++i) g[i] += gk[i];
        }
    }

    template <class F>
    void for_chunks(int64_t chunks, F &&body) {
        if (shards_.size() > 1) {
            tbb::parallel_for(int64_t(0), chunks, body);
        } else {
            omp_set_num_threads(omp_per_shard_);
#pragma omp parallel for schedule(static)
            for (int64_t c = 0; c < chunks; ++c) body(c);
        }
    }

    // Waits for the per-layer reductions started during the backward pass; returns the
    // batch's summed loss. Only the wait that the backward pass did not hide counts as
    // communication time.
    Sums finish_overlapped() {
        const auto t1 = clk::now();
        dist::wait_started(dist::Channel::Train);
        const auto t2 = clk::now();
        if (steps_ > 0) {
            comm_s_ += std::chrono::duration<double>(t2 - t1).count();
            step_s_ += std::chrono::duration<double>(t2 - last_update_).count();
        }
        last_update_ = t2;
        return sums_after(shards_[0]->grads.data() + model_->num_params());
    }

    // Sums this rank's shards, then allreduces gradients and the step's sums `local` over the
    // ranks (one message of num_params + kSums floats); returns the batch's summed sums.
    Sums reduce_across_ranks(const Sums &local) {
        const int64_t np = model_->num_params();
        for_chunks(int64_t(chunk_sq_.size()),
                   [&](int64_t c) { add_shards(c * kChunk, std::min(np, c * kChunk + kChunk)); });
        float *g = shards_[0]->grads.data();
        const size_t n = size_t(model_->num_params());
        for (int i = 0; i < kSums; ++i) g[n + size_t(i)] = float(local.v[i]);
        const auto t1 = clk::now();
        dist::allreduce_sum(g, n + kSums, dist::Channel::Train);
        const auto t2 = clk::now();
        if (steps_ > 0) {  // the first step's wait includes the other ranks' start-up
            comm_s_ += std::chrono::duration<double>(t2 - t1).count();
            step_s_ += std::chrono::duration<double>(t2 - last_update_).count();
        }
        last_update_ = t2;
        return sums_after(g + n);
    }

    static Sums sums_after(const float *extra) {
        Sums s;
        for (int i = 0; i < kSums; ++i) s.v[i] = double(extra[i]);
        return s;
    }

    // Training throughput counts the steps alone: from a step's split to the end of its update,
    // so waits for data, evaluation and sinks between steps are left out (what overlaps a step
    // still slows it). The run's first step (primitive JIT, first touch of every buffer) is
    // start-up: it counts only when its epoch has no other step. aepipe bench reads the same
    // clock through step_times().
    void time_step(int64_t samples) {
        const double d = std::chrono::duration<double>(clk::now() - step_start_).count();
        (started_ ? busy_s_ : startup_s_) += d;
        (started_ ? busy_samples_ : startup_samples_) += samples;
        started_ = true;
        train_s_ += d;
        p_->record_step(step_t0_, samples);
        auto &times = p_->step_times();
        if (times.size() < times.capacity()) times.push_back(train_s_);  // never reallocates
    }
    double samples_per_s() const {
        return busy_samples_ ? double(busy_samples_) / busy_s_
                             : startup_s_ > 0 ? double(startup_samples_) / startup_s_ : 0.0;
    }

    void end_epoch(const Msg &m, Update::output_ports_type &out) {
        double secs = std::chrono::duration<double>(clk::now() - epoch_start_).count();
        auto r = std::make_shared<EpochReport>();
        r->epoch = m.epoch;
        r->steps = steps_;
        r->samples = samples_;
        r->train_loss = samples_ ? loss_sum_ / double(samples_) : 0.0;
        r->train_recon = samples_ ? recon_sum_ / double(samples_) : 0.0;
        r->train_kl = samples_ ? kl_sum_ / double(samples_) : 0.0;
        r->seconds = secs;
        r->samples_per_s = samples_per_s();
        busy_s_ = startup_s_ = 0, busy_samples_ = startup_samples_ = 0;
        r->params = std::make_shared<const std::vector<float>>(params_);
        r->model = model_.get();
        r->last = m.epoch + 1 == p_->settings().epochs || m.step + 1 == p_->settings().max_steps;
        prune_pending();
        pending_.push_back(r);
        ++epochs_done_;
        loss_sum_ = recon_sum_ = kl_sum_ = 0, samples_ = 0;
        first_step_of_epoch_ = m.step + 1;
        Msg o;
        o.epoch = m.epoch;
        o.step = m.step;
        o.report = r;
        std::get<0>(out).try_put(o);
        if (!evaluated_) p_->epoch_done().try_put(flow::continue_msg());
    }

    void show_progress(const Msg &m) {
        if (!p_->console().tty()) return;
        auto now = clk::now();
        if (now - last_progress_ < std::chrono::milliseconds(200) && !m.last_in_epoch) return;
        last_progress_ = now;
        char buf[200];
        std::snprintf(buf, sizeof buf, "epoch %lld/%lld  step %lld  loss %.6f  %.0f samples/s",
                      (long long)m.epoch + 1, (long long)p_->settings().epochs, (long long)m.step + 1,
                      samples_ ? loss_sum_ / double(samples_) : 0.0, samples_per_s());
        p_->console().progress(buf);
    }

    Pipeline *p_ = nullptr;
    std::unique_ptr<Model> model_;  // layout and validation; shards run their own copies
    std::unique_ptr<Optimizer> opt_;
    std::vector<float> params_;
    std::vector<std::unique_ptr<Shard>> shards_;
    int omp_per_shard_ = 1;
    std::vector<int> fwd_probe_, bwd_probe_;
    int loss_probe_ = 0;
    std::unique_ptr<flow::limiter_node<Msg>> gate_;
    std::unique_ptr<Fn> split_;
    std::unique_ptr<Update> update_;
    int64_t steps_ = 0, samples_ = 0, first_step_of_epoch_ = 0, arrived_ = 0, epochs_done_ = 0;
    double loss_sum_ = 0, recon_sum_ = 0, kl_sum_ = 0, clip_ = 0;
    std::vector<double> chunk_sq_;                     // per-chunk sums of squared gradients
    // Finished epochs whose reports are still in flight to the sinks (checkpoints keep them).
    std::vector<std::shared_ptr<const EpochReport>> pending_;
    CheckpointSink *ckpt_ = nullptr;                  // null: the graph writes no checkpoints
    nlohmann::json fingerprint_;
    std::string last_ckpt_;
    long long hook_step_ = -1, nan_step_ = -1, nan_index_ = 0;
    int hook_sig_ = 0;
    // Across ranks, for the communication share: seconds in the gradient allreduce, and
    // seconds from one allreduce's end to the next's (whole steps; the first one excluded).
    double comm_s_ = 0, step_s_ = 0;
    bool evaluated_ = false;  // an evaluate node follows: it releases each epoch
    bool stopped_ = false;    // a signal or a failed checkpoint ended training (stop())
    bool overlap_ = false;  // per-layer allreduce during the backward pass (one shard per rank)
    clk::time_point last_update_{};
    clk::time_point epoch_start_ = clk::now(), last_progress_{}, step_start_{};
    // This epoch's steps (time_step): seconds and samples, the start-up step apart.
    double busy_s_ = 0, startup_s_ = 0, train_s_ = 0, step_t0_ = 0;
    int64_t busy_samples_ = 0, startup_samples_ = 0;
    bool started_ = false;
};

Registrar<FlowNodeRegistry> reg({"train",
                                 Category::Compute,
                                 "forward, loss, backward and update of the config's model (oneDNN), data parallel "
                                 "over row shards",
                                 {},
                                 {{"in", {"tensor"},
                                   "normalized training batches in step order (loss target: their clean originals if "
                                   "corrupted)"}},
                                 {{"epoch", {"epoch"}, "after each epoch: train statistics and a parameter snapshot"}},
                                 "it owns the model and the optimizer; a run trains one model"},
                                [](const Params &) { return std::make_unique<Train>(); });

}  // namespace
}  // namespace aepipe
