// The model card: written by the checkpoint node, read by reconstruct and generate
// (see model_card.hpp for the keys). Every way these commands get a model ends in
// build_model(card), so the model is derived from a description in one place.
#include "nodes/sink/model_card.hpp"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "nodes/data/idx_reader.hpp"
#include "nodes/sink/checkpoint.hpp"
#include "pipeline/config.hpp"
#include "pipeline/file_io.hpp"

namespace fs = std::filesystem;

namespace aepipe {
namespace {

using json = nlohmann::json;

std::string one_line_yaml(const YAML::Node &n) {
    YAML::Emitter e;
    e.SetMapFormat(YAML::Flow);
    e.SetSeqFormat(YAML::Flow);
    e << n;
    return e.c_str();
}

IdxSource test_set_of(const Pipeline &p, const FlowNode &train) {
    for (const auto &n : p.nodes())
        if (n->spec().type == "evaluate" && p.upstream(n->id(), "model") == &train)
            if (const FlowNode *data = p.upstream(n->id(), "data")) return idx_source(*data);
    return {};
}

[[noreturn]] void bad_key(const std::string &path, const std::string &key, const std::string &why) {
    throw DataError(path, "__metadata__ '" + key + "': " + why);
}

Shape parse_shape(const std::string &path, const std::string &s) {
    static const std::regex re(R"((\d{1,6})x(\d{1,6})x(\d{1,6}))");
    std::smatch m;
    if (!std::regex_match(s, m, re)) bad_key(path, "input_shape", "'" + s + "' is not HxWxC (e.g. 28x28x1)");
    Shape sh{std::stoll(m[3]), std::stoll(m[1]), std::stoll(m[2])};
    if (sh.c < 1 || sh.h < 1 || sh.w < 1 || sh.size() > (int64_t(1) << 26))
        bad_key(path, "input_shape", "'" + s + "' has a zero or too large side");
    return sh;
}

// The finite numbers `keys` of a JSON object in key `key`.
std::vector<double> parse_numbers(const std::string &path, const std::string &key, const std::string &text,
                                  const std::vector<std::string> &keys) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error &e) {
        bad_key(path, key, std::string("malformed JSON: ") + e.what());
    }
    std::vector<double> v;
    for (const auto &k : keys) {
        if (!j.is_object() || !j.contains(k) || !j[k].is_number()) bad_key(path, key, "needs a number '" + k + "'");
        v.push_back(j[k].get<double>());
        if (!std::isfinite(v.back())) bad_key(path, key, "'" + k + "' is not finite");
    }
    return v;
}

Normalizer parse_norm(const std::string &path, const std::string &text) {
    auto v = parse_numbers(path, "normalize", text, {"scale", "shift", "mean", "std"});
    Normalizer n{float(v[0]), float(v[1]), float(v[2]), float(v[3])};
    if (n.scale == 0.f || !(n.std > 0.f)) bad_key(path, "normalize", "needs scale != 0 and std > 0");
    return n;
}

const std::vector<std::string> kCorruptKeys{"noise_std", "salt_pepper", "mask_value", "masks",
                                            "mask_min",  "mask_max",    "seed"};

Corruption parse_corrupt(const std::string &path, const std::string &text) {
    auto v = parse_numbers(path, "corrupt", text, kCorruptKeys);
    const json seed = json::parse(text)["seed"];  // a double would round seeds above 2^53
    if (!seed.is_number_unsigned()) bad_key(path, "corrupt", "'seed' must be a whole number >= 0");
    return {v[0], v[1], v[2], int64_t(v[3]), int64_t(v[4]), int64_t(v[5]), seed.get<uint64_t>()};
}

// test_classes: a non-empty JSON list of labels 0..255.
std::vector<int64_t> parse_classes(const std::string &path, const std::string &text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error &e) {
        bad_key(path, "test_classes", std::string("malformed JSON: ") + e.what());
    }
    if (!j.is_array() || j.empty()) bad_key(path, "test_classes", "expected a non-empty list of labels, e.g. [0]");
    std::vector<int64_t> v;
    for (const auto &c : j) {
        if (!c.is_number_unsigned() || c.get<uint64_t>() > 255)
            bad_key(path, "test_classes", "expected labels from 0 to 255, got " + c.dump());
        v.push_back(c.get<int64_t>());
    }
    return v;
}

// One line per way the tensors differ from what `m` needs ("" when they match).
std::string tensor_mismatch(const Model &m, const StFile &f) {
    auto str = [](const std::vector<int64_t> &s) {
        std::string r;
        for (auto d : s) r += (r.empty() ? "" : "x") + std::to_string(d);
        return r;
    };
    std::set<std::string> names;
    for (const auto &p : m.named_params()) {  // in layer order: the first difference is the telling one
        names.insert(p.name);
        auto it = f.tensors.find(p.name);
        if (it == f.tensors.end()) return "the model needs a tensor '" + p.name + "', the file has none";
        if (it->second.shape != saved_shape(p))
            return "tensor '" + p.name + "' has shape " + str(it->second.shape) + ", the model needs " +
                   str(saved_shape(p));
    }
    for (const auto &[name, t] : f.tensors)
        if (!names.count(name)) return "the file has a tensor '" + name + "' that the model does not have";
    return "";
}

ModelCard card_of_config(const std::string &config, const std::string &checkpoint, bool beside) {
    // A directory or a FIFO is named as such, not "not found" (it exists).
    require_regular_file(config, "a YAML config file",
                         beside ? "config not found: " + checkpoint +
                                      " has no model description in its metadata (written by an older aepipe), so "
                                      "the run's config.yaml is needed; pass it with --config FILE"
                                : "config not found");
    ConfigFile cfg = load_config(config);
    Pipeline p(cfg, RunSettings{});  // validates the config, reads the data headers
    return card_of(p);
}

}  // namespace

