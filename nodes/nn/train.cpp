// train: tensor -> epoch. Wires the training step (nodes/nn/step_engine.hpp) into the graph:
//
//   gate -> split -> shard[0..S-1] (engine.run_shard) -> update (engine.update) -> epoch
//
// S = train.shards (0 = auto: one per 64 rows, at most one per thread). TBB runs the graph
// on S threads and each shard's oneDNN primitives run on an OpenMP team of threads/S, so
// OpenMP never spins against TBB: small batches use one shard with oneDNN's own threads
// (TBB then has one thread), large batches one single-threaded shard per core. A gate admits
// one step at a time: the next step needs these weights.
//
// Across processes (mpirun, pipeline/dist.hpp) each rank gets its rows of the global batch of
// `total` rows and the engine sums the gradients of all ranks; every rank applies the same
// optimizer step to the same weights. With one shard per rank the reduction overlaps the
// backward pass. Rank 0's initial weights are broadcast; a resumed run restores every rank
// from the same checkpoint.
// Uses the config's `model` section and train.optimizer / train.clip_grad_norm; no keys of
// its own. After the update of a step it writes the training checkpoint when the policy the
// checkpoint node handed it says one is due (TrainCheckpoints), or when SIGINT/SIGTERM
// arrived (then it stops the run). Resuming (RunSettings::resume) restores weights,
// optimizer state and counters in build().
// Credits it sends: step_done after each step (to the batch node's gate), epoch_done at the
// end of each epoch (to the training set's reader, when no evaluate node follows).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>

#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"
#include "nodes/nn/epoch_stats.hpp"
#include "nodes/nn/step_engine.hpp"
#include "pipeline/dist.hpp"
#include "nodes/nn/train_checkpoints.hpp"
#include "nodes/nn/train_state.hpp"
#include "formats/fingerprint.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/signals.hpp"

