// libFuzzer target: a config from YAML text to a validated graph spec, as `aepipe validate`
// does it (load_config, then Pipeline's one-pass validation: schemas, nodes, edges, layer
// sizes, cycles). Nothing is built or run, and preflight (which opens the data files the
// config names) is left out so that inputs cannot reach the file system.
#include "fuzz_input.hpp"
#include "pipeline/config.hpp"
#include "pipeline/graph.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string path = aepipe::fuzz::input_file(data, size, ".yaml");
    aepipe::fuzz::expect_clear_errors([&] {
        aepipe::ConfigFile cfg = aepipe::load_config(path);
        aepipe::Pipeline p(cfg, aepipe::RunSettings{});
    });
    return 0;
}
