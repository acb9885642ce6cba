// Run reports built from a run folder's files, shared by the `report` sink node (rewrites them
// after every epoch) and by `aepipe report RUN_DIR` / `aepipe compare RUN_A RUN_B ...`.
//
// A run folder may hold: config.yaml (resolved config), metrics.csv, *.png image grids
// (NAME.png after the last epoch, NAME_epoch<E>.png periodic), graph.dot / graph.svg,
// profile.csv (aepipe run --profile), bench.csv / bench_speedup.svg (thread scaling).
// The report is one HTML file with every picture inline (SVG markup or base64 data URIs):
// it can be mailed or moved on its own and reads offline.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace aepipe {

// One row of metrics.csv (the metrics node's columns).
struct EpochFigures {
    int64_t epoch = 0, steps = 0;  // epoch is 1-based
    double train_loss = 0, test_loss = 0, test_mse_per_px = 0, samples_per_s = 0, epoch_s = 0, eval_s = 0;
    bool psnr = false;  // denoising runs: the optional columns psnr_corrupt_db, psnr_restored_db
    double psnr_corrupt_db = 0, psnr_restored_db = 0;
    // Every other column of metrics.csv, in file order: a VAE's losses with their units and
    // their reconstruction and KL parts (vae_columns), or whatever a newer metrics node adds.
    std::vector<std::pair<std::string, double>> more = {};
    double get(const std::string &column, double fallback = NAN) const;  // a `more` value by name
};

// The loss's unit as the metrics node names it: "per_px" (mean over pixels), "per_img" (summed
// over an image's pixels, reduction: sum), with "nats_" in front for BCE.
std::string loss_unit(const YAML::Node &root);
// The unit in words for axis labels: "nats per image", "squared error per pixel".
std::string unit_words(const std::string &unit);
// Whether the config's model has a VAE's `sample` layer.
bool is_vae(const YAML::Node &root);
// A VAE's metrics.csv columns: train_U, train_recon_U, train_kl_nats_per_img, test_U, test_recon_U,
// test_kl_nats_per_img (U: its loss unit).
std::vector<std::pair<std::string, double>> vae_columns(const std::string &unit, double train_loss, double train_recon,
                                                        double train_kl, double test_loss, double test_recon,
                                                        double test_kl);

// Rows of metrics.csv text, by header name; DataError naming `path` when a column is missing.
std::vector<EpochFigures> parse_metrics_csv(const std::string &text, const std::string &path);
// RUN_DIR/metrics.csv, or nothing when the run has no such file.
std::vector<EpochFigures> read_metrics(const std::string &run_dir);

struct ReportOptions {
    std::string file = "report.html";  // names inside the run folder
    std::string curves = "loss.svg";
    bool log_scale = false;
    std::string bench_dir;  // an `aepipe bench` folder whose speedup plot and table to include
};
// The report node's settings from RUN_DIR/config.yaml (defaults when it has no report node).
ReportOptions report_options(const std::string &run_dir);

// The loss curves against the epoch, as standalone SVG: train and test loss (a VAE's test
// reconstruction and KL parts too) on an axis labelled with the loss's unit, and test MSE per
// pixel on its own axis when the loss is not MSE per pixel.
std::string loss_curves_svg(const std::vector<EpochFigures> &rows, bool log_scale, const std::string &loss_name,
                            const std::string &unit = "per_px");

// The newest image grid of each kind in a folder: NAME.png beats NAME_epoch<E>.png, and a
// higher E beats a lower one. Sorted by name.
// A grid's caption names what it shows and where it comes from: grids of the run's image_grid
// nodes (`grid_names`: their file names without .png) after which epoch; aepipe generate's
// samples / interpolate / manifold grids as such; anything else as not written by the run.
struct GridImage {
    std::string name, file;  // "recon", "recon.png"
    int64_t epoch = -1;      // -1: written after the last epoch
};
std::vector<GridImage> newest_images(const std::string &dir);
std::string grid_caption(const GridImage &g, const std::vector<std::string> &grid_names);
// The run's image_grid nodes' file names without .png (recon.png when a node sets no `file`).
std::vector<std::string> grid_names(const YAML::Node &root);

std::string run_report_html(const std::string &run_dir, const std::vector<EpochFigures> &rows,
                            const ReportOptions &o);
// Writes RUN_DIR/<curves> and RUN_DIR/<file>, each atomically.
void write_run_report(const std::string &run_dir, const std::vector<EpochFigures> &rows, const ReportOptions &o);

// One page comparing runs: overlaid curves, final figures and newest image grids side by side.
// `out_file` is where the page will be written (links to the runs' reports are relative to it).
std::string compare_html(const std::vector<std::string> &run_dirs, const std::string &out_file, bool log_scale);
// Labels for compared runs, one per run, all made the same way: the run's name (config `name`,
// else its folder), and for names that repeat, each of them followed by what tells it apart:
// "mnist_ae (20261206-192301)" from folder mnist_ae-20261206-192301, else its path, else "#k".
std::vector<std::string> compare_labels(const std::vector<std::string> &names, const std::vector<std::string> &folders,
                                        const std::vector<std::string> &dirs);

// Implemented by the report node; aepipe run refreshes it after writing the profile files.
class RunReportSink {
public:
    virtual ~RunReportSink() = default;
    virtual void refresh() = 0;
};

}  // namespace aepipe
