// aepipe score: anomaly scores of a trained model's data, and how well they separate classes.
//   aepipe score --checkpoint RUN/model.safetensors [DATA] [--out DIR] [--normal-classes 0,1]
//                [--threshold-from TRAIN_DATA --percentile 99] [--k 8] [--blur R]
// The score of a sample is its reconstruction error: MSE per pixel (model inputs against the
// reconstruction, as test_mse_per_px), or for a VAE the negative ELBO of the image (its loss
// summed over the pixels plus the KL term, beta = 1: nats for BCE), a one-draw estimate decoded
// as evaluation decodes (the sample layer's `eval`: one fixed-seed draw of z, or mu).
// Writes DIR/scores.csv (index,label,error in input order), DIR/worst.png and DIR/best.png
// (the k highest and lowest scores: inputs above reconstructions), DIR/errors.svg (histogram)
// and DIR/summary.txt (ROC AUC, average precision, threshold figures). Every check comes before
// the first file is written.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <set>
#include <sstream>

#include "nodes/nn/sample.hpp"
#include "nodes/sink/anomaly.hpp"
#include "nodes/sink/image_grid.hpp"
#include "pipeline/cli/cli.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"
#include "nodes/data/infer_data.hpp"
#include "pipeline/report/svg_plot.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

namespace {

struct ScoreOptions {
    PrepOptions prep;  // how a folder of PNGs becomes model inputs
    std::string checkpoint, config, data, labels, out, threshold_from;
    std::vector<int64_t> normal;  // empty: no AUROC
    double percentile = 99;
    int64_t k = 8, batch = 256, zoom = 3;
    int64_t blur = 0;  // box-blur radius of the residual before its mean square (0: plain MSE)
};

// "0,1" or ranges "0-4,7": labels 0..255, each item a label or an inclusive range A-B (A <= B).
std::vector<int64_t> parse_classes(const std::string &text) {
    const auto bad = [&] {
        return po::error("--normal-classes '" + text +
                         "': expected labels 0..255 or ranges A-B separated by commas, e.g. 0,1 or 0-4,7");
    };
    const auto label = [&](const std::string &item) {
        size_t used = 0;
        int64_t c = -1;
        try {
            c = std::stoll(item, &used);
        } catch (const std::exception &) {
        }
        if (item.empty() || !std::isdigit(static_cast<unsigned char>(item[0])) || used != item.size() || c > 255) throw bad();
        return c;
    };
    std::vector<int64_t> v;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');) {
        const size_t dash = item.find('-');
        const int64_t lo = label(item.substr(0, dash)), hi = dash == std::string::npos ? lo : label(item.substr(dash + 1));
        if (hi < lo) throw bad();
        for (int64_t c = lo; c <= hi; ++c) v.push_back(c);
    }
    if (!text.empty() && text.back() == ',') throw bad();  // getline drops a trailing empty item
    if (v.empty()) throw po::error("--normal-classes is empty: name at least one label, e.g. 0");
    return v;
}