std::unique_ptr<Model> build_model(const ModelCard &c, const std::string &name) {
    ConfigFile cfg = parse_config(c.model, name);
    return std::make_unique<Model>(ModelSpec::parse(cfg, cfg.root, c.input));
}

ModelCard card_of(const Pipeline &p, const FlowNode &train) {
    ModelCard c;
    c.model = one_line_yaml(p.section("model"));
    c.input = train.sample_shape(p);
    const IdxSource test = test_set_of(p, train);
    c.test_images = test.images, c.test_labels = test.labels, c.test_classes = test.classes;
    bool have_norm = false;
    const FlowNode *reader = nullptr;
    for (const FlowNode *n = p.feeder(train); n; n = p.feeder(*n)) {
        if (auto *nn = dynamic_cast<const NormalizeNode *>(n); nn && !have_norm) {
            c.norm = nn->normalizer();
            have_norm = true;
        }
        if (auto *cn = dynamic_cast<const CorruptNode *>(n); cn && !c.corruption) c.corruption = cn->corruption();
        if (n->spec().type == "idx_reader") reader = n;
    }
    if (c.input.size() == 0 && reader)
        throw DataError(idx_source(*reader).images,
                        "not found: the model's input shape is read from its training data (" + reader->where() +
                            "); restore the file");
    if (c.input.size() == 0) throw RuntimeError(train.where() + ": the model's input shape is unknown");
    return c;
}

ModelCard card_of(const Pipeline &p) {
    for (const auto &n : p.nodes())
        if (n->spec().type == "train") return card_of(p, *n);
    throw RuntimeError(p.config().path + ": the graph has no train node, so it describes no trained model");
}

std::map<std::string, std::string> card_metadata(const ModelCard &c) {
    std::map<std::string, std::string> m{
        {"model", c.model},
        {"input_shape", std::to_string(c.input.h) + "x" + std::to_string(c.input.w) + "x" + std::to_string(c.input.c)},
        {"normalize", json{{"scale", c.norm.scale}, {"shift", c.norm.shift}, {"mean", c.norm.mean}, {"std", c.norm.std}}
                          .dump()}};
    if (const auto &k = c.corruption)
        m["corrupt"] = json{{"noise_std", k->noise_std}, {"salt_pepper", k->salt_pepper}, {"mask_value", k->mask_value},
                            {"masks", k->masks},         {"mask_min", k->mask_min},       {"mask_max", k->mask_max},
                            {"seed", k->seed}}
                           .dump();
    if (!c.test_images.empty()) m["test_images"] = c.test_images;
    if (!c.test_labels.empty()) m["test_labels"] = c.test_labels;
    if (!c.test_classes.empty()) m["test_classes"] = json(c.test_classes).dump();
    return m;
}

std::optional<ModelCard> card_from_metadata(const StFile &f, const std::string &path) {
    const auto &md = f.metadata;
    if (!md.count("model")) return std::nullopt;
    for (const char *key : {"input_shape", "normalize"})
        if (!md.count(key)) bad_key(path, key, "missing (the card has 'model', so it needs this too)");
    ModelCard c;
    c.model = md.at("model");
    c.input = parse_shape(path, md.at("input_shape"));
    c.norm = parse_norm(path, md.at("normalize"));
    if (md.count("corrupt")) c.corruption = parse_corrupt(path, md.at("corrupt"));
    if (md.count("test_images")) c.test_images = md.at("test_images");
    if (md.count("test_labels")) c.test_labels = md.at("test_labels");
    if (md.count("test_classes")) c.test_classes = parse_classes(path, md.at("test_classes"));
    return c;
}

TrainedModel load_trained_model(const std::string &checkpoint, const std::string &config) {
    std::error_code ec;
    // A run folder is what a user has at hand: name the file in it rather than say "not found".
    if (fs::is_directory(checkpoint, ec))
        throw DataError(checkpoint, "is a folder; --checkpoint takes the model file" +
                                        std::string(fs::is_regular_file(fs::path(checkpoint) / "model.safetensors", ec)
                                                        ? ": " + (fs::path(checkpoint) / "model.safetensors").string()
                                                        : ", a run's model.safetensors"));
    require_regular_file(checkpoint, "a checkpoint (a run's model.safetensors)",
                         "checkpoint not found (expected a run's model.safetensors)");
    StFile st = read_safetensors(checkpoint);
    TrainedModel t;
    std::optional<ModelCard> card = config.empty() ? card_from_metadata(st, checkpoint) : std::nullopt;
    if (card) {
        t.card = std::move(*card);
        t.source = "its metadata";
        try {
            t.model = build_model(t.card, checkpoint + " (__metadata__ 'model')");
        } catch (const ConfigError &e) {
            throw DataError(checkpoint, std::string("its __metadata__ does not describe a valid model:\n") + e.what());
        }
    } else {
        const std::string cfg = config.empty() ? (fs::path(checkpoint).parent_path() / "config.yaml").string() : config;
        t.card = card_of_config(cfg, checkpoint, config.empty());
        t.source = "the config " + cfg;
        t.model = build_model(t.card, cfg);
    }
    if (std::string why = tensor_mismatch(*t.model, st); !why.empty())
        throw DataError(checkpoint, "its tensors do not match the model that " + t.source + " describes (input " +
                                        t.card.input.str() + ": " + t.model->summary() + "): " + why +
                                        (card ? "" : " (was it trained with another config?)"));
    t.params.assign(size_t(t.model->num_params()), 0.f);
    from_safetensors(*t.model, st, checkpoint, t.params.data());
    return t;
}

}  // namespace aepipe
