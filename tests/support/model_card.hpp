// Checkpoints as older aepipe versions wrote them: the same tensors, no model card in the
// metadata (nodes/sink/model_card.hpp), so the run's config must describe the model.
#pragma once

#include <string>

#include "formats/safetensors.hpp"

namespace aepipe::test {

// Copies checkpoint `from` to `to` without the model card's metadata keys.
inline void write_old_checkpoint(const std::string &from, const std::string &to) {
    StFile f = read_safetensors(from);
    for (const char *key : {"model", "input_shape", "normalize", "corrupt", "test_images"}) f.metadata.erase(key);
    write_safetensors(to, f);
}

// Copies `from` to `to` with metadata key `key` set to `value`.
inline void write_with_metadata(const std::string &from, const std::string &to, const std::string &key,
                                const std::string &value) {
    StFile f = read_safetensors(from);
    f.metadata[key] = value;
    write_safetensors(to, f);
}

}  // namespace aepipe::test
