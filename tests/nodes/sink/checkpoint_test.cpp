// The checkpoint sink on hand-made eval messages (support/report_source.hpp): the final weights
// and every snapshot_every_epochs-th epoch's read back exactly, with their epoch in the
// metadata; a file is replaced by a rename, never rewritten in place; and the cadence of the
// training checkpoints (every_epochs, every_steps) that the training node asks it about.
#include "nodes/sink/checkpoint.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/fixtures.hpp"
#include "support/report_source.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSide = 4;
const char *kAe = "    - {type: dense, units: 3, activation: relu}\n    - {type: dense, units: 16}\n";

// Epoch e of `epochs`, each with weights of its own (seed e).
struct Epochs {
    std::vector<FakeModel> weights;
    std::vector<EpochEval> reports;
};
Epochs epochs_of(const std::string &yaml, int64_t epochs) {
    Epochs r;
    const ConfigFile cfg = parse_config(yaml, "sink.yaml");
    for (int64_t e = 0; e < epochs; ++e) r.weights.push_back(fake_model(cfg, kSide, uint64_t(e)));
    for (int64_t e = 0; e < epochs; ++e) {
        EpochEval x;
        x.epoch.epoch = e, x.epoch.steps = 10 * (e + 1), x.epoch.train_loss = 0.5, x.epoch.last = e + 1 == epochs;
        x.epoch.params = r.weights[size_t(e)].params, x.epoch.model = r.weights[size_t(e)].model.get();
        r.reports.push_back(x);
    }
    return r;
}

// Runs a checkpoint node with `keys` (", keep: 2") on `epochs` epochs into `run`.
Epochs run_sink(const std::string &keys, int64_t epochs, const TempDir &run) {
    const std::string yaml = sink_config(kAe, "{id: sink, type: checkpoint" + keys + "}");
    Epochs e = epochs_of(yaml, epochs);
    send_next(e.reports, nullptr);
    run_graph(yaml, run.path());
    return e;
}

// The weights in a safetensors file, read back into the model's slab.
std::vector<float> weights_in(const std::string &path, const FakeModel &m) {
    std::vector<float> w(size_t(m.model->num_params()));
    from_safetensors(*m.model, read_safetensors(path), path, w.data());
    return w;
}

TEST(CheckpointNode, TheFinalWeightsReadBackWithTheirEpoch) {
    TempDir run("aepipe-ckpt");
    const Epochs e = run_sink("", 3, run);

    EXPECT_EQ(list_dir(run.path()), std::vector<std::string>{"model.safetensors"});
    EXPECT_EQ(weights_in(run / "model.safetensors", e.weights[2]), *e.weights[2].params);
    const StFile f = read_safetensors(run / "model.safetensors");
    EXPECT_EQ(f.metadata.at("format"), "aepipe-1");
    EXPECT_EQ(f.metadata.at("epoch"), "3");
    EXPECT_EQ(f.metadata.at("steps"), "30");
}

TEST(CheckpointNode, SnapshotsEveryNEpochsHoldThatEpochsWeights) {
    TempDir run("aepipe-ckpt");
    const Epochs e = run_sink(", snapshot_every_epochs: 2", 5, run);

    EXPECT_EQ(list_dir(run.path()), (std::vector<std::string>{"checkpoint_epoch2.safetensors",
                                                               "checkpoint_epoch4.safetensors", "model.safetensors"}));
    for (int64_t epoch : {2, 4}) {
        const std::string path = run / ("checkpoint_epoch" + std::to_string(epoch) + ".safetensors");
        EXPECT_EQ(weights_in(path, e.weights[size_t(epoch - 1)]), *e.weights[size_t(epoch - 1)].params) << path;
        EXPECT_EQ(read_safetensors(path).metadata.at("epoch"), std::to_string(epoch));
    }
    EXPECT_EQ(weights_in(run / "model.safetensors", e.weights[4]), *e.weights[4].params);
}

// A reader holding the old file (here: a second hard link to it) keeps the old bytes: the new
// file was written beside it and renamed over it, so a crash mid-write cannot leave a torn one.
TEST(CheckpointNode, ReplacesAFileByRenameNotInPlace) {
    TempDir run("aepipe-ckpt"), elsewhere("aepipe-ckpt-old");
    write_bytes(run / "model.safetensors", "the previous checkpoint");
    fs::create_hard_link(run / "model.safetensors", elsewhere / "held.safetensors");
    const Epochs e = run_sink("", 1, run);

    EXPECT_EQ(read_bytes(elsewhere / "held.safetensors"), "the previous checkpoint");
    EXPECT_EQ(weights_in(run / "model.safetensors", e.weights[0]), *e.weights[0].params);
    EXPECT_EQ(list_dir(run.path()), std::vector<std::string>{"model.safetensors"}) << "no temporary file left";
}

TEST(CheckpointNode, TrainingCheckpointsAreDueEveryNEpochsOrStepsAndAtTheEnd) {
    const ConfigFile cfg =
        parse_config(sink_config(kAe, "{id: sink, type: checkpoint, every_epochs: 2, every_steps: 5}"), "sink.yaml");
    Pipeline p(cfg, RunSettings{});
    const CheckpointSink *sink = nullptr;
    for (const auto &n : p.nodes())
        if (n->id() == "sink") sink = dynamic_cast<const CheckpointSink *>(n.get());
    ASSERT_NE(sink, nullptr);
    // (steps done, at an epoch's end, epochs done, the run's last step)
    EXPECT_TRUE(sink->state_due(5, false, 0, false)) << "every 5 steps";
    EXPECT_FALSE(sink->state_due(7, false, 0, false));
    EXPECT_TRUE(sink->state_due(8, true, 2, false)) << "every 2 epochs";
    EXPECT_FALSE(sink->state_due(8, true, 1, false));
    EXPECT_FALSE(sink->state_due(12, false, 2, false)) << "epochs count only at an epoch's end";
    EXPECT_TRUE(sink->state_due(13, true, 3, true)) << "the end";
}

}  // namespace
}  // namespace aepipe::test
