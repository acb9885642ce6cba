// metrics: eval -> files. One row per epoch in CSV and JSON Lines (units in the names):
//   epoch, steps, train_loss, test_loss, test_mse_per_px, train_samples_per_s, epoch_s, eval_s
// and one line per epoch on the console.
// YAML keys: csv, jsonl (file names in the run folder; "" turns one off).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "pipeline/file_io.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {
namespace {

class Metrics : public FlowNode {
public:
    void build(Pipeline &p) override {
        const std::string &dir = p.settings().run_dir;
        if (!dir.empty() && !params_.s("csv").empty()) {
            csv_ = dir + "/" + params_.s("csv");
            write_file_atomic(csv_, "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s\n");
        }
        if (!dir.empty() && !params_.s("jsonl").empty()) {
            jsonl_ = dir + "/" + params_.s("jsonl");
            write_file_atomic(jsonl_, "");
        }
        node_ = std::make_unique<flow::function_node<Msg>>(p.graph(), flow::serial, [this, &p](const Msg &m) {
            p.guard(*this, m, [&] { record(p, m); });
            return flow::continue_msg();
        });
    }
    Receiver &in(const std::string &) override { return *node_; }

private:
    void record(Pipeline &p, const Msg &m) {
        const EpochReport &r = *m.report;
        const EvalReport &e = *m.eval;
        char line[512];
        std::snprintf(line, sizeof line, "%lld,%lld,%.8g,%.8g,%.8g,%.1f,%.4f,%.4f\n", (long long)r.epoch + 1,
                      (long long)r.steps, r.train_loss, e.test_loss, e.test_mse_per_px, r.samples_per_s, r.seconds,
                      e.seconds);
        if (!csv_.empty()) append_file(csv_, line);
        if (!jsonl_.empty()) {
            nlohmann::json j{{"epoch", r.epoch + 1},          {"steps", r.steps},
                             {"train_loss", r.train_loss},    {"test_loss", e.test_loss},
                             {"test_mse_per_px", e.test_mse_per_px}, {"train_samples_per_s", r.samples_per_s},
                             {"epoch_s", r.seconds},          {"eval_s", e.seconds}};
            append_file(jsonl_, j.dump() + "\n");
        }
        std::snprintf(line, sizeof line,
                      "epoch %lld/%lld  train_loss %.6f  test_mse_per_px %.6f  %.0f samples/s  %.2f s",
                      (long long)r.epoch + 1, (long long)p.settings().epochs, r.train_loss, e.test_mse_per_px,
                      r.samples_per_s, r.seconds);
        p.console().line(line);
    }
    std::string csv_, jsonl_;
    std::unique_ptr<flow::function_node<Msg>> node_;
};

Registrar<FlowNodeRegistry> reg({"metrics",
                                 Category::Sink,
                                 "per-epoch metrics to CSV and JSON Lines, and a console line",
                                 {{"csv", Kind::String, "metrics.csv", "CSV file in the run folder"},
                                  {"jsonl", Kind::String, "metrics.jsonl", "JSON Lines file in the run folder"}},
                                 {{"in", {"eval"}, "evaluated epochs"}},
                                 {}},
                                [](const Params &) { return std::make_unique<Metrics>(); });

}  // namespace
}  // namespace aepipe
