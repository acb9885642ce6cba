// When and where the training node writes its training checkpoints (RUN/checkpoints/
// step-N.ckpt, for --resume). The policy belongs to the graph's checkpoint node, which hands
// it to the training node it follows (CheckpointClient) when the graph is resolved: the
// training node neither looks for it nor knows the node's type. Without one (no checkpoint
// node) the training node writes no training checkpoints.
#pragma once

#include <cstdint>
#include <string>

#include "formats/ckpt_file.hpp"

namespace aepipe {

class CheckpointPolicy {
public:
    virtual ~CheckpointPolicy() = default;
    // Whether a training checkpoint is due once `steps` steps are done.
    virtual bool state_due(int64_t steps, bool epoch_end, int64_t epochs_done, bool last) const = 0;
    // Writes it atomically, then deletes the oldest intact ones beyond the policy's `keep`;
    // returns its path.
    virtual std::string save_state(const std::string &run_dir, int64_t steps, const CkptFile &f) const = 0;
};

// A node that writes training checkpoints: the checkpoint node downstream passes it its policy.
class CheckpointClient {
public:
    virtual ~CheckpointClient() = default;
    virtual void use_checkpoints(const CheckpointPolicy &policy) = 0;
};

}  // namespace aepipe