ScoreOptions parse_score(const std::vector<std::string> &args) {
    ScoreOptions o;
    po::options_description opts("aepipe score --checkpoint FILE [DATA] [options]");
    opts.add_options()("help,h", "show this help")("checkpoint", po::value<std::string>(&o.checkpoint),
                                                   "a trained model (RUN/model.safetensors)")(
        "config", po::value<std::string>(&o.config), "describe the model by this config (older checkpoints)")(
        "labels", po::value<std::string>(&o.labels), "IDX labels of DATA (default: the labels file beside it)")(
        "out", po::value<std::string>(&o.out)->default_value("scores"), "folder for the outputs")(
        "normal-classes", po::value<std::string>(),
        "labels of normal samples, e.g. 0,1 or 0-4: report ROC AUC and AP (the other labels are anomalies)")(
        "threshold-from", po::value<std::string>(&o.threshold_from),
        "normal data (IDX or PNG folder) to set a threshold")(
        "percentile", po::value<double>(&o.percentile), "the threshold: this percentile of those errors (default 99)")(
        "k", po::value<int64_t>(&o.k)->default_value(8), "images in worst.png and best.png")(
        "zoom", po::value<int64_t>(&o.zoom)->default_value(3), "pixel enlargement in the grids")(
        "batch", po::value<int64_t>(&o.batch)->default_value(256), "rows per forward pass")(
        "blur", po::value<int64_t>(&o.blur)->default_value(0),
        "score the residual box-blurred over (2 R + 1)^2 pixels: region errors count, pixel ones less");
    add_prep_options(opts);
    po::options_description hidden;
    hidden.add_options()("data", po::value<std::string>(&o.data));
    po::positional_options_description pos;
    pos.add("data", 1);
    auto vm = parse_with(args, opts, hidden, pos,
                         "Scores each sample of DATA (an IDX file, a folder of PNGs, or the run's test set when\n"
                         "omitted) by its reconstruction error: MSE per pixel, or a VAE's negative ELBO.\n"
                         "PNGs are prepared as by reconstruct (--fit, --invert); --raw feeds them as they are.\n");
    if (o.checkpoint.empty()) throw po::error("missing --checkpoint FILE (a run's model.safetensors)");
    o.prep = prep_options(vm);
    if (vm.count("normal-classes")) o.normal = parse_classes(vm["normal-classes"].as<std::string>());
    if (vm.count("percentile") && o.threshold_from.empty())
        throw po::error("--percentile sets the threshold from --threshold-from DATA, which is missing");
    if (!(o.percentile >= 0 && o.percentile <= 100)) throw po::error("--percentile must be within 0..100");
    if (o.k < 1 || o.batch < 1 || o.zoom < 1) throw po::error("--k, --batch and --zoom must be at least 1");
    // The grids are k images wide at zoom x their size: bounds that keep them a picture.
    if (o.k > 1000) throw po::error("--k must be at most 1000 (images in each grid)");
    if (o.zoom > 32) throw po::error("--zoom must be at most 32 (pixel enlargement in the grids)");
    if (o.blur < 0 || o.blur > 64) throw po::error("--blur must be within 0..64 (a radius in pixels)");
    return o;
}

// Reconstruction errors of every sample, and the reconstructions as bytes (N x dim).
struct Scored {
    std::vector<double> error;
    std::vector<uint8_t> recon;
};

Scored score_all(TrainedModel &t, const InferData &d, int64_t batch, int64_t blur) {
    Model &m = *t.model;
    const int64_t dim = d.dim(), vae = m.sample_layer();
    const Shape &sh = d.shape;
    Scored s{std::vector<double>(size_t(d.n)), std::vector<uint8_t>(size_t(d.n * dim))};
    Workspace ws(m, std::min(batch, d.n));
    std::vector<float> img(size_t(std::min(batch, d.n) * dim));
    for_batches(d, t.card.norm, batch, [&](int64_t b, int64_t rows, const float *x) {
        ws.prepare(rows);
        ws.begin_pass({0, -1, b, 1.0, false});
        const float *y = ws.forward(rows, x, t.params.data());
        m.loss().to_image(rows * dim, y, img.data());
        for (int64_t r = 0; r < rows; ++r) {
            double e = 0;
            if (vae >= 0) {  // negative ELBO: the per-image loss plus KL(q(z|x) || N(0, I))
                const int64_t k = m.layer(size_t(vae)).out_dim();
                const float *ml = ws.act(size_t(vae)) + r * 2 * k;
                e = m.loss().value(1, dim, y + r * dim, x + r * dim) + SampleLayer::kl_row(k, ml, ml + k);
            } else {
                e = blurred_mse(sh.h, sh.w, sh.c, img.data() + r * dim, x + r * dim, blur);
            }
            s.error[size_t(b + r)] = e;
            for (int64_t i = 0; i < dim; ++i) s.recon[size_t((b + r) * dim + i)] = t.card.norm.to_byte(img[size_t(r * dim + i)]);
        }
    });
    return s;
}

// A sample whose error is not finite (a diverged model's outputs overflow) has no place in a
// ranking, a histogram or a threshold: an error naming it, before any file is written.
void require_finite(const std::vector<double> &e, const std::string &source, const std::string &checkpoint) {
    const auto first = std::find_if(e.begin(), e.end(), [](double v) { return !std::isfinite(v); });
    if (first == e.end()) return;
    const auto bad = std::count_if(e.begin(), e.end(), [](double v) { return !std::isfinite(v); });
    throw RuntimeError(checkpoint + ": the reconstruction error of " + std::to_string(bad) + " of " +
                       std::to_string(e.size()) + " samples of " + source + " is not finite (the first: sample " +
                       std::to_string(first - e.begin()) + ", " + std::to_string(*first) +
                       "): the model's outputs overflow for them; it needs retraining");
}