namespace aepipe {
namespace {

using clk = std::chrono::steady_clock;

// Hands the parts of a shard's pass to the profile (only when profiling).
struct Trace : StepTrace {
    Pipeline *p = nullptr;
    const TensorMsg *m = nullptr;
    const std::vector<int> *fwd = nullptr, *bwd = nullptr, *upd = nullptr;
    int loss = 0;
    double now() const override { return p->now(); }
    void part(StepPart part, size_t l, double t0) override {
        const std::vector<int> &probes = part == StepPart::Forward ? *fwd : part == StepPart::Backward ? *bwd : *upd;
        p->record(part == StepPart::Loss ? loss : probes[l], *m, t0);
    }
};

// Per layer: the weights (the live copy, up to three epoch snapshots in flight between
// training, evaluation and the sinks, one in a checkpoint being written), one gradient copy
// per shard, the optimizer state (and its checkpoint copy), and per shard row the layer's
// output and its gradient (the Workspace).
void train_memory(const Pipeline &p, Model &model, size_t state_count, std::vector<MemoryItem> &out) {
    const double shards = p.shards(), batch = double(p.settings().batch), states = double(state_count);
    const YAML::Node layers = p.section("model")["layers"];
    for (size_t l = 0; l < model.num_layers(); ++l) {
        const Layer &layer = model.layer(l);
        const double w = double(layer.num_params()) * sizeof(float), a = batch * double(layer.out_dim()) * sizeof(float);
        const double params = 5 * w, grads = shards * w, state = 2 * states * w;
        const YAML::Node item = layers[l];
        const std::string type = item.IsMap() && item["type"] ? item["type"].as<std::string>("?") : "?";
        out.push_back({"model.layers[" + std::to_string(l) + "] (" + type + ")", pos_of(p.config(), item),
                       params + grads + state + 2 * a,
                       "parameters " + human_bytes(params) + " (" + std::to_string(layer.num_params()) +
                           " weights, with snapshots), gradients " + human_bytes(grads) + ", optimizer state " +
                           human_bytes(state) + ", activations " + human_bytes(a) + ", workspace " + human_bytes(a)});
    }
}

// Test hook (pipeline/test_hooks.hpp): a NaN in the gradient slab at element K during step N.
std::function<void(int64_t, float *, int64_t)> test_grad_hook(const RunSettings &s) {
    const int64_t step = s.test_hooks.nan_grad_step, index = s.test_hooks.nan_grad_element;
    if (step < 0) return nullptr;
    return [step, index](int64_t at, float *g, int64_t n) {
        if (at == step && index < n) g[index] = std::nanf("");
    };
}

// This process's rows of the batch in message m, for the engine.
StepRows step_rows(const TensorMsg &m) {
    StepRows r{m.x.data(), m.target ? m.target.data() : nullptr, m.count, m.total, m.step, 0};
    // This rank's rows start at total*r/R in the global batch (noise is drawn per global row).
    if (m.total > 0) r.row0 = m.total * dist::rank() / dist::size();
    return r;
}

// Across ranks, the end of a run: how much of a step the gradient allreduce took.
std::string allreduce_line(const StepEngine &engine, int64_t steps_done, bool overlap) {
    const double comm_s = engine.comm_seconds(), step_s = engine.step_seconds();
    if (step_s <= 0) return "";
    const double bytes = double(engine.model().num_params() + 3) * sizeof(float), steps = double(steps_done - 1);
    char buf[240];
    std::snprintf(buf, sizeof buf,
                  "allreduce: %d ranks, %.0f bytes per step%s; %.3f ms of %.3f ms per step in communication (%.1f%%)",
                  dist::size(), bytes, overlap ? ", per layer during backward" : "", 1e3 * comm_s / steps,
                  1e3 * step_s / steps, 100 * comm_s / step_s);
    return buf;
}

// The progress line on a terminal, at most five times a second (and at each epoch's end).
void show_progress(Console &c, const TensorMsg &m, int64_t epochs, const EpochStats &stats, clk::time_point &last) {
    const auto now = clk::now();
    if (now - last < std::chrono::milliseconds(200) && !m.last_in_epoch) return;
    last = now;
    char buf[200];
    std::snprintf(buf, sizeof buf, "epoch %lld/%lld  step %lld  loss %.6f  %.0f samples/s", (long long)m.epoch + 1,
                  (long long)epochs, (long long)m.step + 1, stats.mean_loss(), stats.samples_per_s());
    c.progress(buf);
}

// A resumed run whose budget is spent re-evaluates and writes its reports, and trains
// nothing: say so (on stderr, so --quiet keeps it), rather than end as if it had trained.
void say_if_nothing_left(Pipeline &p, const EpochStats &stats) {
    const RunSettings &s = p.settings();
    if (stats.epochs_done() >= s.epochs)
        p.console().note("nothing left to train: all " + std::to_string(s.epochs) +
                         " epochs are done (to train on, raise train.epochs, e.g. train.epochs=" +
                         std::to_string(s.epochs + 1) + ")");
    else if (s.max_steps > 0 && stats.steps() >= s.max_steps)
        p.console().note("nothing left to train: the checkpoint is at step " + std::to_string(stats.steps()) +
                         " and train.max_steps is " + std::to_string(s.max_steps) +
                         " (to train on, raise it or set train.max_steps=0)");
}

class Train : public FlowNode, public CheckpointClient {
    using Fn = flow::function_node<TensorMsg, TensorMsg>;
    using Update = flow::multifunction_node<TensorMsg, std::tuple<EpochMsg>>;
    using Credits = flow::broadcast_node<Credit>;

public:
    void resolve(Pipeline &p, Diags &d) override {
        try {
            model_ = std::make_unique<Model>(model_spec_of(p, *this));
            opt_ = make_optimizer(p.config(), p.train_params(), d);
        } catch (const ConfigError &err) {
            d.add(err);
        }
        keys_ = parse<StepKeys>(p.train_params());
        clip_ = keys_.clip_grad_norm;
        if (clip_ < 0)
            d.error(p.train_params().pos("clip_grad_norm"), "train: 'clip_grad_norm' must be 0 (off) or positive");
    }
    void use_checkpoints(const CheckpointPolicy &policy) override { policy_ = &policy; }
    void preflight(Pipeline &p) override;

