// The YAML `graph` section -> a validated set of nodes and typed edges -> a tbb::flow::graph.
//
//   graph:
//     nodes:
//       - {id: train_set, type: idx_reader, images: ../data/mnist/train-images-idx3-ubyte.gz}
//       - {id: shuffle, type: shuffle}
//     edges:
//       - train_set -> shuffle            # node[.port] -> node[.port]; a lone port may be omitted
//
// Validation collects every mistake of the file in one pass (unknown type/key/node/port,
// kind mismatch, unconnected or doubly fed input, cycle) before anything is built.
#pragma once

#include <oneapi/tbb/flow_graph.h>

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pipeline/config.hpp"
#include "pipeline/console.hpp"
#include "pipeline/memory.hpp"
#include "pipeline/message.hpp"
#include "pipeline/profile.hpp"
#include "pipeline/precision.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/shape.hpp"
#include "pipeline/test_hooks.hpp"

namespace aepipe {

namespace flow = tbb::flow;

// A node's port as the graph builder sees it: a tbb receiver or sender of one message type,
// which is its port kind's (pipeline/message.hpp). The builder checks the kinds match before
// it makes the edge, so a node cannot be handed a message type it does not read.
class InPort {
public:
    template <class M>
    InPort(flow::receiver<M> &r) : kind_(PortKind<M>::name), ptr_(&r) {}
    std::string_view kind() const { return kind_; }

private:
    friend class OutPort;
    std::string_view kind_;
    void *ptr_;
};

class OutPort {
public:
    template <class M>
    OutPort(flow::sender<M> &s) : kind_(PortKind<M>::name), ptr_(&s), link_(&link<M>) {}
    std::string_view kind() const { return kind_; }
    // flow::make_edge to `to`; false (and no edge) when their message types differ.
    bool connect(const InPort &to) const {
        if (to.kind_ != kind_) return false;
        link_(ptr_, to.ptr_);
        return true;
    }

private:
    template <class M>
    static void link(void *s, void *r) {
        flow::make_edge(*static_cast<flow::sender<M> *>(s), *static_cast<flow::receiver<M> *>(r));
    }
    std::string_view kind_;
    void *ptr_;
    void (*link_)(void *, void *);
};

// Settings of one run: the `train` section, resolved against the command line.
struct RunSettings {
    int64_t epochs = 10, batch = 50, in_flight = 4;
    int64_t max_steps = 0;  // stop after this many steps (0: run all epochs)
    int64_t shards = 0;     // train.shards (0: auto; Pipeline::shards())
    int64_t max_memory = 0; // train.max_memory in bytes (0: only the available memory)
    bool profile = false;   // record every node execution (Profiler)
    uint64_t seed = 42;
    int threads = 0;
    std::string run_dir;  // empty: nodes write nothing (validate, graph)
    bool tty = false, quiet = false;
    // aepipe run --resume: the data stream restarts at start_epoch (= epochs done) and skips
    // steps < start_step. What the training node restores (the checkpoint the CLI read and
    // checked: nodes/nn/train_state.hpp, ResumeFrom) the core only carries; null: a new run.
    std::shared_ptr<const Payload> resume;
    int64_t start_epoch = 0, start_step = 0;
    std::string init_from;  // --init-from: initial weights only (fine-tuning)
    TestHooks test_hooks;   // aepipe run --test-hook (tests only; pipeline/test_hooks.hpp)
    Precision precision = Precision::F32;  // train.precision: of the training step's matmuls/convolutions
    // Whether the CPU runs bf16; unset: ask oneDNN (cpu_has_bf16). Tests set it to reach the
    // error path of a CPU without bf16 on any machine.
    std::optional<bool> cpu_bf16;
};

class Pipeline;

class FlowNode {
public:
    virtual ~FlowNode() = default;
    const std::string &id() const { return id_; }
    const NodeSpec &spec() const { return params_.spec(); }
    const Params &params() const { return params_; }
    // "node 'enc1' (dense, configs/x.yaml:12:5)" for runtime messages.
    std::string where() const;

