// Helpers shared by the aepipe subcommands.
#include <ctime>
#include <filesystem>
#include <iostream>
#include <thread>

#include "pipeline/cli.hpp"
#include "pipeline/file_io.hpp"

namespace fs = std::filesystem;

namespace aepipe::cli {

po::variables_map parse_with(const std::vector<std::string> &args, po::options_description &opts,
                             const po::options_description &hidden, const po::positional_options_description &pos,
                             const char *usage) {
    po::options_description all;
    all.add(opts).add(hidden);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << usage << "\n" << opts;
        std::exit(0);
    }
    return vm;
}

po::variables_map parse(const std::vector<std::string> &args, po::options_description &opts, Common &c,
                        const char *usage) {
    po::options_description hidden;
    hidden.add_options()("config", po::value<std::string>(&c.config))(
        "overrides", po::value<std::vector<std::string>>(&c.overrides));
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

ConfigFile load(const Common &c, const po::variables_map &vm) {
    ConfigFile cfg = load_config(c.config);
    for (size_t i = 0; i < c.overrides.size(); ++i)
        apply_override(cfg, c.overrides[i],
                       override_origin(i < c.override_argv.size() ? c.override_argv[i] : 0, c.overrides[i]));
    if (vm.count("threads") && !vm["threads"].as<std::string>().empty() &&
        vm["threads"].as<std::string>().find(',') == std::string::npos)
        apply_override(cfg, "train.threads=" + vm["threads"].as<std::string>(),
                       "option --threads " + clip_text(vm["threads"].as<std::string>()));
    if (vm.count("seed"))
        apply_override(cfg, "train.seed=" + std::to_string(vm["seed"].as<int64_t>()),
                       "option --seed " + std::to_string(vm["seed"].as<int64_t>()));
    return cfg;
}

std::string make_run_dir(const std::string &out, const std::string &name) {
    std::time_t t = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
    fs::create_directories(out);
    std::string base = out + "/" + name + "-" + stamp, dir = base;
    for (int k = 2; fs::exists(dir); ++k) dir = base + "-" + std::to_string(k);
    fs::create_directories(dir);
    return dir;
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
