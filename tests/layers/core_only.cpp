// Built from aepipe_core alone (tests/layers/CMakeLists.txt): every object of the framework is
// linked, and no node, format, report or command. It registers one node type of its own,
// builds a graph of it from YAML and runs it: the core validates, builds and runs a flow graph
// without knowing any node. Exit 0 when the node saw all its messages and the registry holds
// only that type.
#include <oneapi/tbb/flow_graph.h>

#include <atomic>
#include <cstdio>

#include "pipeline/config.hpp"
#include "pipeline/error.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/registry.hpp"

namespace aepipe {
namespace {

std::atomic<int64_t> g_count{0};

struct CountToParams {
    int64_t n = 0;
    static const Keys<CountToParams> &keys() {
        static const Keys<CountToParams> k{key(&CountToParams::n, {"n", Kind::Int, "5", "messages to send"})};
        return k;
    }
};

// A source and sink in one: on activate it sends `n` messages to its own counting node.
class CountTo : public FlowNode {
public:
    explicit CountTo(const Params &p) : n_(parse<CountToParams>(p).n) {}
    void build(Pipeline &p) override {
        node_ = std::make_unique<flow::function_node<DatasetMsg>>(p.graph(), flow::unlimited, [](const DatasetMsg &) {
            ++g_count;
            return flow::continue_msg();
        });
    }
    void activate() override {
        for (int64_t i = 0; i < n_; ++i) {
            DatasetMsg m;
            m.step = i;
            node_->try_put(m);
        }
    }

private:
    int64_t n_;
    std::unique_ptr<flow::function_node<DatasetMsg>> node_;
};

Registrar<FlowNodeRegistry> reg({"count_to",
                                 Category::Sink,
                                 "layer check: counts the messages it sends itself",
                                 CountToParams::keys().specs(),
                                 {},
                                 {}},
                                [](const Params &p) { return std::make_unique<CountTo>(p); });

int check() {
    const auto names = FlowNodeRegistry::get().names();
    if (names != std::vector<std::string>{"count_to"}) {
        std::fprintf(stderr, "core_only: the core registered node types of its own (%zu)\n", names.size());
        return 1;
    }
    const ConfigFile cfg = parse_config("model: {}\ntrain: {threads: 1}\n"
                                        "graph:\n  nodes:\n    - {id: c, type: count_to, n: 7}\n  edges: []\n",
                                        "core_only.yaml");
    Pipeline p(cfg, RunSettings{});
    p.run();
    if (g_count != 7) {
        std::fprintf(stderr, "core_only: count_to saw %lld messages, not 7\n", (long long)g_count);
        return 1;
    }
    std::puts("core_only: the core built and ran a graph without nodes");
    return 0;
}

}  // namespace
}  // namespace aepipe

int main() {
    try {
        return aepipe::check();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "core_only: %s\n", e.what());
        return 1;
    }
}
