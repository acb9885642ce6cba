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

#include "pipeline/cli.hpp"
#include "pipeline/dist.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/report.hpp"

using namespace aepipe;
using namespace aepipe::cli;
namespace fs = std::filesystem;



namespace {

const char *kUsage = R"(aepipe: train autoencoders as a oneTBB flow graph of oneDNN nodes

usage:
  aepipe run CONFIG [key=value ...] [--threads N] [--seed S] [--out DIR] [--profile] [--quiet]
             [--resume RUN_DIR|auto] [--init-from CHECKPOINT]
  aepipe profile CONFIG [key=value ...]     (= run --profile)
  aepipe bench CONFIG [key=value ...] --threads 1,2,4 [--steps N] [--warmup N] [--repeats N]
  aepipe validate CONFIG [key=value ...]
  aepipe graph CONFIG [key=value ...] [--svg FILE]   (Graphviz DOT of the flow graph)
  aepipe report RUN_DIR [--log-scale] [--bench BENCH_DIR]   (rebuild RUN_DIR/report.html)
  aepipe compare RUN_A RUN_B ... [--out FILE] [--log-scale]
  aepipe reconstruct --checkpoint RUN/model.safetensors IMAGE.png ... [--config FILE] [--out DIR]
  aepipe data pack DIR --out NAME [--size HxW] [--gray|--rgb] [--test-split F]   (PNG folder -> IDX)
  aepipe generate --checkpoint FILE [--n 64] [--seed S] [--interpolate A,B] [--manifold N]   (VAE)
  aepipe encode --checkpoint FILE [DATA] [--out codes.npy]   (codes for NumPy + a latent picture)
  aepipe score --checkpoint FILE [DATA] [--out DIR] [--normal-classes 0,1] [--threshold-from DATA]
  aepipe list-nodes
  aepipe COMMAND --help

Overrides address any config value by path, e.g. train.epochs=3 model.layers[2].units=32
graph.nodes[0].images=/data/train-images-idx3-ubyte.gz. Relative paths in a config are
relative to the config file's folder.

Exit codes: 0 success, 1 runtime error (data, I/O, divergence), 2 config or usage error,
130 / 143 stopped by SIGINT / SIGTERM after writing a checkpoint (the resume command is printed).
)";

int cmd_run(std::vector<std::string> args, bool profile) {
    Common c;
    po::options_description opts("aepipe run CONFIG [key=value ...] [options]");
    opts.add_options()("help,h", "show this help")("threads", po::value<std::string>(),
                                                   "compute threads (sets train.threads; default: all cores)")(
        "seed", po::value<int64_t>(), "random seed (sets train.seed)")(
        "out", po::value<std::string>()->default_value("runs"), "parent folder of the run folder")(
        "profile", "record every node execution: profile.txt/.csv and trace.json (Chrome trace) in the run folder")(
        "quiet,q", "print errors only")(
        "resume", po::value<std::string>(), "continue RUN_DIR (or 'auto': the newest run of CONFIG in --out) from its newest valid checkpoint")(
        "init-from", po::value<std::string>(), "start a new run from the weights of a .ckpt or .safetensors (fine-tuning)");
    auto vm = parse(args, opts, c,
                    "Trains the model of CONFIG. Each run writes config.yaml, metrics.csv, metrics.jsonl,\n"
                    "image grids and checkpoints into its own folder OUT/NAME-DATE-TIME.\n");
    ConfigFile cfg = load(c, vm);
    RunSettings s;
    s.tty = ::isatty(STDOUT_FILENO);
    const bool writer = dist::rank() == 0;  // under mpirun only rank 0 writes and talks
    s.quiet = vm.count("quiet") > 0 || !writer;
    s.profile = writer && (profile || vm.count("profile") > 0);
    if (vm.count("resume") && vm.count("init-from")) throw po::error("--resume and --init-from exclude each other");
    Pipeline p(cfg, s);  // validates everything before anything is created on disk
    p.preflight();       // and the data files exist
    dist::barrier();     // on every rank (one that fails ends the job before rank 0 writes)
    if (vm.count("resume")) {
        // Under mpirun every rank reads the same checkpoint (the run folder must be visible to
        // all hosts); only rank 0 writes into the folder.
        s.run_dir = prepare_resume(cfg, c.config, vm["resume"].as<std::string>(), vm["out"].as<std::string>(),
                                   p.mutable_settings(), p.console());
    } else {
        p.mutable_settings().init_from = vm.count("init-from") ? vm["init-from"].as<std::string>() : "";
        if (writer) s.run_dir = make_run_dir(vm["out"].as<std::string>(), run_name(cfg, c.config));
    }
    if (!writer) s.run_dir.clear();
    const int threads = p.compute_threads();
    if (writer) {
        p.set_run_dir(s.run_dir);
        save_resolved(cfg, s.run_dir);
    }
    // oneDNN runs each primitive on the OpenMP team of the calling thread; TBB runs the graph.
    // Both get `threads`: compute nodes are serial, so one OpenMP team is busy at a time,
    // and the data nodes' TBB work is small next to it.
    p.console().line("run: " + s.run_dir + " (" + std::to_string(threads) + " threads" +
                     (dist::parallel() ? " x " + std::to_string(dist::size()) + " MPI ranks" : "") + ")");
    auto t0 = std::chrono::steady_clock::now();
    install_stop_handlers();
    try {
        p.run();
    } catch (const Interrupted &e) {
        p.console().end_progress();
        return interrupted_exit(e, resume_command(args, s.run_dir));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s.profile) {
        const auto &prof = p.profiler();
        auto stats = prof.stats(p.probe_infos());
        std::string table = prof.table(stats);
        write_file_atomic(s.run_dir + "/profile.txt", table);
        write_file_atomic(s.run_dir + "/profile.csv", prof.csv(stats));
        write_file_atomic(s.run_dir + "/trace.json", prof.trace_json(p.probe_infos()));
        p.console().line("profile (" + std::to_string(threads) + " threads):\n" + table + "trace: " + s.run_dir +
                         "/trace.json (open in ui.perfetto.dev or chrome://tracing)");
        // The report node wrote its last page before the profile existed.
        for (const auto &n : p.nodes())
            if (auto *r = dynamic_cast<RunReportSink *>(n.get())) r->refresh();
    }
    p.console().line("done in " + std::to_string(int(secs + 0.5)) + " s: " + s.run_dir);
    return 0;
}

