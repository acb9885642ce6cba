// batch: dataset -> batches of `size` consecutive samples of the epoch order.
//   ceil(N / size) batches per epoch; with drop_last, floor(N / size).
//   Batch b of epoch e has global step e * batches_per_epoch + b; with train.max_steps the
//   stream ends after that many steps (the last one closes a shortened epoch). A resumed run
//   skips the steps before its checkpoint's (RunSettings::start_step). A run that max_steps
//   stopped closed its last epoch early, so its checkpoint has fewer steps than its whole epochs
//   would: resumed, the next epoch's steps go on from the steps done (step_shift), or the
//   sequencers downstream (normalize, corrupt) would wait for a step that never comes.
// The batches of an epoch wait in a queue; a limiter lets `train.in_flight` of them go on
// to normalisation and compute, and gets a credit back after each training step (a credit
// edge `T.step_done -> batch.step_credit` from the nearest node downstream sending them).
// Across processes (mpirun -np R) `size` is the global batch: rank r takes rows
// [c*r/R, c*(r+1)/R) of each batch of c rows (an even share; a partial last batch may give a
// rank fewer rows, or none), so R ranks see exactly the samples one process would.
// YAML keys: size (default: train.batch), drop_last.
#include <algorithm>

#include "formats/idx.hpp"
#include "nodes/data/idx_reader.hpp"
#include "pipeline/dist.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {
namespace {

struct BatchParams {
    std::optional<int64_t> size;  // unset: train.batch
    bool drop_last = false;
    static const Keys<BatchParams> &keys();
};
const Keys<BatchParams> &BatchParams::keys() {
    static const Keys<BatchParams> k{
        key(&BatchParams::size, {"size", Kind::Int, "", "samples per batch (default: train.batch)", {}, false, size_range()}),
        key(&BatchParams::drop_last, {"drop_last", Kind::Bool, "false", "drop the last partial batch of an epoch"})};
    return k;
}

class Batch : public FlowNode {
    using Split = flow::multifunction_node<DatasetMsg, std::tuple<BatchMsg>>;

public:
    explicit Batch(const Params &p) : prm_(parse<BatchParams>(p)) {}
    void resolve(Pipeline &p, Diags &d) override {
        size_ = prm_.size.value_or(p.settings().batch);
        if (size_ < 1) d.error(params_.pos("size"), params_.context() + ": 'size' must be at least 1");
        const int64_t ranks = dist::size();
        if (size_ >= 1 && size_ % ranks != 0)
            d.error(prm_.size ? params_.pos("size") : p.train_params().pos("batch"),
                    params_.context() + ": the batch of " + std::to_string(size_) + " samples does not divide among " +
                        std::to_string(ranks) + " MPI ranks (" + std::to_string(size_) + " = " +
                        std::to_string(ranks) + " x " + std::to_string(size_ / ranks) + " + " +
                        std::to_string(size_ % ranks) + ")",
                    "make the batch a multiple of " + std::to_string(ranks) + ", e.g. " +
                        std::to_string(std::max<int64_t>(ranks, size_ / ranks * ranks)) + ", or run another number of ranks");
        if (const FlowNode *t = p.credit_source(id_, "step_done")) p.add_credit_edge(*t, "step_done", *this, "step_credit");
    }
    // What build()'s batches would refuse at step 1, known from the reader's headers: with
    // drop_last, a data set smaller than one batch has no step (validate said ok, run failed).
    void preflight(Pipeline &p) override {
        int64_t n = -1;
        for (FlowNode *up = p.upstream(id_, "in"); up && n < 0; up = p.feeder(*up)) n = idx_samples(*up);
        if (prm_.drop_last && n >= 0 && n < size_)
            throw RuntimeError(where() + ": the dataset has " + std::to_string(n) + " samples, fewer than one batch of " +
                               std::to_string(size_) + " (drop_last is on)");
    }
    void build(Pipeline &p) override {
        split_ = std::make_unique<Split>(p.graph(), flow::serial, [this, &p](const DatasetMsg &m, Split::output_ports_type &out) {
            p.guard(*this, m, [&] {
                int64_t n = m.data->n;
                int64_t full = n / size_, per_epoch = prm_.drop_last || n % size_ == 0 ? full : full + 1;
                if (per_epoch == 0)
                    throw RuntimeError("the dataset has " + std::to_string(n) + " samples, fewer than one batch of " +
                                       std::to_string(size_) + " (drop_last is on)");
                const int64_t max_steps = p.settings().max_steps;
                const int64_t shift = std::max<int64_t>(0, p.settings().start_epoch * per_epoch - p.settings().start_step);
                for (int64_t b = 0; b < per_epoch; ++b) {
                    BatchMsg o;
                    static_cast<DatasetMsg &>(o) = m;
                    o.step = m.epoch * per_epoch + b - shift;
                    if (max_steps && o.step >= max_steps) break;
                    if (o.step < p.settings().start_step) continue;  // resuming: done before the checkpoint
                    o.total = std::min(size_, n - b * size_);
                    const int64_t r = dist::rank(), ranks = dist::size();
                    o.begin = b * size_ + o.total * r / ranks;
                    o.count = o.total * (r + 1) / ranks - o.total * r / ranks;
                    o.last_in_epoch = b + 1 == per_epoch || o.step + 1 == max_steps;
                    o.t_ready = p.now();
                    std::get<0>(out).try_put(o);
                }
            });
        });
        queue_ = std::make_unique<flow::queue_node<BatchMsg>>(p.graph());
        gate_ = std::make_unique<flow::limiter_node<BatchMsg>>(p.graph(), size_t(p.settings().in_flight));
        flow::make_edge(flow::output_port<0>(*split_), *queue_);
        flow::make_edge(*queue_, *gate_);
    }
    InPort in(const std::string &port, const std::string &) override {
        if (port == "step_credit") return gate_->decrementer();
        return *split_;
    }
    OutPort out(const std::string &) override { return *gate_; }

private:
    BatchParams prm_;
    int64_t size_ = 1;
    std::unique_ptr<Split> split_;
    std::unique_ptr<flow::queue_node<BatchMsg>> queue_;
    std::unique_ptr<flow::limiter_node<BatchMsg>> gate_;
};

Registrar<FlowNodeRegistry> reg({"batch",
                                 Category::Data,
                                 "groups the epoch order into batches; bounds how many are in flight",
                                 BatchParams::keys().specs(),
                                 {{"in", {"dataset"}, "the (shuffled) dataset"}},
                                 {{"out", {"batch"}, "sample indices of one batch"}}},
                                [](const Params &p) { return std::make_unique<Batch>(p); });

}  // namespace
}  // namespace aepipe