    // After all nodes exist and edges are checked: look at neighbours, check sizes.
    virtual void resolve(Pipeline &, Diags &) {}
    // Values per sample flowing out of this node (0 = unknown); data nodes pass it on.
    virtual int64_t sample_dim(const Pipeline &p) const;
    // The same as a {c, h, w} shape (images: from the reader; flat {sample_dim, 1, 1} otherwise).
    virtual Shape sample_shape(const Pipeline &p) const;
    // Checks what the run needs from outside (data files exist) before anything is written.
    virtual void preflight(Pipeline &) {}
    // What the node will allocate when built, estimated from the config (see memory.hpp).
    virtual void memory(const Pipeline &, std::vector<MemoryItem> &) const {}
    // Creates the tbb nodes (heavy one-time work: loading data, building primitives).
    virtual void build(Pipeline &p) = 0;
    // The tbb port behind a port of the spec, for an edge of `kind` (one of the port's kinds);
    // and behind a credit port (credit_outputs(), Pipeline::add_credit_edge).
    virtual InPort in(const std::string &port, const std::string &kind);
    virtual OutPort out(const std::string &port);
    // The credits this node sends (flow control: "step_done" after each training step,
    // "epoch_done" once an epoch is finished with). A node that admits work asks for them in
    // resolve() with Pipeline::add_credit_edge; `aepipe graph` draws those edges.
    virtual std::vector<std::string> credit_outputs() const { return {}; }
    // How many epochs the training set's reader may run ahead of this node's "epoch_done"
    // credits: 2 lets an epoch's training run beside the evaluation of the one before; 1 makes
    // training wait for it (the evaluation then has the training threads to itself).
    virtual int epoch_lead(const Pipeline &) const { return 2; }
    virtual void activate() {}  // sources start emitting
    virtual void finish() {}    // the graph has drained

    void bind(std::string id, Params p) { id_ = std::move(id), params_ = std::move(p); }
    int probe() const { return probe_; }
    void set_probe(int p) { probe_ = p; }

protected:
    // A key naming a file the node writes into the run folder must be a plain file name: a path
    // would write outside the run ('../x.png') or into a folder nobody made ('sub/x'), and an
    // empty name writes nothing. Checked by resolve(), so validate reports it.
    void check_run_file_name(const char *key, const std::string &value, Diags &d) const;

    int probe_ = 0;
    std::string id_;
    Params params_;
};

using FlowNodeRegistry = Registry<FlowNode>;

class Pipeline {
public:
    struct Edge {
        std::string from, from_port, to, to_port, kind;
        SourcePos pos;
    };

    // Validates the whole config; throws ConfigError listing every problem found.
    Pipeline(const ConfigFile &cfg, RunSettings settings);
    ~Pipeline();

    // Every node's preflight() (missing or malformed inputs), then the memory estimate
    // against what is available: everything `run` would reject before training, reported
    // before a run folder exists. `validate` runs it too.
    void preflight();
    std::vector<MemoryItem> memory_estimate() const;
    // Builds, runs to completion, finishes the sinks. Errors propagate (named by node).
    void run();

