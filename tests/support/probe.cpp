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

struct ProbeParams {
    bool drive = false;
    static const Keys<ProbeParams> &keys() {
        static const Keys<ProbeParams> k{
            key(&ProbeParams::drive, {"drive", Kind::Bool, "false", "send step_done / epoch_done like train"})};
        return k;
    }
};
struct ThrowParams {
    bool drive = true;
    int64_t at_step = 0;
    static const Keys<ThrowParams> &keys() {
        static const Keys<ThrowParams> k{
            key(&ThrowParams::drive, {"drive", Kind::Bool, "true", "send step_done / epoch_done like train"}),
            key(&ThrowParams::at_step, {"at_step", Kind::Int, "3", "the step that throws"})};
        return k;
    }
};

class Probe : public FlowNode {
public:
    explicit Probe(bool drive, int64_t throw_at = -1) : drive_(drive), throw_at_(throw_at) {}
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
        if (!drive_) return {};
        return {"step_done", "epoch_done"};
    }

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
        if (m.step == throw_at_) throw RuntimeError("deliberate failure in test_throw");
        if (!drive_) return;
        // Stand in for the training node: hand back the credits.
        if (last_in_epoch(m)) epoch_done_->try_put(Credit());
        step_done_->try_put(Credit());
    }
    bool drive_;
    int64_t throw_at_;
    Pipeline *p_ = nullptr;
    std::vector<std::shared_ptr<void>> keep_;  // the recorders
    std::unique_ptr<flow::broadcast_node<Credit>> step_done_, epoch_done_;
};

const std::vector<std::string> kAnyKind = {"batch", "tensor", "dataset", "epoch", "eval"};

Registrar<FlowNodeRegistry> reg_probe({"test_probe",
                                       Category::Sink,
                                       "test only: records the messages it receives",
                                       ProbeParams::keys().specs(),
                                       {{"in", kAnyKind, "anything"}},
                                       {}},
                                      [](const Params &p) { return std::make_unique<Probe>(parse<ProbeParams>(p).drive); });

Registrar<FlowNodeRegistry> reg_throw({"test_throw",
                                       Category::Sink,
                                       "test only: a driving probe that throws at step `at_step`",
                                       ThrowParams::keys().specs(),
                                       {{"in", {"batch", "tensor"}, "batches"}},
                                       {}},
                                      [](const Params &p) {
                                          const ThrowParams t = parse<ThrowParams>(p);
                                          return std::make_unique<Probe>(t.drive, t.at_step);
                                      });

}  // namespace

std::vector<Seen> probe_seen(const std::string &id) {
    std::lock_guard<std::mutex> lock(g_mu);
    return g_seen[id];
}

void clear_probes() {
    std::lock_guard<std::mutex> lock(g_mu);
    g_seen.clear();
}

}  // namespace aepipe::test
