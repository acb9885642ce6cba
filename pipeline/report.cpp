#include "pipeline/report.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <regex>

#include "pipeline/dot.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/html.hpp"
#include "pipeline/latent_plot.hpp"
#include "pipeline/svg_plot.hpp"

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
    auto col = [&](const char *name) {
        auto it = std::find(rows[0].begin(), rows[0].end(), name);
        if (it == rows[0].end()) throw DataError(path, std::string("no column '") + name + "' in the header line");
        return size_t(it - rows[0].begin());
    };
    // Optional (denoising runs): both PSNR columns or neither.
    auto pc = std::find(rows[0].begin(), rows[0].end(), "psnr_corrupt_db"),
         pr = std::find(rows[0].begin(), rows[0].end(), "psnr_restored_db");
    const bool psnr = pc != rows[0].end() && pr != rows[0].end();
    const size_t c[10] = {col("epoch"),           col("steps"),  col("train_loss"), col("test_loss"),
                          col("test_mse_per_px"), col("train_samples_per_s"), col("epoch_s"), col("eval_s"),
                          size_t(pc - rows[0].begin()), size_t(pr - rows[0].begin())};
    for (size_t r = 1; r < rows.size(); ++r) {
        double v[10] = {};
        for (int k = 0; k < (psnr ? 10 : 8); ++k) {
            const std::string cell = c[k] < rows[r].size() ? rows[r][c[k]] : "";
            char *end = nullptr;
            v[k] = std::strtod(cell.c_str(), &end);
            if (cell.empty() || *end)
                throw DataError(path, "row " + std::to_string(r) + ", column '" + rows[0][c[k]] + "': '" + cell +
                                          "' is not a number");
        }
        out.push_back({int64_t(v[0]), int64_t(v[1]), v[2], v[3], v[4], v[5], v[6], v[7], psnr, v[8], v[9]});
    }
    return out;
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
    YAML::Node loss = root["model"]["loss"];
    if (loss && loss.IsScalar()) return loss.Scalar();
    if (loss && loss.IsMap()) return loss["type"].as<std::string>("loss");
    return "mse";
}

