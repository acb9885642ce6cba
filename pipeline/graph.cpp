#include "pipeline/graph.hpp"

#include <omp.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <map>
#include <new>
#include <regex>
#include <set>
#include <thread>

#include "pipeline/cores.hpp"
#include "pipeline/dist.hpp"
#include "pipeline/signals.hpp"

namespace aepipe {

std::string FlowNode::where() const {
    return "node '" + id_ + "' (" + spec().type + ", " + params_.where().str() + ")";
}

int64_t FlowNode::sample_dim(const Pipeline &p) const {
    if (spec().inputs.empty()) return 0;
    FlowNode *up = p.upstream(id_, spec().inputs.front().name);
    return up ? up->sample_dim(p) : 0;
}

Shape FlowNode::sample_shape(const Pipeline &p) const {
    int64_t d = sample_dim(p);
    if (!spec().inputs.empty())
        if (FlowNode *up = p.upstream(id_, spec().inputs.front().name)) {
            Shape s = up->sample_shape(p);
            if (s.size() == d) return s;  // a node that changes the width says so in sample_dim
        }
    return Shape{d, 1, 1};
}

InPort FlowNode::in(const std::string &port, const std::string &) {
    throw RuntimeError("internal: " + where() + " has no input port '" + port + "'");
}
OutPort FlowNode::out(const std::string &port) {
    throw RuntimeError("internal: " + where() + " has no output port '" + port + "'");
}

// std::regex matches recursively, one stack frame per character: a name or edge of 200,000
// characters overflowed the stack. Anything longer than this is refused before matching.
// A run folder is NAME-YYYYMMDD-HHMMSS[-N]: 200 characters leave room under NAME_MAX (255).
static bool short_text(const std::string &s) { return !s.empty() && s.size() <= 200; }

static const NodeSpec kTopSpec{"config",
                               Category::Section,
                               "top level of a config file",
                               {
                                   {"name", Kind::String, "",
                                    "names the run: its folder is OUT/NAME-DATE-TIME (default: the config file's name; "
                                    "per run: name=NAME or --name NAME)"},
                                   {"model", Kind::Map, "", "the network (layers, loss)", {}, true},
                                   {"train", Kind::Map, "{}", "training settings"},
                                   {"graph", Kind::Map, "", "the flow graph (nodes, edges)", {}, true},
                               }};

// The run's settings, read by the graph itself (the section's other keys are the nodes').
struct TrainSection {
    int64_t epochs = 0, batch = 0, seed = 0, in_flight = 0, max_steps = 0, shards = 0, max_memory = 0;
    int threads = 0;
    std::string precision;
    static const Keys<TrainSection> &keys();
};
const Keys<TrainSection> &TrainSection::keys() {
    using P = TrainSection;
    static const Keys<P> k{
        key(&P::epochs, {"epochs", Kind::Int, "10", "passes over the training set", {}, false, at_least(1, kMaxEpochs)}),
        key(&P::batch, {"batch", Kind::Int, "50", "samples per step (default of the batch node's size)", {}, false,
                        size_range()}),
        key(&P::seed, {"seed", Kind::Int, "42", "seed of initialisation, shuffling and sampling", {}, false, seed_range()}),
        key(&P::threads, {"threads", Kind::Int, "0", "compute threads (0 = every core this process may use)", {}, false, at_least(0, 4096)}),
        key(&P::in_flight, {"in_flight", Kind::Int, "4", "batches prepared ahead of the compute nodes", {}, false,
                            at_least(1, 1024)}),
        key(&P::max_steps, {"max_steps", Kind::Int, "0", "stop after this many steps (0: run all epochs)", {}, false,
                            at_least(0, 1e15)}),
        key(&P::shards, {"shards", Kind::Int, "0",
                         "row shards per batch run in parallel (0: auto, one per 64 rows, at most one per thread)", {},
                         false, at_least(0, 4096)}),
        key(&P::max_memory, {"max_memory", Kind::Int, "0",
                             "refuse a run whose estimated memory exceeds this many bytes (0: only the available "
                             "memory, MemAvailable)",
                             {}, false, at_least(0, 9e18)}),
        key(&P::precision,
            {"precision", Kind::Enum, "f32",
             "arithmetic of the training step's matmuls and convolutions: f32, or bf16 (operands rounded to "
             "bfloat16, f32 accumulation, weights and optimizer state; needs a CPU with AVX512-BF16 or AMX)",
             {"f32", "bf16"}})};
    return k;
}

// Nodes add their own keys to the section (SectionKeys), so it is made on first use:
// registrars in other files may run first.
NodeSpec &train_section_spec() {
    static NodeSpec spec{"train", Category::Section, "training settings shared by the graph's nodes",
                         TrainSection::keys().specs()};
    return spec;
}

struct GraphSection {
    YAML::Node nodes, edges;
    static const Keys<GraphSection> &keys() {
        static const Keys<GraphSection> k{
            key(&GraphSection::nodes, {"nodes", Kind::List, "", "nodes: maps with id, type and parameters", {}, true}),
            key(&GraphSection::edges, {"edges", Kind::List, "", "edges: 'from[.port] -> to[.port]'", {}, true})};
        return k;
    }
};
static const NodeSpec kGraphSpec{"graph", Category::Section, "the flow graph", GraphSection::keys().specs()};

static const SectionRegistrar kTopSection(kTopSpec), kTrainSection(train_section_spec()), kGraphSection(kGraphSpec);

void FlowNode::check_run_file_name(const char *key, const std::string &value, Diags &d) const {
    if (value.empty() || value == "." || value == ".." || value.find('/') != std::string::npos)
        d.error(params_.pos(key), params_.context() + ": '" + key + "' must be a file name in the run folder, got '" +
                                      clip_text(value) + "'");
}

Pipeline::Pipeline(const ConfigFile &cfg, RunSettings settings)
    : cfg_(cfg), settings_(std::move(settings)), console_(settings_.tty, settings_.quiet) {
    Diags diags;
    check_params(kTopSpec, cfg_, cfg_.root, "config", diags, {});
    train_ = check_params(train_section_spec(), cfg_, cfg_.root["train"], "train", diags, {});
    static const std::regex name_re("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    // A null name (`name:`, name=, --name '') is no name: it used to make a run folder 'null-DATE'.
    if (const YAML::Node name = cfg_.root["name"]; name && name.IsNull())
        diags.error(pos_of(cfg_, name), "config: 'name' is empty: give a plain name (letters, digits, _ . -)",
                    "it names the run folder inside --out; leave the key out for the config file's name");
    else if (name && name.IsScalar() && !(short_text(name.Scalar()) && std::regex_match(name.Scalar(), name_re)))
        diags.error(pos_of(cfg_, name),
                    "config: 'name' must be a plain name (letters, digits, _ . -) of at most 200 characters, got '" +
                        clip_text(name.Scalar()) + "'",
                    "it names the run folder inside --out");
    diags.throw_if_any();  // the ranges are checked: the values below are valid

    const auto t = parse<TrainSection>(train_);
    settings_.epochs = t.epochs;
    settings_.batch = t.batch;
    settings_.in_flight = t.in_flight;
    settings_.threads = t.threads;
    settings_.seed = uint64_t(t.seed);
    settings_.max_steps = t.max_steps;
    settings_.shards = t.shards;
    settings_.max_memory = t.max_memory;
    settings_.precision = t.precision == "bf16" ? Precision::BF16 : Precision::F32;
    check_precision(diags);

    parse_nodes(diags);
    if (diags.empty() && nodes_.empty()) check_shape(diags);  // no nodes: every edge would be wrong too
    if (diags.empty()) parse_edges(diags);
    if (diags.empty()) check_cycles(diags);
    if (diags.empty()) check_shape(diags);
    if (diags.empty())
        for (auto &n : nodes_) n->resolve(*this, diags);
    diags.throw_if_any();
}

// bf16 without the CPU's instructions would run oneDNN's emulated kernels, slower than f32.
void Pipeline::check_precision(Diags &diags) {
    if (settings_.precision != Precision::BF16 || settings_.cpu_bf16.value_or(cpu_has_bf16())) return;
    diags.error(train_.pos("precision"),
                "train: 'precision: bf16' needs the CPU feature avx512_bf16 (AVX512-BF16) or amx_bf16, which this "
                "CPU lacks (oneDNN dispatches to " + cpu_isa_name() + ")",
                "use 'precision: f32' (the default) on this machine");
}

Pipeline::~Pipeline() { end_watchdog(); }
void Pipeline::end_watchdog() {
    if (!watchdog_.joinable()) return;
    {
        std::lock_guard<std::mutex> lock(failure_mu_);
        idle_ = true;
    }
    drained_.notify_all();
    watchdog_.join();
}

void Pipeline::parse_nodes(Diags &diags) {
    Params gp = check_params(kGraphSpec, cfg_, cfg_.root["graph"], "graph", diags, {});
    if (!diags.empty()) return;
    YAML::Node list = parse<GraphSection>(gp).nodes;
    std::map<std::string, SourcePos> seen;
    for (size_t i = 0; i < list.size(); ++i)
        if (auto node = parse_node(i, list[i], seen, diags)) nodes_.push_back(std::move(node));
}

// graph.nodes[i]: its id (a fresh name), its type (registered) and its keys (the type's spec).
std::unique_ptr<FlowNode> Pipeline::parse_node(size_t i, const YAML::Node &item, std::map<std::string, SourcePos> &seen,
                                               Diags &diags) {
    static const std::regex id_re("[A-Za-z_][A-Za-z0-9_]*");
    std::string ctx = "graph.nodes[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
        diags.error(pos_of(cfg_, item), ctx + ": expected a map with id and type, got " + describe(item));
        return nullptr;
    }
    YAML::Node idn = item["id"], typen = item["type"];
    if (!idn.IsDefined() || !idn.IsScalar()) {
        diags.error(pos_of(cfg_, item), ctx + ": missing 'id'", "every node needs an id used by edges");
        return nullptr;
    }
    std::string id = idn.Scalar();
    if (!short_text(id) || !std::regex_match(id, id_re)) {
        diags.error(pos_of(cfg_, idn), ctx + ": id '" + clip_text(id) + "' must be a name (letters, digits, _)");
        return nullptr;
    }
    if (auto [it, fresh] = seen.emplace(id, pos_of(cfg_, idn)); !fresh) {
        diags.error(pos_of(cfg_, idn), ctx + ": duplicate node id '" + id + "'",
                    "the first node with this id is at " + it->second.str());
        return nullptr;
    }
    ctx += " '" + id + "'";
    if (!typen.IsDefined() || !typen.IsScalar()) {
        diags.error(pos_of(cfg_, item), ctx + ": missing 'type'", "aepipe list-nodes shows the types");
        return nullptr;
    }
    const auto *e = FlowNodeRegistry::get().find(typen.Scalar());
    if (!e) {
        unknown_type(ctx, typen, diags);
        return nullptr;
    }
    ctx += " (" + e->spec.type + ")";
    Diags local;
    Params p = check_params(e->spec, cfg_, item, ctx, local);
    if (!local.empty()) {
        diags.merge(local);
        return nullptr;
    }
    try {
        auto node = e->make(p);
        node->bind(id, p);
        return node;
    } catch (const ConfigError &err) {
        diags.add(err);
        return nullptr;
    }
}

void Pipeline::unknown_type(const std::string &ctx, const YAML::Node &typen, Diags &diags) const {
    auto names = FlowNodeRegistry::get().names();
    std::string near = nearest(typen.Scalar(), names), all;
    for (const auto &n : names) all += (all.empty() ? "" : ", ") + n;
    std::string hint = near.empty() ? "" : "did you mean '" + near + "'? ";
    if (const NodeSpec *other = find_spec(typen.Scalar()))
        hint = "'" + other->type + "' is a " + category_name(other->category) +
               ", which belongs in the model or train section; ";
    diags.error(pos_of(cfg_, typen), ctx + ": unknown node type '" + clip_text(typen.Scalar()) + "'",
                hint + "graph node types: " + all);
}

FlowNode *Pipeline::find(const std::string &id) const {
    for (const auto &n : nodes_)
        if (n->id() == id) return n.get();
    return nullptr;
}

FlowNode *Pipeline::upstream(const std::string &id, const std::string &port) const {
    for (const auto &e : edges_)
        if (e.to == id && e.to_port == port) return find(e.from);
    return nullptr;
}

FlowNode *Pipeline::feeder(const FlowNode &n) const {
    return n.spec().inputs.empty() ? nullptr : upstream(n.id(), n.spec().inputs.front().name);
}

std::vector<FlowNode *> Pipeline::downstream(const std::string &id) const {
    std::vector<FlowNode *> order;
    std::set<std::string> seen{id};
    std::vector<std::string> frontier{id};
    for (size_t at = 0; at < frontier.size(); ++at)
        for (const auto &e : edges_)
            if (e.from == frontier[at] && seen.insert(e.to).second) {
                frontier.push_back(e.to);
                order.push_back(find(e.to));
            }
    return order;
}

FlowNode *Pipeline::credit_source(const std::string &id, const std::string &credit, bool farthest) const {
    std::vector<FlowNode *> nodes = downstream(id);
    nodes.insert(nodes.begin(), find(id));
    if (farthest) std::reverse(nodes.begin(), nodes.end());
    for (FlowNode *n : nodes) {
        const auto sent = n->credit_outputs();
        if (std::find(sent.begin(), sent.end(), credit) != sent.end()) return n;
    }
    return nullptr;
}

void Pipeline::add_credit_edge(const FlowNode &from, const std::string &from_port, const FlowNode &to,
                               const std::string &to_port) {
    credit_edges_.push_back({from.id(), from_port, to.id(), to_port, "credit", to.params().where()});
}

SlotPool &Pipeline::pool(const FlowNode &n, int slots) {
    auto &p = pools_[n.id()];
    if (!p) p = std::make_unique<SlotPool>(slots);
    return *p;
}

static std::string port_list(const std::vector<PortSpec> &ports) {
    std::string s;
    for (const auto &p : ports) s += (s.empty() ? "" : ", ") + p.name;
    return s.empty() ? "(none)" : s;
}

void Pipeline::parse_edges(Diags &diags) {
    const YAML::Node list = cfg_.root["graph"]["edges"];
    std::map<std::pair<std::string, std::string>, SourcePos> fed;
    for (size_t i = 0; i < list.size(); ++i) {
        std::optional<Edge> e = parse_edge(i, list[i], diags);
        if (!e) continue;
        auto [it, fresh] = fed.emplace(std::pair{e->to, e->to_port}, e->pos);
        if (!fresh) {
            diags.error(e->pos, "graph.edges[" + std::to_string(i) + "]: input '" + e->to + "." + e->to_port +
                                    "' is already fed by the edge at " + it->second.str(),
                        "an input port takes exactly one edge");
            continue;
        }
        edges_.push_back(*e);
    }
    if (!diags.empty()) return;  // an edge mistake would also show as an unconnected input
    for (const auto &n : nodes_)
        for (const auto &p : n->spec().inputs)
            if (!fed.count({n->id(), p.name}))
                diags.error(n->params().where(),
                            "node '" + n->id() + "' (" + n->spec().type + "): input port '" + p.name +
                                "' is not connected",
                            "add an edge such as 'SOURCE -> " + n->id() + "." + p.name + "' (" + p.kinds.front() +
                                ")");
}

// graph.edges[i]: 'from[.port] -> to[.port]' between known nodes and ports of a common kind.
std::optional<Pipeline::Edge> Pipeline::parse_edge(size_t i, const YAML::Node &item, Diags &diags) const {
    static const std::regex edge_re(R"(\s*([A-Za-z_]\w*)(?:\.(\w+))?\s*->\s*([A-Za-z_]\w*)(?:\.(\w+))?\s*)");
    const SourcePos pos = pos_of(cfg_, item);
    const std::string ctx = "graph.edges[" + std::to_string(i) + "]";
    std::smatch m;
    std::string text = item.IsScalar() ? item.Scalar() : "";
    if (!item.IsScalar() || !short_text(text) || !std::regex_match(text, m, edge_re)) {
        diags.error(pos, ctx + ": expected 'from[.port] -> to[.port]', got " + describe(item),
                    "for example: model.epoch -> eval.model");
        return std::nullopt;
    }
    Edge e{m[1], m[2], m[3], m[4], "", pos};
    FlowNode *src = find(e.from), *dst = find(e.to);
    for (auto [name, node] : {std::pair{e.from, src}, std::pair{e.to, dst}})
        if (!node) diags.error(pos, ctx + ": edge refers to unknown node '" + name + "'", node_hint(name));
    if (!src || !dst) return std::nullopt;
    const PortSpec *op = pick_port(ctx, pos, e.from, src->spec().outputs, e.from_port, "output", diags);
    const PortSpec *ip = pick_port(ctx, pos, e.to, dst->spec().inputs, e.to_port, "input", diags);
    if (!op || !ip) return std::nullopt;
    for (const auto &k : op->kinds)
        if (e.kind.empty() && std::find(ip->kinds.begin(), ip->kinds.end(), k) != ip->kinds.end()) e.kind = k;
    if (e.kind.empty()) {
        diags.error(pos, ctx + ": '" + e.from + "." + e.from_port + "' carries " + op->kinds.front() + " but '" +
                             e.to + "." + e.to_port + "' takes " + ip->kinds.front());
        return std::nullopt;
    }
    return e;
}

// "did you mean ...?", or the list of the graph's nodes.
std::string Pipeline::node_hint(const std::string &name) const {
    std::vector<std::string> ids;
    for (const auto &n : nodes_) ids.push_back(n->id());
    std::string near = nearest(name, ids), all;
    for (const auto &x : ids) all += (all.empty() ? "" : ", ") + x;
    return near.empty() ? "nodes: " + all : "did you mean '" + near + "'?";
}

// The port named `port` among `ports` (a lone port when `port` is empty: then `port` is set).
const PortSpec *Pipeline::pick_port(const std::string &ctx, const SourcePos &pos, const std::string &node,
                                    const std::vector<PortSpec> &ports, std::string &port, const char *dir,
                                    Diags &diags) const {
    if (port.empty()) {
        if (ports.size() == 1) {
            port = ports[0].name;
            return &ports[0];
        }
        if (ports.empty()) {  // a source has no input (a sink no output): nothing to name
            diags.error(pos, ctx + ": node '" + node + "' has no " + dir + " ports",
                        std::string(dir) == "input" ? "it is a source: no edge can lead to it"
                                                    : "it is a sink: no edge can leave it");
            return nullptr;
        }
        diags.error(pos, ctx + ": node '" + node + "' has " + std::to_string(ports.size()) + " " + dir +
                             " ports; name one: " + port_list(ports));
        return nullptr;
    }
    std::vector<std::string> names;
    for (const auto &p : ports) {
        if (p.name == port) return &p;
        names.push_back(p.name);
    }
    std::string near = nearest(port, names);
    diags.error(pos, ctx + ": node '" + node + "' has no " + dir + " port '" + port + "'",
                (near.empty() ? "" : "did you mean '" + near + "'? ") + dir + " ports: " + port_list(ports));
    return nullptr;
}

void Pipeline::check_cycles(Diags &diags) {
    // Iterative DFS colouring; the first back edge found is reported at its position.
    std::map<std::string, int> colour;
    std::map<std::string, std::vector<const Edge *>> out;
    for (const auto &e : edges_) out[e.from].push_back(&e);
    for (const auto &root : nodes_) {
        if (colour[root->id()]) continue;
        std::vector<std::pair<std::string, size_t>> stack{{root->id(), 0}};
        colour[root->id()] = 1;
        while (!stack.empty()) {
            auto &[id, next] = stack.back();
            const auto &succ = out[id];
            if (next == succ.size()) {
                colour[id] = 2;
                stack.pop_back();
                continue;
            }
            const Edge *e = succ[next++];
            int c = colour[e->to];
            if (c == 1) {
                diags.error(e->pos, "graph.edges: edge '" + e->from + " -> " + e->to + "' closes a cycle",
                            "the graph must be acyclic; training feedback is built in");
                return;
            }
            if (c == 0) {
                colour[e->to] = 1;
                stack.push_back({e->to, 0});
            }
        }
    }
}

// A valid graph (README, "What a valid graph is"): at least one node; every input port fed by
// exactly one edge (parse_edges) and no cycle (check_cycles), so every node is fed from a
// source; at least one sink; every node's output leads to a sink (otherwise its work is
// lost); and at most one node of each type whose spec says `once` (train, evaluate,
// checkpoint, metrics, report).
void Pipeline::check_shape(Diags &diags) {
    const YAML::Node list = cfg_.root["graph"]["nodes"];
    if (nodes_.empty()) {
        diags.error(pos_of(cfg_, list), "graph.nodes: the graph has no nodes, so a run would do nothing",
                    "a graph needs at least a data source (idx_reader), a train node and a sink (metrics, "
                    "checkpoint, ...); see configs/mnist_ae.yaml");
        return;
    }
    std::map<std::string, const FlowNode *> first;
    for (const auto &n : nodes_) {
        if (n->spec().once.empty()) continue;
        auto [it, fresh] = first.emplace(n->spec().type, n.get());
        if (!fresh)
            diags.error(n->params().where(),
                        "node '" + n->id() + "' (" + n->spec().type + "): a graph may hold one " + n->spec().type +
                            " node, and '" + it->second->id() + "' at " + it->second->params().where().str() +
                            " is one already",
                        n->spec().once);
    }
    std::set<std::string> feeds_sink;  // nodes with a path to a sink (sinks included)
    for (const auto &n : nodes_)
        if (n->spec().category == Category::Sink) feeds_sink.insert(n->id());
    if (feeds_sink.empty()) {
        diags.error(pos_of(cfg_, list), "graph.nodes: the graph has no sink node, so a run would keep nothing",
                    "add a metrics, checkpoint, image_grid or report node fed by the train or evaluate node");
        return;
    }
    for (bool grew = true; grew;) {  // edges in reverse until nothing changes: the graph is small
        grew = false;
        for (const auto &e : edges_)
            if (feeds_sink.count(e.to) && feeds_sink.insert(e.from).second) grew = true;
    }
    for (const auto &n : nodes_)
        if (!feeds_sink.count(n->id()))
            diags.error(n->params().where(),
                        "node '" + n->id() + "' (" + n->spec().type + "): its output reaches no sink, so its work "
                        "would be lost",
                        "connect it towards a sink (e.g. '" + n->id() + " -> NODE') or remove it");
}

void Pipeline::rethrow_named(const FlowNode &n, int64_t step, const std::exception &e) {
    if (dist::parallel()) {  // the other ranks wait for this one in a collective: end the job now
        try {
            throw_named(n, step, e);
        } catch (const std::exception &named) {
            dist::abort(std::string(dynamic_cast<const DataError *>(&named) ? "" : "error: ") + named.what(), 1);
        }
    }
    throw_named(n, step, e);
}

void Pipeline::throw_named(const FlowNode &n, int64_t step, const std::exception &e) {
    std::string msg = dynamic_cast<const std::bad_alloc *>(&e) ? "out of memory (std::bad_alloc)" : e.what();
    if (msg.rfind("node '", 0) == 0) throw RuntimeError(msg);  // already named upstream
    // Steps are named 1-based everywhere a user sees them: "at step N" is the N-th step, the
    // one after which checkpoints/step-N.ckpt would be written (a message's m.step is 0-based).
    std::string at = step >= 0 ? " at step " + std::to_string(step + 1) : "";
    if (auto *d = dynamic_cast<const DataError *>(&e)) throw DataError::with_context(*d, "in " + n.where() + at);
    throw RuntimeError(n.where() + at + ": " + msg);
}

void Pipeline::fail(std::exception_ptr e) {
    {
        std::lock_guard<std::mutex> lock(failure_mu_);
        if (!failure_) failure_ = e;
    }
    graph_->cancel();
}

void Pipeline::stop(std::exception_ptr why) {
    {
        std::lock_guard<std::mutex> lock(failure_mu_);
        if (stop_) return;
        stop_ = why;
        // Bounded: evaluations still running past the deadline are abandoned (their epochs are
        // then named as unrecorded by the caller's message).
        watchdog_ = std::thread([this] {
            std::unique_lock<std::mutex> l(failure_mu_);
            if (!drained_.wait_for(l, std::chrono::seconds(kDrainSeconds), [this] { return idle_; }))
                graph_->cancel();
        });
    }
}
int Pipeline::add_probe(const FlowNode &n, const std::string &part) {
    probes_.push_back({&n, part.empty() ? n.id() : n.id() + "/" + part});
    return int(probes_.size() - 1);
}

std::vector<ProbeInfo> Pipeline::probe_infos() const {
    std::vector<ProbeInfo> v;
    for (const auto &p : probes_) v.push_back({p.name, p.node->spec().type});
    return v;
}

int Pipeline::compute_threads() const {
    if (settings_.threads > 0) return settings_.threads;
    // All cores, shared by the MPI ranks on this host (one rank without mpirun).
    return std::max(1, usable_cores() / dist::ranks_on_this_host());
}

int Pipeline::shards() const {
    int64_t s = settings_.shards;
    if (s <= 0) s = std::clamp<int64_t>(settings_.batch / 64, 1, compute_threads());
    return int(s);
}

int Pipeline::omp_per_shard() const { return std::max(1, compute_threads() / shards()); }

int Pipeline::free_cores() const {
    return usable_cores() / dist::ranks_on_this_host() - compute_threads();
}

int Pipeline::side_threads() const { return std::clamp(free_cores(), 1, omp_per_shard()); }

void Pipeline::preflight() {
    for (auto &n : nodes_) n->preflight(*this);
    const MemoryBound avail = available_memory_bound();
    check_memory(memory_estimate(), avail.bytes, double(settings_.max_memory), train_.pos("max_memory"), avail.name);
}

std::vector<MemoryItem> Pipeline::memory_estimate() const {
    std::vector<MemoryItem> items;
    for (const auto &n : nodes_) n->memory(*this, items);
    return items;
}

// The memory estimate (preflight) can be wrong, or other processes can take the memory in
// the meantime: an allocation that fails names the node being built.
void Pipeline::build_node(FlowNode &n) {
    try {
        n.build(*this);
    } catch (const std::bad_alloc &) {
        double bytes = 0;
        std::vector<MemoryItem> items;
        n.memory(*this, items);
        for (const auto &it : items) bytes += it.bytes;
        throw RuntimeError(n.where() + ": out of memory while building it (estimated " + human_bytes(bytes) +
                           ", " + human_bytes(available_memory()) + " available now)");
    }
}

// The builder checked the edge's kind against both ports' specs; the ports' C++ message types
// must be that kind too, or a node's spec and code disagree (a bug, named here).
void Pipeline::connect(const Edge &e) {
    FlowNode &from = *find(e.from), &to = *find(e.to);
    const OutPort out = from.out(e.from_port);
    const InPort in = to.in(e.to_port, e.kind);
    if (out.kind() != e.kind || !out.connect(in))
        throw RuntimeError("internal: edge " + e.from + "." + e.from_port + " -> " + e.to + "." + e.to_port + " (" +
                           e.kind + "): the ports carry " + std::string(out.kind()) + " and " +
                           std::string(in.kind()));
}

void Pipeline::run() {
    preflight();
    // Threads, decided here for every caller: see shards().
    tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism,
                                    size_t(std::min(shards(), compute_threads())));
    omp_set_num_threads(omp_per_shard());
    profiler_.reset();
    failure_ = stop_ = nullptr;
    idle_ = false;
    for (auto &n : nodes_) n->set_probe(add_probe(*n));
    graph_ = std::make_unique<flow::graph>();
    // A signal while building (large models, data loading) ends the process at once: there
    // is nothing to save yet. From the first step on, the training node stops cleanly.
    set_stop_phase("start-up (building the nodes and loading data; nothing was trained)", true);
    // Test hook: a start-up that computes for N seconds without looking at signals, like the
    // build of a large model (tests/e2e/signal_startup_test.cpp).
    if (settings_.test_hooks.busy_build_s > 0) {
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::duration<double>(settings_.test_hooks.busy_build_s);
        while (std::chrono::steady_clock::now() < until) {
        }
    }
    try {
        for (auto &n : nodes_) build_node(*n);
        for (const auto &e : edges_) connect(e);
        for (const auto &e : credit_edges_) connect(e);
        set_stop_phase("training", false);
        for (auto &n : nodes_) n->activate();
    } catch (...) {
        // A build() that throws (e.g. a checkpoint that does not fit) leaves tasks that edges
        // already spawned (limiters pulling from queues) running on nodes about to be destroyed.
        graph_->wait_for_all();
        throw;
    }
    try {
        graph_->wait_for_all();  // rethrows what a node body threw
    } catch (...) {
        end_watchdog();
        throw;
    }
    end_watchdog();
    set_stop_phase("writing the run's last outputs (training is done)", true);
    console_.flush_held();
    if (stop_) std::rethrow_exception(stop_);  // the first cause; a sink's later error is secondary
    if (failure_) std::rethrow_exception(failure_);
    profiler_.finish();
    console_.end_progress();
    for (auto &n : nodes_) n->finish();
}

}  // namespace aepipe
