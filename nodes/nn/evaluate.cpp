// evaluate: (epoch, dataset) -> eval. Runs the epoch's parameter snapshot over the test set:
//   test_loss = the model's loss, test_mse_per_px = mean((image(y) - x)^2) over all pixels,
// where x is the normalized test image and image(y) the model output in image space.
// A key-matching join pairs each training epoch with the test set's message of that epoch.
// It works on its own Model and Workspace, so it runs beside the next epoch's training.
// YAML keys: normalize (id of the normalize node to apply; default: the only one), batch.
#include <omp.h>

#include <chrono>

#include "nodes/data/idx.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"

namespace aepipe {
namespace {

class Evaluate : public FlowNode {
    using Join = flow::join_node<std::tuple<Msg, Msg>, flow::key_matching<int64_t>>;
    using Fn = flow::function_node<std::tuple<Msg, Msg>, Msg>;

public:
    void resolve(Pipeline &p, Diags &d) override {
        std::string want = params_.s("normalize");
        std::vector<std::string> ids;
        for (const auto &n : p.nodes())
            if (auto *nn = dynamic_cast<NormalizeNode *>(n.get())) {
                ids.push_back(n->id());
                if (want.empty() || want == n->id()) norm_ = nn;
            }
        if (!want.empty() && !norm_)
            d.error(params_.pos("normalize"), params_.context() + ": no normalize node named '" + want + "'",
                    ids.empty() ? "the graph has no normalize node" : "normalize nodes: " + ids.front());
        else if (want.empty() && ids.size() != 1)
            d.error(params_.where(), params_.context() + ": the graph has " + std::to_string(ids.size()) +
                                         " normalize nodes; name one with 'normalize:'");
        if (params_.i("batch") < 1) d.error(params_.pos("batch"), params_.context() + ": 'batch' must be at least 1");
        int64_t train_dim = sample_dim(p), test_dim = 0;
        if (FlowNode *up = p.upstream(id_, "data")) test_dim = up->sample_dim(p);
        if (train_dim && test_dim && train_dim != test_dim)
            d.error(params_.where(), params_.context() + ": test images have " + std::to_string(test_dim) +
                                         " values each, training images " + std::to_string(train_dim));
        if (!d.empty()) return;
        try {
            model_ = std::make_unique<Model>(p.config(), p.section("model"), sample_shape(p));
        } catch (const ConfigError &) {
            // reported by the training node
        }
    }

    void build(Pipeline &p) override {
        threads_ = p.omp_per_shard();  // runs beside the training shards
        const int64_t batch = params_.i("batch");
        ws_ = std::make_unique<Workspace>(*model_, batch);
        join_ = std::make_unique<Join>(p.graph(), [](const Msg &m) { return m.epoch; },
                                       [](const Msg &m) { return m.epoch; });
        node_ = std::make_unique<Fn>(p.graph(), flow::serial, [this, &p, batch](const std::tuple<Msg, Msg> &in) {
            return p.guard(*this, std::get<0>(in), [&] { return evaluate(std::get<0>(in), std::get<1>(in), batch); });
        });
        flow::make_edge(*join_, *node_);
    }

    Receiver &in(const std::string &port) override {
        return port == "model" ? flow::input_port<0>(*join_) : flow::input_port<1>(*join_);
    }
    Sender &out(const std::string &) override { return *node_; }

private:
    Msg evaluate(const Msg &ep, const Msg &test, int64_t batch) {
        auto t0 = std::chrono::steady_clock::now();
        omp_set_num_threads(threads_);  // this TBB thread's OpenMP team for oneDNN
        const Dataset &ds = *test.data;
        const int64_t dim = ds.dim();
        x_.resize(size_t(batch * dim));
        img_.resize(size_t(batch * dim));
        const float *w = ep.report->params->data();
        double loss = 0, sse = 0;
        for (int64_t b = 0; b < ds.n; b += batch) {
            int64_t n = std::min(batch, ds.n - b);
            norm_->normalizer().apply(ds.image(b), n * dim, x_.data());
            ws_->prepare(n);
            const float *y = ws_->forward(n, x_.data(), w);
            loss += model_->loss().value(n, dim, y, x_.data()) * double(n);
            model_->loss().to_image(n * dim, y, img_.data());
            sse += mse_per_element(n * dim, img_.data(), x_.data()) * double(n * dim);
        }
        auto r = std::make_shared<EvalReport>();
        r->test_samples = ds.n;
        r->test_loss = loss / double(ds.n);
        r->test_mse_per_px = sse / double(ds.n * dim);
        r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        Msg o = ep;
        o.data = test.data;
        o.eval = r;
        o.norm = &norm_->normalizer();
        return o;
    }

    NormalizeNode *norm_ = nullptr;
    int threads_ = 1;
    std::unique_ptr<Model> model_;
    std::unique_ptr<Workspace> ws_;
    std::vector<float> x_, img_;
    std::unique_ptr<Join> join_;
    std::unique_ptr<Fn> node_;
};

Registrar<FlowNodeRegistry> reg({"evaluate",
                                 Category::Compute,
                                 "test-set loss and MSE per pixel of each epoch's parameters",
                                 {{"normalize", Kind::String, "", "id of the normalize node to apply (default: the only one)"},
                                  {"batch", Kind::Int, "1000", "evaluation batch size"}},
                                 {{"model", {"epoch"}, "the training node's epoch output"},
                                  {"data", {"dataset"}, "the test set (an idx_reader)"}},
                                 {{"out", {"eval"}, "the epoch with its test metrics"}}},
                                [](const Params &) { return std::make_unique<Evaluate>(); });

}  // namespace
}  // namespace aepipe
