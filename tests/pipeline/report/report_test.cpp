// The pictures of a run: DOT of the flow graph, loss curves, report.html written by the report
// node and rebuilt by `aepipe report`, and the `aepipe compare` page.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <regex>

#include "nodes/nn/model.hpp"
#include "pipeline/report/dot.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/report/html.hpp"
#include "pipeline/report/report.hpp"
#include "pipeline/report/tiny_run.hpp"
#include "support/expect_error.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

// ---- DOT ---------------------------------------------------------------------------------

TEST(GraphDot, LabelsEveryNodeAndEdge) {
    TempDir tmp("aepipe-dot");
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    ConfigFile cfg = parse_config(tiny_report_config(d, 2, "dot"), tmp / "dot.yaml");
    Pipeline p(cfg, RunSettings{});
    std::string dot = pipeline_dot(p);
    ASSERT_EQ(dot.rfind("digraph aepipe {", 0), 0u) << dot;
    ASSERT_EQ(p.nodes().size(), 11u);
    for (const auto &n : p.nodes())
        EXPECT_TRUE(contains(dot, "\"" + n->id() + "\" [label=\"" + n->id() + "\\n" + n->spec().type))
            << n->id() << "\n" << dot;
    ASSERT_EQ(p.edges().size(), 10u);
    for (const auto &e : p.edges())
        EXPECT_TRUE(contains(dot, "\"" + e.from + "\" -> \"" + e.to + "\" [label=\"" + e.kind))
            << e.from << " -> " << e.to << "\n" << dot;
    // The credit edges, wired by the builder, are drawn too: dashed, named by the credit.
    ASSERT_EQ(p.credit_edges().size(), 2u);
    EXPECT_TRUE(contains(dot, "\"model\" -> \"batches\" [label=\"step_done\", style=dashed")) << dot;
    EXPECT_TRUE(contains(dot, "\"eval\" -> \"train_set\" [label=\"epoch_done\", style=dashed")) << dot;
    // Key parameters the config sets (paths by file name); several ports named; categories styled apart.
    EXPECT_TRUE(contains(dot, "\\ncount: 8\"")) << dot;
    EXPECT_TRUE(contains(dot, "\\nimages: train-images.idx.gz\\n")) << dot;
    EXPECT_TRUE(contains(dot, "[label=\"epoch\\n-> model\"]")) << dot;
    EXPECT_TRUE(contains(dot, "[label=\"dataset\\n-> data\"]")) << dot;
    EXPECT_TRUE(contains(dot, "\"train_set\" [label=\"train_set\\nidx_reader\\nimages: train-images.idx.gz\\nlabels: "
                              "train-labels.idx.gz\", shape=box, style=\"rounded,filled\""))
        << dot;
    EXPECT_TRUE(contains(dot, "\"model\" [label=\"model\\ntrain\", shape=box3d")) << dot;
    EXPECT_TRUE(contains(dot, "\"report\" [label=\"report\\nreport\", shape=note")) << dot;
    EXPECT_TRUE(contains(dot, "label=\"dot: in 64 | dense 32 relu | dense 16 relu | dense 32 relu | dense 64 sigmoid, "
                              "loss mse, adam lr 0.01, batch 16, 2 epochs"))
        << dot;
}

