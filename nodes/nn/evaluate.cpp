// evaluate: (epoch, dataset) -> eval. Runs the epoch's parameter snapshot over the test set:
//   test_loss = the model's loss, test_mse_per_px = mean((image(y) - x)^2) over all pixels,
// where x is the normalized test image and image(y) the model output in image space.
// Denoising (the graph has a corrupt node): the model's input is the corrupted test image
// (test image i always gets the same corruption, Corruption::kTestEpoch), the loss and MSE
// compare with the clean x, and the report adds the restoration, in raw pixel space [0, 1]:
//   psnr_corrupt_db = psnr(corrupted, x), psnr_restored_db = psnr(clip(image(y)), x),
//   psnr(a, b) = 10 log10(1 / mean((a - b)^2)) over all test pixels (capped at 100 dB).
// The corrupted test set is made once, at the first evaluation, and kept (N x D floats).
// A VAE's test loss adds beta * KL and reports both parts; its sample layer draws from the
// evaluation stream (step -1, row = test index: the same noise every epoch) unless eval: mean.
// A key-matching join pairs each training epoch with the test set's message of that epoch.
// Where the evaluation runs depends on whether training leaves a core free:
// - Beside training (a core is free): on a Worker thread of its own, with its own Model and
//   Workspace, beside the next epoch's training; an async_node hands the result back to the
//   graph. On a graph thread it would wait behind the training steps, which keep the graph's
//   threads busy (with one thread, every evaluation waited for the end of training). Training
//   stays at most two epochs ahead of it (FlowNode::epoch_lead).
// - Between epochs (training takes every core): training waits for it (epoch_lead 1) and it
//   runs on the graph's own threads and OpenMP teams, one lane (Model, Workspace) per shard,
//   taking batches from a SharedLoop. A thread beside the training steps could only take turns
//   with them: it slowed each step's OpenMP team, and a second team made libgomp stop
//   spinning at barriers. Run between the epochs, it uses the whole machine and the training
//   steps' clock (nodes/nn/epoch_stats.hpp) holds training alone.
// Each batch's sums are kept apart and added in batch order, so the result is the same, bit
// for bit, whichever lane ran which batch. Once the result is sent on, the node fires
// Pipeline::epoch_done.
// Across processes each rank evaluates its share of the test set ([n*r/R, n*(r+1)/R)) and the
// sums are added by an allreduce: beside training on the Worker thread, so this node never
// blocks a flow-graph thread on another rank's training step; between epochs every rank's
// training waits for its own evaluation, so none is in a training step then.
// The normalizer and the corruption are the training data's: those of the normalize and
// corrupt nodes up the edges from the training node (eval.model <- train.in <- [corrupt <-]
// normalize), unless the keys name others.
// YAML keys: normalize (id of the normalize node to apply; default: the training data's),
// corrupt (id of the corrupt node; default: the training data's, if any), batch.
#include <omp.h>
#include <oneapi/tbb/parallel_for.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "nodes/data/corrupt.hpp"
#include "formats/idx.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/psnr.hpp"
#include "nodes/nn/reports.hpp"
#include "pipeline/dist.hpp"
#include "pipeline/dnnl_ctx.hpp"
#include "pipeline/shared_loop.hpp"
#include "pipeline/worker.hpp"

