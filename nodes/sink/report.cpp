// report: eval -> files. After every evaluated epoch, appends the epoch's figures to its own
// history and rewrites, each atomically, the loss curves (loss.svg: train loss and test MSE
// per pixel against the epoch) and the HTML run report (report.html: summary, curves, the
// newest image grids, metrics table, flow graph, profile and config; pipeline/report/report.hpp).
// At build it writes graph.dot (and graph.svg when Graphviz's `dot` is installed); when the
// graph has drained it writes the report once more, so the last epoch's image grids are in it.
// YAML keys: file, curves, log_scale.
#include <algorithm>

#include "nodes/nn/reports.hpp"
#include "nodes/sink/latent_report.hpp"
#include "pipeline/report/dot.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/report/report.hpp"

namespace aepipe {
namespace {

struct ReportParams {
    std::string file, curves;  // in the run folder
    bool log_scale = false;
    static const Keys<ReportParams> &keys();
};
const Keys<ReportParams> &ReportParams::keys() {
    using P = ReportParams;
    static const Keys<P> k{key(&P::file, {"file", Kind::String, "report.html", "HTML report in the run folder"}),
                           key(&P::curves, {"curves", Kind::String, "loss.svg", "loss-curve SVG in the run folder"}),
                           key(&P::log_scale, {"log_scale", Kind::Bool, "false", "logarithmic loss axis"})};
    return k;
}

class Report : public FlowNode, public RunReportSink {
public:
    explicit Report(const Params &p) : prm_(parse<ReportParams>(p)) {}
    void resolve(Pipeline &, Diags &d) override {
        check_run_file_name("file", prm_.file, d);
        check_run_file_name("curves", prm_.curves, d);
    }
    void build(Pipeline &p) override {
        dir_ = p.settings().run_dir;
        opts_.file = prm_.file;
        opts_.curves = prm_.curves;
        opts_.log_scale = prm_.log_scale;
        console_ = &p.console();
        // A VAE's losses and their parts, as the metrics node writes them, for the table and curves.
        if (is_vae(p.config().root)) vae_unit_ = loss_unit(p.config().root);
        if (!dir_.empty() && p.settings().resume) {  // a resumed run: the epochs it had finished
            try {
                for (const auto &r : read_metrics(dir_))
                    if (r.epoch <= p.settings().start_epoch) rows_.push_back(r);
            } catch (const DataError &e) {
                console_->line(std::string("warning: ") + where() + ": earlier epochs left out: " + e.what());
            }
        }
        if (!dir_.empty()) {
            try {  // the picture is a nicety: a failing Graphviz must not stop training
                write_graph_files(pipeline_dot(p), dir_);
            } catch (const std::exception &e) {
                console_->line("warning: " + where() + ": no graph.svg: " + e.what());
            }
            refresh();  // a page to open while the first epoch runs
        }
        // serial: one history, one writer of the files.
        node_ = std::make_unique<flow::function_node<EvalMsg>>(p.graph(), flow::serial, [this, &p](const EvalMsg &m) {
            p.guard(*this, m, [&] { record(m); });
            return flow::continue_msg();
        });
    }
    InPort in(const std::string &, const std::string &) override { return *node_; }
    void finish() override {
        if (dir_.empty()) return;
        write_latent();
        refresh();
        console_->line("report: " + dir_ + "/" + opts_.file);
    }
    void refresh() override {
        if (!dir_.empty()) write_run_report(dir_, rows_, opts_);
    }

private:
    // The latent picture (nodes/sink/latent_report.hpp) is a nicety: failing, it warns only.
    void write_latent() {
        try {
            const std::string done = write_run_latent(dir_);
            if (!done.empty()) console_->line("latent: " + done);
        } catch (const std::exception &e) {
            console_->line("warning: " + where() + ": no latent.svg: " + e.what());
        }
    }
    void record(const EvalMsg &m) {
        const EpochReport &r = epoch_report(m);
        const EvalReport &e = eval_report(m);
        // A resumed run evaluates epochs again whose rows may already be here.
        rows_.erase(std::remove_if(rows_.begin(), rows_.end(), [&](const auto &x) { return x.epoch == r.epoch + 1; }),
                    rows_.end());
        rows_.push_back({r.epoch + 1, r.steps, r.train_loss, e.test_loss, e.test_mse_per_px, r.samples_per_s, r.seconds,
                         e.seconds, e.restoration, e.psnr_corrupt_db, e.psnr_restored_db});
        if (!vae_unit_.empty())
            rows_.back().more = vae_columns(vae_unit_, r.train_loss, r.train_recon, r.train_kl, e.test_loss,
                                            e.test_recon, e.test_kl);
        std::sort(rows_.begin(), rows_.end(), [](const auto &a, const auto &b) { return a.epoch < b.epoch; });
        refresh();
    }
    std::string dir_, vae_unit_;
    ReportParams prm_;
    ReportOptions opts_;
    Console *console_ = nullptr;
    std::vector<EpochFigures> rows_;
    std::unique_ptr<flow::function_node<EvalMsg>> node_;
};

Registrar<FlowNodeRegistry> reg({"report",
                                 Category::Sink,
                                 "HTML run report and loss-curve SVG, rewritten after every epoch",
                                 ReportParams::keys().specs(),
                                 {{"in", {"eval"}, "evaluated epochs"}},
                                 {},
                                 "a run has one report"},
                                [](const Params &p) { return std::make_unique<Report>(p); });

}  // namespace
}  // namespace aepipe