ReportOptions report_options(const std::string &run_dir) {
    ReportOptions o;
    YAML::Node nodes = load_run_config(run_dir)["graph"]["nodes"];
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

std::string loss_curves_svg(const std::vector<EpochFigures> &rows, bool log_scale, const std::string &loss) {
    Series train{"train loss (" + loss + ")", {}, {}, "#1f77b4"}, mse{"test MSE per pixel", {}, {}, "#d62728"},
        test{"test loss (" + loss + ")", {}, {}, "#ff7f0e", true};
    for (const auto &r : rows) {
        train.x.push_back(double(r.epoch)), train.y.push_back(r.train_loss);
        mse.x.push_back(double(r.epoch)), mse.y.push_back(r.test_mse_per_px);
        test.x.push_back(double(r.epoch)), test.y.push_back(r.test_loss);
    }
    std::vector<Series> series{train, mse};
    if (loss != "mse") series.push_back(test);  // for MSE the test loss is the test MSE
    PlotSpec spec{"train loss and test MSE per epoch", "epoch (passes over the training set)",
                  "per-pixel mean (pixel values scaled to [0, 1])", log_scale};
    spec.integer_x = true;
    return svg_line_plot(spec, series);
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

static std::string describe(const GridImage &g) {
    std::string what = g.name == "recon" ? "test images (top row) and their reconstructions (below)"
                       : g.name.find("denois") != std::string::npos
                           ? "test originals (top row), corrupted inputs (middle) and their restorations (bottom)"
                       : g.name.find("sample") != std::string::npos || g.name.find("gen") != std::string::npos
                           ? "generated samples"
                           : g.name;
    return g.file + ": " + what + ", " + when(g);
}

static std::string figure(const std::string &dir, const GridImage &g, const std::string &caption) {
    std::string uri = html::data_uri("image/png", read_file(dir + "/" + g.file));
    return "<figure><img class=\"grid\" src=\"" + uri + "\" alt=\"" + html::esc(g.file) + "\"><figcaption>" +
           html::esc(caption) + "</figcaption></figure>\n";
}

static std::string metrics_table(const std::vector<EpochFigures> &rows) {
    std::vector<html::Row> t{{"epoch", "steps", "train_loss", "test_loss", "test_mse_per_px", "train_samples_per_s",
                              "epoch_s", "eval_s"}};
    const bool psnr = !rows.empty() && rows.front().psnr;
    if (psnr) t[0].insert(t[0].end(), {"psnr_corrupt_db", "psnr_restored_db"});
    for (const auto &r : rows) {
        t.push_back({std::to_string(r.epoch), std::to_string(r.steps), fmt("%.6g", r.train_loss),
                     fmt("%.6g", r.test_loss), fmt("%.6g", r.test_mse_per_px), fmt("%.0f", r.samples_per_s),
                     fmt("%.3f", r.epoch_s), fmt("%.3f", r.eval_s)});
        if (psnr) t.back().insert(t.back().end(), {fmt("%.2f", r.psnr_corrupt_db), fmt("%.2f", r.psnr_restored_db)});
    }
    return html::table("metrics-table", t);
}

static std::string summary(const YAML::Node &root, const std::vector<EpochFigures> &rows) {
    std::string s = "<p class=\"summary\">" + html::esc(model_summary(root)) + "<br>";
    int64_t planned = 0;
    try {
        planned = root["train"]["epochs"].as<int64_t>(0);
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
             fmt("%.6g", last.train_loss) + ", test MSE per pixel " + fmt("%.6g", last.test_mse_per_px) +
             " (best " + fmt("%.6g", best->test_mse_per_px) + " at epoch " + std::to_string(best->epoch) + ").";
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
    h += "<h2 id=\"curves\">Loss curves</h2>\n" + loss_curves_svg(rows, o.log_scale, loss_name(root));
    h += "<h2 id=\"images\">Image grids</h2>\n";
    auto grids = newest_images(run_dir);
    if (grids.empty()) h += "<p class=\"note\">no image grid written yet</p>\n";
    for (const auto &g : grids) h += figure(run_dir, g, describe(g));
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
    write_file_atomic(run_dir + "/" + o.curves, loss_curves_svg(rows, o.log_scale, loss_name(root)));
    write_file_atomic(run_dir + "/" + o.file, run_report_html(run_dir, rows, o));
}

// ---- comparison -------------------------------------------------------------------------

std::string compare_html(const std::vector<std::string> &run_dirs, const std::string &out_file, bool log_scale) {
    static const char *palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    struct Run {
        std::string dir, folder, label;  // label: the config's name, or the folder's when names repeat
        YAML::Node root;
        std::vector<EpochFigures> rows;
    };
    std::vector<Run> runs;
    for (const auto &d : run_dirs) {
        std::error_code ec;
        if (!fs::is_directory(d, ec)) throw DataError(d, "not a folder (expected a run folder such as runs/NAME-DATE-TIME)");
        fs::path norm = fs::path(d).lexically_normal();
        Run r{d, norm.filename().empty() ? norm.parent_path().filename().string() : norm.filename().string(), "",
              load_run_config(d), read_metrics(d)};
        r.label = r.root["name"] && r.root["name"].IsScalar() ? r.root["name"].Scalar() : r.folder;
        if (r.rows.empty()) throw DataError(d + "/metrics.csv", "missing or empty: the run has no finished epoch");
        runs.push_back(std::move(r));
    }
    for (auto &r : runs)
        if (std::count_if(runs.begin(), runs.end(), [&](const Run &o) { return o.label == r.label; }) > 1)
            r.label = r.folder;
    std::vector<Series> mse, train;
    for (size_t i = 0; i < runs.size(); ++i) {
        const std::string &l = runs[i].label;  // the legend has room for about 22 characters
        Series a{l.size() > 22 ? l.substr(0, 10) + "..." + l.substr(l.size() - 9) : l, {}, {}, palette[i % 10]}, b = a;
        for (const auto &r : runs[i].rows) {
            a.x.push_back(double(r.epoch)), a.y.push_back(r.test_mse_per_px);
            b.x.push_back(double(r.epoch)), b.y.push_back(r.train_loss);
        }
        mse.push_back(a), train.push_back(b);
    }
    std::string h = html::page_head("aepipe: " + std::to_string(runs.size()) + " runs compared",
                                    {{"curves", "curves"}, {"final", "final figures"}, {"images", "images"}});
    h += "<h2 id=\"curves\">Curves</h2>\n";
    PlotSpec ms{"test MSE per pixel", "epoch", "test MSE per pixel (pixel values in [0, 1])", log_scale},
        ts{"train loss", "epoch", "train loss per pixel (each run's own loss)", log_scale};
    ms.integer_x = ts.integer_x = true;
    h += svg_line_plot(ms, mse) + svg_line_plot(ts, train);

    std::vector<html::Row> t{{"run", "folder", "model", "epochs", "steps", "final train loss", "final test MSE/px",
                              "best test MSE/px", "best epoch", "mean samples/s", "train time (s)"}};
    std::string links;
    fs::path out_dir = fs::absolute(out_file).parent_path();
    for (const auto &r : runs) {
        const auto &last = r.rows.back();
        auto best = std::min_element(r.rows.begin(), r.rows.end(),
                                     [](const auto &a, const auto &b) { return a.test_mse_per_px < b.test_mse_per_px; });
        double secs = 0, sps = 0;
        for (const auto &e : r.rows) secs += e.epoch_s, sps += e.samples_per_s;
        t.push_back({r.label, r.folder, model_summary(r.root), std::to_string(last.epoch), std::to_string(last.steps),
                     fmt("%.6g", last.train_loss), fmt("%.6g", last.test_mse_per_px), fmt("%.6g", best->test_mse_per_px),
                     std::to_string(best->epoch), fmt("%.0f", sps / double(r.rows.size())), fmt("%.1f", secs)});
        ReportOptions o = report_options(r.dir);
        if (is_file(r.dir + "/" + o.file))
            links += "<li><a href=\"" +
                     html::esc(fs::relative(fs::absolute(r.dir + "/" + o.file), out_dir).generic_string()) + "\">" +
                     html::esc(r.folder) + "</a></li>";
    }
    h += "<h2 id=\"final\">Final figures</h2>\n" + html::table("compare-table", t);
    if (!links.empty()) h += "<p>Run reports:</p><ul>" + links + "</ul>\n";

    h += "<h2 id=\"images\">Newest image grids</h2>\n";
    std::map<std::string, std::vector<std::pair<size_t, GridImage>>> groups;
    for (size_t i = 0; i < runs.size(); ++i)
        for (const auto &g : newest_images(runs[i].dir)) groups[g.name].push_back({i, g});
    for (const auto &[name, list] : groups) {
        h += "<h3>" + html::esc(name) + "</h3>\n<div>";
        for (const auto &[i, g] : list) h += figure(runs[i].dir, g, runs[i].label + ": " + g.file + ", " + when(g));
        h += "</div>\n";
    }
    return h + html::page_tail();
}

}  // namespace aepipe
