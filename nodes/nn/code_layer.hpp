// The code of an autoencoder: which layer's output `aepipe encode` writes, and encoding rows.
// The layer marked `code: true`; else a VAE's mu (the first half of the layer that feeds its
// `sample` layer); else the narrowest layer (the first of equals), when it is narrower than the
// input: a model with no such layer has no code, and that is an error, not a guess.
#pragma once

#include <string>

#include "nodes/nn/model.hpp"

namespace aepipe {

struct CodeLayer {
    size_t layer = 0;      // act(layer + 1) holds the code
    int64_t offset = 0;    // first column of the code in that layer's output rows
    int64_t width = 0;     // K: numbers per sample
    int64_t stride = 0;    // values per row of that layer's output
    std::string what;      // for messages: "model.layers[2] (marked code: true)"
};

// RuntimeError naming `source` (the checkpoint) when the model has no code layer.
CodeLayer code_layer(Model &m, const std::string &source);

// Codes of n rows of model inputs x (N, in_dim) into out (N, K); runs the layers up to the
// code only, in evaluation mode (a VAE's mu needs no noise).
void encode_rows(Model &m, Workspace &ws, const CodeLayer &c, int64_t n, const float *x, const float *params,
                 float *out);

}  // namespace aepipe
