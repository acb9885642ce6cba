// libFuzzer target: a config from YAML text to a validated graph spec, as `aepipe validate`
// does it (load_config, then Pipeline's one-pass validation: schemas, nodes, edges, layer
// sizes, value ranges, the graph's shape, cycles), then the memory estimate of the sizes it
// accepted against a fixed bound (sizes from hostile inputs must not overflow). Nothing is
// built or run, and preflight's file checks (which open the data files the config names) are
// left out so that inputs cannot reach the file system.
#include "fuzz_input.hpp"
#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string path = aepipe::fuzz::input_file(data, size, ".yaml");
    aepipe::fuzz::expect_clear_errors([&] {
        aepipe::ConfigFile cfg = aepipe::load_config(path);
        aepipe::Pipeline p(cfg, aepipe::RunSettings{});
        aepipe::check_memory(p.memory_estimate(), 1e12, double(p.settings().max_memory), {});
    });
    return 0;
}
