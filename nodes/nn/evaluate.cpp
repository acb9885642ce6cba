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
// The evaluation runs on a Worker thread of its own, with its own Model and Workspace, beside
// the next epoch's training; an async_node hands the result back to the graph. On a graph
// thread it would wait behind the training steps, which keep the graph's threads busy (with
// one thread, every evaluation waited for the end of training). Once the result is sent on,
// the node fires Pipeline::epoch_done, so training stays at most two epochs ahead of it.
// Across processes each rank evaluates its share of the test set ([n*r/R, n*(r+1)/R)) and the
// sums are added by an allreduce, also on the Worker thread, so this node never blocks a
// flow-graph thread on other ranks.
// The normalizer and the corruption are the training data's: those of the normalize and
// corrupt nodes up the edges from the training node (eval.model <- train.in <- [corrupt <-]
// normalize), unless the keys name others.
// YAML keys: normalize (id of the normalize node to apply; default: the training data's),
// corrupt (id of the corrupt node; default: the training data's, if any), batch.
#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "nodes/data/corrupt.hpp"
#include "formats/idx.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/psnr.hpp"
#include "nodes/nn/reports.hpp"
#include "pipeline/dist.hpp"
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
        if (!prm_.normalize.empty()) norm_ = named<NormalizeNode>(p, d, "normalize", prm_.normalize);
        if (!prm_.corrupt.empty())
            if (auto *c = named<CorruptNode>(p, d, "corrupt", prm_.corrupt)) corrupt_ = &c->corruption();
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

    // Its own copy of the weights and a Workspace for `batch` rows (outputs and gradients).
    void memory(const Pipeline &, std::vector<MemoryItem> &out) const override {
        if (!model_) return;
        double acts = 0;
        for (size_t l = 0; l < model_->num_layers(); ++l) acts += double(model_->layer(l).out_dim());
        const double w = double(model_->num_params()) * sizeof(float);
        const double ws = 2 * double(prm_.batch) * acts * sizeof(float);
        out.push_back({params_.context(), params_.where(), w + ws,
                       "a copy of the parameters " + human_bytes(w) + ", workspace for 'batch' rows " + human_bytes(ws)});
    }

    void build(Pipeline &p) override {
        threads_ = p.side_threads();  // runs beside the training shards
        seed_ = p.settings().seed;
        const int64_t batch = prm_.batch;
        ws_ = std::make_unique<Workspace>(*model_, batch);
        join_ = std::make_unique<Join>(p.graph(), [](const EpochMsg &m) { return m.epoch; },
                                       [](const DatasetMsg &m) { return m.epoch; });
        fail_epoch_ = p.settings().test_hooks.fail_eval_epoch;  // test hook (pipeline/test_hooks.hpp)
        worker_ = std::make_unique<Worker>();
        node_ = std::make_unique<Fn>(p.graph(), flow::serial,
                                     [this, &p, batch](const std::tuple<EpochMsg, DatasetMsg> &in, Fn::gateway_type &gw) {
                                         gw.reserve_wait();  // the graph waits for the job's result
                                         worker_->post([this, &p, batch, in, &gw] { run_job(p, in, batch, gw); });
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

private:
    // The node of type T with id `want`, named by key `key` (nullptr, and an error at the key, if none).
    template <class T>
    T *named(Pipeline &p, Diags &d, const std::string &key, const std::string &want) {
        if (auto *n = dynamic_cast<T *>(p.find(want))) return n;
        std::vector<std::string> ids;
        for (const auto &n : p.nodes())
            if (dynamic_cast<T *>(n.get())) ids.push_back(n->id());
        std::string near = nearest(want, ids), all;
        for (const auto &i : ids) all += (all.empty() ? "" : ", ") + i;
        d.error(params_.pos(key), params_.context() + ": no " + key + " node named '" + want + "'",
                ids.empty()    ? "the graph has no " + key + " node"
                : near.empty() ? key + " nodes: " + all
                               : "did you mean '" + near + "'?");
        return nullptr;
    }

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

    // What a rank adds up over its share of the test set (the allreduce sums them as one array
    // of doubles), the time it took and the message to send on.
    struct Totals {
        double loss = 0;           // the model's loss * rows
        double sse = 0;            // squared pixel errors (image space)
        double sse_restored = 0;   // denoising: squared errors in raw pixel space [0, 1]
        double recon = 0, kl = 0;  // a VAE: reconstruction and KL parts of the loss * rows
    };
    static_assert(sizeof(Totals) == 5 * sizeof(double), "Totals is summed as an array of doubles");
    struct Sums {
        Totals t;
        double seconds = 0;
        EvalMsg out;
    };

    // Sums of this rank's share of the test set.
    Sums evaluate(const EpochMsg &ep, const DatasetMsg &test, int64_t batch) {
        auto t0 = std::chrono::steady_clock::now();
        if (ep.epoch == fail_epoch_) throw std::runtime_error("test hook fail_eval: evaluation failed");
        omp_set_num_threads(threads_);  // the Worker thread's OpenMP team for oneDNN
        const Dataset &ds = *test.data;
        const int64_t dim = ds.dim();
        const Normalizer &norm = norm_->normalizer();
        x_.resize(size_t(batch * dim));
        img_.resize(size_t(batch * dim));
        if (corrupt_ && test_in_.empty()) corrupt_test_set(ds);
        const float *w = epoch_report(ep).params->data();
        double loss = 0, sse = 0, sse_restored = 0, recon = 0, kl = 0;
        const int64_t r = dist::rank(), ranks = dist::size(), first = ds.n * r / ranks, end = ds.n * (r + 1) / ranks;
        for (int64_t b = first; b < end; b += batch) {
            int64_t n = std::min(batch, end - b);
            norm.apply(ds.image(b), n * dim, x_.data());
            const float *in = corrupt_ ? test_in_.data() + b * dim : x_.data();
            ws_->prepare(n);
            ws_->begin_pass({seed_, -1, b, 1.0, false});
            const float *y = ws_->forward(n, in, w);
            const double rl = model_->loss().value(n, dim, y, x_.data()) * double(n);
            loss += rl + ws_->weighted_penalty_sum();
            recon += rl;
            kl += ws_->penalty_sum();
            model_->loss().to_image(n * dim, y, img_.data());
            sse += mse_per_element(n * dim, img_.data(), x_.data()) * double(n * dim);
            if (corrupt_) sse_restored += unit_sse(n * dim, img_.data(), x_.data(), norm);
        }
        Sums s;
        s.t = {loss, sse, sse_restored, recon, kl};
        s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        static_cast<EpochMsg &>(s.out) = ep;
        s.out.data = test.data;
        return s;
    }

    // On the Worker thread: evaluates, sums over the ranks, sends the result into the graph.
    // An error cancels the run (Pipeline::fail); the graph's wait is released either way.
    void run_job(Pipeline &p, const std::tuple<EpochMsg, DatasetMsg> &in, int64_t batch, Fn::gateway_type &gw) {
        try {
            p.guard(*this, std::get<0>(in), [&] {
                Sums s = evaluate(std::get<0>(in), std::get<1>(in), batch);
                const auto t0 = std::chrono::steady_clock::now();
                dist::allreduce_sum(reinterpret_cast<double *>(&s.t), sizeof(Totals) / sizeof(double), dist::Channel::Eval);
                s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                publish(s, gw);
            });
        } catch (...) {
            p.fail(std::current_exception());
        }
        gw.release_wait();
    }

    // Divides the (summed over ranks) sums by the whole test set and sends the result on.
    void publish(Sums &s, Fn::gateway_type &gw) {
        const Dataset &ds = *s.out.data;
        auto r = std::make_shared<EvalReport>();
        r->test_samples = ds.n;
        r->test_loss = s.t.loss / double(ds.n);
        r->test_mse_per_px = s.t.sse / double(ds.n * ds.dim());
        r->test_recon = s.t.recon / double(ds.n);
        r->test_kl = s.t.kl / double(ds.n);
        if (corrupt_) {
            r->restoration = true;
            r->psnr_corrupt_db = psnr_corrupt_db_;
            r->psnr_restored_db = psnr_db(s.t.sse_restored / double(ds.n * ds.dim()));
        }
        r->seconds = s.seconds;
        r->norm = &norm_->normalizer();
        r->corrupt = corrupt_;
        s.out.eval = r;
        gw.try_put(s.out);
    }

    NormalizeNode *norm_ = nullptr;
    const Corruption *corrupt_ = nullptr;  // null: plain reconstruction
    int threads_ = 1;
    uint64_t seed_ = 0;
    int64_t fail_epoch_ = -1;  // the test hook's epoch
    std::unique_ptr<Model> model_;
    std::unique_ptr<Workspace> ws_;
    std::vector<float> x_, img_;  // a batch: clean inputs, model output as image
    EvaluateParams prm_;
    std::vector<float> test_in_;  // denoising: the whole corrupted test set (made once)
    double psnr_corrupt_db_ = 0;
    std::unique_ptr<Join> join_;
    std::unique_ptr<Fn> node_;
    std::unique_ptr<flow::function_node<EvalMsg, Credit>> released_;  // the epoch_done credit
    std::unique_ptr<Worker> worker_;  // declared last: joined first, before the nodes die
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
