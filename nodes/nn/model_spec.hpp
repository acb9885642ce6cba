// The model, parsed once: the `model` section checked against the input's per-sample shape,
// every layer's type and params resolved, and what the consumers ask of a model (input shape,
// VAE or not, the loss's unit, FLOPs per sample, parameter count). This is the only place a
// model is read from YAML; training, evaluation, the sinks, the commands and the benchmarks
// build their Models from it (Model(spec)), so they cannot disagree about the network.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nodes/nn/layer.hpp"
#include "nodes/nn/loss.hpp"

namespace aepipe {

// Floating-point operations per sample (multiply and add counted as two), see
// Layer::macs_per_sample. A training step does forward + backward per sample.
struct ModelFlops {
    double forward = 0, backward = 0;
    double train() const { return forward + backward; }
};

struct LayerSpec {
    const LayerRegistry::Entry *type;
    Params params;
    LayerInput input;  // width and shape of what flows in
};

class ModelSpec {
public:
    // Parses `section` (the config's `model`) for samples of `input` shape; every mistake of
    // the section is collected and thrown as one ConfigError.
    static std::shared_ptr<const ModelSpec> parse(const ConfigFile &cfg, const YAML::Node &section, Shape input);
    // Flat inputs of `dim` values per sample.
    static std::shared_ptr<const ModelSpec> parse(const ConfigFile &cfg, const YAML::Node &section, int64_t dim) {
        return parse(cfg, section, Shape{dim, 1, 1});
    }

    Shape input() const { return input_; }
    int64_t in_dim() const { return input_.size(); }
    const std::vector<LayerSpec> &layers() const { return layers_; }
    const LossRegistry::Entry &loss_type() const { return *loss_type_; }
    const Params &loss_params() const { return loss_params_; }
    bool vae() const { return sample_layer_ >= 0; }
    // Index of the VAE's `sample` layer (layers after it are the decoder), or -1.
    int64_t sample_layer() const { return sample_layer_; }
    // Index of the layer marked `code: true`, or -1 (see nodes/nn/code_layer.hpp).
    int64_t code_layer() const { return code_layer_; }
    std::string loss_unit() const { return loss_unit_; }  // "per_px" or "per_img"
    ModelFlops flops_per_sample() const { return flops_; }
    int64_t num_params() const { return num_params_; }
    std::string summary() const { return summary_; }

private:
    ModelSpec() = default;
    void parse_layers(const YAML::Node &list, Diags &diags);
    void check_output(const YAML::Node &list, const LayerInput &out, const YAML::Node &last_units, Diags &diags) const;
    void parse_loss(const YAML::Node &lnode, Diags &diags);
    void mark_code(const YAML::Node &v, const std::string &ctx, size_t i, Diags &d);

    std::shared_ptr<const ConfigFile> cfg_;  // what the params' messages point into
    Shape input_;
    std::vector<LayerSpec> layers_;
    const LossRegistry::Entry *loss_type_ = nullptr;
    Params loss_params_;
    int64_t sample_layer_ = -1, code_layer_ = -1, num_params_ = 0;
    std::string loss_unit_, summary_;
    ModelFlops flops_;
};

class Pipeline;
class FlowNode;

// The run's model for the inputs that reach `node` (their shape decides conv layers), parsed
// once per pipeline and shared by every node that asks (Pipeline::once); a config mistake is
// thrown as the same ConfigError to each of them.
std::shared_ptr<const ModelSpec> model_spec_of(Pipeline &p, const FlowNode &node);

}  // namespace aepipe
