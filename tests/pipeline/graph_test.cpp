// Graph tests: build a Pipeline from an inline config over generated data, run it, and look
// at what flows on the edges through the probe nodes of tests/support/probe.hpp (test_probe,
// test_throw).
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "formats/idx.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/data/shuffle.hpp"
#include "nodes/nn/reports.hpp"
#include "pipeline/graph.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"
#include "support/probe.hpp"

namespace aepipe::test {
namespace {

// Header of every inline config: a model (required even when no node uses it) and training
// settings. Node lists follow.
std::string head(int64_t epochs, int64_t batch, const std::string &extra_train = "") {
    return "model:\n"
           "  layers:\n"
           "    - {type: dense, units: 8, activation: relu}\n"
           "    - {type: dense, units: 64, activation: sigmoid}\n"
           "train:\n"
           "  epochs: " +
           std::to_string(epochs) + "\n  batch: " + std::to_string(batch) + "\n  seed: 11\n" + extra_train + "graph:\n";
}

class GraphTest : public ::testing::Test {
protected:
    void SetUp() override { clear_probes(); }
    // Runs the pipeline of `yaml`; the ConfigFile must outlive the Pipeline.
    void run(const std::string &yaml) {
        cfg_ = std::make_unique<ConfigFile>(parse_config(yaml, "inline.yaml"));
        RunSettings s;
        s.quiet = true;
        pipe_ = std::make_unique<Pipeline>(*cfg_, s);
        pipe_->run();
    }
    std::string reader(const std::string &id, const std::string &images) {
        return "    - {id: " + id + ", type: idx_reader, images: '" + images + "'}\n";
    }
    TempDir tmp_{"aepipe-graph"};
    std::unique_ptr<ConfigFile> cfg_;
    std::unique_ptr<Pipeline> pipe_;
};

// ---- shuffle + batch: every sample exactly once per epoch ------------------------------------

struct BatchCase {
    int64_t n, size;
    bool drop_last;
    int64_t epochs;
};
void PrintTo(const BatchCase &c, std::ostream *os) {
    *os << "n=" << c.n << " size=" << c.size << (c.drop_last ? " drop_last" : "") << " epochs=" << c.epochs;
}

class ShuffleBatch : public GraphTest, public ::testing::WithParamInterface<BatchCase> {};

TEST_P(ShuffleBatch, EverySampleOncePerEpochInTheShuffledOrder) {
    const BatchCase c = GetParam();
    write_images(tmp_ / "x.idx", c.n, 8, 8, ramp_pixels(c.n, 8, 8));
    run(head(c.epochs, 50) + "  nodes:\n" + reader("data", tmp_ / "x.idx") +
        "    - {id: shuffle, type: shuffle}\n"
        "    - {id: batches, type: batch, size: " +
        std::to_string(c.size) + ", drop_last: " + (c.drop_last ? "true" : "false") +
        "}\n"
        "    - {id: probe, type: test_probe, drive: true}\n"
        "  edges: [data -> shuffle, shuffle -> batches, batches -> probe]\n");

    const int64_t per_epoch = c.drop_last ? c.n / c.size : (c.n + c.size - 1) / c.size;
    const int64_t used = c.drop_last ? per_epoch * c.size : c.n;
    std::vector<Seen> got = probe_seen("probe");
    ASSERT_EQ(int64_t(got.size()), c.epochs * per_epoch);
    for (int64_t e = 0; e < c.epochs; ++e) {
        const std::vector<int32_t> order = epoch_order(c.n, 11, e);  // train.seed
        std::vector<int32_t> all;
        for (int64_t b = 0; b < per_epoch; ++b) {
            const Seen &s = got[size_t(e * per_epoch + b)];
            EXPECT_EQ(s.epoch, e);
            EXPECT_EQ(s.step, e * per_epoch + b) << "batches arrive in step order";
            EXPECT_EQ(s.begin, b * c.size);
            EXPECT_EQ(s.count, std::min(c.size, c.n - b * c.size));
            EXPECT_EQ(s.last_in_epoch, b + 1 == per_epoch);
            all.insert(all.end(), s.samples.begin(), s.samples.end());
        }
        // The batches are consecutive slices of the epoch's order ...
        EXPECT_EQ(all, std::vector<int32_t>(order.begin(), order.begin() + used)) << "epoch " << e;
        // ... so no sample repeats, and without drop_last every sample is seen.
        EXPECT_EQ(int64_t(std::set<int32_t>(all.begin(), all.end()).size()), used);
    }
    if (c.epochs > 1 && c.n > 2) {
        EXPECT_NE(got[0].samples, got[size_t(per_epoch)].samples) << "a new order each epoch";
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, ShuffleBatch,
                         ::testing::Values(BatchCase{50, 16, false, 3}, BatchCase{50, 16, true, 3},
                                           BatchCase{48, 16, false, 2}, BatchCase{5, 8, false, 2},
                                           BatchCase{1, 1, false, 4}, BatchCase{300, 7, false, 2}),
                         [](const auto &info) {
                             const BatchCase &c = info.param;
                             return "n" + std::to_string(c.n) + "_size" + std::to_string(c.size) +
                                    (c.drop_last ? "_drop_last" : "") + "_epochs" + std::to_string(c.epochs);
                         });

// ---- normalize: values, and step order restored after parallel work ---------------------------

TEST_F(GraphTest, NormalizedBatchesCarryTheSampledPixelsInStepOrder) {
    const int64_t n = 64;
    std::vector<uint8_t> px = ramp_pixels(n, 8, 8);
    write_images(tmp_ / "x.idx.gz", n, 8, 8, px);
    run(head(3, 4, "  in_flight: 4\n") + "  nodes:\n" + reader("data", tmp_ / "x.idx.gz") +
        "    - {id: shuffle, type: shuffle}\n"
        "    - {id: batches, type: batch}\n"
        "    - {id: scale, type: normalize, scale: 1.0, mean: 100, std: 50}\n"
        "    - {id: probe, type: test_probe, drive: true}\n"
        "  edges: [data -> shuffle, shuffle -> batches, batches -> scale, scale -> probe]\n");

    std::vector<Seen> got = probe_seen("probe");
    ASSERT_EQ(got.size(), size_t(3 * n / 4));
    Normalizer norm{1.f, 0.f, 100.f, 50.f};
    for (size_t i = 0; i < got.size(); ++i) {
        const Seen &s = got[i];
        EXPECT_EQ(s.step, int64_t(i)) << "the sequencer restores step order";
        ASSERT_EQ(s.x.size(), size_t(4 * 64));
        std::vector<float> want(s.x.size());
        for (int64_t k = 0; k < 4; ++k) norm.apply(px.data() + s.samples[size_t(k)] * 64, 64, want.data() + k * 64);
        EXPECT_EQ(s.x, want) << "step " << s.step;
    }
}

// ---- the full training graph, tapped ----------------------------------------------------------

TEST_F(GraphTest, TrainingGraphSeesEachSampleOncePerEpochAndReportsEveryEpoch) {
    TinyData d = write_tiny_data(tmp_.path(), 96, 32);
    std::string yaml = tiny_config_yaml(d, 3);
    // Tap the batches and the epoch / eval streams.
    yaml += "    - batches -> tap\n    - model.epoch -> epochs\n    - eval -> evals\n";
    auto at = yaml.find("  edges:\n");
    yaml.insert(at,
                "    - {id: tap, type: test_probe}\n"
                "    - {id: epochs, type: test_probe}\n"
                "    - {id: evals, type: test_probe}\n");
    run(yaml);

    const int64_t per_epoch = 96 / 16;
    std::vector<Seen> batches = probe_seen("tap"), epochs = probe_seen("epochs"), evals = probe_seen("evals");
    ASSERT_EQ(int64_t(batches.size()), 3 * per_epoch);
    for (int64_t e = 0; e < 3; ++e) {
        std::multiset<int32_t> idx;
        for (int64_t b = 0; b < per_epoch; ++b) {
            const Seen &s = batches[size_t(e * per_epoch + b)];
            EXPECT_EQ(s.epoch, e);
            idx.insert(s.samples.begin(), s.samples.end());
        }
        std::multiset<int32_t> once;
        for (int32_t i = 0; i < 96; ++i) once.insert(i);
        EXPECT_EQ(idx, once) << "epoch " << e;
    }
    ASSERT_EQ(epochs.size(), 3u);
    ASSERT_EQ(evals.size(), 3u);
    for (size_t e = 0; e < 3; ++e) {
        ASSERT_TRUE(epochs[e].report);
        const EpochReport &r = *epochs[e].report;
        EXPECT_EQ(r.epoch, int64_t(e));
        EXPECT_EQ(r.steps, int64_t(e + 1) * per_epoch);
        EXPECT_EQ(r.samples, 96);
        EXPECT_EQ(r.last, e == 2);
        ASSERT_TRUE(r.params);
        ASSERT_TRUE(evals[e].eval);
        EXPECT_EQ(evals[e].eval->test_samples, 32);
        EXPECT_GT(evals[e].eval->test_mse_per_px, 0.0);
    }
    // The snapshots differ from epoch to epoch: training changed the parameters.
    EXPECT_NE(*epochs[0].report->params, *epochs[2].report->params);
    EXPECT_LT(epochs[2].report->train_loss, epochs[0].report->train_loss);
}

// ---- errors from node bodies --------------------------------------------------------------

TEST_F(GraphTest, ANodeThatThrowsStopsTheRunWithItsIdTypeAndStep) {
    write_images(tmp_ / "x.idx", 40, 8, 8, ramp_pixels(40, 8, 8));
    std::string msg = error_of<RuntimeError>([&] {
        run(head(2, 4) + "  nodes:\n" + reader("data", tmp_ / "x.idx") +
            "    - {id: batches, type: batch}\n"
            "    - {id: boom, type: test_throw, at_step: 3}\n"
            "  edges: [data -> batches, batches -> boom]\n");
    });
    // where it was defined: line 13, column 7 of the inline config
    // (messages name steps 1-based: the body threw on the 4th step, m.step == 3)
    EXPECT_EQ(msg, "node 'boom' (test_throw, inline.yaml:13:7) at step 4: deliberate failure in test_throw");
    // Nothing after the failing step was processed: steps 0-2 were, step 3 threw.
    std::vector<Seen> got = probe_seen("boom");
    ASSERT_GE(got.size(), 4u);
    EXPECT_EQ(got[3].step, 3);
    EXPECT_LE(got.size(), 4u + 4u) << "at most in_flight batches past the failure";
}

TEST_F(GraphTest, AThrowBesideTrainingStopsTheWholeRun) {
    TinyData d = write_tiny_data(tmp_.path(), 96, 32);
    std::string yaml = tiny_config_yaml(d, 50) + "    - batches -> boom\n";
    yaml.insert(yaml.find("  edges:\n"), "    - {id: boom, type: test_throw, at_step: 9, drive: false}\n");
    std::string msg = error_of<RuntimeError>([&] { run(yaml); });
    EXPECT_EQ(msg, "node 'boom' (test_throw, inline.yaml:26:7) at step 10: deliberate failure in test_throw");
    // 50 epochs would be 300 steps; the run stopped soon after step 9.
    std::vector<Seen> got = probe_seen("boom");
    EXPECT_LT(got.size(), 30u);
}

// ---- credit edges: the builder wires them, from the node that finishes the work ------------

std::vector<std::string> credit_edges_of(const Pipeline &p) {
    std::vector<std::string> v;
    for (const auto &e : p.credit_edges()) v.push_back(e.from + "." + e.from_port + " -> " + e.to + "." + e.to_port);
    return v;
}

TEST_F(GraphTest, StepCreditsComeFromTrainingAndEpochCreditsFromTheLastNodeToFinishAnEpoch) {
    TinyData d = write_tiny_data(tmp_.path(), 32, 16);
    cfg_ = std::make_unique<ConfigFile>(parse_config(tiny_config_yaml(d, 2), "inline.yaml"));
    Pipeline with_eval(*cfg_, RunSettings{});
    // The test set's reader feeds only evaluation: it is not paced (no credit edge to it).
    EXPECT_EQ(credit_edges_of(with_eval), (std::vector<std::string>{"eval.epoch_done -> train_set.epoch_credit",
                                                                     "model.step_done -> batches.step_credit"}));

    // Without an evaluate node the training node itself says when an epoch is done.
    std::string yaml = "model:\n  layers: [{type: dense, units: 4, activation: relu}, {type: dense, units: 64}]\n"
                       "train: {epochs: 2, batch: 8}\ngraph:\n  nodes:\n" +
                       reader("train_set", d.train_images) +
                       "    - {id: batches, type: batch}\n    - {id: scale, type: normalize}\n"
                       "    - {id: model, type: train}\n    - {id: ckpt, type: checkpoint}\n"
                       "  edges: [train_set -> batches, batches -> scale, scale -> model, model.epoch -> ckpt]\n";
    ConfigFile cfg = parse_config(yaml, "noeval.yaml");
    Pipeline no_eval(cfg, RunSettings{});
    EXPECT_EQ(credit_edges_of(no_eval), (std::vector<std::string>{"model.epoch_done -> train_set.epoch_credit",
                                                                   "model.step_done -> batches.step_credit"}));
}

// A node whose spec and code disagree on a port's message type is a bug in that node: the
// builder names the edge instead of connecting mismatched tbb ports.
class Liar : public FlowNode {
public:
    void build(Pipeline &p) override {
        node_ = std::make_unique<flow::function_node<BatchMsg>>(p.graph(), flow::serial,
                                                                [](const BatchMsg &) { return flow::continue_msg(); });
    }
    InPort in(const std::string &, const std::string &) override { return *node_; }  // its spec says tensor

private:
    std::unique_ptr<flow::function_node<BatchMsg>> node_;
};
Registrar<FlowNodeRegistry> reg_liar({"test_liar", Category::Sink, "test only: takes batches, says tensor", {},
                                      {{"in", {"tensor"}, "tensors (but reads batches)"}}, {}},
                                     [](const Params &) { return std::make_unique<Liar>(); });

TEST_F(GraphTest, APortWhoseMessageTypeIsNotItsKindIsNamedNotConnected) {
    write_images(tmp_ / "x.idx", 8, 8, 8, ramp_pixels(8, 8, 8));
    const std::string msg = error_of<RuntimeError>([&] {
        run(head(1, 4) + "  nodes:\n" + reader("data", tmp_ / "x.idx") +
            "    - {id: batches, type: batch}\n    - {id: scale, type: normalize}\n"
            "    - {id: liar, type: test_liar}\n"
            "  edges: [data -> batches, batches -> scale, scale -> liar]\n");
    });
    EXPECT_EQ(msg, "internal: edge scale.out -> liar.in (tensor): the ports carry tensor and batch");
}

}  // namespace
}  // namespace aepipe::test