    void memory(const Pipeline &p, std::vector<MemoryItem> &out) const override {
        if (model_) train_memory(p, *model_, opt_ ? opt_->state_count() : 0, out);
    }

    void build(Pipeline &p) override {
        p_ = &p;
        make_engine(p);
        restore(p);
        auto &g = p.graph();
        step_done_ = std::make_unique<Credits>(g);
        epoch_done_ = std::make_unique<Credits>(g);
        gate_ = std::make_unique<flow::limiter_node<TensorMsg>>(g, 1);
        int split_probe = p.add_probe(*this, "split");
        split_ = std::make_unique<Fn>(g, flow::serial, [this, split_probe](TensorMsg m) {
            return p_->guard(split_probe, m, [&] {
                stats_.begin_step(m.step);
                step_t0_ = p_->now();
                m.t_ready = p_->now();
                return m;
            });
        });
        flow::make_edge(*gate_, *split_);
        int update_probe = p.add_probe(*this, "update");
        // A failed step (non-finite loss, a checkpoint that cannot be written) ends training
        // but not the run at once: the epochs already trained are still evaluated and recorded.
        update_ = std::make_unique<Update>(g, flow::serial,
                                           [this, update_probe](const TensorMsg &m, Update::output_ports_type &out) {
                                               try {
                                                   p_->guard(update_probe, m, [&] { arrive(m, out); });
                                               } catch (const std::exception &) {  // named by guard
                                                   stop(std::current_exception());
                                               }
                                           });
        make_shards(p);
    }

    void finish() override {
        const std::string line = engine_ && dist::parallel() ? allreduce_line(*engine_, stats_.steps(), overlap_) : "";
        if (!line.empty()) p_->console().line(line);
    }

    InPort in(const std::string &, const std::string &) override { return *gate_; }
    OutPort out(const std::string &port) override {
        if (port == "step_done") return *step_done_;
        if (port == "epoch_done") return *epoch_done_;
        return flow::output_port<0>(*update_);
    }
    std::vector<std::string> credit_outputs() const override { return {"step_done", "epoch_done"}; }

    // A resumed run sends the finished epochs its checkpoint had not seen recorded once more
    // (killed before their evaluation was written); metrics skips rows it already has.
    void activate() override {
        for (const auto &r : ckpts_->pending()) {
            EpochMsg o;
            o.epoch = r->epoch;
            o.step = r->steps - 1;
            o.report = r;
            std::get<0>(update_->output_ports()).try_put(o);
        }
    }

private:
    // The step engine, from the model parsed once and the run's thread split.
    void make_engine(Pipeline &p) {
        const int64_t s = p.shards();
        // One shard per rank: each layer's gradients start their allreduce as soon as its
        // backward step has made them (train.allreduce_overlap: false turns it off, to measure it).
        overlap_ = dist::parallel() && s == 1 && keys_.allreduce_overlap;
        StepOptions o{.shards = s,
                      .omp_per_shard = p.omp_per_shard(),
                      .clip_grad_norm = clip_,
                      .seed = p.settings().seed,
                      .overlap = overlap_,
                      .precision = p.settings().precision,
                      .fuse_update = keys_.fuse_update,
                      .grad_hook = test_grad_hook(p.settings())};
        engine_ = std::make_unique<StepEngine>(model_->spec_ptr(), std::move(opt_), std::move(o));
        // every rank starts from rank 0's weights
        dist::broadcast(engine_->params(), size_t(model_->num_params()) * sizeof(float));
        p.console().line("model: " + model_->spec().summary() + "; " + std::to_string(s) + " shard(s) x " +
                         std::to_string(p.omp_per_shard()) + " thread(s)" +
                         (dist::parallel() ? " per rank, " + std::to_string(dist::size()) + " MPI ranks" : ""));
    }