// Which samples are anomalies under --normal-classes; the checks that make AUROC defined.
std::vector<bool> anomalies(const ScoreOptions &o, const InferData &d) {
    if (d.labels.empty())
        throw DataError(d.source, "--normal-classes needs the data's labels, and none were found" +
                                      std::string(d.pngs ? " (a folder of PNGs has none)" : ": pass --labels FILE"));
    const std::set<int64_t> have(d.labels.begin(), d.labels.end()), normal(o.normal.begin(), o.normal.end());
    for (int64_t c : o.normal)
        if (!have.count(c))
            throw po::error("--normal-classes names label " + std::to_string(c) + ", which no sample of " + d.source +
                            " has (labels present: " + labels_text(d.labels) + ")");
    std::vector<bool> a(size_t(d.n));
    for (int64_t i = 0; i < d.n; ++i) a[size_t(i)] = !normal.count(d.labels[size_t(i)]);
    if (std::find(a.begin(), a.end(), true) == a.end())
        throw po::error("--normal-classes covers every label of " + d.source + " (" + labels_text(d.labels) +
                        "): there is no anomaly to find");
    return a;
}

// The errors that set the threshold: of --threshold-from's normal samples (all of them when it
// has no labels or no --normal-classes was given).
std::vector<double> reference_errors(const ScoreOptions &o, TrainedModel &t) {
    const InferData r = load_infer_data(o.threshold_from, "", t.card, o.prep);
    const std::vector<double> all = score_all(t, r, o.batch, o.blur).error;
    require_finite(all, r.source, o.checkpoint);
    if (o.normal.empty() || r.labels.empty()) return all;
    const std::set<int64_t> normal(o.normal.begin(), o.normal.end());
    std::vector<double> kept;
    for (int64_t i = 0; i < r.n; ++i)
        if (normal.count(r.labels[size_t(i)])) kept.push_back(all[size_t(i)]);
    if (kept.empty())
        throw DataError(r.source, "--threshold-from: no sample has a label of --normal-classes (labels present: " +
                                      labels_text(r.labels) + ")");
    return kept;
}

std::string unit_of(const Model &m, int64_t blur) {
    if (m.sample_layer() >= 0) return "negative ELBO, " + m.loss().unit();
    const std::string side = std::to_string(2 * blur + 1);
    return blur ? "MSE per pixel of the residual box-blurred over " + side + "x" + side : "MSE per pixel";
}

// k samples with the highest (worst) or lowest (best) error: inputs above reconstructions.
Image extremes(const InferData &d, const Scored &s, int64_t k, bool worst, int64_t zoom) {
    std::vector<size_t> idx(s.error.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
        return worst ? s.error[a] > s.error[b] : s.error[a] < s.error[b];
    });
    std::vector<std::vector<const uint8_t *>> rows(2);
    for (size_t j = 0; j < idx.size() && int64_t(j) < k; ++j) {
        rows[0].push_back(d.pixels.data() + idx[j] * size_t(d.dim()));
        rows[1].push_back(s.recon.data() + idx[j] * size_t(d.dim()));
    }
    return tile_rows(rows, d.shape.h, d.shape.w, d.shape.c, zoom);
}

// Counts of errors in 40 bins, as steps; one series per kind when anomalies are known.
std::string histogram_svg(const std::vector<double> &e, const std::vector<bool> &anomaly, const std::string &unit) {
    const auto [lo_it, hi_it] = std::minmax_element(e.begin(), e.end());
    const double lo = *lo_it, width = std::max(*hi_it - lo, 1e-12) / 40;
    auto series = [&](const std::string &label, const std::string &colour, int want) {
        std::vector<double> counts(40, 0);
        for (size_t i = 0; i < e.size(); ++i)
            if (want < 0 || int(anomaly[i]) == want) counts[std::min<size_t>(39, size_t((e[i] - lo) / width))] += 1;
        Series s{label, {}, {}, colour};
        for (size_t b = 0; b < 40; ++b) {  // a step: flat across each bin
            s.x.push_back(lo + double(b) * width), s.y.push_back(counts[b]);
            s.x.push_back(lo + double(b + 1) * width), s.y.push_back(counts[b]);
        }
        return s;
    };
    std::vector<Series> all;
    if (anomaly.empty()) all.push_back(series("all samples", "#1f77b4", -1));
    else all = {series("normal", "#1f77b4", 0), series("anomalies", "#d62728", 1)};
    return svg_line_plot({"reconstruction errors", "error (" + unit + ")", "samples"}, all);
}

