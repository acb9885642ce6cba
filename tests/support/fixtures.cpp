#include "support/fixtures.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "formats/idx.hpp"

namespace aepipe::test {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string &tag) {
    static std::atomic<int> counter{0};
    fs::path base = fs::temp_directory_path();
    for (;;) {
        fs::path p = base / (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        if (fs::create_directory(p)) {
            path_ = p.string();
            return;
        }
    }
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

void write_bytes(const std::string &path, const std::string &bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), std::streamsize(bytes.size()));
    if (!f) throw std::runtime_error("test fixture: cannot write " + path);
}

std::string read_bytes(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("test fixture: cannot read " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> list_dir(const std::string &dir) {
    std::vector<std::string> names;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return names;
    for (const auto &e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<uint8_t> ramp_pixels(int64_t n, int64_t h, int64_t w) {
    std::vector<uint8_t> px(size_t(n * h * w));
    for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 7 + i / 13) & 0xff);
    return px;
}

void write_images(const std::string &path, int64_t n, int64_t h, int64_t w, const std::vector<uint8_t> &px) {
    if (int64_t(px.size()) != n * h * w) throw std::logic_error("write_images: pixel count does not match dims");
    write_idx(path, {n, h, w}, px.data());
}

void write_labels(const std::string &path, const std::vector<uint8_t> &labels) {
    write_idx(path, {int64_t(labels.size())}, labels.data());
}

std::string idx_bytes(const std::vector<int64_t> &dims, const std::string &payload, uint8_t type) {
    std::string b{'\0', '\0', char(type), char(dims.size())};
    for (auto d : dims)
        for (int s = 24; s >= 0; s -= 8) b += char((d >> s) & 0xff);
    return b + payload;
}

Shapes make_shapes(int64_t n, int64_t side, uint64_t seed) {
    Shapes s;
    s.n = n, s.side = side;
    s.pixels.assign(size_t(n * side * side), 0);
    s.labels.resize(size_t(n));
    std::mt19937_64 rng(seed);  // raw draws only: the standard fixes mt19937_64's output
    for (int64_t i = 0; i < n; ++i) {
        uint8_t *img = s.pixels.data() + i * side * side;
        int kind = int(rng() % 3);
        int64_t row = int64_t(rng() % uint64_t(side)), col = int64_t(rng() % uint64_t(side));
        uint8_t v = uint8_t(160 + rng() % 96);
        for (int64_t k = 0; k < side; ++k) {
            if (kind != 1) img[row * side + k] = v;
            if (kind != 0) img[k * side + col] = v;
        }
        s.labels[size_t(i)] = uint8_t(kind);
    }
    return s;
}

TinyData tiny_data_in(const std::string &dir, int64_t n_train, int64_t n_test, int64_t side, bool gz) {
    TinyData d;
    d.n_train = n_train, d.n_test = n_test, d.side = side;
    std::string ext = gz ? ".idx.gz" : ".idx";
    d.train_images = dir + "/train-images" + ext;
    d.train_labels = dir + "/train-labels" + ext;
    d.test_images = dir + "/test-images" + ext;
    d.test_labels = dir + "/test-labels" + ext;
    return d;
}

TinyData write_tiny_data(const std::string &dir, int64_t n_train, int64_t n_test, int64_t side, bool gz) {
    TinyData d = tiny_data_in(dir, n_train, n_test, side, gz);
    Shapes train = make_shapes(n_train, side, 1), test = make_shapes(n_test, side, 2);
    write_images(d.train_images, n_train, side, side, train.pixels);
    write_labels(d.train_labels, train.labels);
    write_images(d.test_images, n_test, side, side, test.pixels);
    write_labels(d.test_labels, test.labels);
    return d;
}

std::string tiny_config_yaml(const TinyData &d, int64_t epochs, const std::string &name) {
    const std::string dim = std::to_string(d.side * d.side);
    return "name: " + name +
           "\n"
           "model:\n"
           "  layers:\n"
           "    - {type: dense, units: 32, activation: relu, init: he}\n"
           "    - {type: dense, units: 16, activation: relu, init: he}\n"
           "    - {type: dense, units: 32, activation: relu, init: he}\n"
           "    - {type: dense, units: " +
           dim +
           ", activation: sigmoid, init: xavier}\n"
           "  loss: mse\n"
           "train:\n"
           "  optimizer: {type: adam, lr: 0.01}\n"
           "  batch: 16\n"
           "  epochs: " +
           std::to_string(epochs) +
           "\n"
           "  seed: 7\n"
           "graph:\n"
           "  nodes:\n"
           "    - {id: train_set, type: idx_reader, images: '" +
           d.train_images + "', labels: '" + d.train_labels +
           "'}\n"
           "    - {id: shuffle, type: shuffle}\n"
           "    - {id: batches, type: batch}\n"
           "    - {id: scale, type: normalize}\n"
           "    - {id: model, type: train}\n"
           "    - {id: test_set, type: idx_reader, images: '" +
           d.test_images + "', labels: '" + d.test_labels +
           "'}\n"
           "    - {id: eval, type: evaluate}\n"
           "    - {id: metrics, type: metrics}\n"
           "    - {id: recon, type: image_grid, count: 8}\n"
           "    - {id: ckpt, type: checkpoint}\n"
           "  edges:\n"
           "    - train_set -> shuffle\n"
           "    - shuffle -> batches\n"
           "    - batches -> scale\n"
           "    - scale -> model\n"
           "    - model.epoch -> eval.model\n"
           "    - test_set -> eval.data\n"
           "    - eval -> metrics\n"
           "    - eval -> recon\n"
           "    - model.epoch -> ckpt\n";
}

std::string write_tiny_config(const std::string &dir, const TinyData &d, int64_t epochs, const std::string &name) {
    std::string path = dir + "/" + name + ".yaml";
    write_bytes(path, tiny_config_yaml(d, epochs, name));
    return path;
}

std::string shipped_config_on(const std::string &name, const TinyData &d, const std::string &dir) {
    YAML::Node root = YAML::LoadFile(std::string(AEPIPE_SOURCE_DIR) + "/configs/" + name + ".yaml");
    for (YAML::Node n : root["graph"]["nodes"]) {
        if (n["type"].as<std::string>() != "idx_reader") continue;
        const bool test = n["id"].as<std::string>().find("test") != std::string::npos;
        n["images"] = test ? d.test_images : d.train_images;
        if (n["labels"]) n["labels"] = test ? d.test_labels : d.train_labels;
    }
    YAML::Emitter e;
    e << root;
    const std::string path = dir + "/" + name + ".yaml";
    write_bytes(path, e.c_str());
    return path;
}

RunResult run_aepipe(const std::vector<std::string> &args, const std::string &cwd) {
    return run_aepipe_with(args, {}, 0, cwd);
}

RunResult run_aepipe_with(const std::vector<std::string> &args, const std::vector<std::string> &env,
                          long long fsize_limit, const std::string &cwd) {
    std::vector<std::string> argv_s{AEPIPE_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    return run_program(argv_s, cwd, 0, env, fsize_limit);
}

RunResult run_program(const std::vector<std::string> &argv_in, const std::string &cwd, int timeout_s,
                      const std::vector<std::string> &env, long long fsize_limit) {
    TempDir io("aepipe-run");
    const std::string out_path = io / "stdout", err_path = io / "stderr";
    // Everything the child needs is prepared before fork: between fork and exec only
    // async-signal-safe calls (the test process has TBB and OpenMP threads).
    std::vector<std::string> argv_s = argv_in;
    std::vector<char *> argv;
    for (auto &a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char **e = environ; *e; ++e) env_s.push_back(*e);
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char *> envp;
    for (auto &e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("run_program: fork failed");
    if (pid == 0) {
        int in = ::open("/dev/null", O_RDONLY);
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(127);
        ::dup2(in, 0), ::dup2(out, 1), ::dup2(err, 2);
        ::setpgid(0, 0);  // its own process group, so a timeout can kill what it started
        if (fsize_limit > 0) {
            struct rlimit rl {rlim_t(fsize_limit), rlim_t(fsize_limit)};
            if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(126);
        }
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    int status = 0;
    if (timeout_s > 0) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
        for (;;) {
            pid_t w = ::waitpid(pid, &status, WNOHANG);
            if (w == pid) break;
            if (w < 0 && errno != EINTR) throw std::runtime_error("run_program: waitpid failed");
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(-pid, SIGKILL);
                ::kill(pid, SIGKILL);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    } else {
        while (::waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) throw std::runtime_error("run_aepipe: waitpid failed");
    }
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_bytes(out_path);
    r.err = read_bytes(err_path);
    return r;
}

std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

}  // namespace aepipe::test