    // One node per row shard (and the profile's tracks of each layer's parts).
    void make_shards(Pipeline &p) {
        const size_t layers = model_->num_layers();
        for (size_t l = 0; l < layers; ++l) fwd_probe_.push_back(p.add_probe(*this, "fwd" + std::to_string(l)));
        loss_probe_ = p.add_probe(*this, "loss");
        for (size_t l = 0; l < layers; ++l) bwd_probe_.push_back(p.add_probe(*this, "bwd" + std::to_string(l)));
        for (size_t l = 0; l < layers && engine_->fused(); ++l)  // layer updates in the backward pass
            upd_probe_.push_back(p.add_probe(*this, "upd" + std::to_string(l)));
        traces_.resize(size_t(engine_->shards()));
        shard_errors_.resize(size_t(engine_->shards()));
        for (int64_t k = 0; k < engine_->shards(); ++k) {
            Trace &t = traces_[size_t(k)];
            t.p = p_, t.fwd = &fwd_probe_, t.bwd = &bwd_probe_, t.upd = &upd_probe_, t.loss = loss_probe_;
            int probe = p.add_probe(*this, "shard" + std::to_string(k));
            // A failed shard (a non-finite gradient when the update is fused into the backward
            // pass) ends training like a failed update: arrive() sees its error and stops.
            shard_nodes_.push_back(std::make_unique<Fn>(p.graph(), flow::serial, [this, probe, k](TensorMsg m) {
                try {
                    p_->guard(probe, m, [&] {
                        Trace *trace = p_->settings().profile ? &traces_[size_t(k)] : nullptr;
                        if (trace) trace->m = &m;
                        engine_->run_shard(k, step_rows(m), trace);
                    });
                } catch (const std::exception &) {  // named by guard
                    shard_errors_[size_t(k)] = std::current_exception();
                }
                m.t_ready = p_->now();
                return m;
            }));
            flow::make_edge(*split_, *shard_nodes_.back());
            flow::make_edge(*shard_nodes_.back(), *update_);
        }
    }


    void restore(Pipeline &p);

    // After the update of a step: the test hook, the checkpoint if due, and a stop request.
    void after_step(const TensorMsg &m) {
        const bool run_end = m.last_in_epoch && (m.epoch + 1 == p_->settings().epochs ||
                                                 m.step + 1 == p_->settings().max_steps);
        const int64_t steps = stats_.steps();
        if (hook_sig_ && steps == hook_step_) std::raise(hook_sig_);
        const int sig = stop_signal();
        if (ckpts_->after_step(*engine_, *model_, stats_.progress(), m.last_in_epoch, run_end, sig != 0))
            engine_->set_failure_note("; the last good checkpoint is " + ckpts_->last());
        if (sig && !run_end)
            stop(std::make_exception_ptr(
                Interrupted{sig, steps, ckpts_->writes() ? ckpts_->last() : "", stats_.epochs_done()}));
        if (run_end) set_stop_phase("the last evaluation and writing (training is done)", true);
    }

    // No step after this one; the epochs already trained are still evaluated and recorded
    // (Pipeline::stop), so a stopped run's metrics hold every epoch it finished.
    void stop(std::exception_ptr why) {
        stopped_ = true;
        p_->stop(why);
    }


    // Called once per shard per step; the last arrival reduces, updates and moves on.
    void arrive(const TensorMsg &m, Update::output_ports_type &out) {
        if (++arrived_ < engine_->shards()) return;
        arrived_ = 0;
        for (auto &e : shard_errors_)
            if (e) return stop(e);  // holds the gate: no further step is admitted
        const StepSums sums = engine_->update(step_rows(m));
        const int64_t total = m.total > 0 ? m.total : m.count;
        train_s_ += stats_.end_step(sums, total);
        p_->record_step(step_t0_, total);
        samples_ += total;
        auto &marks = p_->step_marks();  // aepipe bench's clock: the same seconds
        if (marks.size() < marks.capacity()) marks.push_back({train_s_, samples_});  // never reallocates
        if (p_->console().tty()) show_progress(p_->console(), m, p_->settings().epochs, stats_, last_progress_);
        if (m.last_in_epoch) end_epoch(m, out);
        after_step(m);
        if (stopped_) return;  // holds the gate: no further step is admitted
        step_done_->try_put(Credit());
        gate_->decrementer().try_put(Credit());
    }

