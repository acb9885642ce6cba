// What a checkpoint must match to be resumed: the config's model, training and data settings
// flattened to "path: value" pairs, and each data file's size and crc32 (a full hash: zlib's
// crc32 reads ~1 GB/s, so MNIST costs ~10 ms).
//
// Not fingerprinted (a resume may change them): train.epochs and train.max_steps (to extend
// a run), train.threads, train.shards and train.in_flight (speed only; a different thread
// count resumes but is not bit-identical), the sinks, and data file paths (only contents).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/config.hpp"

namespace aepipe {

// {"model": {...}, "train": {...}, "data": {...}, "files": {"<node>.<key>": {path, size, crc32}}}
nlohmann::json config_fingerprint(const ConfigFile &cfg);
// One line per difference ("model.layers[0].units: checkpoint 16, config 32"); empty if equal.
std::vector<std::string> fingerprint_diff(const nlohmann::json &checkpoint, const nlohmann::json &config);

}  // namespace aepipe
