// metrics: eval -> files. One row per epoch in CSV and JSON Lines (units in the names):
//   epoch, steps, train_loss, test_loss, test_mse_per_px, train_samples_per_s, epoch_s, eval_s
// and, when the graph has a corrupt node (denoising), psnr_corrupt_db, psnr_restored_db
// (test PSNR of the corrupted inputs and of their reconstructions against the originals).
// A VAE (a model with a sample layer) appends its losses with units, total and parts
// (U = the loss's unit, nats_per_img for bce summed per image):
//   train_U, train_recon_U, train_kl_nats_per_img, test_U, test_recon_U, test_kl_nats_per_img
// One line per epoch on the console.
// A resumed run keeps the rows of the epochs its checkpoint had finished and appends after them.
// YAML keys: csv, jsonl (file names in the run folder; "" turns one off).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "nodes/data/corrupt.hpp"
#include "nodes/nn/model_spec.hpp"
#include "nodes/nn/reports.hpp"
#include "nodes/nn/train_state.hpp"
#include "formats/ckpt_file.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {
namespace {

// "1..3, 5": ascending epochs as ranges.
static std::string epoch_list(const std::vector<int64_t> &epochs) {
    std::string out;
    for (size_t i = 0; i < epochs.size();) {
        size_t j = i;
        while (j + 1 < epochs.size() && epochs[j + 1] == epochs[j] + 1) ++j;
        out += (out.empty() ? "" : ", ") + std::to_string(epochs[i]) +
               (j > i ? ".." + std::to_string(epochs[j]) : "");
        i = j + 1;
    }
    return out;
}

struct MetricsParams {
    std::string csv, jsonl;  // file names in the run folder; "" turns one off
    static const Keys<MetricsParams> &keys();
};
const Keys<MetricsParams> &MetricsParams::keys() {
    static const Keys<MetricsParams> k{
        key(&MetricsParams::csv, {"csv", Kind::String, "metrics.csv", "CSV file in the run folder"}),
        key(&MetricsParams::jsonl, {"jsonl", Kind::String, "metrics.jsonl", "JSON Lines file in the run folder"})};
    return k;
}

class Metrics : public FlowNode {
public:
    explicit Metrics(const Params &p) : prm_(parse<MetricsParams>(p)) {}
    void resolve(Pipeline &p, Diags &) override {
        try {
            const auto spec = model_spec_of(p, *this);
            if (spec->vae()) vae_unit_ = spec->loss_unit();
        } catch (const ConfigError &) {
            // reported by the training node
        }
    }
    void build(Pipeline &p) override {
        const std::string &dir = p.settings().run_dir;
        psnr_ = has_corruption(p);
        const bool resume = p.settings().resume != nullptr;
        std::string header = "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s";
        if (psnr_) header += ",psnr_corrupt_db,psnr_restored_db";
        if (!vae_unit_.empty())
            for (const char *set : {"train", "test"})
                header += std::string(",") + set + "_" + vae_unit_ + "," + set + "_recon_" + vae_unit_ + "," + set +
                          "_kl_nats_per_img";
        header += "\n";
        if (!dir.empty() && !prm_.csv.empty()) {
            csv_ = dir + "/" + prm_.csv;
            csv_rows_ = resume ? cut_rows(csv_, header, p.settings().start_epoch) : 0;
            if (!resume) write_file_atomic(csv_, header);
        }
        if (!dir.empty() && !prm_.jsonl.empty()) {
            jsonl_ = dir + "/" + prm_.jsonl;
            jsonl_rows_ = resume ? cut_rows(jsonl_, "", p.settings().start_epoch) : 0;
            if (!resume) write_file_atomic(jsonl_, "");
        }
        if (resume) warn_missing(p);
        p.console().expect_epoch_lines();
        node_ = std::make_unique<flow::function_node<EvalMsg>>(p.graph(), flow::serial, [this, &p](const EvalMsg &m) {
            p.guard(*this, m, [&] { record(p, m); });
            return flow::continue_msg();
        });
    }
    InPort in(const std::string &, const std::string &) override { return *node_; }

private:
    void record(Pipeline &p, const EvalMsg &m) {
        const EpochReport &r = epoch_report(m);
        const EvalReport &e = eval_report(m);
        char line[512];
        int len = std::snprintf(line, sizeof line, "%lld,%lld,%.8g,%.8g,%.8g,%.1f,%.4f,%.4f", (long long)r.epoch + 1,
                                (long long)r.steps, r.train_loss, e.test_loss, e.test_mse_per_px, r.samples_per_s,
                                r.seconds, e.seconds);
        if (psnr_)
            len += std::snprintf(line + len, sizeof line - size_t(len), ",%.4f,%.4f", e.psnr_corrupt_db,
                                 e.psnr_restored_db);
        if (!vae_unit_.empty())
            std::snprintf(line + len, sizeof line - size_t(len), ",%.8g,%.8g,%.8g,%.8g,%.8g,%.8g", r.train_loss,
                          r.train_recon, r.train_kl, e.test_loss, e.test_recon, e.test_kl);
        std::strcat(line, "\n");
        // A resumed run evaluates its checkpoint's last epoch again: its row may exist already.
        if (!csv_.empty() && r.epoch + 1 > csv_rows_) append_file(csv_, line);
        if (!jsonl_.empty() && r.epoch + 1 > jsonl_rows_) {
            nlohmann::json j{{"epoch", r.epoch + 1},          {"steps", r.steps},
                             {"train_loss", r.train_loss},    {"test_loss", e.test_loss},
                             {"test_mse_per_px", e.test_mse_per_px}, {"train_samples_per_s", r.samples_per_s},
                             {"epoch_s", r.seconds},          {"eval_s", e.seconds}};
            if (psnr_) j["psnr_corrupt_db"] = e.psnr_corrupt_db, j["psnr_restored_db"] = e.psnr_restored_db;
            if (!vae_unit_.empty()) {
                j["train_" + vae_unit_] = r.train_loss, j["train_recon_" + vae_unit_] = r.train_recon;
                j["train_kl_nats_per_img"] = r.train_kl;
                j["test_" + vae_unit_] = e.test_loss, j["test_recon_" + vae_unit_] = e.test_recon;
                j["test_kl_nats_per_img"] = e.test_kl;
            }
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
        if (!vae_unit_.empty()) {
            std::snprintf(line, sizeof line, "  test %.3f %s (recon %.3f + KL %.3f)", e.test_loss, vae_unit_.c_str(),
                          e.test_recon, e.test_kl);
            text += line;
        }
        p.console().epoch_line(r.epoch, text);
    }
    // Rows the resumed run cannot write: finished epochs before the checkpoint that the files
    // lack and that the checkpoint does not hold for evaluation either (its pending epochs are
    // evaluated again and written by this run). No files (both turned off, or an MPI rank
    // other than 0): nothing is missing.
    void warn_missing(Pipeline &p) const {
        if (csv_.empty() && jsonl_.empty()) return;
        const int64_t have = std::min(csv_.empty() ? INT64_MAX : csv_rows_, jsonl_.empty() ? INT64_MAX : jsonl_rows_);
        std::set<int64_t> pending;  // 1-based
        const auto &st = resume_from(p.settings())->ckpt.state;  // called on a resumed run only
        if (st.contains("pending_epochs") && st["pending_epochs"].is_array())
            for (const auto &e : st["pending_epochs"])
                if (e.is_object() && e.contains("epoch") && e["epoch"].is_number_integer())
                    pending.insert(e["epoch"].template get<int64_t>() + 1);
        std::vector<int64_t> lost;
        for (int64_t e = have + 1; e < p.settings().start_epoch; ++e)
            if (!pending.count(e)) lost.push_back(e);
        if (!lost.empty())
            p.console().line("warning: metrics rows of epochs " + epoch_list(lost) +
                             " are missing: the run was killed before they were evaluated");
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

    MetricsParams prm_;
    std::string csv_, jsonl_, vae_unit_;
    bool psnr_ = false;  // denoising: the PSNR columns
    int64_t csv_rows_ = 0, jsonl_rows_ = 0;
    std::unique_ptr<flow::function_node<EvalMsg>> node_;
};

Registrar<FlowNodeRegistry> reg({"metrics",
                                 Category::Sink,
                                 "per-epoch metrics to CSV and JSON Lines, and a console line",
                                 MetricsParams::keys().specs(),
                                 {{"in", {"eval"}, "evaluated epochs"}},
                                 {},
                                 "a run has one metrics table"},
                                [](const Params &p) { return std::make_unique<Metrics>(p); });

}  // namespace
}  // namespace aepipe