    void end_epoch(const TensorMsg &m, Update::output_ports_type &out) {
        std::shared_ptr<EpochReport> r = stats_.end_epoch(m.epoch, m.step);
        r->params = std::make_shared<const std::vector<float>>(engine_->params_copy());
        r->model = model_.get();
        r->last = m.epoch + 1 == p_->settings().epochs || m.step + 1 == p_->settings().max_steps;
        ckpts_->add_pending(r);
        EpochMsg o;
        o.epoch = m.epoch;
        o.step = m.step;
        o.report = r;
        std::get<0>(out).try_put(o);
        epoch_done_->try_put(Credit());  // reaches the reader only when no evaluate node follows
    }


    Pipeline *p_ = nullptr;
    std::unique_ptr<Model> model_;  // layout and validation; the engine runs its own copies
    std::unique_ptr<Optimizer> opt_;  // until build() hands it to the engine
    std::unique_ptr<StepEngine> engine_;
    const CheckpointPolicy *policy_ = nullptr;  // from the checkpoint node (null: none)
    std::unique_ptr<TrainCheckpoints> ckpts_;
    std::vector<std::unique_ptr<Fn>> shard_nodes_;
    std::vector<Trace> traces_;                      // per shard
    std::vector<std::exception_ptr> shard_errors_;  // per shard: its failure in this step
    StepKeys keys_;  // the train section's keys of the step (step_engine.hpp)
    double clip_ = 0;
    std::vector<int> fwd_probe_, bwd_probe_, upd_probe_;
    int loss_probe_ = 0;
    std::unique_ptr<flow::limiter_node<TensorMsg>> gate_;
    std::unique_ptr<Fn> split_;
    std::unique_ptr<Update> update_;
    std::unique_ptr<Credits> step_done_, epoch_done_;
    EpochStats stats_;
    int64_t arrived_ = 0;
    int64_t hook_step_ = -1;
    int hook_sig_ = 0;
    bool stopped_ = false;  // a signal or a failed checkpoint ended training (stop())
    bool overlap_ = false;  // per-layer allreduce during the backward pass (one shard per rank)
    clk::time_point last_progress_{};
    double train_s_ = 0, step_t0_ = 0;  // seconds of all steps so far; this step's start (profile clock)
    int64_t samples_ = 0;               // samples of all steps so far (whole batches, as the epoch lines count)
};

// Where training starts: a resumed run's checkpoint, or the weights to fine-tune from.
void Train::restore(Pipeline &p) {
    const RunSettings &s = p.settings();
    ckpts_ = std::make_unique<TrainCheckpoints>(policy_, s.run_dir,
                                                policy_ && !s.run_dir.empty() ? config_fingerprint(p.config())
                                                                              : nlohmann::json(),
                                                s.seed);
    if (const ResumeFrom *from = resume_from(s)) {
        TrainProgress pr;
        std::vector<std::shared_ptr<EpochReport>> pending;
        restore_train_checkpoint(from->ckpt, from->path, *model_, engine_->params(), engine_->optimizer(), pr,
                                 pending);
        stats_.restore(pr);
        for (auto &r : pending) {
            r->last = r->epoch + 1 == s.epochs || r->steps == s.max_steps;
            ckpts_->add_pending(r);
        }
        p.console().line("resumed from " + from->path + " (step " + std::to_string(stats_.steps()) + ", epoch " +
                         std::to_string(stats_.epochs_done() + 1) + ")");
        say_if_nothing_left(p, stats_);
    } else if (!s.init_from.empty()) {
        load_weights(s.init_from, *model_, engine_->params());
        p.console().line("weights from " + s.init_from + " (fine-tuning: optimizer and counters start fresh)");
    }
    // Test hook (pipeline/test_hooks.hpp): raise signal SIG right after the update of step N.
    hook_step_ = s.test_hooks.raise_at_step, hook_sig_ = s.test_hooks.raise_signal;
}

// --init-from's weights are read (and checked: damage, shapes, NaN) before the run folder
// exists; a folder was made and the data loaded before a bad file was refused.
void Train::preflight(Pipeline &p) {
    if (p.settings().init_from.empty() || !model_) return;
    std::vector<float> scratch(size_t(model_->num_params()));
    load_weights(p.settings().init_from, *model_, scratch.data());
}

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
