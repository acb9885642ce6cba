// aepipe: the command-line front end. Thin: parse arguments, load and validate the config,
// run the pipeline, map errors to exit codes (0 ok, 1 runtime error, 2 config/usage error).
#include <omp.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <thread>

#include "pipeline/cli/cli.hpp"
#include "pipeline/denormals.hpp"
#include "pipeline/dist.hpp"
#include "nodes/sink/model_card.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/cli/fma_probe.hpp"
#include "pipeline/report/report.hpp"

using namespace aepipe;
using namespace aepipe::cli;
namespace fs = std::filesystem;



namespace {

const char *kUsageNotes = R"(
Overrides address any config value by path, e.g. train.epochs=3 model.layers[2].units=32
graph.nodes[test_set].images=/data/t10k-images-idx3-ubyte.gz name=fashion_ae. Relative paths in a
config file are relative to its folder; in an override, to the current folder.
aepipe list-nodes prints every key a config can hold.

Exit codes: 0 success, 1 runtime error (data, I/O, divergence), 2 config or usage error,
130 / 143 stopped by SIGINT / SIGTERM after writing a checkpoint (the resume command is printed).
)";

// profile.txt/.csv and trace.json into run_dir, the table on the console; `peak` is the FMA
// probe at the run's thread count.
void write_profile(Pipeline &p, const std::string &run_dir, int threads, const FmaPeak &peak) {
    const auto &prof = p.profiler();
    auto stats = prof.stats(p.probe_infos());
    std::string table = prof.table(stats) + prof.training_summary();
    if (const double sps = prof.training_samples_per_s(); sps > 0) {
        const double flops = build_model(card_of(p), "the model")->flops_per_sample().train();
        table += "limit: " + std::to_string(int64_t(flops)) + " FLOP per training sample: " +
                 share_of_peak(sps, flops, peak) + "\n";
    }
    write_file_atomic(run_dir + "/profile.txt", table);
    write_file_atomic(run_dir + "/profile.csv", prof.csv(stats));
    write_file_atomic(run_dir + "/trace.json", prof.trace_json(p.probe_infos()));
    p.console().line("profile (" + std::to_string(threads) + " threads):\n" + table + "trace: " + run_dir +
                     "/trace.json (open in ui.perfetto.dev or chrome://tracing)");
    // The report node wrote its last page before the profile existed.
    for (const auto &n : p.nodes())
        if (auto *r = dynamic_cast<RunReportSink *>(n.get())) r->refresh();
}

static po::options_description run_options(bool profile) {
    po::options_description opts(std::string("aepipe ") + (profile ? "profile" : "run") +
                                 " CONFIG [key=value ...] [options]");
    opts.add_options()("help,h", "show this help")("threads", po::value<std::string>(),
                                                   "compute threads (sets train.threads; default: every core this process may use)")(
        "seed", po::value<int64_t>(), "random seed (sets train.seed)")(
        "out", po::value<std::string>()->default_value("runs"), "parent folder of the run folder")(
        "profile", "record every node execution: profile.txt/.csv and trace.json (Chrome trace) in the run folder")(
        "quiet,q", "print errors only")(
        "name", po::value<std::string>(), "name of the run folder OUT/NAME-DATE-TIME (sets the config's name; "
                                          "default: the config's name:, else the file's name)")(
        "resume", po::value<std::string>(), "continue RUN_DIR (or 'auto': the newest run of CONFIG in --out) from its newest valid checkpoint")(
        "init-from", po::value<std::string>(), "start a new run from the weights of a .ckpt or .safetensors (fine-tuning)");
    return opts;
}

// What the command line sets for the run, besides the config's keys.
static RunSettings run_settings(const Common &c, const po::variables_map &vm, bool profile) {
    RunSettings s;
    s.tty = stdout_is_terminal();
    const bool writer = dist::rank() == 0;  // under mpirun only rank 0 writes and talks
    s.quiet = vm.count("quiet") > 0 || !writer;
    s.profile = writer && (profile || vm.count("profile") > 0);
    try {
        s.test_hooks = parse_test_hooks(c.test_hooks);
    } catch (const std::invalid_argument &e) {
        throw po::error(e.what());
    }
    if (vm.count("resume") && vm.count("init-from")) throw po::error("--resume and --init-from exclude each other");
    if (vm.count("init-from")) s.init_from = vm["init-from"].as<std::string>();  // checked by preflight
    return s;
}