namespace aepipe {
namespace {

struct EvaluateParams {
    std::string normalize, corrupt;  // node ids; "": the only one
    int64_t batch = 1;
    static const Keys<EvaluateParams> &keys();
};
const Keys<EvaluateParams> &EvaluateParams::keys() {
    using P = EvaluateParams;
    static const Keys<P> k{
        key(&P::normalize,
            {"normalize", Kind::String, "", "id of the normalize node to apply (default: the training data's)"}),
        key(&P::corrupt, {"corrupt", Kind::String, "",
                          "id of the corrupt node whose corruption the test inputs get (default: the training data's, if any)"}),
        key(&P::batch, {"batch", Kind::Int, "1000", "evaluation batch size", {}, false, size_range()})};
    return k;
}

// What a rank adds up over its share of the test set (the allreduce sums them as one array
// of doubles), per batch and in all.
struct Totals {
    double loss = 0;           // the model's loss * rows
    double sse = 0;            // squared pixel errors (image space)
    double sse_restored = 0;   // denoising: squared errors in raw pixel space [0, 1]
    double recon = 0, kl = 0;  // a VAE: reconstruction and KL parts of the loss * rows
};
static_assert(sizeof(Totals) == 5 * sizeof(double), "Totals is summed as an array of doubles");

// The batches' totals added in batch order: the same sums whichever thread ran which batch.
Totals sum_in_order(const std::vector<Totals> &parts) {
    Totals t;
    for (const Totals &b : parts)
        t.loss += b.loss, t.sse += b.sse, t.sse_restored += b.sse_restored, t.recon += b.recon, t.kl += b.kl;
    return t;
}

// What computes a batch: its own Model (primitives and pass state are per instance),
// Workspace and buffers. Beside training one lane (the Worker's), between epochs one per shard.
struct Lane {
    std::unique_ptr<Model> model;
    std::unique_ptr<Workspace> ws;
    std::vector<float> x, img;  // a batch: clean inputs, model output as image
};

// One epoch's evaluation: this rank's share [first, end) of the test set in batches.
struct Pass {
    Pass(const EpochMsg &e, const DatasetMsg &t, int64_t b)
        : ep(e),
          test(t),
          batch(b),
          first(t.data->n * dist::rank() / dist::size()),
          end(t.data->n * (dist::rank() + 1) / dist::size()),
          parts(size_t((end - first + b - 1) / b)),
          loop(int64_t(parts.size())) {}
    EpochMsg ep;
    DatasetMsg test;
    int64_t batch, first, end;
    std::vector<Totals> parts;  // per batch, added in batch order
    SharedLoop loop;
};

// Whether the evaluation runs between epochs: training leaves no core free.
bool between_epochs(const Pipeline &p) { return p.free_cores() <= 0; }

// The node of type T with id `want`, named by key `key` of node params `prm` (nullptr, and an
// error at the key, if none).
template <class T>
T *named(Pipeline &p, Diags &d, const Params &prm, const std::string &key, const std::string &want) {
    if (auto *n = dynamic_cast<T *>(p.find(want))) return n;
    std::vector<std::string> ids;
    for (const auto &n : p.nodes())
        if (dynamic_cast<T *>(n.get())) ids.push_back(n->id());
    std::string near = nearest(want, ids), all;
    for (const auto &i : ids) all += (all.empty() ? "" : ", ") + i;
    d.error(prm.pos(key), prm.context() + ": no " + key + " node named '" + want + "'",
            ids.empty()    ? "the graph has no " + key + " node"
            : near.empty() ? key + " nodes: " + all
                           : "did you mean '" + near + "'?");
    return nullptr;
}

class Evaluate : public FlowNode {
    using Join = flow::join_node<std::tuple<EpochMsg, DatasetMsg>, flow::key_matching<int64_t>>;
    using Fn = flow::async_node<std::tuple<EpochMsg, DatasetMsg>, EvalMsg>;

public:
    explicit Evaluate(const Params &p) : prm_(parse<EvaluateParams>(p)) {}
    void resolve(Pipeline &p, Diags &d) override {
        for (FlowNode *n = p.upstream(id_, "model"); n; n = p.feeder(*n)) {
            if (auto *nn = dynamic_cast<NormalizeNode *>(n); nn && !norm_) norm_ = nn;
            if (auto *c = dynamic_cast<CorruptNode *>(n); c && !corrupt_) corrupt_ = &c->corruption();
        }
        if (!prm_.normalize.empty()) norm_ = named<NormalizeNode>(p, d, params_, "normalize", prm_.normalize);
        if (!prm_.corrupt.empty())
            if (auto *c = named<CorruptNode>(p, d, params_, "corrupt", prm_.corrupt)) corrupt_ = &c->corruption();
        if (!norm_ && d.empty())
            d.error(params_.where(), params_.context() + ": the training data has no normalize node",
                    "evaluate applies the training data's normalize node to the test set; name one with 'normalize:'");
        if (prm_.batch < 1) d.error(params_.pos("batch"), params_.context() + ": 'batch' must be at least 1");
        int64_t train_dim = sample_dim(p), test_dim = 0;
        if (FlowNode *up = p.upstream(id_, "data")) test_dim = up->sample_dim(p);
        if (train_dim && test_dim && train_dim != test_dim)
            d.error(params_.where(), params_.context() + ": test images have " + std::to_string(test_dim) +
                                         " values each, training images " + std::to_string(train_dim));
        if (!d.empty()) return;
        try {
            model_ = std::make_unique<Model>(model_spec_of(p, *this));
        } catch (const ConfigError &) {
            // reported by the training node
        }
    }

    // Its own copy of the weights and a Workspace for `batch` rows (outputs and gradients) per
    // lane (one beside training, one per shard between epochs).
    void memory(const Pipeline &p, std::vector<MemoryItem> &out) const override {
        if (!model_) return;
        double acts = 0;
        for (size_t l = 0; l < model_->num_layers(); ++l) acts += double(model_->layer(l).out_dim());
        const double w = double(model_->num_params()) * sizeof(float);
        const double ws = 2 * double(prm_.batch) * acts * sizeof(float) * lanes(p);
        out.push_back({params_.context(), params_.where(), w + ws,
                       "a copy of the parameters " + human_bytes(w) + ", workspace for 'batch' rows " + human_bytes(ws)});
    }

