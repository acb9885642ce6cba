// libFuzzer target: the checkpoint reader. Today's checkpoints are safetensors: the file is
// parsed (read_safetensors) and loaded into a small model (from_safetensors: names, shapes).
// Another checkpoint format gets its own fuzz_<name>.cpp beside this one.
#include "fuzz_input.hpp"
#include "nodes/sink/checkpoint.hpp"

namespace {

// model: 4 -> 3 -> 4 (layers.0.weight 3x4, layers.0.bias 3, layers.1.weight 4x3, layers.1.bias 4)
struct Tiny {
    aepipe::ConfigFile cfg = aepipe::parse_config(
        "model: {layers: [{type: dense, units: 3}, {type: dense, units: 4}]}\n"
        "graph: {nodes: [], edges: []}\n",
        "tiny.yaml");
    aepipe::Model model{aepipe::ModelSpec::parse(cfg, cfg.root["model"], 4)};
    std::vector<float> params = std::vector<float>(size_t(model.num_params()));
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static Tiny tiny;
    const std::string path = aepipe::fuzz::input_file(data, size, ".safetensors");
    aepipe::fuzz::expect_clear_errors([&] {
        aepipe::StFile f = aepipe::read_safetensors(path);
        aepipe::from_safetensors(tiny.model, f, path, tiny.params.data());
    });
    return 0;
}