// The run folder: the resumed one, or a new one (locked by rank 0); "" on the other ranks.
static std::string open_run_dir(Pipeline &p, const ConfigFile &cfg, const Common &c, const po::variables_map &vm,
                                RunLock &lock) {
    const bool writer = dist::rank() == 0;
    std::string dir;
    if (vm.count("resume")) {
        // Under mpirun every rank reads the same checkpoint (the run folder must be visible to
        // all hosts); only rank 0 writes into the folder.
        dir = prepare_resume(cfg, c.config, vm["resume"].as<std::string>(), vm["out"].as<std::string>(),
                             p.mutable_settings(), p.console(), writer ? &lock : nullptr);
    } else {
        p.mutable_settings().init_from = vm.count("init-from") ? vm["init-from"].as<std::string>() : "";
        if (writer) dir = make_run_dir(vm["out"].as<std::string>(), run_name(cfg, c.config));
        if (writer) lock = RunLock(dir);
    }
    if (!writer) return "";
    p.set_run_dir(dir);
    save_resolved(cfg, dir);
    return dir;
}

int cmd_run(std::vector<std::string> args, bool profile) {
    Common c;
    po::options_description opts = run_options(profile);
    auto vm = parse(args, opts, c,
                    std::string(profile ? "aepipe profile is aepipe run --profile (see --profile below).\n" : "") +
                        "Trains the model of CONFIG. Each run writes config.yaml, metrics.csv, metrics.jsonl,\n"
                        "image grids and checkpoints into its own folder OUT/NAME-DATE-TIME.\n");
    install_stop_handlers();  // from the start: SIGINT/SIGTERM are honoured in every phase
    set_stop_phase("start-up (reading the config and the data headers)", true);
    ConfigFile cfg = load(c, vm);
    RunSettings s = run_settings(c, vm, profile);
    Pipeline p(cfg, s);  // validates everything before anything is created on disk
    p.preflight();       // and the data files exist
    dist::barrier();     // on every rank (one that fails ends the job before rank 0 writes)
    RunLock lock;  // one run folder, one writer: held by rank 0 until the process ends
    s.run_dir = open_run_dir(p, cfg, c, vm, lock);
    const int threads = p.compute_threads();
    // oneDNN runs each primitive on the OpenMP team of the calling thread; TBB runs the graph.
    // Both get `threads`: compute nodes are serial, so one OpenMP team is busy at a time,
    // and the data nodes' TBB work is small next to it.
    p.console().line("run: " + s.run_dir + " (" + std::to_string(threads) + " threads" +
                     (dist::parallel() ? " x " + std::to_string(dist::size()) + " MPI ranks" : "") +
                     (p.settings().precision == Precision::BF16 ? ", bf16 matmuls and convolutions" : "") + ")");
    // The probe before the run, as bench takes it: after it, the run's own threads (OpenMP
    // workers still spinning, the evaluation's) could share the cores with it (measured once at
    // 136 GFLOP/s instead of about 230 on 2 threads).
    const FmaPeak peak = s.profile ? measure_fma_peak(threads) : FmaPeak{};
    auto t0 = std::chrono::steady_clock::now();
    try {
        p.run();
    } catch (const Interrupted &e) {
        p.console().end_progress();
        return interrupted_exit(e, resume_command(args, s.run_dir), s.run_dir);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s.profile) write_profile(p, s.run_dir, threads, peak);
    p.console().line("done in " + std::to_string(int(secs + 0.5)) + " s: " + s.run_dir);
    return 0;
}

