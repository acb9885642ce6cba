// aepipe run --resume RUN_DIR|auto and the exit path of an interrupted run.
//
// Resuming picks the newest checkpoint of the run folder that reads back whole (a damaged
// one is reported and skipped), refuses it when the config's model, training or data
// settings or the data files differ from the checkpoint's fingerprint (saying what differs),
// and continues in the same folder.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <regex>

#include "nodes/nn/train_state.hpp"
#include "nodes/sink/checkpoint.hpp"
#include "pipeline/cli/cli.hpp"
#include "pipeline/file_io.hpp"
#include "formats/fingerprint.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

// The newest run folder OUT/NAME-DATE-TIME[-k] that has training checkpoints.
static std::string newest_run(const std::string &out, const std::string &name, const ConfigFile &cfg) {
    static const std::regex stamp(R"(-(\d{8}-\d{6})(?:-(\d+))?)");
    std::string best;
    std::pair<std::string, int> best_key;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(out, ec)) {
        std::string n = e.path().filename().string();
        std::smatch m;
        if (n.rfind(name, 0) != 0) continue;
        std::string rest = n.substr(name.size());
        if (!std::regex_match(rest, m, stamp) || list_train_checkpoints(e.path().string()).empty()) continue;
        std::pair<std::string, int> key{m[1], m[2].matched ? std::stoi(m[2]) : 1};
        if (best.empty() || key > best_key) best = e.path().string(), best_key = key;
    }
    if (best.empty())
        throw ConfigError(SourcePos{cfg.path}, "--resume auto: no run of '" + name + "' with checkpoints in " + out + "/",
                          "start it with: aepipe run " + cfg.path + " --out " + out);
    return best;
}

// Why a run folder has no training checkpoint, for the hint: the config has no checkpoint
// node, its node writes them only after the last step (every_epochs: 0, every_steps: 0), or
// the run stopped before the first one.
static std::string no_checkpoint_hint(const ConfigFile &cfg, const std::string &config_path) {
    const YAML::Node nodes = cfg.root["graph"]["nodes"];
    if (nodes.IsSequence())
        for (const auto &n : nodes) {
            if (!n.IsMap() || !n["type"].IsScalar() || n["type"].Scalar() != "checkpoint") continue;
            const std::string id = n["id"].IsScalar() ? n["id"].Scalar() : "checkpoint";
            auto given = [&](const char *key) {  // a missing key of a const node is invalid: test first
                const YAML::Node v = n[key];
                return v.IsDefined() && v.IsScalar() ? v.Scalar() : std::string();
            };
            const bool epochs_off = given("every_epochs") == "0";
            const bool steps_off = given("every_steps").empty() || given("every_steps") == "0";
            if (epochs_off && steps_off)
                return "the config's checkpoint node '" + id + "' has every_epochs: 0 and every_steps: 0, so it writes "
                       "one only after the last step; set either to resume a stopped run, and start it anew: aepipe "
                       "run " + shell_quote(config_path);
            return "the config's checkpoint node '" + id + "' writes them (every_epochs, every_steps), but this run "
                   "stopped before its first one; start it anew: aepipe run " + shell_quote(config_path);
        }
    return "the run needs a checkpoint node (graph.nodes: {id: ckpt, type: checkpoint})";
}