    void build(Pipeline &p) override {
        between_ = between_epochs(p);
        threads_ = between_ ? p.omp_per_shard() : p.side_threads();  // a shard's team, or beside the shards
        seed_ = p.settings().seed;
        const int64_t batch = prm_.batch;
        const OmpTeam team(threads_);  // the lanes' primitives run on teams of this size
        lanes_.resize(size_t(lanes(p)));
        for (Lane &lane : lanes_) {
            lane.model = std::make_unique<Model>(model_->spec_ptr());
            lane.ws = std::make_unique<Workspace>(*lane.model, batch);
            lane.x.resize(size_t(batch * model_->in_dim()));
            lane.img.resize(lane.x.size());
        }
        join_ = std::make_unique<Join>(p.graph(), [](const EpochMsg &m) { return m.epoch; },
                                       [](const DatasetMsg &m) { return m.epoch; });
        fail_epoch_ = p.settings().test_hooks.fail_eval_epoch;  // test hook (pipeline/test_hooks.hpp)
        if (!between_) worker_ = std::make_unique<Worker>();
        node_ = std::make_unique<Fn>(p.graph(), flow::serial,
                                     [this, &p, batch](const std::tuple<EpochMsg, DatasetMsg> &in, Fn::gateway_type &gw) {
                                         gw.reserve_wait();  // the graph waits for the job's result
                                         auto pass = std::make_shared<Pass>(std::get<0>(in), std::get<1>(in), batch);
                                         if (between_) return run_job(p, pass, gw);  // training waits for it
                                         worker_->post([this, &p, pass, &gw] { run_job(p, pass, gw); });
                                     });
        flow::make_edge(*join_, *node_);
        released_ = std::make_unique<flow::function_node<EvalMsg, Credit>>(p.graph(), flow::serial,
                                                                            [](const EvalMsg &) { return Credit(); });
        flow::make_edge(*node_, *released_);
    }

    InPort in(const std::string &port, const std::string &) override {
        if (port == "model") return flow::input_port<0>(*join_);
        return flow::input_port<1>(*join_);
    }
    OutPort out(const std::string &port) override {
        if (port == "epoch_done") return *released_;
        return flow::output_port<0>(*node_);
    }
    std::vector<std::string> credit_outputs() const override { return {"epoch_done"}; }
    int epoch_lead(const Pipeline &p) const override { return between_epochs(p) ? 1 : 2; }

private:
    // The corrupted test set, made once (the same every epoch), and its PSNR.
    void corrupt_test_set(const Dataset &ds) {
        const Normalizer &norm = norm_->normalizer();
        const int64_t dim = ds.dim();
        test_in_.resize(size_t(ds.n * dim));
        std::vector<float> clean(static_cast<size_t>(dim));
        double sse = 0;
        for (int64_t i = 0; i < ds.n; ++i) {
            float *in = test_in_.data() + i * dim;
            corrupt_->apply(ds.image(i), ds.h, ds.w, ds.c, corrupt_->key(Corruption::kTestEpoch, i), norm, in);
            norm.apply(ds.image(i), dim, clean.data());
            sse += unit_sse(dim, in, clean.data(), norm);
        }
        psnr_corrupt_db_ = psnr_db(sse / double(ds.n * dim));
    }

    // Batch i of the pass, on `lane`.
    void run_batch(Pass &ps, int64_t i, Lane &lane) {
        const Dataset &ds = *ps.test.data;
        const int64_t dim = ds.dim(), b = ps.first + i * ps.batch, n = std::min(ps.batch, ps.end - b);
        const Normalizer &norm = norm_->normalizer();
        if (corrupt_) std::call_once(corrupted_, [&] { corrupt_test_set(ds); });
        const float *w = epoch_report(ps.ep).params->data();
        norm.apply(ds.image(b), n * dim, lane.x.data());
        const float *in = corrupt_ ? test_in_.data() + b * dim : lane.x.data();
        lane.ws->prepare(n);
        lane.ws->begin_pass({seed_, -1, b, 1.0, false});
        const float *y = lane.ws->forward(n, in, w);
        const Loss &loss = lane.model->loss();
        const double rl = loss.value(n, dim, y, lane.x.data()) * double(n);
        Totals &t = ps.parts[size_t(i)];
        t.loss = rl + lane.ws->weighted_penalty_sum();
        t.recon = rl;
        t.kl = lane.ws->penalty_sum();
        loss.to_image(n * dim, y, lane.img.data());
        t.sse = mse_per_element(n * dim, lane.img.data(), lane.x.data()) * double(n * dim);
        if (corrupt_) t.sse_restored = unit_sse(n * dim, lane.img.data(), lane.x.data(), norm);
    }

