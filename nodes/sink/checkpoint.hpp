// Model parameters <-> safetensors. Dense weights are stored (out, in) like torch.nn.Linear,
// so a PyTorch module with the same layer list loads the file with load_state_dict.
#pragma once

#include <map>
#include <set>
#include <string>

#include "nodes/nn/checkpoint_policy.hpp"
#include "nodes/nn/model.hpp"
#include "formats/safetensors.hpp"
#include "formats/ckpt_file.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {

StFile to_safetensors(const Model &m, const float *params, const std::map<std::string, std::string> &meta);
// Fills params (model's slab) from a file; names and shapes must match (DataError otherwise).
void from_safetensors(const Model &m, const StFile &f, const std::string &path, float *params);
// The shape parameter `p` has in a safetensors file (dense weights transposed to (out, in)).
std::vector<int64_t> saved_shape(const NamedParam &p);

// The checkpoint node. Besides its own safetensors files it owns the policy and the folder
// of the training checkpoints (RUN/checkpoints/step-NNNNNNNN.ckpt), which the training node
// writes itself right after the update of a due step (the only moment its state is whole):
// resolve() hands the policy to the training node up its input edges (CheckpointClient).
// Files that do not read back are neither counted toward `keep` nor deleted.
// The checkpoint node's keys (their specs in checkpoint.cpp).
struct CheckpointParams {
    int64_t snapshot_every_epochs = 0, every_epochs = 0, every_steps = 0, keep = 1;
    std::string file;
    static const Keys<CheckpointParams> &keys();
};

class CheckpointSink : public FlowNode, public CheckpointPolicy {
public:
    explicit CheckpointSink(const Params &p) : prm_(parse<CheckpointParams>(p)) {}
    bool state_due(int64_t steps, bool epoch_end, int64_t epochs_done, bool last) const override;
    std::string save_state(const std::string &run_dir, int64_t steps, const CkptFile &f) const override;

    void resolve(Pipeline &p, Diags &d) override;
    void build(Pipeline &p) override;
    InPort in(const std::string &, const std::string &kind) override {
        if (kind == "eval") return *from_eval_;
        return *node_;
    }

private:
    using Stamp = std::pair<uintmax_t, int64_t>;  // size, modification time
    CheckpointParams prm_;
    void write(Pipeline &p, const EpochMsg &m);
    const FlowNode *train_ = nullptr;  // the training node it follows
    std::map<std::string, std::string> card_;  // the model card (model_card.hpp), made in build()
    void prune(const std::string &run_dir) const;
    bool reads_back(const std::string &path) const;
    // Called by the training node only (one thread): checkpoints known to read back, and the
    // damaged ones already reported.
    mutable std::map<std::string, Stamp> verified_;
    mutable std::set<std::string> warned_;
    std::unique_ptr<flow::function_node<EpochMsg>> node_;
    std::unique_ptr<flow::function_node<EvalMsg, EpochMsg>> from_eval_;  // an eval edge: its epoch part
};

// RUN/checkpoints/step-NNNNNNNN.ckpt of `run_dir`, oldest first.
std::vector<std::string> list_train_checkpoints(const std::string &run_dir);
std::string train_checkpoint_path(const std::string &run_dir, int64_t steps);

}  // namespace aepipe
