#include "pipeline/report/dot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <filesystem>

#include "pipeline/file_io.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/shape.hpp"

extern char **environ;

namespace aepipe {

namespace fs = std::filesystem;

const char *const kGraphvizHint =
    "install Graphviz: apt-get install graphviz (Debian/Ubuntu), dnf install graphviz (Fedora), "
    "brew install graphviz (macOS); or render the DOT yourself: aepipe graph CONFIG > graph.dot && "
    "dot -Tsvg graph.dot -o graph.svg";

static std::string dot_quote(const std::string &s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        if (c == '\n') {
            o += "\\n";
            continue;
        }
        o += c;
    }
    return o + "\"";
}

// A parameter's value as written in the config, short enough for a node label.
static std::string short_value(const KeySpec &k, const YAML::Node &v) {
    std::string s;
    if (v.IsScalar()) {
        s = v.Scalar();
        if (k.kind == Kind::Path) s = fs::path(s).filename().string();
    } else {
        YAML::Emitter em;
        em << YAML::Flow << v;
        s = em.c_str();
    }
    return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

static std::string node_label(const FlowNode &n) {
    std::string label = n.id() + "\n" + n.spec().type;
    for (const auto &k : n.spec().keys)
        if (n.params().has(k.name)) label += "\n" + k.name + ": " + short_value(k, n.params().given(k.name));
    return label;
}

static const char *node_style(Category c) {
    switch (c) {
    case Category::Data:
        return "shape=box, style=\"rounded,filled\", fillcolor=\"#dbeafe\", color=\"#1d4ed8\"";
    case Category::Compute:
        return "shape=box3d, style=filled, fillcolor=\"#fed7aa\", color=\"#c2410c\", penwidth=2";
    default:
        return "shape=note, style=filled, fillcolor=\"#dcfce7\", color=\"#15803d\"";
    }
}

namespace {

int64_t int_key(const YAML::Node &l, const char *key, int64_t fallback) {
    try {
        return l[key] ? l[key].as<int64_t>() : fallback;
    } catch (const YAML::Exception &) {
        return fallback;
    }
}

std::string str_key(const YAML::Node &l, const char *key, const std::string &fallback = "") {
    return l[key] && l[key].IsScalar() ? l[key].Scalar() : fallback;
}

// A window layer (conv2d, deconv2d, maxpool): "conv 8 3x3 s2 p1 relu" and its output shape, by
// the formulas of nodes/nn/conv.cpp and pool.cpp.
std::string window_text(const YAML::Node &l, const std::string &type, std::optional<Shape> &shape) {
    const bool pool = type == "maxpool", up = type == "deconv2d";
    const int64_t k = int_key(l, "kernel", 0), s0 = int_key(l, "stride", pool ? 0 : 1), p = int_key(l, "padding", 0);
    const int64_t s = s0 > 0 ? s0 : k, f = pool ? (shape ? shape->c : 0) : int_key(l, "filters", 0);
    std::string t = (pool ? "maxpool" : up ? "deconv " + std::to_string(f) : "conv " + std::to_string(f)) + " " +
                    std::to_string(k) + "x" + std::to_string(k) + (s != 1 ? " s" + std::to_string(s) : "") +
                    (p != 0 ? " p" + std::to_string(p) : "");
    if (std::string a = str_key(l, "activation", "identity"); a != "identity") t += " " + a;
    auto size = [&](int64_t in) { return up ? (in - 1) * s - 2 * p + k : (in + 2 * p - k) / s + 1; };
    if (shape && shape->spatial() && k > 0 && s > 0) shape = Shape{f, size(shape->h), size(shape->w)};
    else shape.reset();
    return t;
}

// One layer as text ("dense 400 relu", "sample 20", "reshape 7x7x16", "conv 8 3x3 s2 -> 14x14x8");
// `shape`: its input shape on entry (unknown: empty), its output shape on return.
std::string layer_text(const YAML::Node &l, std::optional<Shape> &shape) {
    const std::string type = str_key(l, "type", "?");
    std::string t;
    if (type == "dense") {
        shape = Shape{int_key(l, "units", 0), 1, 1};
        t = "dense " + std::to_string(shape->c);
        if (std::string a = str_key(l, "activation", "identity"); a != "identity") t += " " + a;
        return t;
    }
    if (type == "reshape") {
        std::vector<int64_t> d;
        if (l["shape"] && l["shape"].IsSequence())
            for (const auto &v : l["shape"]) d.push_back(v.IsScalar() ? std::atoll(v.Scalar().c_str()) : 0);
        if (d.size() == 3) shape = Shape{d[2], d[0], d[1]};
        else if (d.size() == 1) shape = Shape{d[0], 1, 1};
        else shape.reset();
        return "reshape " + (shape ? shape->str() : std::string("?"));
    }
    if (type == "flatten" || type == "sample") {
        if (shape) shape = Shape{type == "sample" ? shape->size() / 2 : shape->size(), 1, 1};
        return type + " " + (shape ? shape->str() : std::string("?"));
    }
    if (type == "conv2d" || type == "deconv2d" || type == "maxpool") t = window_text(l, type, shape);
    else if (type == "upsample") {
        const int64_t f = int_key(l, "factor", 2);
        t = "upsample x" + std::to_string(f) + " " + str_key(l, "mode", "nearest");
        if (shape) shape = Shape{shape->c, shape->h * f, shape->w * f};
    } else {
        t = type, shape.reset();
    }
    return t + " -> " + (shape ? shape->str() : std::string("?"));
}

// "in 784 | dense 400 relu | ...". The input shape is the model's output shape (an autoencoder
// reconstructs its input), found by a first pass that learns shapes from dense and reshape layers.
std::string layers_text(const YAML::Node &layers) {
    std::optional<Shape> shape;
    for (const auto &l : layers) layer_text(l, shape);
    const std::optional<Shape> in = shape;
    std::string t = "in " + (in ? in->str() : std::string("?"));
    for (const auto &l : layers) t += " | " + layer_text(l, shape);
    return t;
}

}  // namespace

YAML::Node config_at(const YAML::Node &root, std::initializer_list<const char *> path) {
    YAML::Node n;
    n.reset(root);  // reset, not =: YAML::Node's = writes into the node it refers to
    for (const char *key : path) {
        if (!n || !n.IsMap() || !n[key]) return YAML::Node(YAML::NodeType::Undefined);
        n.reset(n[key]);
    }
    return n;
}

std::string model_summary(const YAML::Node &root) {
    std::string s = root["name"] && root["name"].IsScalar() ? root["name"].Scalar() + ": " : "";
    YAML::Node layers = config_at(root, {"model", "layers"});
    if (layers && layers.IsSequence() && layers.size() > 0) s += layers_text(layers);
    YAML::Node loss = config_at(root, {"model", "loss"});
    if (loss) s += ", loss " + (loss.IsScalar() ? loss.Scalar() : loss["type"].as<std::string>("?"));
    YAML::Node train = config_at(root, {"train"}), opt = config_at(root, {"train", "optimizer"});
    if (opt) {
        s += ", " + (opt.IsScalar() ? opt.Scalar() : opt["type"].as<std::string>("?"));
        if (opt.IsMap() && opt["lr"]) s += " lr " + opt["lr"].as<std::string>("?");
    }
    if (train["batch"]) s += ", batch " + train["batch"].as<std::string>("?");
    if (train["epochs"]) s += ", " + train["epochs"].as<std::string>("?") + " epochs";
    return s;
}

std::string pipeline_dot(const Pipeline &p) {
    std::string o = "digraph aepipe {\n";
    o += "  label=" + dot_quote(model_summary(p.config().root) +
                                "\nblue: data nodes, orange: compute nodes, green: sinks; edges: what they carry; "
                                "dashed: credits (flow control)") +
         ";\n  labelloc=t;\n  rankdir=LR;\n  fontname=\"Helvetica\";\n";
    o += "  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n";
    for (const auto &n : p.nodes())
        o += "  " + dot_quote(n->id()) + " [label=" + dot_quote(node_label(*n)) + ", " +
             node_style(n->spec().category) + "];\n";
    for (const auto &e : p.edges()) {
        const FlowNode *src = p.find(e.from), *dst = p.find(e.to);
        std::string from = src->spec().outputs.size() > 1 ? e.from_port : "";
        std::string to = dst->spec().inputs.size() > 1 ? e.to_port : "";
        std::string label = e.kind;
        if (!from.empty() || !to.empty()) label += "\n" + (from.empty() ? "" : from + " ") + "->" + (to.empty() ? "" : " " + to);
        o += "  " + dot_quote(e.from) + " -> " + dot_quote(e.to) + " [label=" + dot_quote(label) + "];\n";
    }
    // Credits run against the data: drawn dashed and grey, and left out of the layout's ranks.
    for (const auto &e : p.credit_edges())
        o += "  " + dot_quote(e.from) + " -> " + dot_quote(e.to) + " [label=" + dot_quote(e.from_port) +
             ", style=dashed, color=gray50, fontcolor=gray40, constraint=false];\n";
    return o + "}\n";
}

std::string find_program(const std::string &name) {
    const char *path = std::getenv("PATH");
    std::string all = path ? path : "";
    size_t at = 0;
    while (at <= all.size()) {
        size_t end = all.find(':', at);
        if (end == std::string::npos) end = all.size();
        std::string dir = all.substr(at, end - at);
        if (!dir.empty()) {
            std::string full = dir + "/" + name;
            if (::access(full.c_str(), X_OK) == 0 && !fs::is_directory(full)) return full;
        }
        at = end + 1;
    }
    return "";
}

void render_dot_svg(const std::string &dot_path, const std::string &svg_path) {
    std::string dot = find_program("dot");
    if (dot.empty()) throw RuntimeError("Graphviz's 'dot' is not installed (not found on $PATH); " + std::string(kGraphvizHint));
    std::string tmp = svg_path + ".tmp", err = svg_path + ".err";
    std::vector<std::string> args{dot, "-Tsvg", "-o", tmp, dot_path};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // posix_spawn, not fork: the caller may have TBB and OpenMP threads running.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, dot.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    if (rc == 0)
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    std::string msg;
    try {
        msg = read_file(err);
    } catch (const std::exception &) {
    }
    fs::remove(err);
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fs::remove(tmp);
        throw RuntimeError(dot + " failed on " + dot_path + (msg.empty() ? "" : ": " + msg));
    }
    fs::rename(tmp, svg_path);
}

bool write_graph_files(const std::string &dot_text, const std::string &dir) {
    write_file_atomic(dir + "/graph.dot", dot_text);
    if (find_program("dot").empty()) return false;
    render_dot_svg(dir + "/graph.dot", dir + "/graph.svg");
    return true;
}

}  // namespace aepipe
