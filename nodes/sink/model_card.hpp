// What inference needs to know about a trained model, beyond its tensors: the model section
// (layers, loss), the shape of one input, how pixels become model inputs, and how training
// corrupted them. The checkpoint node writes it into model.safetensors' __metadata__, so
// `aepipe reconstruct` and `aepipe generate` rebuild the model from the checkpoint alone, with
// no config and no training data. Keys (safetensors metadata values are strings):
//   model        the resolved `model` section as one-line YAML   {layers: [...], loss: mse}
//   input_shape  HxWxC of one sample                              28x28x1
//   normalize    JSON {"scale", "shift", "mean", "std"}
//   corrupt      JSON of the training corruption (denoisers only)
//   test_images  the evaluate node's test set (generate --interpolate), when there is one
//   test_labels  its labels file, when it has one
//   test_classes JSON list of the labels its reader keeps (`classes`), when it filters
// A checkpoint without `model` was written by an older aepipe: its run's config describes it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/data/corrupt.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"
#include "formats/safetensors.hpp"

namespace aepipe {

struct ModelCard {
    std::string model;  // the model section, YAML text
    Shape input;
    Normalizer norm;
    std::optional<Corruption> corruption;
    std::string test_images, test_labels;
    std::vector<int64_t> test_classes;  // empty: the whole test file
};

// The card of the model that the graph's `train` node trains (the one place it is derived
// from a graph): its input shape, and the normalize and corrupt nodes on its input path.
ModelCard card_of(const Pipeline &p, const FlowNode &train);
// The same for the first train node of `p`; RuntimeError if there is none.
ModelCard card_of(const Pipeline &p);

// The model section of the card as a Model of the card's input shape (weights not loaded);
// `name` names the description in config errors.
std::unique_ptr<Model> build_model(const ModelCard &c, const std::string &name);

std::map<std::string, std::string> card_metadata(const ModelCard &c);
// The card in a checkpoint's metadata; nullopt when it has none (an older checkpoint).
// A card that is there but malformed is a DataError naming `path` and the key.
std::optional<ModelCard> card_from_metadata(const StFile &f, const std::string &path);

// A trained model ready for inference: the model the card describes, with the file's weights.
struct TrainedModel {
    ModelCard card;
    std::string source;  // what described the model: "its metadata" or a config's path
    std::unique_ptr<Model> model;
    std::vector<float> params;
};

// Loads `checkpoint` and builds its model: from `config` when given, else from the card in its
// metadata, else (older checkpoints) from config.yaml beside it. Only the config route builds
// a pipeline (and so reads the training data's header). A description that does not match the
// tensors (names, shapes, tensors left over) is a DataError naming the checkpoint.
TrainedModel load_trained_model(const std::string &checkpoint, const std::string &config = "");

}  // namespace aepipe
