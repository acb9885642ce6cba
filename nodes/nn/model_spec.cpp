#include "nodes/nn/model_spec.hpp"

#include "nodes/nn/model.hpp"
#include "nodes/nn/sample.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {

namespace {
struct ModelSection {
    YAML::Node layers, loss;
    static const Keys<ModelSection> &keys() {
        static const Keys<ModelSection> k{
            key(&ModelSection::layers, {"layers", Kind::List, "",
                                        "layers in order, each a map with a type (see list-nodes: layer)", {}, true}),
            key(&ModelSection::loss, {"loss", Kind::Map, "{type: mse}",
                                      "loss: a name (mse) or a map {type: bce, from_logits: true}"})};
        return k;
    }
};
}  // namespace

static const NodeSpec kModelSection{"model", Category::Section,
                                    "the network: a list of layers applied in order, and the loss",
                                    ModelSection::keys().specs()};
static const SectionRegistrar kModelSectionReg(kModelSection);

std::shared_ptr<const ModelSpec> ModelSpec::parse(const ConfigFile &cfg, const YAML::Node &section, Shape input) {
    auto s = std::shared_ptr<ModelSpec>(new ModelSpec);
    s->cfg_ = std::make_shared<const ConfigFile>(cfg);  // the params point at it for their messages
    s->input_ = input;
    Diags diags;
    Params mp = check_params(kModelSection, *s->cfg_, section, "model", diags, {});
    diags.throw_if_any();
    const auto keys = aepipe::parse<ModelSection>(mp);  // not ModelSpec::parse
    const YAML::Node &list = keys.layers;
    if (list.size() == 0) mp.fail("layers", "the model needs at least one layer");
    s->parse_layers(list, diags);
    s->parse_loss(keys.loss, diags);
    diags.throw_if_any();
    const Model m(s);  // the facts consumers ask for, from the model itself
    s->num_params_ = m.num_params();
    s->flops_ = m.flops_per_sample();
    s->summary_ = m.summary();
    return s;
}

// Each layer is built once here, to learn its output shape (the next layer's input) and to
// let its constructor check its params against that input.
void ModelSpec::parse_layers(const YAML::Node &list, Diags &diags) {
    const ConfigFile &cfg = *cfg_;
    const int64_t data_dim = input_.size();
    LayerInput in{data_dim, input_};
    YAML::Node last_units;
    for (size_t i = 0; i < list.size(); ++i) {
        YAML::Node item = list[i];
        std::string ctx = "model.layers[" + std::to_string(i) + "]";
        const auto *e = lookup_type<LayerRegistry>(cfg, item, ctx, "layer", diags);
        if (!e) continue;
        ctx += " (" + e->spec.type + ")";
        Diags local;
        Params p = check_params(e->spec, cfg, item.IsMap() ? item : YAML::Node(YAML::NodeType::Map), ctx, local,
                                {"type", "code"});
        if (item.IsMap() && item["code"].IsDefined()) mark_code(item["code"], ctx, i, local);
        if (!local.empty()) {
            diags.merge(local);
            continue;
        }
        std::unique_ptr<Layer> layer;
        try {
            layer = e->make(p, in);
        } catch (const ConfigError &err) {
            diags.add(err);
            continue;
        }
        if (double(layer->out_shape().size()) > kMaxValuesPerSample) {  // size() saturates
            diags.error(pos_of(cfg, item), ctx + ": outputs " + layer->out_shape().str() +
                                               " values per sample, more than a layer may (2^36)");
            continue;
        }
        if (dynamic_cast<SampleLayer *>(layer.get()) && sample_layer_ < 0) sample_layer_ = int64_t(i);
        layers_.push_back({e, std::move(p), in});
        in = LayerInput{layer->out_dim(), layer->out_shape()};
        // reset() rebinds the handle; operator= would write into the config tree.
        last_units.reset(item.IsMap() && item["units"].IsDefined() ? item["units"] : item);
    }
    check_output(list, in, last_units, diags);
    // The last layer's output is the reconstruction; a code is what comes before it.
    if (code_layer_ >= 0 && size_t(code_layer_) + 1 == list.size())
        diags.error(pos_of(cfg, list[size_t(code_layer_)]["code"]),
                    "model.layers[" + std::to_string(code_layer_) +
                        "]: 'code: true' on the last layer, whose output is the reconstruction, not a code",
                    "mark the layer whose output is the code (the bottleneck), e.g. the narrowest");
}

// An autoencoder reconstructs its input: the last layer must give back the data's shape.
void ModelSpec::check_output(const YAML::Node &list, const LayerInput &out, const YAML::Node &last_units,
                             Diags &diags) const {
    const int64_t data_dim = input_.size();
    const std::string last = "model.layers[" + std::to_string(list.size() - 1) + "]";
    if (diags.empty() && data_dim > 0 && out.in_dim != data_dim)
        diags.error(pos_of(*cfg_, last_units),
                    last + ": the last layer outputs " + std::to_string(out.in_dim) +
                        " values per sample, but the data has " + std::to_string(data_dim),
                    "an autoencoder reconstructs its input: make the last layer's units " + std::to_string(data_dim));
    else if (diags.empty() && data_dim > 0 && out.shape.spatial() && input_.spatial() && out.shape != input_)
        diags.error(pos_of(*cfg_, last_units),
                    last + ": the last layer outputs " + out.shape.str() + " (HxWxC) per sample, but the data is " +
                        input_.str(),
                    "an autoencoder reconstructs its input: the output shape must be the data's");
}

void ModelSpec::parse_loss(const YAML::Node &lnode, Diags &diags) {
    const ConfigFile &cfg = *cfg_;
    loss_type_ = lookup_type<LossRegistry>(cfg, lnode, "model.loss", "loss", diags);
    if (!loss_type_) return;
    loss_params_ = check_params(loss_type_->spec, cfg, lnode.IsMap() ? lnode : YAML::Node(YAML::NodeType::Map),
                                "model.loss (" + loss_type_->spec.type + ")", diags, {"type"});
    if (!diags.empty()) return;
    const std::unique_ptr<Loss> loss = loss_type_->make(loss_params_);
    loss_unit_ = loss->unit();
    if (sample_layer_ >= 0 && !loss->sums_per_sample())
        diags.error(pos_of(cfg, lnode),
                    "model.loss: a model with a sample layer adds its KL term per image, so the reconstruction "
                    "loss must be per image too",
                    "set the loss's 'reduction: sum' (e.g. {type: bce, from_logits: true, reduction: sum})");
}

// `code: true` on any layer marks the code that `aepipe encode` writes; a key every layer
// type accepts, so it is checked here rather than in each layer's spec.
void ModelSpec::mark_code(const YAML::Node &v, const std::string &ctx, size_t i, Diags &d) {
    bool on = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, on))
        return d.error(pos_of(*cfg_, v), ctx + ": 'code' must be true or false");
    if (!on) return;
    if (code_layer_ >= 0)
        return d.error(pos_of(*cfg_, v), ctx + ": a second layer marked 'code: true' (model.layers[" +
                                             std::to_string(code_layer_) + "] is marked already)",
                       "mark only the layer whose output is the code");
    code_layer_ = int64_t(i);
}

std::shared_ptr<const ModelSpec> model_spec_of(Pipeline &p, const FlowNode &node) {
    const Shape in = node.sample_shape(p);
    return p.once<ModelSpec>("model " + in.str(), [&] { return ModelSpec::parse(p.config(), p.section("model"), in); });
}

}  // namespace aepipe
