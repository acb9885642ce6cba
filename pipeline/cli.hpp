// Pieces shared by the aepipe subcommands (pipeline/cli.cpp, pipeline/bench.cpp).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/signals.hpp"

namespace aepipe::cli {

namespace po = boost::program_options;

struct Common {
    std::string config;
    std::vector<std::string> overrides;
};

// Parses `opts` plus hidden positional options; --help prints `usage` and opts, then exits 0.
po::variables_map parse_with(const std::vector<std::string> &args, po::options_description &opts,
                             const po::options_description &hidden, const po::positional_options_description &pos,
                             const char *usage);
// Parses CONFIG [key=value ...] plus `opts`; --help prints `usage` and opts, then exits 0.
po::variables_map parse(const std::vector<std::string> &args, po::options_description &opts, Common &c,
                        const char *usage);
// Loads CONFIG and applies the overrides, then --threads/--seed when present in vm.
ConfigFile load(const Common &c, const po::variables_map &vm);
// OUT/NAME-YYYYmmdd-HHMMSS[-k], created.
std::string make_run_dir(const std::string &out, const std::string &name);
std::string run_name(const ConfigFile &cfg, const std::string &config_path);
// Writes the resolved config (absolute paths) into dir/config.yaml.
void save_resolved(const ConfigFile &cfg, const std::string &dir);

// --resume RUN_DIR|auto (pipeline/resume_cli.cpp): picks the newest valid checkpoint, checks
// its fingerprint against cfg, fills s.resume*/start_*; returns the run folder.
std::string prepare_resume(const ConfigFile &cfg, const std::string &config_path, const std::string &arg,
                           const std::string &out, RunSettings &s, Console &console);
// "aepipe run ARGS --resume RUN_DIR" (shell-quoted) for the message of an interrupted run.
std::string resume_command(const std::vector<std::string> &args, const std::string &run_dir);
// Prints how the run stopped and how to resume it; returns 128 + signal.
int interrupted_exit(const Interrupted &e, const std::string &command);

int cmd_bench(const std::vector<std::string> &args);
int cmd_graph(const std::vector<std::string> &args);    // pipeline/report_cli.cpp
int cmd_report(const std::vector<std::string> &args);
int cmd_compare(const std::vector<std::string> &args);
int cmd_reconstruct(const std::vector<std::string> &args);  // pipeline/reconstruct_cli.cpp
int cmd_data(const std::vector<std::string> &args);         // pipeline/data_cli.cpp
int cmd_generate(const std::vector<std::string> &args);  // pipeline/generate_cli.cpp
int cmd_encode(const std::vector<std::string> &args);    // pipeline/encode_cli.cpp
int cmd_score(const std::vector<std::string> &args);     // pipeline/score_cli.cpp

}  // namespace aepipe::cli
