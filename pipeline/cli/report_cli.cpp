// aepipe graph / report / compare: pictures of a config's flow graph and of finished runs.
#include <filesystem>
#include <iostream>

#include "pipeline/cli/cli.hpp"
#include "pipeline/report/dot.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/report/report.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

int cmd_graph(const std::vector<std::string> &args) {
    Common c;
    po::options_description opts("aepipe graph CONFIG [key=value ...] [options]");
    opts.add_options()("help,h", "show this help")("svg", po::value<std::string>(),
                                                   "render the graph to this SVG file with Graphviz's dot");
    auto vm = parse(args, opts, c,
                    "Prints CONFIG's flow graph as Graphviz DOT: nodes with id, type and the keys the config sets\n"
                    "(data blue, compute orange, sinks green), edges with the message kind they carry.\n");
    ConfigFile cfg = load(c, vm);
    Pipeline p(cfg, RunSettings{});
    std::string dot = pipeline_dot(p);
    if (!vm.count("svg")) {
        std::cout << dot;
        return 0;
    }
    std::string svg = vm["svg"].as<std::string>();
    if (find_program("dot").empty()) {
        std::cerr << "aepipe graph: cannot render " << svg << ": Graphviz's 'dot' is not installed (not found on $PATH)\n"
                  << "hint: " << kGraphvizHint << "\n";
        return 1;
    }
    make_parent_dir(svg);
    std::string tmp = svg + ".dot.tmp";
    write_file_atomic(tmp, dot);
    try {
        render_dot_svg(tmp, svg);
    } catch (...) {
        fs::remove(tmp);
        throw;
    }
    fs::remove(tmp);
    std::cout << "wrote " << svg << "\n";
    return 0;
}

// Positional folders plus `opts`; --help prints `usage` and exits 0.
static po::variables_map parse_dirs(const std::vector<std::string> &args, po::options_description &opts,
                                    std::vector<std::string> &dirs, const char *usage) {
    po::options_description hidden;
    hidden.add_options()("dirs", po::value<std::vector<std::string>>(&dirs));
    po::positional_options_description pos;
    pos.add("dirs", -1);
    auto vm = parse_with(args, opts, hidden, pos, usage);
    for (const auto &d : dirs)
        if (!fs::is_directory(d)) throw po::error("'" + d + "' is not a folder (expected a run folder such as runs/NAME-DATE-TIME)");
    return vm;
}

// graph.dot of an older run from its resolved config; the report does without when that fails.
static void ensure_graph_files(const std::string &dir) {
    try {
        if (fs::exists(dir + "/graph.dot")) {
            if (!fs::exists(dir + "/graph.svg") && !find_program("dot").empty())
                render_dot_svg(dir + "/graph.dot", dir + "/graph.svg");
            return;
        }
        if (!fs::exists(dir + "/config.yaml")) return;
        ConfigFile cfg = load_config(dir + "/config.yaml");
        Pipeline p(cfg, RunSettings{});
        write_graph_files(pipeline_dot(p), dir);
    } catch (const std::exception &e) {
        std::cerr << "aepipe report: no graph picture: " << e.what() << "\n";
    }
}

int cmd_report(const std::vector<std::string> &args) {
    std::vector<std::string> dirs;
    po::options_description opts("aepipe report RUN_DIR [options]");
    opts.add_options()("help,h", "show this help")("log-scale", "logarithmic loss axis (default: the run's report node)")(
        "bench", po::value<std::string>(), "an aepipe bench folder whose thread-scaling plot and table to include");
    auto vm = parse_dirs(args, opts, dirs,
                         "Rebuilds RUN_DIR's report (report.html and loss.svg) from the files in the folder:\n"
                         "config.yaml, metrics.csv, image grids, graph.dot, profile.csv.\n");
    if (dirs.size() != 1) throw po::error("expected one RUN_DIR, got " + std::to_string(dirs.size()));
    const std::string &dir = dirs[0];
    ReportOptions o = report_options(dir);
    if (vm.count("log-scale")) o.log_scale = true;
    if (vm.count("bench")) o.bench_dir = vm["bench"].as<std::string>();
    ensure_graph_files(dir);
    write_run_report(dir, read_metrics(dir), o);
    std::cout << "wrote " << dir << "/" << o.file << "\n";
    return 0;
}

int cmd_compare(const std::vector<std::string> &args) {
    std::vector<std::string> dirs;
    po::options_description opts("aepipe compare RUN_A RUN_B ... [options]");
    opts.add_options()("help,h", "show this help")("out", po::value<std::string>()->default_value("compare.html"),
                                                   "the page to write")("log-scale", "logarithmic loss axes");
    auto vm = parse_dirs(args, opts, dirs,
                         "Writes one HTML page comparing runs: test MSE and train loss curves overlaid, a table of\n"
                         "their final figures, and their newest image grids side by side.\n");
    if (dirs.size() < 2) throw po::error("expected at least two run folders, got " + std::to_string(dirs.size()));
    std::string out = vm["out"].as<std::string>();
    make_parent_dir(out);
    write_file_atomic(out, compare_html(dirs, out, vm.count("log-scale") > 0));
    std::cout << "wrote " << out << "\n";
    return 0;
}

}  // namespace aepipe::cli
