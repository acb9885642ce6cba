// aepipe bench: training throughput of the real pipeline at several thread counts.
// Each (round, threads) builds the graph afresh and trains two epochs, timing the second from
// the training node's step clock (the measure of aepipe run's epoch lines, evaluation of the
// epoch before included), or, with --steps, warmup + steps steps (train.max_steps), timing
// those after the warm-up. Reports the median of the repeats, speedup over 1 thread (measured even when not
// listed) and parallel efficiency; writes bench.csv and bench_speedup.svg into
// OUT/NAME-bench-DATE. Each run's figure is printed as it comes: a bench takes minutes.
// Beside each row: the model's GFLOP/s at that throughput, its share of the f32 FMA peak
// measured at that thread count just before (pipeline/cli/fma_probe.hpp), and the probe's own
// speedup, so the pipeline's scaling can be read against the hardware's.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "pipeline/cli/cli.hpp"
#include "pipeline/cores.hpp"
#include "pipeline/dist.hpp"
#include "pipeline/file_io.hpp"
#include "nodes/data/idx_reader.hpp"
#include "nodes/sink/model_card.hpp"
#include "pipeline/cli/fma_probe.hpp"
#include "pipeline/report/svg_plot.hpp"

namespace aepipe::cli {

// The counts in ascending order, without repeats, with 1 added: speedup and efficiency are
// relative to one thread whatever order the counts were given in.
static std::vector<int> parse_threads(const std::string &s) {
    std::vector<int> v{1};
    std::stringstream ss(s);
    std::string tok;
    while (std::getline(ss, tok, ',')) {
        if (tok.empty() || tok.find_first_not_of("0123456789") != std::string::npos || std::stoi(tok) < 1)
            throw ConfigError({"command line", 0, 0}, "--threads takes a list of positive counts such as 1,2,4, got '" + s + "'");
        v.push_back(std::stoi(tok));
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// What a run times: `steps` steps after `warmup` untimed ones, or (steps = 0, the default)
// the second epoch after the first. An epoch's window holds the work the epoch lines of
// aepipe run carry: the previous epoch's evaluation runs beside it.
struct Window {
    int64_t warmup = 20, steps = 0;
};
// Epoch windows: an epoch of more steps is refused before any run (a bench run should take
// seconds, not hours), and a run stops after twice this many steps (a reader whose size is
// not known up front).
constexpr int64_t kMaxEpochSteps = 20000;

// The training steps of an epoch of p's training set, from the idx_reader up the training
// node's input (the last batch may be partial); -1 when no such reader tells its size.
static int64_t epoch_steps(const Pipeline &p) {
    for (const auto &n : p.nodes()) {
        if (n->spec().type != "train") continue;
        for (FlowNode *up = p.upstream(n->id(), "in"); up; up = p.feeder(*up))
            if (const int64_t k = idx_samples(*up); k >= 0) {
                const int64_t b = std::max<int64_t>(1, p.settings().batch);
                return (k + b - 1) / b;
            }
    }
    return -1;
}

// One timed run: the samples of the window's steps and the seconds they took.
struct Timed {
    int64_t samples = 0;
    double seconds = 0;
    double per_s() const { return double(samples) / seconds; }
};
static Timed bench_once(const ConfigFile &base, int threads, const Window &w) {
    ConfigFile cfg = base;
    cfg.root = YAML::Clone(base.root);
    const bool epochs = w.steps == 0;
    const int64_t cap = epochs ? 2 * kMaxEpochSteps : w.warmup + w.steps;
    apply_override(cfg, "train.threads=" + std::to_string(threads));
    apply_override(cfg, "train.max_steps=" + std::to_string(cap));
    apply_override(cfg, std::string("train.epochs=") + (epochs ? "2" : "1000000"));
    RunSettings s;
    s.quiet = true;
    Pipeline p(cfg, s);
    p.step_marks().reserve(size_t(cap));
    p.run();
    const auto &t = p.step_marks();
    size_t first = 0, last = 0;  // the marks that open and close the window
    if (epochs) {
        if (t.size() % 2 || int64_t(t.size()) == cap)
            throw RuntimeError("bench: an epoch of this config takes more than " + std::to_string(kMaxEpochSteps) +
                               " steps; time a part of one with --steps N");  // its size was not known up front
        first = t.size() / 2 - 1, last = t.size() - 1;
    } else {
        if (int64_t(t.size()) < cap)
            throw RuntimeError("bench: the run ended after " + std::to_string(t.size()) + " steps, fewer than " +
                               std::to_string(cap));
        first = size_t(w.warmup - 1), last = size_t(cap - 1);
    }
    return {t[last].samples - t[first].samples, t[last].seconds - t[first].seconds};
}

std::string bench_header(bool limit) {
    char line[192];
    std::snprintf(line, sizeof line, "%8s %14s %14s %14s %9s %11s%s\n", "threads", "samples/s", "min", "max", "speedup",
                  "efficiency", limit ? "   GFLOP/s  %peak  peak GFLOP/s  peak speedup" : "");
    return line;
}

std::string bench_row(int threads, const std::vector<double> &runs, double one_thread, const BenchLimit &limit) {
    const double med = median(runs), lo = *std::min_element(runs.begin(), runs.end()),
                 hi = *std::max_element(runs.begin(), runs.end()), speed = med / one_thread;
    char line[256];
    std::snprintf(line, sizeof line, "%8d %14.0f %14.0f %14.0f %9.2f %10.0f%%", threads, med, lo, hi, speed,
                  100 * speed / threads);
    std::string row = line;
    if (limit.flops_per_sample > 0) {
        const double gflops = med * limit.flops_per_sample / 1e9;
        std::snprintf(line, sizeof line, " %9.1f %5.0f%% %13.1f %13.2f", gflops,
                      limit.peak_gflops > 0 ? 100 * gflops / limit.peak_gflops : 0.0, limit.peak_gflops,
                      limit.peak_one > 0 ? limit.peak_gflops / limit.peak_one : 0.0);
        row += line;
    }
    row += "\n";
    if (hi > kBenchSpreadWarn * lo) {
        std::snprintf(line, sizeof line,
                      "warning: %d threads: the repeats range from %.0f to %.0f samples/s (max/min %.2f > %.2f): "
                      "the machine was busy or the runs too short; the median is unreliable (raise --steps or "
                      "--repeats on an idle machine)\n",
                      threads, lo, hi, hi / lo, kBenchSpreadWarn);
        row += line;
    }
    return row;
}

static po::options_description bench_options() {
    po::options_description opts("aepipe bench CONFIG [key=value ...] [options]");
    opts.add_options()("help,h", "show this help")("threads", po::value<std::string>()->default_value("1,2"),
                                                   "thread counts to measure, e.g. 1,2,4,8,16")(
        "steps", po::value<int64_t>(),
        "timed training steps per run (default: a whole epoch, the second, after the first as warm-up)")(
        "warmup", po::value<int64_t>(), "with --steps: untimed steps first (primitive creation, caches; default 20)")(
        "repeats", po::value<int>()->default_value(3), "runs per thread count; the median is reported")(
        "out", po::value<std::string>()->default_value("runs"), "parent folder of the bench folder")(
        "name", po::value<std::string>(), "the bench folder is OUT/NAME-bench-DATE-TIME (default: the config's name)");
    return opts;
}

std::string oversubscribed_warning(const std::vector<int> &counts, int cores) {
    std::string over;
    for (int t : counts)
        if (t > cores) over += (over.empty() ? "" : ",") + std::to_string(t);
    if (over.empty()) return "";
    return "warning: --threads " + over + ": more threads than the " + std::to_string(cores) +
           " cores of this machine; those rows measure threads taking turns on the cores, not scaling\n";
}

// What the runs at every thread count measured: the CSV rows, the table, and per count the
// FMA probe's median GFLOP/s and the median samples/s.
struct BenchRuns {
    std::string csv = "threads,repeat,samples_per_s,peak_gflops,timed_samples,timed_s\n", table = bench_header(true);
    std::vector<double> peaks, med;
};

// Rounds: each round probes and runs every count in turn, so a busy spell of the machine
// (a shared host taking a core for a minute) falls on every count alike instead of on
// whichever count happened to run then; the medians over the rounds give the rows. Each run
// follows its own FMA probe at that count: the probe's figure is the peak the run could reach.
static BenchRuns run_counts(const ConfigFile &cfg, const std::vector<int> &counts, const Window &w, int repeats,
                            BenchLimit limit) {
    BenchRuns b;
    std::vector<std::vector<double>> runs(counts.size()), peaks(counts.size());
    for (int r = 0; r < repeats; ++r)
        for (size_t i = 0; i < counts.size(); ++i) {
            const int t = counts[i];
            peaks[i].push_back(measure_fma_peak(t).gflops);
            std::printf("  FMA probe at %d threads: %.1f GFLOP/s (%s)\n", t, peaks[i].back(), fma_isa().c_str());
            const Timed run = bench_once(cfg, t, w);
            runs[i].push_back(run.per_s());
            b.csv += std::to_string(t) + "," + std::to_string(r) + "," + std::to_string(runs[i].back()) + "," +
                     std::to_string(peaks[i].back()) + "," + std::to_string(run.samples) + "," +
                     std::to_string(run.seconds) + "\n";
            std::printf("  run %d of %d at %d threads: %.0f samples/s\n", r + 1, repeats, t, runs[i].back());
            std::fflush(stdout);
        }
    for (size_t i = 0; i < counts.size(); ++i) {
        b.peaks.push_back(median(peaks[i]));
        b.med.push_back(median(runs[i]));
        limit.peak_gflops = b.peaks.back(), limit.peak_one = b.peaks.front();
        b.table += bench_row(counts[i], runs[i], b.med.front(), limit);  // counts.front() is 1
    }
    return b;
}

// The pipeline's scaling beside the hardware's own (the FMA probe) and the linear ideal.
static void write_speedup_plot(const std::string &dir, const std::vector<int> &counts, const BenchRuns &b) {
    Series measured{"aepipe training", {}, {}}, hardware{"FMA probe (hardware)", {}, {}, "#d62728"},
        ideal{"linear", {}, {}, "#999999", true};
    for (size_t i = 0; i < counts.size(); ++i) {
        measured.x.push_back(counts[i]), measured.y.push_back(b.med[i] / b.med.front());
        hardware.x.push_back(counts[i]), hardware.y.push_back(b.peaks[i] / b.peaks.front());
        ideal.x.push_back(counts[i]), ideal.y.push_back(double(counts[i]) / counts.front());
    }
    write_file_atomic(dir + "/bench_speedup.svg",
                      svg_line_plot({"speedup over 1 thread: training and the FMA probe", "threads",
                                     "speedup (median samples/s ratio; probe GFLOP/s ratio)"},
                                    {measured, hardware, ideal}));
}

int cmd_bench(const std::vector<std::string> &args) {
    Common c;
    po::options_description opts = bench_options();
    auto vm = parse(args, opts, c,
                    "Measures training samples/s of CONFIG's pipeline at each thread count (median of repeats),\n"
                    "with speedup and parallel efficiency over 1 thread (measured too when not listed); writes\n"
                    "bench.csv and bench_speedup.svg. samples/s: training steps only, from the first timed step's\n"
                    "start to the last one's end, as in aepipe run's epoch lines.\n");
    if (dist::parallel())  // every rank would write its own bench folder
        throw ConfigError({"command line", 0, 0}, "aepipe bench measures one process; run it without mpirun",
                          "bench/mpi_scaling.sh measures training across MPI ranks");
    ConfigFile cfg = load(c, vm);
    std::vector<int> counts = parse_threads(vm["threads"].as<std::string>());
    Window w;
    if (vm.count("steps")) {
        w.steps = vm["steps"].as<int64_t>();
        if (w.steps < 1) throw ConfigError({"command line", 0, 0}, "--steps must be at least 1");
        if (vm.count("warmup")) w.warmup = std::max<int64_t>(1, vm["warmup"].as<int64_t>());
    } else if (vm.count("warmup")) {
        throw ConfigError({"command line", 0, 0}, "--warmup goes with --steps",
                          "without --steps bench times the second epoch, after the first as warm-up");
    }
    int repeats = std::max(1, vm["repeats"].as<int>());
    BenchLimit limit;
    {
        Pipeline check(cfg, RunSettings{});  // config errors before any work
        limit.flops_per_sample = build_model(card_of(check), "the model")->flops_per_sample().train();
        if (const int64_t e = epoch_steps(check); w.steps == 0 && e > kMaxEpochSteps)
            throw ConfigError({"command line", 0, 0},
                              "bench times a whole epoch by default, and an epoch of this config is " +
                                  std::to_string(e) + " steps (more than " + std::to_string(kMaxEpochSteps) + ")",
                              "time a part of one: --steps 500 (after --warmup 20 steps)");
    }

    std::string dir = make_run_dir(vm["out"].as<std::string>(), run_name(cfg, c.config) + "-bench");
    const std::string window = w.steps ? std::to_string(w.steps) + " steps after " + std::to_string(w.warmup) + " warm-up"
                                       : "epoch 2 (after epoch 1 as warm-up)";
    std::printf("bench: %s, %d run(s) at each of", window.c_str(), repeats);
    for (int t : counts) std::printf(" %d", t);
    std::printf(" threads\n");
    std::fflush(stdout);
    std::fputs(oversubscribed_warning(counts, usable_cores()).c_str(), stderr);
    const BenchRuns runs = run_counts(cfg, counts, w, repeats, limit);
    std::fputs(runs.table.c_str(), stdout);
    write_file_atomic(dir + "/bench.csv", runs.csv);
    write_speedup_plot(dir, counts, runs);
    std::printf("timed: %s, median of %d; wrote %s/bench.csv and bench_speedup.svg\n", window.c_str(), repeats,
                dir.c_str());
    return 0;
}

}  // namespace aepipe::cli
