// metrics: eval -> files. One row per epoch in CSV and JSON Lines (units in the names):
//   epoch, steps, train_loss, test_loss, test_mse_per_px, train_samples_per_s, epoch_s, eval_s
// and, when the graph has a corrupt node (denoising), psnr_corrupt_db, psnr_restored_db
// (test PSNR of the corrupted inputs and of their reconstructions against the originals);
// one line per epoch on the console.
// YAML keys: csv, jsonl (file names in the run folder; "" turns one off).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "nodes/data/corrupt.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {
namespace {

class Metrics : public FlowNode {
public:
    void build(Pipeline &p) override {
        const std::string &dir = p.settings().run_dir;
        psnr_ = has_corruption(p);
        if (!dir.empty() && !params_.s("csv").empty()) {
            csv_ = dir + "/" + params_.s("csv");
            write_file_atomic(csv_, std::string("epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,"
                                                "epoch_s,eval_s") +
                                        (psnr_ ? ",psnr_corrupt_db,psnr_restored_db\n" : "\n"));
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
        int len = std::snprintf(line, sizeof line, "%lld,%lld,%.8g,%.8g,%.8g,%.1f,%.4f,%.4f", (long long)r.epoch + 1,
                                (long long)r.steps, r.train_loss, e.test_loss, e.test_mse_per_px, r.samples_per_s,
                                r.seconds, e.seconds);
        if (psnr_)
            std::snprintf(line + len, sizeof line - size_t(len), ",%.4f,%.4f", e.psnr_corrupt_db, e.psnr_restored_db);
        if (!csv_.empty()) append_file(csv_, line + std::string("\n"));
        if (!jsonl_.empty()) {
            nlohmann::json j{{"epoch", r.epoch + 1},          {"steps", r.steps},
                             {"train_loss", r.train_loss},    {"test_loss", e.test_loss},
                             {"test_mse_per_px", e.test_mse_per_px}, {"train_samples_per_s", r.samples_per_s},
                             {"epoch_s", r.seconds},          {"eval_s", e.seconds}};
            if (psnr_) j["psnr_corrupt_db"] = e.psnr_corrupt_db, j["psnr_restored_db"] = e.psnr_restored_db;
            append_file(jsonl_, j.dump() + "\n");
        }
        std::snprintf(line, sizeof line,
                      "epoch %lld/%lld  train_loss %.6f  test_mse_per_px %.6f  %.0f samples/s  %.2f s",
                      (long long)r.epoch + 1, (long long)p.settings().epochs, r.train_loss, e.test_mse_per_px,
                      r.samples_per_s, r.seconds);
        std::string text = line;
        if (psnr_) {
            std::snprintf(line, sizeof line, "  psnr %.2f -> %.2f dB", e.psnr_corrupt_db, e.psnr_restored_db);
            text += line;
        }
        p.console().line(text);
    }
    std::string csv_, jsonl_;
    bool psnr_ = false;  // denoising: the PSNR columns
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