    // Lanes: one beside training, one per shard (graph thread) between epochs.
    static int lanes(const Pipeline &p) { return between_epochs(p) ? p.shards() : 1; }

    // This rank's share of the test set, batch by batch, on every lane.
    void compute(Pass &ps) {
        if (ps.ep.epoch == fail_epoch_) throw std::runtime_error("test hook fail_eval: evaluation failed");
        auto lane = [&](size_t k) {
            omp_set_num_threads(threads_);  // this thread's OpenMP team for oneDNN
            ps.loop.run([&](int64_t i) { run_batch(ps, i, lanes_[k]); });
        };
        if (lanes_.size() == 1) lane(0);  // (the Worker thread stays out of TBB's arenas)
        else tbb::parallel_for(size_t(0), lanes_.size(), lane);
        ps.loop.wait();
    }

    // On the Worker thread (beside training) or a graph thread (between epochs): evaluates this
    // rank's share, sums over the ranks, sends the result into the graph. An error cancels the
    // run (Pipeline::fail); the graph's wait is released either way.
    void run_job(Pipeline &p, const std::shared_ptr<Pass> &pass, Fn::gateway_type &gw) {
        try {
            p.guard(*this, pass->ep, [&] {
                const auto t0 = std::chrono::steady_clock::now();
                compute(*pass);
                Totals t = sum_in_order(pass->parts);
                dist::allreduce_sum(reinterpret_cast<double *>(&t), sizeof(Totals) / sizeof(double), dist::Channel::Eval);
                publish(*pass, t, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), gw);
            });
        } catch (...) {
            p.fail(std::current_exception());
        }
        gw.release_wait();
    }

    // Divides the (summed over ranks) sums by the whole test set and sends the result on.
    void publish(const Pass &ps, const Totals &t, double seconds, Fn::gateway_type &gw) {
        const Dataset &ds = *ps.test.data;
        auto r = std::make_shared<EvalReport>();
        r->test_samples = ds.n;
        r->test_loss = t.loss / double(ds.n);
        r->test_mse_per_px = t.sse / double(ds.n * ds.dim());
        r->test_recon = t.recon / double(ds.n);
        r->test_kl = t.kl / double(ds.n);
        if (corrupt_) {
            r->restoration = true;
            r->psnr_corrupt_db = psnr_corrupt_db_;
            r->psnr_restored_db = psnr_db(t.sse_restored / double(ds.n * ds.dim()));
        }
        r->seconds = seconds;
        r->norm = &norm_->normalizer();
        r->corrupt = corrupt_;
        EvalMsg out;
        static_cast<EpochMsg &>(out) = ps.ep;
        out.data = ps.test.data;
        out.eval = r;
        gw.try_put(out);
    }

    NormalizeNode *norm_ = nullptr;
    const Corruption *corrupt_ = nullptr;  // null: plain reconstruction
    int threads_ = 1;
    uint64_t seed_ = 0;
    int64_t fail_epoch_ = -1;  // the test hook's epoch
    bool between_ = false;  // training takes every core: the evaluation runs between epochs
    std::unique_ptr<Model> model_;  // layout (the lanes compute with their own copies)
    std::vector<Lane> lanes_;
    EvaluateParams prm_;
    std::once_flag corrupted_;
    std::vector<float> test_in_;  // denoising: the whole corrupted test set (made once)
    double psnr_corrupt_db_ = 0;
    std::unique_ptr<Join> join_;
    std::unique_ptr<Fn> node_;
    std::unique_ptr<flow::function_node<EvalMsg, Credit>> released_;  // the epoch_done credit
    // Declared last: joined first, before the nodes and lanes die.
    std::unique_ptr<Worker> worker_;
};

Registrar<FlowNodeRegistry> reg({"evaluate",
                                 Category::Compute,
                                 "test-set loss and MSE per pixel of each epoch's parameters (and PSNR when denoising)",
                                 EvaluateParams::keys().specs(),
                                 {{"model", {"epoch"}, "the training node's epoch output"},
                                  {"data", {"dataset"}, "the test set (an idx_reader)"}},
                                 {{"out", {"eval"}, "the epoch with its test metrics"}},
                                 "it paces the training set's reader (training stays at most two epochs ahead of it)"},
                                [](const Params &p) { return std::make_unique<Evaluate>(p); });

}  // namespace
}  // namespace aepipe
