#include "support/report_source.hpp"

#include "nodes/nn/model_spec.hpp"
#include "pipeline/graph.hpp"

namespace aepipe::test {

EvalMsg eval_message(const EpochEval &r, const Dataset *test_set) {
    EvalMsg m;
    m.epoch = r.epoch.epoch;
    m.step = r.epoch.steps - 1;
    m.data = test_set;
    m.report = std::make_shared<EpochReport>(r.epoch);
    m.eval = std::make_shared<EvalReport>(r.eval);
    return m;
}

FakeModel fake_model(const ConfigFile &cfg, int64_t side, uint64_t seed) {
    FakeModel f;
    f.model = std::make_unique<Model>(ModelSpec::parse(cfg, cfg.root["model"], Shape{1, side, side}));
    auto w = std::make_shared<std::vector<float>>(size_t(f.model->num_params()));
    f.model->init_params(w->data(), seed);
    f.params = w;
    return f;
}

std::string sink_config(const std::string &layers, const std::string &sink, int64_t side, const std::string &loss) {
    return "model:\n  layers:\n" + layers + "  loss: " + loss +
           "\n"
           "train: {epochs: 4, batch: 4}\n"
           "graph:\n"
           "  nodes:\n"
           "    - {id: src, type: test_reports, side: " +
           std::to_string(side) + "}\n    - " + sink + "\n  edges: [src -> sink]\n";
}

void run_graph(const std::string &yaml, const std::string &run_dir) {
    ConfigFile cfg = parse_config(yaml, "sink.yaml");
    RunSettings s;
    s.run_dir = run_dir;
    s.quiet = true;
    Pipeline p(cfg, s);
    p.run();
}

namespace {

std::vector<EpochEval> g_reports;
std::shared_ptr<const Dataset> g_test_set;

struct SourceParams {
    int64_t side = 4;
    static const Keys<SourceParams> &keys() {
        static const Keys<SourceParams> k{
            key(&SourceParams::side, {"side", Kind::Int, "4", "samples are side x side x 1", {}, false, size_range(1, 4096)})};
        return k;
    }
};

class ReportSource : public FlowNode {
public:
    explicit ReportSource(const Params &p) : side_(parse<SourceParams>(p).side) {}
    int64_t sample_dim(const Pipeline &) const override { return side() * side(); }
    Shape sample_shape(const Pipeline &) const override { return Shape{1, side(), side()}; }
    void build(Pipeline &p) override {
        reports_ = g_reports, test_set_ = g_test_set;
        source_ = std::make_unique<flow::input_node<EvalMsg>>(p.graph(), [this](tbb::flow_control &fc) {
            if (next_ >= reports_.size()) {
                fc.stop();
                return EvalMsg{};
            }
            return eval_message(reports_[next_++], test_set_.get());
        });
    }
    OutPort out(const std::string &) override { return *source_; }
    void activate() override { source_->activate(); }

private:
    int64_t side() const { return side_; }
    int64_t side_;
    std::vector<EpochEval> reports_;
    std::shared_ptr<const Dataset> test_set_;
    size_t next_ = 0;
    std::unique_ptr<flow::input_node<EvalMsg>> source_;
};

Registrar<FlowNodeRegistry> reg({"test_reports",
                                 Category::Data,
                                 "test only: sends the epoch/eval reports given to send_next()",
                                 SourceParams::keys().specs(),
                                 {},
                                 {{"out", {"eval"}, "evaluated epochs"}}},
                                [](const Params &p) { return std::make_unique<ReportSource>(p); });

}  // namespace

void send_next(std::vector<EpochEval> reports, std::shared_ptr<const Dataset> test_set) {
    g_reports = std::move(reports);
    g_test_set = std::move(test_set);
}

}  // namespace aepipe::test
