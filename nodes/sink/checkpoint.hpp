// Model parameters <-> safetensors. Dense weights are stored (out, in) like torch.nn.Linear,
// so a PyTorch module with the same layer list loads the file with load_state_dict.
#pragma once

#include <map>
#include <string>

#include "nodes/nn/model.hpp"
#include "nodes/sink/safetensors.hpp"

namespace aepipe {

StFile to_safetensors(const Model &m, const float *params, const std::map<std::string, std::string> &meta);
// Fills params (model's slab) from a file; names and shapes must match (DataError otherwise).
void from_safetensors(const Model &m, const StFile &f, const std::string &path, float *params);

}  // namespace aepipe