    const ConfigFile &config() const { return cfg_; }
    const RunSettings &settings() const { return settings_; }
    int compute_threads() const;  // train.threads, or every usable core when 0
    // Row shards of a training batch (train.shards; auto: one per 64 rows, at most one per
    // thread). TBB runs the graph on min(shards, threads) threads and each shard's oneDNN
    // primitives get an OpenMP team of threads / shards, so the two never oversubscribe.
    int shards() const;
    int omp_per_shard() const;
    // Cores this process may use (pipeline/cores.hpp; its share of them under mpirun) that the
    // training threads leave free; 0 or less when training takes them all.
    int free_cores() const;
    // OpenMP threads for work beside the training step (evaluation, image sinks): the cores the
    // training threads leave free, at least 1 and at most omp_per_shard(). A second team as
    // large as the training's would oversubscribe the cores, and OpenMP teams that spin-wait
    // at their barriers while the other team holds the core slow each other down (measured:
    // 2 cores, batch 50, evaluation with a team of 2: 28,500 samples/s; with 1: 40,800).
    int side_threads() const;
    void set_run_dir(std::string dir) { settings_.run_dir = std::move(dir); }
    RunSettings &mutable_settings() { return settings_; }  // the CLI, before run(): resume, init_from
    YAML::Node section(const std::string &name) const { return cfg_.root[name]; }
    const Params &train_params() const { return train_; }
    flow::graph &graph() { return *graph_; }
    Console &console() { return console_; }
    const std::vector<std::unique_ptr<FlowNode>> &nodes() const { return nodes_; }
    const std::vector<Edge> &edges() const { return edges_; }
    FlowNode *find(const std::string &id) const;
    // The node feeding `port` of node `id` (nullptr if none).
    FlowNode *upstream(const std::string &id, const std::string &port) const;
    // The node feeding n's first input port: the data path runs through first inputs.
    FlowNode *feeder(const FlowNode &n) const;
    // The nodes downstream of node `id` along data edges, nearest first (breadth first).
    std::vector<FlowNode *> downstream(const std::string &id) const;
    // Of `id` and the nodes downstream of it, the nearest (or the farthest) that sends
    // `credit` (FlowNode::credit_outputs); nullptr if none.
    FlowNode *credit_source(const std::string &id, const std::string &credit, bool farthest = false) const;

    // A credit edge (kind "credit"): flow control from the node that finishes work to the
    // node that admits it, e.g. train.step_done -> batches.step_credit. Called from resolve();
    // run() wires it like a data edge; `aepipe graph` draws it.
    void add_credit_edge(const FlowNode &from, const std::string &from_port, const FlowNode &to,
                         const std::string &to_port);
    const std::vector<Edge> &credit_edges() const { return credit_edges_; }

    // The buffer pool of node n (made with `slots` slots on first use). The pipeline owns it,
    // so it outlives every message holding one of its buffers, queued anywhere in the graph.
    SlotPool &pool(const FlowNode &n, int slots);

    // Ends the run with error `e` raised on a thread that is not the graph's (a Worker job):
    // cancels the graph; run() throws the first such error once the graph has stopped.
    void fail(std::exception_ptr e);

    // Ends the run gently with `why` (an Interrupted, or the error of a failed checkpoint
    // write): the caller (the training node) stops admitting steps, while the epochs already
    // trained are still evaluated and recorded by the sinks. Once the graph is idle, run()
    // throws `why`; should that take longer than kDrainSeconds, the graph is cancelled.
    void stop(std::exception_ptr why);
    static constexpr int kDrainSeconds = 10;

    // A profile track for a part of a node ("model/fwd0"); each node has one of its own.
    int add_probe(const FlowNode &n, const std::string &part = "");

    // Runs the body of probe `probe` on message m: any exception comes out as a
    // RuntimeError naming the node and the step; with profiling on, the call is recorded.
    template <class M, class F>
    auto guard(int probe, const M &m, F &&f) -> decltype(f()) {
        double t0 = settings_.profile ? profiler_.now() : 0;
        try {
            if constexpr (std::is_void_v<decltype(f())>) {
                f();
                if (settings_.profile) record(probe, m, t0);
            } else {
                auto r = f();
                if (settings_.profile) record(probe, m, t0);
                return r;
            }
        } catch (const std::exception &e) {
            rethrow_named(*probes_[size_t(probe)].node, step_of(m), e);
        }
    }
    template <class M, class F>
    auto guard(const FlowNode &n, const M &m, F &&f) -> decltype(f()) {
        return guard(n.probe(), m, std::forward<F>(f));
    }
    double now() const { return profiler_.now(); }
    // With profiling on: probe `probe` ran on message m from t0 (now()) to now.
    template <class M>
    void record(int probe, const M &m, double t0) {
        profiler_.record({probe, 0, t0, profiler_.now(), ready_of(m), step_of(m), rows_of(m)});
    }
    // With profiling on, a training step from t0 (now()) to now: the profile's training throughput.
    void record_step(double t0, int64_t samples) {
        if (settings_.profile) profiler_.add_step(t0, profiler_.now(), samples);
    }
    const Profiler &profiler() const { return profiler_; }
    std::vector<ProbeInfo> probe_infos() const;