std::string prepare_resume(const ConfigFile &cfg, const std::string &config_path, const std::string &arg,
                           const std::string &out, RunSettings &s, Console &console, RunLock *lock) {
    std::string dir = arg == "auto" ? newest_run(out, run_name(cfg, config_path), cfg) : arg;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw ConfigError(SourcePos{}, "--resume " + dir + ": not a run folder",
                          "give a folder written by aepipe run, or --resume auto");
    // Before anything is read: another process may be writing its newest checkpoint.
    if (lock) *lock = RunLock(dir);
    auto files = list_train_checkpoints(dir);
    if (files.empty())
        throw ConfigError(SourcePos{}, "--resume " + dir + ": no checkpoints/step-N.ckpt in it",
                          no_checkpoint_hint(cfg, config_path));
    std::string errors;
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
        CkptFile f;
        try {
            f = read_ckpt(*it);
        } catch (const DataError &e) {
            std::cerr << "warning: skipping a damaged checkpoint: " << e.what() << "\n";
            errors += std::string("\n  ") + e.what();
            continue;
        }
        auto diffs = fingerprint_diff(f.state.value("fingerprint", nlohmann::json::object()), config_fingerprint(cfg));
        if (!diffs.empty()) {
            std::string what;
            for (size_t i = 0; i < diffs.size() && i < 10; ++i) what += "\n  " + diffs[i];
            if (diffs.size() > 10) what += "\n  ... and " + std::to_string(diffs.size() - 10) + " more";
            throw ConfigError(SourcePos{cfg.path}, "cannot resume " + dir + " from " + *it +
                                                       ": the config or data differ from the checkpoint's:" + what,
                              "resume with the config and data of that run, or start a new run from its weights "
                              "with --init-from " + *it);
        }
        s.start_step = f.state.value("steps", int64_t(0));
        s.start_epoch = f.state.value("epochs_done", int64_t(0));
        auto from = std::make_shared<ResumeFrom>();
        from->ckpt = std::move(f), from->path = *it;
        s.resume = std::move(from);
        return dir;
    }
    throw RuntimeError("--resume " + dir + ": every checkpoint is damaged:" + errors);
}

// One word for a POSIX shell: left bare only when every character is one no shell treats
// specially (so `graph.nodes[9].every_steps=50` is quoted: [ ] glob under strict shells);
// otherwise in single quotes, where only ' itself needs escaping ('\'').
std::string shell_quote(const std::string &a) {
    static const std::string safe =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=,+@%";
    if (!a.empty() && a.find_first_not_of(safe) == std::string::npos) return a;
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string resume_command(const std::vector<std::string> &args, const std::string &run_dir) {
    std::string cmd = "aepipe run";
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "--resume" || a == "--init-from" || a == "--out") {
            ++i;
            continue;
        }
        if (a.rfind("--resume=", 0) == 0 || a.rfind("--init-from=", 0) == 0 || a.rfind("--out=", 0) == 0) continue;
        cmd += " " + shell_quote(a);
    }
    return cmd + " --resume " + shell_quote(run_dir);
}

// Rows of RUN/metrics.csv (epochs recorded); -1 when the run keeps no such file.
static long long metrics_rows(const std::string &run_dir) {
    std::error_code ec;
    const std::string path = run_dir + "/metrics.csv";
    if (run_dir.empty() || !fs::is_regular_file(path, ec)) return -1;
    std::string text;
    try {
        text = read_file(path);
    } catch (const DataError &) {
        return -1;
    }
    long long rows = -1;  // the header
    for (char c : text) rows += c == '\n';
    return std::max(rows, 0LL);
}

int interrupted_exit(const Interrupted &e, const std::string &command, const std::string &run_dir) {
    std::cout.flush();
    std::cerr << "interrupted by " << (e.signal == SIGINT ? "SIGINT" : e.signal == SIGTERM ? "SIGTERM" : "a signal")
              << " after step " << e.steps << "; ";
    if (e.checkpoint.empty())
        std::cerr << "no checkpoint was written (the graph has no checkpoint node), so the run cannot be resumed\n";
    else
        std::cerr << "checkpoint written: " << e.checkpoint << "\n";
    // Epochs trained whose evaluation did not finish within the drain deadline (Pipeline::stop).
    const long long rows = metrics_rows(run_dir);
    if (rows >= 0 && rows < e.epochs_done)
        std::cerr << "metrics rows of epochs " << rows + 1 << ".." << e.epochs_done
                  << " are not written: their evaluation did not finish before the stop"
                  << (e.checkpoint.empty() ? "\n" : "; the checkpoint keeps them and resuming writes them first\n");
    if (!e.checkpoint.empty()) std::cerr << "resume with: " << command << "\n";
    return 128 + e.signal;
}

}  // namespace aepipe::cli