int cmd_validate(const std::vector<std::string> &args) {
    Common c;
    po::options_description opts("aepipe validate CONFIG [key=value ...]");
    opts.add_options()("help,h", "show this help");
    auto vm = parse(args, opts, c,
                    "Checks CONFIG without running it: everything `run` checks before training (keys, types,\n"
                    "value ranges, nodes, edges, the graph's shape, layer sizes, the data files and their\n"
                    "headers, the estimated memory).\n");
    ConfigFile cfg = load(c, vm);
    Pipeline p(cfg, RunSettings{});
    p.preflight();  // the same checks as run's, so the two cannot drift
    std::cout << c.config << ": ok (" << p.nodes().size() << " nodes, " << p.edges().size() << " edges)\n";
    return 0;
}

int cmd_run_plain(const std::vector<std::string> &args) { return cmd_run(args, false); }
int cmd_profile(const std::vector<std::string> &args) { return cmd_run(args, true); }

struct Command {
    const char *name;
    int (*run)(const std::vector<std::string> &);
};
const Command kCommands[] = {{"run", cmd_run_plain},         {"profile", cmd_profile},
                             {"bench", cmd_bench},           {"validate", cmd_validate},
                             {"graph", cmd_graph},           {"report", cmd_report},
                             {"compare", cmd_compare},       {"reconstruct", cmd_reconstruct},
                             {"data", cmd_data},             {"generate", cmd_generate},
                             {"encode", cmd_encode},         {"score", cmd_score},
                             {"list-nodes", cmd_list_nodes}};

// Options as a wrapped list under a command's title (the command's --help has their docs).
std::string option_list(const std::vector<std::string> &options) {
    std::string out, line = "     ";
    for (const auto &o : options) {
        if (o == "--help") continue;  // one line says COMMAND --help
        if (line.size() + o.size() > 98) out += line + "\n", line = "     ";
        line += " " + o;
    }
    return line.size() > 5 ? out + line + "\n" : out;
}

// The top-level usage, from each command's own --help page: nothing to keep in sync by hand.
std::string usage() {
    std::string u = "aepipe: train autoencoders as a oneTBB flow graph of oneDNN nodes\n\nusage:\n";
    for (const Command &c : kCommands) try {
            c.run({"--help"});
            throw std::logic_error(std::string("aepipe ") + c.name + " --help printed no help");
        } catch (const HelpRequested &h) {
            u += "  " + h.title + "\n" + option_list(h.options);
        }
    return u + "  aepipe COMMAND --help    (what COMMAND does, each option with its default)\n" + kUsageNotes;
}

}  // namespace

// Under mpirun every rank reports its own error and ends the whole job (the others would
// wait for it in a collective); alone, main returns the exit code.
int fail(int code, const std::string &message) {
    if (dist::parallel()) dist::abort(message, code);
    std::cout.flush();
    std::cerr << message << "\n";
    return code;
}

int main(int argc, char **argv) {
    flush_denormals_to_zero();  // before any thread starts: they inherit it (pipeline/denormals.hpp)
    dist::init(argc, argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << usage();
        return args.empty() ? 2 : 0;
    }
    std::string cmd = args[0];
    args.erase(args.begin());
    try {
        for (const Command &c : kCommands)
            if (cmd == c.name) return c.run(args);
        std::vector<std::string> names;
        for (const Command &c : kCommands) names.push_back(c.name);
        const std::string near = nearest(cmd, names);
        std::cerr << "aepipe: unknown command '" << cmd << "'" << (near.empty() ? "" : " (did you mean '" + near + "'?)")
                  << "\n\n" << usage();
        return 2;
    } catch (const HelpRequested &h) {
        std::cout << h.text;
        return 0;
    } catch (const ConfigError &e) {
        return fail(2, e.what());
    } catch (const po::error &e) {
        return fail(2, "aepipe " + cmd + ": " + e.what() + " (see aepipe " + cmd + " --help)");
    } catch (const DataError &e) {  // already "PATH: byte N: error: ..."
        return fail(1, e.what());
    } catch (const std::bad_alloc &) {  // outside any node (nodes name themselves)
        return fail(1, "error: aepipe " + cmd + ": out of memory (" + human_bytes(available_memory()) +
                           " available); lower train.batch or the layer sizes, or set train.max_memory");
    } catch (const std::exception &e) {
        return fail(1, std::string("error: ") + e.what());
    }
}
