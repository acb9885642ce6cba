// Built from every layer but the commands (tests/layers/CMakeLists.txt): the nodes, formats
// and report rendering link without pipeline/cli. Exit 0 when the registry holds the node
// types that `aepipe list-nodes` shows (a few named here), i.e. no registrar was dropped.
#include <cstdio>

#include "pipeline/graph.hpp"

int main() {
    const auto &r = aepipe::FlowNodeRegistry::get();
    for (const char *type : {"idx_reader", "train", "evaluate", "metrics", "checkpoint", "report"})
        if (!r.find(type)) {
            std::fprintf(stderr, "nodes_only: node type '%s' is not registered\n", type);
            return 1;
        }
    std::printf("nodes_only: %zu node types, linked without the commands\n", r.names().size());
    return 0;
}
