// metrics: eval -> files. One row per epoch in CSV and JSON Lines (units in the names):
//   epoch, steps, train_loss, test_loss, test_mse_per_px, train_samples_per_s, epoch_s, eval_s
// and one line per epoch on the console.
// A resumed run keeps the rows of the epochs its checkpoint had finished and appends after them.
// YAML keys: csv, jsonl (file names in the run folder; "" turns one off).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/file_io.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {
namespace {

class Metrics : public FlowNode {
public:
    void build(Pipeline &p) override {
        const std::string &dir = p.settings().run_dir;
        const bool resume = p.settings().resume != nullptr;
        const std::string header = "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s\n";
        if (!dir.empty() && !params_.s("csv").empty()) {
            csv_ = dir + "/" + params_.s("csv");
            csv_rows_ = resume ? cut_rows(csv_, header, p.settings().start_epoch) : 0;
            if (!resume) write_file_atomic(csv_, header);
        }
        if (!dir.empty() && !params_.s("jsonl").empty()) {
            jsonl_ = dir + "/" + params_.s("jsonl");
            jsonl_rows_ = resume ? cut_rows(jsonl_, "", p.settings().start_epoch) : 0;
            if (!resume) write_file_atomic(jsonl_, "");
        }
        // Rows the resumed run cannot write again (only the last finished epoch is re-evaluated).
        const int64_t have = std::min(csv_.empty() ? INT64_MAX : csv_rows_, jsonl_.empty() ? INT64_MAX : jsonl_rows_);
        if (resume && have + 1 < p.settings().start_epoch)
            p.console().line("warning: metrics rows of epochs " + std::to_string(have + 1) + ".." +
                             std::to_string(p.settings().start_epoch - 1) +
                             " are missing: the run was killed before they were evaluated");
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
        // A resumed run evaluates its checkpoint's last epoch again: its row may exist already.
        if (!csv_.empty() && r.epoch + 1 > csv_rows_) append_file(csv_, line);
        if (!jsonl_.empty() && r.epoch + 1 > jsonl_rows_) {
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
    // Resuming: keeps the rows of epochs 1..epochs (complete lines, in order) and returns how
    // many there are; a missing file starts again with `header`.
    static int64_t cut_rows(const std::string &path, const std::string &header, int64_t epochs) {
        std::error_code ec;
        std::string text = std::filesystem::exists(path, ec) ? read_file(path) : header;
        std::string kept;
        size_t at = 0;
        if (!header.empty()) {
            at = text.find('\n') == std::string::npos ? text.size() : text.find('\n') + 1;
            kept = header;
        }
        int64_t rows = 0;
        while (at < text.size()) {
            size_t nl = text.find('\n', at);
            if (nl == std::string::npos) break;  // a torn last line
            std::string line = text.substr(at, nl - at);
            int64_t e = std::atoll(line.c_str());
            if (header.empty()) {
                auto j = nlohmann::json::parse(line, nullptr, false);
                e = j.is_object() && j.contains("epoch") && j["epoch"].is_number_integer() ? j["epoch"].get<int64_t>() : -1;
            }
            if (e != rows + 1 || e > epochs) break;
            kept += line + "\n";
            ++rows;
            at = nl + 1;
        }
        write_file_atomic(path, kept);
        return rows;
    }

    std::string csv_, jsonl_;
    int64_t csv_rows_ = 0, jsonl_rows_ = 0;
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
