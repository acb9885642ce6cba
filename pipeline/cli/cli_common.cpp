// Helpers shared by the aepipe subcommands.
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "pipeline/cli/cli.hpp"
#include "pipeline/dist.hpp"
#include "pipeline/file_io.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

po::variables_map parse_with(const std::vector<std::string> &args, po::options_description &opts,
                             const po::options_description &hidden, const po::positional_options_description &pos,
                             const std::string &usage) {
    po::options_description all;
    all.add(opts).add(hidden);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    if (vm.count("help")) throw help_page(opts, usage);
    po::notify(vm);
    return vm;
}

HelpRequested help_page(const po::options_description &opts, const std::string &usage) {
    // boost prints the caption as "CAPTION:" on the first line and has no accessor for it.
    std::ostringstream os;
    os << opts;
    std::string all = os.str(), title = all.substr(0, all.find('\n'));
    if (!title.empty() && title.back() == ':') title.pop_back();
    HelpRequested h{title, "usage: " + title + "\n\n" + usage + "\noptions:" + all.substr(title.size() + 1), {}};
    for (const auto &o : opts.options()) h.options.push_back("--" + o->long_name());
    return h;
}

po::variables_map parse(const std::vector<std::string> &args, po::options_description &opts, Common &c,
                        const std::string &usage) {
    po::options_description hidden;
    hidden.add_options()("config", po::value<std::string>(&c.config))(
        "overrides", po::value<std::vector<std::string>>(&c.overrides))(
        "test-hook", po::value<std::vector<std::string>>(&c.test_hooks));  // tests only, not in --help
    po::positional_options_description pos;
    pos.add("config", 1).add("overrides", -1);
    auto vm = parse_with(args, opts, hidden, pos, usage);
    if (c.config.empty()) throw po::error("missing CONFIG (a YAML file such as configs/mnist_ae.yaml)");
    // Positionals keep their order: each override is the next argument equal to it (args
    // starts after argv[0] and the command, hence + 2).
    size_t at = 0;
    for (const auto &o : c.overrides) {
        while (at < args.size() && args[at] != o) ++at;
        c.override_argv.push_back(int(at) + 2);
        ++at;
    }
    return vm;
}

namespace {

// A relative path typed in an override is relative to where the user is (as every other
// argument on that command line), not to the config's folder: it is made absolute here, once,
// so copies of the config (bench's runs, config.yaml) and the checks agree on the file.
void anchor_override_paths(ConfigFile &cfg) {
    const YAML::Node &root = cfg.root;  // const: looking must not add keys
    // A part that is missing or of the wrong kind is validation's to report, not this.
    if (!root.IsMap() || !root["graph"] || !root["graph"].IsMap() || !root["graph"]["nodes"]) return;
    const YAML::Node nodes = root["graph"]["nodes"];
    if (!nodes.IsSequence()) return;
    for (const auto &n : nodes) {
        const NodeSpec *spec = n.IsMap() ? find_spec(n["type"].as<std::string>("")) : nullptr;
        if (!spec) continue;
        for (const auto &k : spec->keys) {
            if (k.kind != Kind::Path || !n[k.name]) continue;  // a missing key's node is invalid to ask
            YAML::Node v = n[k.name];  // rebinds to the tree's node: assigning below edits it in place
            if (!v.IsScalar() || v.Scalar().empty() || fs::path(v.Scalar()).is_absolute())
                continue;
            const SourcePos at = pos_of(cfg, v);
            if (at.line == 0 && at.file != cfg.path) v = fs::absolute(v.Scalar()).lexically_normal().string();
        }
    }
}

}  // namespace

ConfigFile load(const Common &c, const po::variables_map &vm) {
    ConfigFile cfg = load_config(c.config);
    for (size_t i = 0; i < c.overrides.size(); ++i)
        apply_override(cfg, c.overrides[i],
                       override_origin(i < c.override_argv.size() ? c.override_argv[i] : 0, c.overrides[i]));
    anchor_override_paths(cfg);
    if (vm.count("threads") && !vm["threads"].as<std::string>().empty() &&
        vm["threads"].as<std::string>().find(',') == std::string::npos)
        apply_override(cfg, "train.threads=" + vm["threads"].as<std::string>(),
                       "option --threads " + clip_text(vm["threads"].as<std::string>()));
    if (vm.count("name"))
        apply_override(cfg, "name=" + vm["name"].as<std::string>(), "option --name " + clip_text(vm["name"].as<std::string>()));
    if (vm.count("seed"))
        apply_override(cfg, "train.seed=" + std::to_string(vm["seed"].as<int64_t>()),
                       "option --seed " + std::to_string(vm["seed"].as<int64_t>()));
    return cfg;
}

bool stdout_is_terminal() {
    if (!::isatty(STDOUT_FILENO)) return false;
    if (!dist::parallel()) return true;
    // Under mpirun a rank writes into Open MPI's pseudo-terminal even when mpirun's own output
    // goes to a file: the launcher (the parent) decides. A remote rank's parent is a daemon
    // whose output is no terminal: no progress line there.
    char target[256] = {};
    const std::string fd1 = "/proc/" + std::to_string(::getppid()) + "/fd/1";
    const ssize_t n = ::readlink(fd1.c_str(), target, sizeof target - 1);
    const std::string t(target, n > 0 ? size_t(n) : 0);
    return t.starts_with("/dev/pts/") || t.starts_with("/dev/tty");
}

std::string make_run_dir(const std::string &out, const std::string &name) {
    std::time_t t = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
    fs::create_directories(out);
    std::string base = out + "/" + name + "-" + stamp, dir = base;
    // create_directory is false when the folder exists: two runs started in the same second
    // each get a folder of their own, never one shared.
    for (int k = 2; !fs::create_directory(dir); ++k) dir = base + "-" + std::to_string(k);
    return dir;
}

void make_parent_dir(const std::string &file) {
    if (const fs::path parent = fs::path(file).parent_path(); !parent.empty()) fs::create_directories(parent);
}

std::string run_name(const ConfigFile &cfg, const std::string &config_path) {
    return cfg.root["name"] ? cfg.root["name"].as<std::string>() : fs::path(config_path).stem().string();
}

void save_resolved(const ConfigFile &cfg, const std::string &dir) {
    YAML::Node root = YAML::Clone(cfg.root);
    YAML::Node nodes = root["graph"]["nodes"];
    for (size_t i = 0; i < nodes.size(); ++i) {
        YAML::Node n = nodes[i];
        const NodeSpec *spec = find_spec(n["type"].as<std::string>(""));
        if (!spec) continue;
        for (const auto &k : spec->keys)
            if (k.kind == Kind::Path && n[k.name].IsDefined() && n[k.name].IsScalar())
                n[k.name] = resolve_path(cfg, n[k.name].Scalar());
    }
    YAML::Emitter em;
    em << root;
    write_file_atomic(dir + "/config.yaml", std::string(em.c_str()) + "\n");
}

}  // namespace aepipe::cli