TEST(GraphDot, CommandPrintsDotAndRendersSvg) {
    TempDir tmp("aepipe-dotcli");
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    write_bytes(tmp / "g.yaml", tiny_report_config(d, 2, "g"));
    RunResult r = run_aepipe({"graph", tmp / "g.yaml"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("digraph aepipe {", 0), 0u);
    EXPECT_TRUE(contains(r.out, "\"eval\" -> \"report\" [label=\"eval\"]")) << r.out;

    RunResult bad = run_aepipe({"graph", "configs/errors/unknown_node_type.yaml"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;

    if (find_program("dot").empty()) GTEST_SKIP() << "Graphviz 'dot' is not installed: --svg not rendered here";
    r = run_aepipe({"graph", tmp / "g.yaml", "--svg", tmp / "g.svg"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string svg = read_bytes(tmp / "g.svg");
    EXPECT_TRUE(contains(svg, "<svg")) << svg.substr(0, 300);
    EXPECT_TRUE(contains(svg, ">report</text>"));
    EXPECT_FALSE(fs::exists(tmp / "g.svg.dot.tmp"));
    // A file in a folder that does not exist yet: the folder is made (it failed with '.tmp.tmp').
    r = run_aepipe({"graph", tmp / "g.yaml", "--svg", tmp / "new/dir/g.svg"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(read_bytes(tmp / "new/dir/g.svg"), "<svg"));
}

TEST(GraphDot, SvgWithoutGraphvizSaysHowToInstallIt) {
    TempDir tmp("aepipe-nodot");
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    write_bytes(tmp / "g.yaml", tiny_report_config(d, 2, "g"));
    // PATH without dot: the shell sets it for the aepipe process only.
    std::string cmd = "cd '" + tmp.path() + "' && PATH=/nonexistent '" AEPIPE_BINARY "' graph g.yaml --svg g.svg 2>&1";
    FILE *f = ::popen(cmd.c_str(), "r");
    ASSERT_NE(f, nullptr);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    int status = ::pclose(f);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1) << out;
    EXPECT_TRUE(contains(out, "Graphviz's 'dot' is not installed")) << out;
    EXPECT_TRUE(contains(out, "hint: install Graphviz: apt-get install graphviz")) << out;
    EXPECT_FALSE(fs::exists(tmp / "g.svg"));
}

// ---- pieces ------------------------------------------------------------------------------

TEST(ReportPieces, Base64) {
    EXPECT_EQ(html::base64(""), "");
    EXPECT_EQ(html::base64("f"), "Zg==");
    EXPECT_EQ(html::base64("fo"), "Zm8=");
    EXPECT_EQ(html::base64("foo"), "Zm9v");
    EXPECT_EQ(html::base64("foob"), "Zm9vYg==");
    EXPECT_EQ(html::base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(ReportPieces, MetricsCsvByHeaderName) {
    auto rows = parse_metrics_csv(
        "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s\n"
        "1,10,0.5,0.4,0.3,1000.0,0.1,0.01\n2,20,0.25,0.2,0.15,2000.0,0.2,0.02\n",
        "m.csv");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].epoch, 2);
    EXPECT_EQ(rows[1].steps, 20);
    EXPECT_DOUBLE_EQ(rows[1].test_mse_per_px, 0.15);
    EXPECT_DOUBLE_EQ(rows[0].samples_per_s, 1000.0);
    EXPECT_EQ(error_of<DataError>([] { parse_metrics_csv("epoch,steps\n1,2\n", "m.csv"); }),
              "m.csv: error: no column 'train_loss' in the header line");
    EXPECT_THROW(parse_metrics_csv("epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s\n"
                                   "1,10,nan?,0.4,0.3,1000.0,0.1,0.01\n",
                                   "m.csv"),
                 DataError);
}

TEST(ReportPieces, NewestImageOfEachKind) {
    TempDir tmp("aepipe-newest");
    for (const char *f : {"recon_epoch2.png", "recon_epoch10.png", "denoise_epoch3.png", "denoise_epoch12.png",
                          "samples.png", "recon.png.tmp", "notes.txt"})
        write_bytes(tmp / f, "x");
    auto v = newest_images(tmp.path());
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].file, "denoise_epoch12.png");
    EXPECT_EQ(v[0].epoch, 12);
    EXPECT_EQ(v[1].file, "recon_epoch10.png");
    EXPECT_EQ(v[2].file, "samples.png");
    EXPECT_EQ(v[2].epoch, -1);
    write_bytes(tmp / "recon.png", "x");
    EXPECT_EQ(newest_images(tmp.path())[1].file, "recon.png");
}

TEST(ReportPieces, LossCurvesHaveUnitsAndLogOption) {
    std::vector<EpochFigures> rows{{1, 8, 0.2, 0.19, 0.18}, {2, 16, 0.1, 0.09, 0.08}, {3, 24, 0.05, 0.045, 0.04}};
    std::string lin = loss_curves_svg(rows, false, "mse"), log = loss_curves_svg(rows, true, "bce", "nats_per_px");
    EXPECT_TRUE(contains(lin, "epoch (passes over the training set)"));
    EXPECT_TRUE(contains(lin, "MSE per pixel (pixel values scaled to [0, 1])"));
    EXPECT_FALSE(contains(lin, "(log scale)"));
    EXPECT_TRUE(contains(log, "(log scale)"));
    EXPECT_EQ(count_between(lin, "<svg", "</svg>", "<polyline"), 2);  // MSE: test loss = test MSE, one axis
    // BCE: nats, not squared error: the loss (train and test) on its own axis, test MSE on another.
    EXPECT_TRUE(contains(log, "class=\"panels\""));
    EXPECT_EQ(count_between(log, "<svg x=\"0\"", "</svg>", "<polyline"), 2);
    EXPECT_EQ(count_between(log, "<svg x=\"560\"", "</svg>", "<polyline"), 1);
    EXPECT_TRUE(contains(log, ">bce loss, nats per pixel (log scale)</text>")) << log;
}

// A VAE's loss is nats per image: its axis says so, and shows the reconstruction and KL parts.
TEST(ReportPieces, VaeCurvesInNatsPerImage) {
    std::vector<EpochFigures> rows = parse_metrics_csv(
        "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s,train_nats_per_img,"
        "train_recon_nats_per_img,train_kl_nats_per_img,test_nats_per_img,test_recon_nats_per_img,test_kl_nats_per_img\n"
        "1,10,180,170,0.06,1000,1,0.1,180,165,15,170,152,18\n2,20,120,118,0.03,1000,1,0.1,120,100,20,118,97,21\n",
        "m.csv");
    std::string svg = loss_curves_svg(rows, false, "bce + KL", "nats_per_img");
    EXPECT_TRUE(contains(svg, ">bce + KL loss, nats per image</text>")) << svg;
    EXPECT_FALSE(contains(svg, "per-pixel mean"));
    EXPECT_EQ(count_between(svg, "<svg x=\"0\"", "</svg>", "<polyline"), 4);  // train, test, test recon, test KL
    EXPECT_TRUE(contains(svg, ">test KL (nats per image)</text>"));
    EXPECT_TRUE(contains(svg, ">MSE per pixel (pixel values scaled to [0, 1])</text>"));
}

TEST(ReportPieces, MetricsTableShowsEveryColumn) {
    TempDir tmp("aepipe-columns");
    const std::string header =
        "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s,psnr_corrupt_db,"
        "psnr_restored_db,train_nats_per_img,train_recon_nats_per_img,train_kl_nats_per_img,test_nats_per_img,"
        "test_recon_nats_per_img,test_kl_nats_per_img";
    write_bytes(tmp / "metrics.csv", header + "\n1,10,180,170,0.06,1000,1,0.1,10.5,18.25,180,165,15,170,152,18.5\n");
    std::vector<EpochFigures> rows = read_metrics(tmp.path());
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_EQ(rows[0].more.size(), 6u);
    EXPECT_EQ(rows[0].more[5].first, "test_kl_nats_per_img");
    EXPECT_DOUBLE_EQ(rows[0].get("test_recon_nats_per_img"), 152);
    std::string h = run_report_html(tmp.path(), rows, ReportOptions{});
    std::string want = "<thead><tr>";
    for (size_t at = 0; at < header.size();) {
        size_t comma = std::min(header.find(',', at), header.size());
        want += "<th>" + header.substr(at, comma - at) + "</th>";
        at = comma + 1;
    }
    EXPECT_TRUE(contains(h, want + "</tr></thead>")) << h;
    EXPECT_TRUE(contains(h, "<td class=\"num\">18.5</td></tr>")) << h;
}

TEST(ReportPieces, GridCaptionsSayWhatMadeThem) {
    YAML::Node root = YAML::Load("graph: {nodes: [{id: r, type: image_grid}, {id: d, type: image_grid, file: denoise.png}]}");
    std::vector<std::string> names = grid_names(root);
    EXPECT_EQ(names, (std::vector<std::string>{"recon", "denoise"}));
    EXPECT_EQ(grid_caption({"recon", "recon.png", -1}, names),
              "recon.png: test images (top row) and their reconstructions (below), after the last epoch");
    EXPECT_EQ(grid_caption({"recon", "recon_epoch4.png", 4}, names),
              "recon_epoch4.png: test images (top row) and their reconstructions (below), after epoch 4");
    EXPECT_TRUE(contains(grid_caption({"denoise", "denoise.png", -1}, names), "corrupted inputs (middle)"));
    for (const char *g : {"samples", "interpolate", "manifold"}) {
        std::string c = grid_caption({g, std::string(g) + ".png", -1}, names);
        EXPECT_TRUE(contains(c, "made by aepipe generate")) << c;
        EXPECT_FALSE(contains(c, "epoch")) << c;
    }
    EXPECT_EQ(grid_caption({"photo", "photo.png", -1}, names),
              "photo.png: a picture in the run folder that the run's image_grid nodes did not write");
}

TEST(ReportPieces, MidRunPageWithoutGraphviz) {
    TempDir tmp("aepipe-midrun");
    write_bytes(tmp / "config.yaml", "name: mid\nmodel: {layers: [{type: dense, units: 4}], loss: mse}\n"
                                     "train: {epochs: 5}\ngraph: {nodes: [{id: r, type: report, log_scale: true}]}\n");
    write_bytes(tmp / "graph.dot", "digraph aepipe {\n  \"a\" -> \"b\";\n}\n");
    std::vector<EpochFigures> rows{{1, 8, 0.2, 0.19, 0.18}, {2, 16, 0.1, 0.09, 0.08}};
    ReportOptions o = report_options(tmp.path());
    EXPECT_TRUE(o.log_scale);
    std::string h = run_report_html(tmp.path(), rows, o);
    EXPECT_TRUE(contains(h, "in progress: epoch 2 of 5, 16 steps")) << h;
    EXPECT_TRUE(contains(h, "<pre id=\"graph-dot\">digraph aepipe {\n  &quot;a&quot; -&gt; &quot;b&quot;;")) << h;
    EXPECT_TRUE(contains(h, "install Graphviz: apt-get install graphviz"));
    EXPECT_TRUE(contains(h, "no image grid written yet"));
    EXPECT_EQ(count_between(h, "id=\"metrics-table\"", "</table>", "<tr>"), 1 + 2);
}

// ---- report of a tiny run ----------------------------------------------------------------

TEST(RunReport, WrittenByTheReportNode) {
    TempDir tmp("aepipe-report");
    std::string dir = tiny_run(tmp, 3);
    ASSERT_FALSE(dir.empty());
    for (const char *f : {"report.html", "loss.svg", "graph.dot", "recon.png", "recon_epoch3.png", "metrics.csv"})
        EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
    EXPECT_EQ(fs::exists(dir + "/graph.svg"), !find_program("dot").empty());
    std::string h = read_bytes(dir + "/report.html");
    for (const char *id : {"curves", "images", "metrics", "graph", "config"})
        EXPECT_TRUE(contains(h, "<h2 id=\"" + std::string(id) + "\">")) << id;
    EXPECT_FALSE(contains(h, "id=\"profile\""));  // not profiled
    EXPECT_EQ(count_between(h, "id=\"metrics-table\"", "</table>", "<tr>"), 1 + 3);
    EXPECT_EQ(count_between(h, "id=\"curves\"", "</svg>", "<polyline"), 2);
    // The newest grid only: recon.png (after the last epoch), inline.
    EXPECT_EQ(count_between(h, "id=\"images\"", "id=\"metrics\"", "<img class=\"grid\" src=\"data:image/png;base64,"), 1);
    EXPECT_TRUE(contains(h, "recon.png: test images (top row) and their reconstructions (below), after the last epoch"));
    EXPECT_TRUE(contains(h, "3 epochs, 24 steps"));
    EXPECT_TRUE(contains(h, "<pre id=\"config-text\">name: tiny\n"));
    EXPECT_FALSE(contains(h, "src=\"http"));  // nothing from the network
    std::string svg = read_bytes(dir + "/loss.svg");
    EXPECT_EQ(count_between(svg, "<svg", "</svg>", "<polyline"), 2);
}

TEST(RunReport, ProfiledRunShowsTheProfileAndReportRebuildsIt) {
    TempDir tmp("aepipe-report-prof");
    std::string dir = tiny_run(tmp, 2, "prof", {}, "profile");
    ASSERT_FALSE(dir.empty());
    std::string h = read_bytes(dir + "/report.html");
    EXPECT_TRUE(contains(h, "<h2 id=\"profile\">"));
    EXPECT_GT(count_between(h, "id=\"profile-table\"", "</table>", "<tr>"), 5);

    // Rebuild from the folder's files alone, with a log axis and a bench folder's scaling plot.
    fs::remove(dir + "/report.html");
    fs::remove(dir + "/graph.dot");
    fs::remove(dir + "/graph.svg");
    fs::create_directories(tmp / "bench");
    write_bytes(tmp / "bench/bench.csv", "threads,repeat,samples_per_s\n1,0,1000\n2,0,1800\n");
    write_bytes(tmp / "bench/bench_speedup.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"/>");
    RunResult r = run_aepipe({"report", dir, "--log-scale", "--bench", tmp / "bench"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "wrote " + dir + "/report.html\n");
    h = read_bytes(dir + "/report.html");
    EXPECT_TRUE(fs::exists(dir + "/graph.dot"));  // regenerated from config.yaml
    EXPECT_EQ(count_between(h, "id=\"metrics-table\"", "</table>", "<tr>"), 1 + 2);
    EXPECT_TRUE(contains(h, "(log scale)"));
    EXPECT_TRUE(contains(h, "<h2 id=\"profile\">"));
    EXPECT_TRUE(contains(h, "<h2 id=\"scaling\">"));
    EXPECT_EQ(count_between(h, "id=\"bench-table\"", "</table>", "<tr>"), 3);

    RunResult missing = run_aepipe({"report", tmp / "no-such-run"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_TRUE(contains(missing.err, "is not a folder")) << missing.err;
}

TEST(RunReport, ComparePageOverlaysRuns) {
    TempDir tmp("aepipe-compare");
    std::string a = tiny_run(tmp, 2, "lr_a"), b = tiny_run(tmp, 3, "lr_b", {"train.optimizer.lr=0.003"});
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty());
    RunResult r = run_aepipe({"compare", a, b, "--out", tmp / "cmp.html"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string h = read_bytes(tmp / "cmp.html");
    // Two plots (test MSE, train loss), one line per run in each.
    EXPECT_EQ(count_between(h, "id=\"curves\"", "id=\"final\"", "<polyline"), 4);
    EXPECT_EQ(count_between(h, "id=\"compare-table\"", "</table>", "<tr>"), 1 + 2);
    for (const auto &run : {a, b}) {
        std::string label = fs::path(run).filename().string();
        EXPECT_TRUE(contains(h, "<td>" + label + "</td>")) << label;
        EXPECT_TRUE(contains(h, "<a href=\"" + fs::relative(run, tmp.path()).string() + "/report.html\">")) << h;
    }
    EXPECT_TRUE(contains(h, "adam lr 0.003"));
    EXPECT_TRUE(contains(h, ">lr_a</text>"));  // legends name runs by their config's name
    EXPECT_TRUE(contains(h, "<td>lr_b</td>"));
    EXPECT_EQ(count_between(h, "id=\"images\"", "</body>", "<img class=\"grid\""), 2);

    // --out in a folder that does not exist yet: the folder is made, links stay relative to it.
    r = run_aepipe({"compare", a, b, "--out", tmp / "new/dir/cmp.html"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(read_bytes(tmp / "new/dir/cmp.html"),
                         "<a href=\"" + fs::relative(a, tmp / "new/dir").string() + "/report.html\">"));

    RunResult one = run_aepipe({"compare", a});
    EXPECT_EQ(one.exit_code, 2);
    fs::remove(b + "/metrics.csv");
    RunResult no_metrics = run_aepipe({"compare", a, b, "--out", tmp / "cmp2.html"});
    EXPECT_EQ(no_metrics.exit_code, 1);
    EXPECT_TRUE(contains(no_metrics.err, b + "/metrics.csv: error: missing or empty")) << no_metrics.err;
}

// The summary names every layer with its output shape, and its shapes and the loss unit agree
// with the model the training builds, for every shipped config and a config with every layer type.
TEST(ModelSummary, EveryLayerWithTheModelsShapes) {
    std::vector<std::pair<std::string, ConfigFile>> cfgs;
    for (const auto &e : fs::directory_iterator(std::string(AEPIPE_SOURCE_DIR) + "/configs"))
        if (e.path().extension() == ".yaml") cfgs.push_back({e.path().filename().string(), load_config(e.path().string())});
    cfgs.push_back({"every layer", parse_config("model:\n  layers:\n"
                                                "    - {type: conv2d, filters: 4, kernel: 3, padding: 1, activation: relu}\n"
                                                "    - {type: maxpool, kernel: 2}\n    - {type: flatten}\n"
                                                "    - {type: dense, units: 8}\n    - {type: sample, beta: 0.5}\n"
                                                "    - {type: dense, units: 196}\n    - {type: reshape, shape: [14, 14, 1]}\n"
                                                "    - {type: upsample, factor: 2, mode: bilinear}\n"
                                                "    - {type: deconv2d, filters: 1, kernel: 3, padding: 1}\n"
                                                "  loss: {type: mse, reduction: sum}\n",
                                                "every.yaml")});
    for (const auto &[file, cfg] : cfgs) {
        SCOPED_TRACE(file);
        Model m(ModelSpec::parse(cfg, cfg.root["model"], Shape{1, 28, 28}));
        EXPECT_EQ(loss_unit(cfg.root), m.loss().unit());
        EXPECT_EQ(is_vae(cfg.root), m.sample_layer() >= 0);
        std::string s = model_summary(cfg.root);
        EXPECT_FALSE(contains(s, "?")) << s;
        std::vector<std::string> parts;
        std::string layers = s.substr(0, s.find(", loss"));
        for (size_t at = 0; at <= layers.size();) {
            size_t bar = std::min(layers.find(" | ", at), layers.size());
            parts.push_back(layers.substr(at, bar - at));
            at = bar + 3;
        }
        ASSERT_EQ(parts.size(), m.num_layers() + 1) << s;
        // A dense model sees the reader's 28x28x1 images as 784 values: the config alone tells only the width.
        std::string in = parts[0].substr(parts[0].find(": ") == std::string::npos ? 0 : parts[0].find(": ") + 2);
        EXPECT_TRUE(in == "in " + m.in_shape().str() || in == "in " + std::to_string(m.in_shape().size())) << s;
        for (size_t i = 0; i < m.num_layers(); ++i) {
            const std::string &p = parts[i + 1], out = m.layer(i).out_shape().str();
            EXPECT_TRUE(std::regex_search(p, std::regex("(^| )" + out + "( |$)"))) << p << " vs " << m.layer(i).summary();
            EXPECT_EQ(p.substr(0, 4), m.layer(i).summary().substr(0, 4)) << p << " vs " << m.layer(i).summary();
        }
    }
    YAML::Node vae = YAML::LoadFile(std::string(AEPIPE_SOURCE_DIR) + "/configs/mnist_vae.yaml");
    EXPECT_EQ(model_summary(vae), "mnist_vae: in 784 | dense 400 relu | dense 40 | sample 20 | dense 400 relu | "
                                  "dense 784, loss bce, adam lr 0.001, batch 128, 10 epochs");
    YAML::Node conv = YAML::LoadFile(std::string(AEPIPE_SOURCE_DIR) + "/configs/mnist_conv_ae.yaml");
    EXPECT_TRUE(contains(model_summary(conv), "mnist_conv_ae: in 28x28x1 | conv 8 3x3 s2 p1 relu -> 14x14x8 | "
                                              "conv 16 3x3 s2 p1 relu -> 7x7x16 | flatten 784 | dense 64 | "
                                              "dense 784 relu | reshape 7x7x16 | deconv 8 4x4 s2 p1 relu -> 14x14x8"))
        << model_summary(conv);
}

TEST(RunReport, VaeReportSpeaksInNatsAndShowsEveryColumn) {
    TempDir tmp("aepipe-vae-report");
    std::string dir = tiny_run(tmp, 2, "tvae", {}, "run", true);
    ASSERT_FALSE(dir.empty());
    std::string h = read_bytes(dir + "/report.html"), csv = read_bytes(dir + "/metrics.csv");
    std::string header = csv.substr(0, csv.find('\n'));
    ASSERT_TRUE(contains(header, ",test_kl_nats_per_img")) << header;
    std::string want = "<thead><tr>";
    for (size_t at = 0; at < header.size();) {
        size_t comma = std::min(header.find(',', at), header.size());
        want += "<th>" + header.substr(at, comma - at) + "</th>";
        at = comma + 1;
    }
    EXPECT_TRUE(contains(h, want + "</tr></thead>")) << h;  // the report node's own rows: every column
    EXPECT_TRUE(contains(h, ">bce + KL loss, nats per image</text>"));
    EXPECT_FALSE(contains(h, "per-pixel mean"));
    EXPECT_TRUE(contains(h, "tvae: in 64 | dense 32 relu | dense 8 | sample 4 | dense 32 relu | dense 64, loss bce"));
    EXPECT_TRUE(contains(h, "KL")) << h;
    // Rebuilt from the folder, and with a grid made by aepipe generate.
    RunResult g = run_aepipe({"generate", "--checkpoint", dir + "/model.safetensors", "--n", "4"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    RunResult r = run_aepipe({"report", dir});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string again = read_bytes(dir + "/report.html");
    EXPECT_TRUE(contains(again, want + "</tr></thead>"));
    EXPECT_TRUE(contains(again, "samples.png: decodings of random codes drawn from the prior N(0, I), made by aepipe "
                                "generate from the run's checkpoint"))
        << again;
}

TEST(CompareLabels, UniqueAndMadeTheSameWay) {
    EXPECT_EQ(compare_labels({"a", "b"}, {"a-1", "b-2"}, {"r/a-1", "r/b-2"}), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(compare_labels({"mnist_ae", "mnist_ae", "vae"},
                             {"mnist_ae-20261206-192301", "mnist_ae-20261206-192305", "vae-1"}, {"x", "y", "z"}),
              (std::vector<std::string>{"mnist_ae (20261206-192301)", "mnist_ae (20261206-192305)", "vae"}));
    EXPECT_EQ(compare_labels({"m", "m"}, {"m-1", "m-1"}, {"runs-a/m-1", "runs-b/m-1/"}),
              (std::vector<std::string>{"m (runs-a/m-1)", "m (runs-b/m-1/)"}));
    EXPECT_EQ(compare_labels({"m", "m"}, {"m-1", "m-1"}, {"r/m-1", "r/./m-1"}), (std::vector<std::string>{"m (#1)", "m (#2)"}));
}

TEST(RunReport, CompareSameNamesAndMixedUnits) {
    TempDir tmp("aepipe-compare-mixed");
    std::string a = tiny_run(tmp, 2, "same"), v = tiny_run(tmp, 2, "vae", {}, "run", true);
    // A second run named "same" in another folder.
    TempDir tmp2("aepipe-compare-mixed2");
    std::string b = tiny_run(tmp2, 2, "same");
    ASSERT_FALSE(a.empty() || b.empty() || v.empty());
    RunResult r = run_aepipe({"compare", a, b, v, "--out", tmp / "cmp.html"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string h = read_bytes(tmp / "cmp.html");
    for (const auto &run : {a, b}) {
        std::string folder = fs::path(run).filename().string(), label = "same (" + folder.substr(5) + ")";
        if (fs::path(a).filename() == fs::path(b).filename())  // made in the same second
            label = "same (" + fs::path(run).lexically_normal().generic_string() + ")";
        EXPECT_TRUE(contains(h, "<td>" + label + "</td>")) << label;
        EXPECT_TRUE(contains(h, ">" + label + "</text>")) << label;            // the MSE legend
        EXPECT_TRUE(contains(h, ">" + label + " (mse)</text>")) << label;      // the train loss legend
        EXPECT_TRUE(contains(h, "<figcaption>" + label + ": recon.png")) << label;
    }
    EXPECT_TRUE(contains(h, "<td>vae</td>"));
    // Three plots: test MSE per pixel for all, train loss in MSE per pixel, train loss in nats per image.
    EXPECT_EQ(count_between(h, "id=\"curves\"", "id=\"final\"", "<svg x="), 3);
    EXPECT_TRUE(contains(h, ">train loss, squared error per pixel</text>"));
    EXPECT_TRUE(contains(h, ">train loss, nats per image</text>"));
    EXPECT_TRUE(contains(h, ">vae (bce + KL)</text>"));
}

// validate checks the data files too: each config is validated as shipped but reading tiny
// 28x28 data, so the test does not depend on data/mnist (a clean checkout has none).
TEST(RunReport, EveryShippedConfigHasAReportNodeAndValidates) {
    TempDir tmp("aepipe-shipped-validate");
    const TinyData d = write_tiny_data(tmp.path(), 64, 16, 28, false);
    for (const auto &e : fs::directory_iterator(std::string(AEPIPE_SOURCE_DIR) + "/configs")) {
        if (e.path().extension() != ".yaml") continue;
        std::string text = read_bytes(e.path().string());
        EXPECT_TRUE(contains(text, "type: report}")) << e.path();
        EXPECT_TRUE(contains(text, "- eval -> report\n")) << e.path();
        RunResult r = run_aepipe({"validate", shipped_config_on(e.path().stem().string(), d, tmp.path())});
        EXPECT_EQ(r.exit_code, 0) << e.path() << ": " << r.err;
    }
}

}  // namespace
}  // namespace aepipe::test