std::string scores_csv(const InferData &d, const std::vector<double> &e) {
    std::string out = "index,label,error\n";
    char b[64];
    for (int64_t i = 0; i < d.n; ++i) {
        std::snprintf(b, sizeof b, "%.9g", e[size_t(i)]);
        out += std::to_string(i) + "," + (d.labels.empty() ? "" : std::to_string(d.labels[size_t(i)])) + "," + b + "\n";
    }
    return out;
}

// The figures of summary.txt (also printed).
std::string summary(const ScoreOptions &o, const InferData &d, const std::vector<double> &e,
                    const std::vector<bool> &anomaly, const std::vector<double> &ref, const std::string &unit) {
    std::ostringstream s;
    s.precision(4);
    s << "data: " << d.source << " (" << d.n << " samples); error: " << unit << "\n";
    s << "mean error: " << std::accumulate(e.begin(), e.end(), 0.0) / double(e.size()) << "\n";
    if (!anomaly.empty()) {
        const auto n_anom = std::count(anomaly.begin(), anomaly.end(), true);
        s << "normal classes: " << labels_text(o.normal) << " (" << d.n - n_anom << " normal, " << n_anom
          << " anomalies)\n";
        char b[96];  // four decimals, as bench tables print them
        std::snprintf(b, sizeof b, "auroc: %.4f\naverage precision: %.4f\n", roc_auc(e, anomaly),
                      average_precision(e, anomaly));
        s << b;
    }
    if (!ref.empty()) {
        const double t = percentile(ref, o.percentile);
        s << "threshold: " << t << " (percentile " << o.percentile << " of " << ref.size() << " errors of "
          << o.threshold_from << (o.normal.empty() ? "" : ", its normal classes when it has labels") << ")\n";
        const auto flagged = std::count_if(e.begin(), e.end(), [&](double v) { return v > t; });
        s << "flagged: " << flagged << " of " << e.size() << "\n";
        if (!anomaly.empty()) {
            const Detection det = detect(e, anomaly, t);
            if (det.tp + det.fp == 0)  // 0/0: saying 0 would read as "every flag was wrong"
                s << "precision: undefined (no sample is above the threshold)\n";
            else
                s << "precision: " << det.precision() << "\n";
            s << "recall: " << det.recall() << "\n";
        }
    }
    return s.str();
}

}  // namespace

int cmd_score(const std::vector<std::string> &args) {
    const ScoreOptions o = parse_score(args);
    TrainedModel t = load_trained_model(o.checkpoint, o.config);
    if (o.blur && t.model->sample_layer() >= 0)
        throw po::error("--blur applies to reconstruction errors; a VAE is scored by its negative ELBO");
    const InferData d = load_infer_data(o.data, o.labels, t.card, o.prep);
    const std::vector<bool> anomaly = o.normal.empty() ? std::vector<bool>{} : anomalies(o, d);
    const Scored s = score_all(t, d, o.batch, o.blur);
    require_finite(s.error, d.source, o.checkpoint);
    const std::vector<double> ref = o.threshold_from.empty() ? std::vector<double>{} : reference_errors(o, t);
    const std::string unit = unit_of(*t.model, o.blur), text = summary(o, d, s.error, anomaly, ref, unit);
    const Image worst = extremes(d, s, o.k, true, o.zoom), best = extremes(d, s, o.k, false, o.zoom);

    std::vector<std::string> files;
    for (const char *f : {"scores.csv", "worst.png", "best.png", "errors.svg", "summary.txt"})
        files.push_back(o.out + "/" + f);
    check_output_files(files);
    fs::create_directories(o.out);
    write_file_atomic(o.out + "/scores.csv", scores_csv(d, s.error));
    write_png(o.out + "/worst.png", worst);
    write_png(o.out + "/best.png", best);
    write_file_atomic(o.out + "/errors.svg", histogram_svg(s.error, anomaly, unit));
    write_file_atomic(o.out + "/summary.txt", text);
    std::cout << text << "wrote " << o.out << "/scores.csv, worst.png, best.png (inputs above reconstructions), "
              << "errors.svg, summary.txt\n";
    return 0;
}

}  // namespace aepipe::cli
