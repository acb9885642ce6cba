#include "pipeline/report/report.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "pipeline/report/dot.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/report/html.hpp"
#include "pipeline/report/latent_plot.hpp"
#include "pipeline/report/svg_plot.hpp"

namespace aepipe {

namespace fs = std::filesystem;

static bool is_file(const std::string &p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

static std::string fmt(const char *f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

// ---- metrics ----------------------------------------------------------------------------

std::vector<EpochFigures> parse_metrics_csv(const std::string &text, const std::string &path) {
    std::vector<html::Row> rows = html::parse_csv(text);
    std::vector<EpochFigures> out;
    if (rows.empty()) return out;
    const html::Row &head = rows[0];
    auto col = [&](const char *name) {
        auto it = std::find(head.begin(), head.end(), name);
        if (it == head.end()) throw DataError(path, std::string("no column '") + name + "' in the header line");
        return size_t(it - head.begin());
    };
    // Optional (denoising runs): both PSNR columns or neither.
    auto pc = std::find(head.begin(), head.end(), "psnr_corrupt_db"), pr = std::find(head.begin(), head.end(), "psnr_restored_db");
    const bool psnr = pc != head.end() && pr != head.end();
    std::vector<size_t> c{col("epoch"),           col("steps"),  col("train_loss"), col("test_loss"),
                          col("test_mse_per_px"), col("train_samples_per_s"), col("epoch_s"), col("eval_s")};
    if (psnr) c.insert(c.end(), {size_t(pc - head.begin()), size_t(pr - head.begin())});
    const size_t known = c.size();
    for (size_t k = 0; k < head.size(); ++k)  // every other column goes to `more`
        if (std::find(c.begin(), c.end(), k) == c.end()) c.push_back(k);
    for (size_t r = 1; r < rows.size(); ++r) {
        std::vector<double> v(c.size());
        for (size_t k = 0; k < c.size(); ++k) {
            const std::string cell = c[k] < rows[r].size() ? rows[r][c[k]] : "";
            char *end = nullptr;
            v[k] = std::strtod(cell.c_str(), &end);
            if (cell.empty() || *end)
                throw DataError(path, "row " + std::to_string(r) + ", column '" + head[c[k]] + "': '" + cell +
                                          "' is not a number");
        }
        EpochFigures e{int64_t(v[0]), int64_t(v[1]), v[2], v[3], v[4], v[5], v[6], v[7], psnr};
        if (psnr) e.psnr_corrupt_db = v[8], e.psnr_restored_db = v[9];
        for (size_t k = known; k < c.size(); ++k) e.more.push_back({head[c[k]], v[k]});
        out.push_back(std::move(e));
    }
    return out;
}

double EpochFigures::get(const std::string &column, double fallback) const {
    for (const auto &[name, v] : more)
        if (name == column) return v;
    return fallback;
}

std::vector<EpochFigures> read_metrics(const std::string &run_dir) {
    std::string p = run_dir + "/metrics.csv";
    return is_file(p) ? parse_metrics_csv(read_file(p), p) : std::vector<EpochFigures>{};
}

// ---- run folder -------------------------------------------------------------------------

static YAML::Node load_run_config(const std::string &run_dir) {
    try {
        if (is_file(run_dir + "/config.yaml")) return YAML::LoadFile(run_dir + "/config.yaml");
    } catch (const YAML::Exception &) {
    }
    return YAML::Node(YAML::NodeType::Map);
}

static std::string loss_name(const YAML::Node &root) {
    YAML::Node loss = config_at(root, {"model", "loss"});
    if (loss && loss.IsScalar()) return loss.Scalar();
    if (loss && loss.IsMap()) return loss["type"].as<std::string>("loss");
    return "mse";
}

// What the loss curves are called: "bce", or "bce + KL" for a VAE.
static std::string loss_label(const YAML::Node &root) { return loss_name(root) + (is_vae(root) ? " + KL" : ""); }

ReportOptions report_options(const std::string &run_dir) {
    ReportOptions o;
    YAML::Node nodes = config_at(load_run_config(run_dir), {"graph", "nodes"});
    if (!nodes || !nodes.IsSequence()) return o;
    for (const auto &n : nodes) {
        if (!n.IsMap() || n["type"].as<std::string>("") != "report") continue;
        try {
            o.file = n["file"].as<std::string>(o.file);
            o.curves = n["curves"].as<std::string>(o.curves);
            o.log_scale = n["log_scale"].as<bool>(o.log_scale);
        } catch (const YAML::Exception &) {
        }
        break;
    }
    return o;
}

std::string loss_unit(const YAML::Node &root) {
    YAML::Node loss = config_at(root, {"model", "loss"});
    std::string type = loss_name(root), reduction = "mean";
    try {
        if (loss && loss.IsMap()) reduction = loss["reduction"].as<std::string>(reduction);
    } catch (const YAML::Exception &) {
    }
    return std::string(type == "bce" ? "nats_" : "") + (reduction == "sum" ? "per_img" : "per_px");
}

std::string unit_words(const std::string &unit) {
    if (unit == "per_px") return "squared error per pixel";  // MSE, the only loss without nats
    if (unit == "per_img") return "squared error per image";
    std::string w;
    for (char c : unit) w += c == '_' ? ' ' : c;
    for (auto [from, to] : {std::pair{"img", "image"}, std::pair{"px", "pixel"}})
        if (size_t at = w.rfind(from); at != std::string::npos && at + std::strlen(from) == w.size())
            w.replace(at, std::strlen(from), to);
    return w;
}

bool is_vae(const YAML::Node &root) {
    YAML::Node layers = config_at(root, {"model", "layers"});
    if (!layers || !layers.IsSequence()) return false;
    for (const auto &l : layers)
        if (l.IsMap() && l["type"] && l["type"].IsScalar() && l["type"].Scalar() == "sample") return true;
    return false;
}

std::vector<std::pair<std::string, double>> vae_columns(const std::string &unit, double train_loss, double train_recon,
                                                        double train_kl, double test_loss, double test_recon,
                                                        double test_kl) {
    return {{"train_" + unit, train_loss}, {"train_recon_" + unit, train_recon}, {"train_kl_nats_per_img", train_kl},
            {"test_" + unit, test_loss},   {"test_recon_" + unit, test_recon},   {"test_kl_nats_per_img", test_kl}};
}

static Series epoch_series(const std::vector<EpochFigures> &rows, Series s, const std::function<double(const EpochFigures &)> &f) {
    for (const auto &r : rows) s.x.push_back(double(r.epoch)), s.y.push_back(f(r));
    return s;
}

std::string loss_curves_svg(const std::vector<EpochFigures> &rows, bool log_scale, const std::string &loss,
                            const std::string &unit) {
    const std::string x_label = "epoch (passes over the training set)";
    Series train = epoch_series(rows, {"train loss (" + loss + ")", {}, {}, "#1f77b4"},
                                [](const EpochFigures &r) { return r.train_loss; }),
           mse = epoch_series(rows, {"test MSE per pixel", {}, {}, "#d62728"},
                              [](const EpochFigures &r) { return r.test_mse_per_px; });
    PlotSpec mse_spec{"test MSE per pixel", x_label, "MSE per pixel (pixel values scaled to [0, 1])", log_scale};
    mse_spec.integer_x = true;
    if (loss == "mse" && unit == "per_px") {  // the loss is the MSE per pixel: one axis for both
        mse_spec.title = "train loss and test MSE per epoch";
        return svg_line_plot(mse_spec, {train, mse});
    }
    std::vector<Series> parts{train, epoch_series(rows, {"test loss (" + loss + ")", {}, {}, "#ff7f0e", true},
                                                  [](const EpochFigures &r) { return r.test_loss; })};
    // A VAE's loss is reconstruction + beta * KL: its parts on the test set, when metrics.csv has them.
    for (auto [column, label, color] : {std::tuple{"test_recon_" + unit, "test reconstruction", "#2ca02c"},
                                        std::tuple{std::string("test_kl_nats_per_img"), "test KL (nats per image)",
                                                   "#9467bd"}})
        if (!rows.empty() && !std::isnan(rows.front().get(column)))
            parts.push_back(epoch_series(rows, {label, {}, {}, color, true},
                                         [&, col = column](const EpochFigures &r) { return r.get(col); }));
    PlotSpec loss_spec{"loss per epoch", x_label, loss + " loss, " + unit_words(unit), log_scale};
    loss_spec.integer_x = true;
    loss_spec.width = mse_spec.width = 560;
    return svg_panels({svg_line_plot(loss_spec, parts), svg_line_plot(mse_spec, {mse})});
}

std::vector<GridImage> newest_images(const std::string &dir) {
    static const std::regex periodic(R"((.+)_epoch(\d+)\.png)"), final_(R"((.+)\.png)");
    std::map<std::string, GridImage> best;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        std::string f = e.path().filename().string();
        std::smatch m;
        GridImage g;
        if (std::regex_match(f, m, periodic))
            g = {m[1], f, std::stoll(m[2])};
        else if (std::regex_match(f, m, final_))
            g = {m[1], f, -1};
        else
            continue;
        auto it = best.find(g.name);
        auto rank = [](int64_t epoch) { return epoch < 0 ? INT64_MAX : epoch; };
        if (it == best.end() || rank(g.epoch) > rank(it->second.epoch)) best[g.name] = g;
    }
    std::vector<GridImage> v;
    for (auto &[name, g] : best) v.push_back(g);
    return v;
}

// ---- the page ---------------------------------------------------------------------------

static std::string when(const GridImage &g) {
    return g.epoch < 0 ? "after the last epoch" : "after epoch " + std::to_string(g.epoch);
}

std::vector<std::string> grid_names(const YAML::Node &root) {
    std::vector<std::string> names;
    YAML::Node nodes = config_at(root, {"graph", "nodes"});
    if (!nodes || !nodes.IsSequence()) return names;
    for (const auto &n : nodes) {
        if (!n.IsMap() || !n["type"] || !n["type"].IsScalar() || n["type"].Scalar() != "image_grid") continue;
        std::string file = n["file"] && n["file"].IsScalar() ? n["file"].Scalar() : "recon.png";
        names.push_back(fs::path(file).stem().string());
    }
    return names;
}

std::string grid_caption(const GridImage &g, const std::vector<std::string> &names) {
    // aepipe generate's default file names (pipeline/cli/generate_cli.cpp), written beside the checkpoint.
    static const std::map<std::string, std::string> generated{
        {"samples", "decodings of random codes drawn from the prior N(0, I)"},
        {"interpolate", "two test images (ends) and decodings along the line between their codes"},
        {"manifold", "decodings of a grid of codes over the 2-D latent plane"}};
    if (std::find(names.begin(), names.end(), g.name) != names.end()) {
        std::string what = g.name.find("denois") != std::string::npos
                               ? "test originals (top row), corrupted inputs (middle) and their restorations (bottom)"
                               : "test images (top row) and their reconstructions (below)";
        return g.file + ": " + what + ", " + when(g);
    }
    if (auto it = generated.find(g.name); it != generated.end() && g.epoch < 0)
        return g.file + ": " + it->second + ", made by aepipe generate from the run's checkpoint";
    return g.file + ": a picture in the run folder that the run's image_grid nodes did not write";
}

static std::string figure(const std::string &dir, const GridImage &g, const std::string &caption) {
    std::string uri = html::data_uri("image/png", read_file(dir + "/" + g.file));
    return "<figure><img class=\"grid\" src=\"" + uri + "\" alt=\"" + html::esc(g.file) + "\"><figcaption>" +
           html::esc(caption) + "</figcaption></figure>\n";
}

// Every column metrics.csv has, in its order.
static std::string metrics_table(const std::vector<EpochFigures> &rows) {
    std::vector<html::Row> t{{"epoch", "steps", "train_loss", "test_loss", "test_mse_per_px", "train_samples_per_s",
                              "epoch_s", "eval_s"}};
    const bool psnr = !rows.empty() && rows.front().psnr;
    if (psnr) t[0].insert(t[0].end(), {"psnr_corrupt_db", "psnr_restored_db"});
    if (!rows.empty())
        for (const auto &[name, v] : rows.front().more) t[0].push_back(name);
    for (const auto &r : rows) {
        t.push_back({std::to_string(r.epoch), std::to_string(r.steps), fmt("%.6g", r.train_loss),
                     fmt("%.6g", r.test_loss), fmt("%.6g", r.test_mse_per_px), fmt("%.0f", r.samples_per_s),
                     fmt("%.3f", r.epoch_s), fmt("%.3f", r.eval_s)});
        if (psnr) t.back().insert(t.back().end(), {fmt("%.2f", r.psnr_corrupt_db), fmt("%.2f", r.psnr_restored_db)});
        for (size_t k = psnr ? 10 : 8; k < t[0].size(); ++k) t.back().push_back(fmt("%.6g", r.get(t[0][k])));
    }
    return html::table("metrics-table", t);
}

static std::string summary(const YAML::Node &root, const std::vector<EpochFigures> &rows) {
    std::string s = "<p class=\"summary\">" + html::esc(model_summary(root)) + "<br>";
    const std::string unit = loss_unit(root);
    int64_t planned = 0;
    try {
        planned = config_at(root, {"train", "epochs"}).as<int64_t>(0);
    } catch (const YAML::Exception &) {
    }
    if (rows.empty()) {
        s += "no epoch finished yet";
    } else {
        const EpochFigures &last = rows.back();
        auto best = std::min_element(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
            return a.test_mse_per_px < b.test_mse_per_px;
        });
        double secs = 0;
        for (const auto &r : rows) secs += r.epoch_s;
        s += (planned > last.epoch ? "in progress: epoch " + std::to_string(last.epoch) + " of " + std::to_string(planned)
                                   : std::to_string(last.epoch) + " epochs") +
             ", " + std::to_string(last.steps) + " steps, " + fmt("%.1f", secs) + " s of training. Final train loss " +
             fmt("%.6g", last.train_loss) + " (" + unit_words(unit) + "), test MSE per pixel " + fmt("%.6g", last.test_mse_per_px) +
             " (best " + fmt("%.6g", best->test_mse_per_px) + " at epoch " + std::to_string(best->epoch) + ").";
        if (double recon = last.get("test_recon_" + unit), kl = last.get("test_kl_nats_per_img"); !std::isnan(kl))
            s += "<br>Test loss " + fmt("%.6g", last.test_loss) + " " + unit_words(unit) + ": reconstruction " +
                 fmt("%.6g", recon) + " + beta x KL, KL " + fmt("%.6g", kl) + " nats per image.";
        if (last.psnr)
            s += "<br>Restoration (test PSNR against the originals): corrupted " + fmt("%.2f", last.psnr_corrupt_db) +
                 " dB, restored " + fmt("%.2f", last.psnr_restored_db) + " dB, gain " +
                 fmt("%+.2f", last.psnr_restored_db - last.psnr_corrupt_db) + " dB.";
    }
    std::time_t t = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
    return s + "<br>written " + stamp + "</p>\n";
}

static std::string graph_section(const std::string &dir) {
    std::string o = "<h2 id=\"graph\">Flow graph</h2>\n";
    if (is_file(dir + "/graph.svg"))
        return o + "<img class=\"graph\" src=\"" + html::data_uri("image/svg+xml", read_file(dir + "/graph.svg")) +
               "\" alt=\"flow graph\">\n";
    if (is_file(dir + "/graph.dot"))
        return o + "<p class=\"note\">graph.svg was not rendered: " + html::esc(kGraphvizHint) +
               ". The DOT text:</p>\n<pre id=\"graph-dot\">" + html::esc(read_file(dir + "/graph.dot")) + "</pre>\n";
    return o + "<p class=\"note\">no graph.dot in the run folder</p>\n";
}

static std::string scaling_section(const std::string &dir, const std::string &bench_dir) {
    for (const std::string &d : {dir, bench_dir}) {
        if (d.empty() || !is_file(d + "/bench_speedup.svg")) continue;
        std::string o = "<h2 id=\"scaling\">Thread scaling</h2>\n<img class=\"graph\" src=\"" +
                        html::data_uri("image/svg+xml", read_file(d + "/bench_speedup.svg")) +
                        "\" alt=\"training speedup against threads\">\n";
        if (is_file(d + "/bench.csv")) o += html::table("bench-table", html::parse_csv(read_file(d + "/bench.csv")));
        return o;
    }
    return "";
}

std::string run_report_html(const std::string &run_dir, const std::vector<EpochFigures> &rows,
                            const ReportOptions &o) {
    YAML::Node root = load_run_config(run_dir);
    bool profiled = is_file(run_dir + "/profile.csv");
    std::string scaling = scaling_section(run_dir, o.bench_dir);
    std::vector<std::pair<std::string, std::string>> nav{
        {"curves", "loss curves"}, {"images", "images"}, {"metrics", "metrics"}, {"graph", "graph"}};
    if (profiled) nav.push_back({"profile", "profile"});
    if (!scaling.empty()) nav.push_back({"scaling", "thread scaling"});
    nav.push_back({"config", "config"});

    std::string h = html::page_head("aepipe run " + fs::path(run_dir).filename().string(), nav);
    h += summary(root, rows);
    h += "<h2 id=\"curves\">Loss curves</h2>\n" + loss_curves_svg(rows, o.log_scale, loss_label(root), loss_unit(root));
    h += "<h2 id=\"images\">Image grids</h2>\n";
    auto grids = newest_images(run_dir);
    if (grids.empty()) h += "<p class=\"note\">no image grid written yet</p>\n";
    for (const auto &g : grids) h += figure(run_dir, g, grid_caption(g, grid_names(root)));
    h += latent_section(run_dir);
    h += "<h2 id=\"metrics\">Metrics per epoch</h2>\n" + metrics_table(rows);
    h += graph_section(run_dir);
    if (profiled)
        h += "<h2 id=\"profile\">Profile per node</h2>\n<p>busy time, calls and waits of every node body "
             "(profile.csv; trace.json opens in ui.perfetto.dev)</p>\n" +
             html::table("profile-table", html::parse_csv(read_file(run_dir + "/profile.csv")));
    h += scaling;
    std::string cfg = is_file(run_dir + "/config.yaml") ? read_file(run_dir + "/config.yaml") : "(no config.yaml)";
    h += "<h2 id=\"config\">Resolved config</h2>\n<pre id=\"config-text\">" + html::esc(cfg) + "</pre>\n";
    return h + html::page_tail();
}

void write_run_report(const std::string &run_dir, const std::vector<EpochFigures> &rows, const ReportOptions &o) {
    YAML::Node root = load_run_config(run_dir);
    write_file_atomic(run_dir + "/" + o.curves, loss_curves_svg(rows, o.log_scale, loss_label(root), loss_unit(root)));
    write_file_atomic(run_dir + "/" + o.file, run_report_html(run_dir, rows, o));
}

// ---- comparison -------------------------------------------------------------------------

namespace {

struct Run {
    std::string dir, folder, label;  // label: unique among the compared runs (compare_labels)
    YAML::Node root;
    std::vector<EpochFigures> rows;
    std::string unit, loss;  // "nats_per_img", "bce + KL"
};

const char *const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::vector<Run> load_runs(const std::vector<std::string> &run_dirs) {
    std::vector<Run> runs;
    for (const auto &d : run_dirs) {
        std::error_code ec;
        if (!fs::is_directory(d, ec)) throw DataError(d, "not a folder (expected a run folder such as runs/NAME-DATE-TIME)");
        fs::path norm = fs::path(d).lexically_normal();
        YAML::Node root = load_run_config(d);
        Run r{d, norm.filename().empty() ? norm.parent_path().filename().string() : norm.filename().string(), "",
              root, read_metrics(d), loss_unit(root), loss_label(root)};
        if (r.rows.empty()) throw DataError(d + "/metrics.csv", "missing or empty: the run has no finished epoch");
        runs.push_back(std::move(r));
    }
    std::vector<std::string> labels(runs.size());
    for (size_t i = 0; i < runs.size(); ++i) labels[i] = runs[i].root["name"] && runs[i].root["name"].IsScalar()
                                                             ? runs[i].root["name"].Scalar() : runs[i].folder;
    std::vector<std::string> folders, dirs;
    for (const auto &r : runs) folders.push_back(r.folder), dirs.push_back(r.dir);
    labels = compare_labels(labels, folders, dirs);
    for (size_t i = 0; i < runs.size(); ++i) runs[i].label = labels[i];
    return runs;
}

// The runs' curves: test MSE per pixel (one unit for all), and train loss on one plot per loss
// unit, so that nats per image and MSE per pixel never share an axis. A log axis when asked, or
// when one linear axis would flatten a run's curve.
std::string compare_curves(const std::vector<Run> &runs, bool log_scale) {
    std::vector<Series> mse;
    std::map<std::string, std::vector<Series>> train;  // by unit
    for (size_t i = 0; i < runs.size(); ++i) {
        Series a = epoch_series(runs[i].rows, {runs[i].label, {}, {}, kPalette[i % 10]},
                                [](const EpochFigures &r) { return r.test_mse_per_px; });
        mse.push_back(a);
        train[runs[i].unit].push_back(epoch_series(runs[i].rows, {runs[i].label + " (" + runs[i].loss + ")", {}, {}, a.color},
                                                   [](const EpochFigures &r) { return r.train_loss; }));
    }
    auto plot = [&](const std::string &title, const std::string &y_label, const std::vector<Series> &s) {
        PlotSpec spec{title, "epoch", y_label, log_scale || wants_log_scale(s)};
        spec.integer_x = true, spec.width = 560;
        return svg_line_plot(spec, s);
    };
    std::vector<std::string> plots{plot("test MSE per pixel", "test MSE per pixel (pixel values in [0, 1])", mse)};
    for (const auto &[unit, s] : train) plots.push_back(plot("train loss, " + unit_words(unit), "train loss, " + unit_words(unit), s));
    return svg_panels(plots);
}

std::string compare_table(const std::vector<Run> &runs, const std::string &out_file, std::string &links) {
    std::vector<html::Row> t{{"run", "folder", "model", "loss", "epochs", "steps", "final train loss",
                              "final test MSE/px", "best test MSE/px", "best epoch", "mean samples/s", "train time (s)"}};
    fs::path out_dir = fs::absolute(out_file).parent_path();
    for (const auto &r : runs) {
        const auto &last = r.rows.back();
        auto best = std::min_element(r.rows.begin(), r.rows.end(),
                                     [](const auto &a, const auto &b) { return a.test_mse_per_px < b.test_mse_per_px; });
        double secs = 0, sps = 0;
        for (const auto &e : r.rows) secs += e.epoch_s, sps += e.samples_per_s;
        t.push_back({r.label, r.folder, model_summary(r.root), r.loss + ", " + unit_words(r.unit), std::to_string(last.epoch),
                     std::to_string(last.steps), fmt("%.6g", last.train_loss), fmt("%.6g", last.test_mse_per_px),
                     fmt("%.6g", best->test_mse_per_px), std::to_string(best->epoch),
                     fmt("%.0f", sps / double(r.rows.size())), fmt("%.1f", secs)});
        ReportOptions o = report_options(r.dir);
        if (is_file(r.dir + "/" + o.file))
            links += "<li>" + html::esc(r.label) + ": <a href=\"" +
                     html::esc(fs::relative(fs::absolute(r.dir + "/" + o.file), out_dir).generic_string()) + "\">" +
                     html::esc(r.folder) + "</a></li>";
    }
    return html::table("compare-table", t);
}

}  // namespace

std::vector<std::string> compare_labels(const std::vector<std::string> &names, const std::vector<std::string> &folders,
                                        const std::vector<std::string> &dirs) {
    std::vector<std::string> out = names;
    for (size_t i = 0; i < names.size(); ++i) {
        std::vector<size_t> same;
        for (size_t j = 0; j < names.size(); ++j)
            if (names[j] == names[i]) same.push_back(j);
        if (same.size() < 2) continue;
        // What tells them apart, the first way that does for the whole group: the folder name
        // after "NAME-" (the run's date and time), the path as given, the position on the command line.
        for (int how = 0; how < 3; ++how) {
            auto tag = [&](size_t j) {
                const std::string &f = folders[j];
                if (how == 0) return f.rfind(names[j] + "-", 0) == 0 ? f.substr(names[j].size() + 1) : f;
                return how == 1 ? fs::path(dirs[j]).lexically_normal().generic_string() : "#" + std::to_string(j + 1);
            };
            std::set<std::string> tags;
            for (size_t j : same) tags.insert(tag(j));
            if (tags.size() < same.size()) continue;
            out[i] = names[i] + " (" + tag(i) + ")";
            break;
        }
    }
    return out;
}

std::string compare_html(const std::vector<std::string> &run_dirs, const std::string &out_file, bool log_scale) {
    std::vector<Run> runs = load_runs(run_dirs);
    std::string h = html::page_head("aepipe: " + std::to_string(runs.size()) + " runs compared",
                                    {{"curves", "curves"}, {"final", "final figures"}, {"images", "images"}});
    h += "<h2 id=\"curves\">Curves</h2>\n" + compare_curves(runs, log_scale);
    std::string links;
    h += "<h2 id=\"final\">Final figures</h2>\n" + compare_table(runs, out_file, links);
    if (!links.empty()) h += "<p>Run reports:</p><ul>" + links + "</ul>\n";

    h += "<h2 id=\"images\">Newest image grids</h2>\n";
    std::map<std::string, std::vector<std::pair<size_t, GridImage>>> groups;
    for (size_t i = 0; i < runs.size(); ++i)
        for (const auto &g : newest_images(runs[i].dir)) groups[g.name].push_back({i, g});
    for (const auto &[name, list] : groups) {
        h += "<h3>" + html::esc(name) + "</h3>\n<div>";
        for (const auto &[i, g] : list)
            h += figure(runs[i].dir, g, runs[i].label + ": " + grid_caption(g, grid_names(runs[i].root)));
        h += "</div>\n";
    }
    return h + html::page_tail();
}

}  // namespace aepipe
