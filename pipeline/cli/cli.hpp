// Pieces shared by the aepipe subcommands (pipeline/cli/cli.cpp, pipeline/cli/bench.cpp).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "formats/image_prep.hpp"
#include "pipeline/config.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/signals.hpp"

namespace aepipe::cli {

namespace po = boost::program_options;

struct Common {
    std::string config;
    std::vector<std::string> overrides;
    std::vector<int> override_argv;  // each override's index in argv (for messages)
    std::vector<std::string> test_hooks;  // --test-hook NAME=VALUE (hidden; pipeline/test_hooks.hpp)
};

// --help: parse_with throws this rather than printing, so that main prints it and the
// top-level usage is assembled from every command's own options (nothing kept in sync by hand).
struct HelpRequested {
    std::string title;                 // opts' caption, e.g. "aepipe run CONFIG [key=value ...] [options]"
    std::string text;                  // the whole page: title, `usage`, every option with its doc
    std::vector<std::string> options;  // long names of the options, "--help" first
};

// The --help page of a command: title (opts' caption), `usage` (what it does), the options.
HelpRequested help_page(const po::options_description &opts, const std::string &usage);
// Parses `opts` plus hidden positional options; --help throws HelpRequested with `usage` and opts.
po::variables_map parse_with(const std::vector<std::string> &args, po::options_description &opts,
                             const po::options_description &hidden, const po::positional_options_description &pos,
                             const std::string &usage);
// Parses CONFIG [key=value ...] plus `opts`; --help throws HelpRequested.
po::variables_map parse(const std::vector<std::string> &args, po::options_description &opts, Common &c,
                        const std::string &usage);
// Loads CONFIG and applies the overrides, then --threads/--seed when present in vm.
ConfigFile load(const Common &c, const po::variables_map &vm);
// Whether stdout is a terminal a person reads (the progress line is redrawn there only);
// under mpirun, whether the launcher's is.
bool stdout_is_terminal();
// OUT/NAME-YYYYmmdd-HHMMSS[-k], created.
std::string make_run_dir(const std::string &out, const std::string &name);
// Creates the folder an output file named on the command line goes into (--out a/b.png), as
// the commands that write folders (reconstruct, score, encode, data pack) always did.
void make_parent_dir(const std::string &file);
std::string run_name(const ConfigFile &cfg, const std::string &config_path);
// Writes the resolved config (absolute paths) into dir/config.yaml.
void save_resolved(const ConfigFile &cfg, const std::string &dir);

// --resume RUN_DIR|auto (pipeline/cli/resume_cli.cpp): picks the newest valid checkpoint, checks
// its fingerprint against cfg, fills s.resume*/start_*; returns the run folder.
// With `lock`, the folder is locked (RunLock) before any checkpoint is read.
std::string prepare_resume(const ConfigFile &cfg, const std::string &config_path, const std::string &arg,
                           const std::string &out, RunSettings &s, Console &console, RunLock *lock = nullptr);
// "aepipe run ARGS --resume RUN_DIR" (shell-quoted) for the message of an interrupted run.
std::string resume_command(const std::vector<std::string> &args, const std::string &run_dir);
// `a` as one word of a POSIX shell command line (single-quoted unless plainly safe).
std::string shell_quote(const std::string &a);
// Prints how the run stopped, which epochs' metrics rows are missing (if any) and how to
// resume it; returns 128 + signal.
int interrupted_exit(const Interrupted &e, const std::string &command, const std::string &run_dir);

// --fit, --invert and --raw (pipeline/cli/prep_options.cpp): how reconstruct, encode and score
// turn a picture into a model input; prep_options throws po::error for a bad combination.
void add_prep_options(po::options_description &opts);
PrepOptions prep_options(const po::variables_map &vm);

// Before a command writes several files: DataError when one of `files` is a folder or a file
// stands where one of their folders goes (pipeline/cli/output_check.cpp), so that nothing is
// written unless everything can be.
void check_output_files(const std::vector<std::string> &files);

int cmd_bench(const std::vector<std::string> &args);
// aepipe bench's table (pipeline/cli/bench.cpp): the header, and one row per thread count from the
// samples/s of its repeats, followed by a warning line when max/min exceeds kBenchSpreadWarn.
constexpr double kBenchSpreadWarn = 1.25;
double median(std::vector<double> v);
// The limit beside each row: the model's FLOPs per training sample and the FMA probe's peak
// at this thread count and at 1 thread (GFLOP/s); no columns when flops_per_sample is 0.
struct BenchLimit {
    double flops_per_sample = 0, peak_gflops = 0, peak_one = 0;
};
std::string bench_header(bool limit = false);
std::string bench_row(int threads, const std::vector<double> &runs, double one_thread, const BenchLimit &limit = {});
// A warning when some thread counts exceed the machine's cores (the figures then measure the
// threads taking turns, not scaling); empty when none does.
std::string oversubscribed_warning(const std::vector<int> &counts, int cores);
int cmd_list_nodes(const std::vector<std::string> &args);  // pipeline/cli/list_nodes_cli.cpp
int cmd_graph(const std::vector<std::string> &args);    // pipeline/cli/report_cli.cpp
int cmd_report(const std::vector<std::string> &args);
int cmd_compare(const std::vector<std::string> &args);
int cmd_reconstruct(const std::vector<std::string> &args);  // pipeline/cli/reconstruct_cli.cpp
int cmd_data(const std::vector<std::string> &args);         // pipeline/cli/data_cli.cpp
int cmd_generate(const std::vector<std::string> &args);  // pipeline/cli/generate_cli.cpp
int cmd_encode(const std::vector<std::string> &args);    // pipeline/cli/encode_cli.cpp
int cmd_score(const std::vector<std::string> &args);     // pipeline/cli/score_cli.cpp

}  // namespace aepipe::cli
