#include "support/probe.hpp"

#include <map>
#include <mutex>

#include "formats/idx.hpp"
#include "pipeline/graph.hpp"

namespace aepipe::test {
namespace {

std::mutex g_mu;
std::map<std::string, std::vector<Seen>> g_seen;

Seen seen_of(const MsgBase &m, const char *kind) {
    Seen s;
    s.kind = kind, s.epoch = m.epoch, s.step = m.step;
    return s;
}
Seen seen_of(const DatasetMsg &m) { return seen_of(m, "dataset"); }
Seen seen_of(const BatchMsg &m, const char *kind = "batch") {
    Seen s = seen_of(static_cast<const MsgBase &>(m), kind);
    s.begin = m.begin, s.count = m.count, s.last_in_epoch = m.last_in_epoch;
    for (int64_t k = 0; k < m.count; ++k) s.samples.push_back(int32_t(m.sample(k)));
    return s;
}
Seen seen_of(const TensorMsg &m) {
    Seen s = seen_of(static_cast<const BatchMsg &>(m), "tensor");
    const int64_t n = m.count * m.data->dim();
    s.x.assign(m.x.data(), m.x.data() + n);
    if (m.target) s.target.assign(m.target.data(), m.target.data() + n);
    return s;
}
Seen seen_of(const EpochMsg &m) {
    Seen s = seen_of(static_cast<const MsgBase &>(m), "epoch");
    s.report = std::dynamic_pointer_cast<const EpochReport>(m.report);
    return s;
}
Seen seen_of(const EvalMsg &m) {
    Seen s = seen_of(static_cast<const EpochMsg &>(m));
    s.kind = "eval";
    s.eval = std::dynamic_pointer_cast<const EvalReport>(m.eval);
    return s;
}

bool last_in_epoch(const MsgBase &) { return false; }
bool last_in_epoch(const BatchMsg &m) { return m.last_in_epoch; }

class Probe : public FlowNode {
public:
    void build(Pipeline &p) override {
        p_ = &p;
        step_done_ = std::make_unique<flow::broadcast_node<Credit>>(p.graph());
        epoch_done_ = std::make_unique<flow::broadcast_node<Credit>>(p.graph());
    }
    // One serial recorder per kind, made when an edge asks for it (after build()).
    InPort in(const std::string &, const std::string &kind) override {
        if (kind == "dataset") return recorder<DatasetMsg>();
        if (kind == "batch") return recorder<BatchMsg>();
        if (kind == "tensor") return recorder<TensorMsg>();
        if (kind == "epoch") return recorder<EpochMsg>();
        return recorder<EvalMsg>();
    }
    OutPort out(const std::string &port) override {
        if (port == "step_done") return *step_done_;
        return *epoch_done_;
    }
    std::vector<std::string> credit_outputs() const override {
        if (!params_.b("drive")) return {};
        return {"step_done", "epoch_done"};
    }

protected:
    virtual void body(int64_t) {}

private:
    template <class M>
    flow::function_node<M> &recorder() {
        auto node = std::make_unique<flow::function_node<M>>(p_->graph(), flow::serial, [this](const M &m) {
            p_->guard(*this, m, [&] { on(m); });
            return flow::continue_msg();
        });
        auto &r = *node;
        keep_.push_back(std::shared_ptr<void>(std::move(node)));
        return r;
    }
    template <class M>
    void on(const M &m) {
        {
            std::lock_guard<std::mutex> lock(g_mu);
            g_seen[id_].push_back(seen_of(m));
        }
        body(m.step);
        if (!params_.b("drive")) return;
        // Stand in for the training node: hand back the credits.
        if (last_in_epoch(m)) epoch_done_->try_put(Credit());
        step_done_->try_put(Credit());
    }
    Pipeline *p_ = nullptr;
    std::vector<std::shared_ptr<void>> keep_;  // the recorders
    std::unique_ptr<flow::broadcast_node<Credit>> step_done_, epoch_done_;
};

class Thrower : public Probe {
    void body(int64_t step) override {
        if (step == params_.i("at_step")) throw RuntimeError("deliberate failure in test_throw");
    }
};

const std::vector<std::string> kAnyKind = {"batch", "tensor", "dataset", "epoch", "eval"};

Registrar<FlowNodeRegistry> reg_probe({"test_probe",
                                       Category::Sink,
                                       "test only: records the messages it receives",
                                       {{"drive", Kind::Bool, "false", "send step_done / epoch_done like train"}},
                                       {{"in", kAnyKind, "anything"}},
                                       {}},
                                      [](const Params &) { return std::make_unique<Probe>(); });

Registrar<FlowNodeRegistry> reg_throw({"test_throw",
                                       Category::Sink,
                                       "test only: a driving probe that throws at step `at_step`",
                                       {{"drive", Kind::Bool, "true", "send step_done / epoch_done like train"},
                                        {"at_step", Kind::Int, "3", "the step that throws"}},
                                       {{"in", {"batch", "tensor"}, "batches"}},
                                       {}},
                                      [](const Params &) { return std::make_unique<Thrower>(); });

}  // namespace

std::vector<Seen> probe_seen(const std::string &id) {
    std::lock_guard<std::mutex> lock(g_mu);
    return g_seen[id];
}

void clear_probes() {
    std::lock_guard<std::mutex> lock(g_mu);
    g_seen.clear();
}

EvalMsg eval_msg(std::shared_ptr<const EpochReport> r, std::shared_ptr<const EvalReport> e, const Dataset *test_set) {
    EvalMsg m;
    m.epoch = r ? r->epoch : 0;
    m.step = r ? r->steps - 1 : 0;
    m.report = std::move(r);
    m.eval = std::move(e);
    m.data = test_set;
    return m;
}

}  // namespace aepipe::test