    // At the end of each step: the seconds spent in training steps so far (the clock of the
    // epoch lines' samples/s: steps only, no waits between them) and the samples they trained,
    // for benchmarks; filled up to its capacity (reserve() it first).
    struct StepMark {
        double seconds = 0;
        int64_t samples = 0;
    };
    std::vector<StepMark> &step_marks() { return step_marks_; }

    // Something parsed once per run and shared by the nodes that need it (the model's spec,
    // nodes/nn/model_spec.hpp), so that nodes neither re-parse it nor look for each other:
    // the first call with `key` makes it; later calls get the same object, or the same error.
    // Called from resolve() and build(), which run on one thread.
    template <class T, class Make>
    std::shared_ptr<const T> once(const std::string &key, Make &&make) {
        Once &o = once_[key];
        if (!o.made) {
            o.made = true;
            try {
                o.value = make();
            } catch (...) {
                o.error = std::current_exception();
            }
        }
        if (o.error) std::rethrow_exception(o.error);
        return std::static_pointer_cast<const T>(o.value);
    }

private:
    struct Once {
        bool made = false;
        std::shared_ptr<const void> value;
        std::exception_ptr error;
    };
    std::map<std::string, Once> once_;
    struct Probe {
        const FlowNode *node;
        std::string name;
    };
    void end_watchdog();  // the graph is idle: the drain deadline of stop() no longer applies
    [[noreturn]] void rethrow_named(const FlowNode &n, int64_t step, const std::exception &e);
    [[noreturn]] void throw_named(const FlowNode &n, int64_t step, const std::exception &e);
    void check_precision(Diags &diags);
    void parse_nodes(Diags &diags);
    std::unique_ptr<FlowNode> parse_node(size_t i, const YAML::Node &item, std::map<std::string, SourcePos> &seen,
                                         Diags &diags);
    void unknown_type(const std::string &ctx, const YAML::Node &typen, Diags &diags) const;
    void parse_edges(Diags &diags);
    std::optional<Edge> parse_edge(size_t i, const YAML::Node &item, Diags &diags) const;
    std::string node_hint(const std::string &name) const;
    const PortSpec *pick_port(const std::string &ctx, const SourcePos &pos, const std::string &node,
                              const std::vector<PortSpec> &ports, std::string &port, const char *dir,
                              Diags &diags) const;
    void check_cycles(Diags &diags);
    void check_shape(Diags &diags);
    void connect(const Edge &e);
    void build_node(FlowNode &n);  // what a graph must hold to do anything (README: valid graph)

    const ConfigFile &cfg_;
    RunSettings settings_;
    Params train_;
    Console console_;
    std::map<std::string, std::unique_ptr<SlotPool>> pools_;  // before graph_ and nodes_: dies after them
    std::unique_ptr<flow::graph> graph_;
    std::vector<std::unique_ptr<FlowNode>> nodes_;
    std::vector<Edge> edges_, credit_edges_;
    std::vector<Probe> probes_;
    Profiler profiler_;
    std::vector<StepMark> step_marks_;
    std::mutex failure_mu_;
    std::exception_ptr failure_;  // from fail()
    std::exception_ptr stop_;     // from stop(), under failure_mu_
    std::condition_variable drained_;
    bool idle_ = false;  // the graph has stopped: the drain watchdog ends
    std::thread watchdog_;
};

// The `train` section: the run's settings (epochs, batch, seed, threads, in_flight, ...) and
// the keys that nodes add to it (SectionKeys).
NodeSpec &train_section_spec();

}  // namespace aepipe