int cmd_validate(const std::vector<std::string> &args) {
    Common c;
    po::options_description opts("aepipe validate CONFIG [key=value ...]");
    opts.add_options()("help,h", "show this help");
    auto vm = parse(args, opts, c, "Checks CONFIG (keys, types, nodes, edges, layer sizes) without running it.\n");
    ConfigFile cfg = load(c, vm);
    Pipeline p(cfg, RunSettings{});
    std::cout << c.config << ": ok (" << p.nodes().size() << " nodes, " << p.edges().size() << " edges)\n";
    return 0;
}

int cmd_list_nodes() {
    for (Category cat : {Category::Data, Category::Compute, Category::Sink, Category::Layer, Category::Loss,
                         Category::Optimizer}) {
        std::cout << "== " << category_name(cat) << (cat <= Category::Sink ? " nodes (graph.nodes)" : "")
                  << (cat == Category::Layer ? "s (model.layers)" : "")
                  << (cat == Category::Loss ? "es (model.loss)" : "")
                  << (cat == Category::Optimizer ? "s (train.optimizer)" : "") << "\n";
        for (const NodeSpec *s : all_specs()) {
            if (s->category != cat) continue;
            std::cout << "\n" << s->type << ": " << s->doc << "\n";
            for (const auto &p : s->inputs) std::cout << "  in  " << p.name << " (" << p.kinds.front() << "): " << p.doc << "\n";
            for (const auto &p : s->outputs) std::cout << "  out " << p.name << " (" << p.kinds.front() << "): " << p.doc << "\n";
            for (const auto &k : s->keys) {
                std::cout << "  " << k.name << ": " << kind_name(k.kind);
                for (const auto &ch : k.choices) std::cout << " " << ch;
                std::cout << (k.required ? ", required" : k.def.empty() ? "" : ", default " + k.def) << ". " << k.doc
                          << "\n";
            }
        }
        std::cout << "\n";
    }
    return 0;
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
    dist::init(argc, argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kUsage;
        return args.empty() ? 2 : 0;
    }
    std::string cmd = args[0];
    args.erase(args.begin());
    try {
        if (cmd == "run") return cmd_run(args, false);
        if (cmd == "profile") return cmd_run(args, true);
        if (cmd == "bench") return cmd_bench(args);
        if (cmd == "validate") return cmd_validate(args);
        if (cmd == "list-nodes") return cmd_list_nodes();
        if (cmd == "graph") return cmd_graph(args);
        if (cmd == "report") return cmd_report(args);
        if (cmd == "compare") return cmd_compare(args);
        if (cmd == "reconstruct") return cmd_reconstruct(args);
        if (cmd == "data") return cmd_data(args);
        if (cmd == "generate") return cmd_generate(args);
        if (cmd == "encode") return cmd_encode(args);
        if (cmd == "score") return cmd_score(args);
        std::cerr << "aepipe: unknown command '" << cmd << "'\n" << kUsage;
        return 2;
    } catch (const ConfigError &e) {
        return fail(2, e.what());
    } catch (const po::error &e) {
        return fail(2, "aepipe " + cmd + ": " + e.what() + " (see aepipe " + cmd + " --help)");
    } catch (const DataError &e) {  // already "PATH: byte N: error: ..."
        return fail(1, e.what());
    } catch (const std::exception &e) {
        return fail(1, std::string("error: ") + e.what());
    }
}
