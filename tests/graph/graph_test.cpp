// Graph tests: build a Pipeline from an inline config over generated data, run it, and look
// at what flows on the edges through two test-only node types registered here:
//   test_probe  records every message it gets; with `drive: true` it also plays the training
//               node's part in flow control (a step_done per batch, an epoch_done per epoch)
//               so that data nodes can run without a model.
//   test_throw  the same driver, but its body throws at step `at_step`.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "formats/idx.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/data/shuffle.hpp"
#include "nodes/nn/reports.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/slot_pool.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// What a probe saw of one message.
struct Seen {
    int64_t epoch = 0, step = 0, begin = 0, count = 0;
    bool last_in_epoch = false;
    std::vector<int32_t> samples;  // batch / tensor: dataset indices of the rows
    std::vector<float> x;          // tensor: the rows' values
    std::shared_ptr<const EpochReport> report;
    std::shared_ptr<const EvalReport> eval;
};

// Probe records by node id; tests clear it before each run.
std::mutex g_mu;
std::map<std::string, std::vector<Seen>> g_seen;

std::vector<Seen> seen(const std::string &id) {
    std::lock_guard<std::mutex> lock(g_mu);
    return g_seen[id];
}

const std::vector<std::string> kAnyKind = {"batch", "tensor", "dataset", "epoch", "eval"};

struct ProbeParams {
    bool drive = false;
    static const Keys<ProbeParams> &keys() {
        static const Keys<ProbeParams> k{
            key(&ProbeParams::drive, {"drive", Kind::Bool, "false", "send step_done / epoch_done like train"})};
        return k;
    }
};
struct ThrowParams {
    bool drive = true;
    int64_t at_step = 0;
    static const Keys<ThrowParams> &keys() {
        static const Keys<ThrowParams> k{
            key(&ThrowParams::drive, {"drive", Kind::Bool, "true", "send step_done / epoch_done like train"}),
            key(&ThrowParams::at_step, {"at_step", Kind::Int, "3", "the step that throws"})};
        return k;
    }
};

class Probe : public FlowNode {
public:
    explicit Probe(bool drive) : drive_(drive) {}
    void build(Pipeline &p) override {
        node_ = std::make_unique<flow::function_node<Msg>>(p.graph(), flow::serial, [this, &p](const Msg &m) {
            p.guard(*this, m, [&] { on(p, m); });
            return flow::continue_msg();
        });
    }
    Receiver &in(const std::string &) override { return *node_; }

protected:
    virtual void body(const Msg &) {}

private:
    void on(Pipeline &p, const Msg &m) {
        Seen s{m.epoch, m.step, m.begin, m.count, m.last_in_epoch, {}, {},
                std::dynamic_pointer_cast<const EpochReport>(m.report),
                std::dynamic_pointer_cast<const EvalReport>(m.eval)};
        if (m.data && m.count > 0)
            for (int64_t k = 0; k < m.count; ++k) s.samples.push_back(int32_t(m.sample(k)));
        if (m.x) s.x.assign(m.x, m.x + m.count * m.data->dim());
        {
            std::lock_guard<std::mutex> lock(g_mu);
            g_seen[id_].push_back(std::move(s));
        }
        body(m);
        if (!drive_) return;
        // Stand in for the training node: free the tensor's buffer and hand back the credits.
        release_buffers(m);
        if (m.last_in_epoch) p.epoch_done().try_put(flow::continue_msg());
        p.step_done().try_put(flow::continue_msg());
    }
    bool drive_;
    std::unique_ptr<flow::function_node<Msg>> node_;
};

class Thrower : public Probe {
public:
    explicit Thrower(const ThrowParams &p) : Probe(p.drive), at_step_(p.at_step) {}

private:
    int64_t at_step_;
    void body(const Msg &m) override {
        if (m.step == at_step_) throw RuntimeError("deliberate failure in test_throw");
    }
};

Registrar<FlowNodeRegistry> reg_probe({"test_probe",
                                       Category::Sink,
                                       "test only: records the messages it receives",
                                       ProbeParams::keys().specs(),
                                       {{"in", kAnyKind, "anything"}},
                                       {}},
                                      [](const Params &p) { return std::make_unique<Probe>(parse<ProbeParams>(p).drive); });

Registrar<FlowNodeRegistry> reg_throw({"test_throw",
                                       Category::Sink,
                                       "test only: a driving probe that throws at step `at_step`",
                                       ThrowParams::keys().specs(),
                                       {{"in", {"batch", "tensor"}, "batches"}},
                                       {}},
                                      [](const Params &p) { return std::make_unique<Thrower>(parse<ThrowParams>(p)); });

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
    void SetUp() override {
        std::lock_guard<std::mutex> lock(g_mu);
        g_seen.clear();
    }
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
    std::vector<Seen> got = seen("probe");
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

    std::vector<Seen> got = seen("probe");
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
    std::vector<Seen> batches = seen("tap"), epochs = seen("epochs"), evals = seen("evals");
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

std::string runtime_error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const RuntimeError &e) {
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "expected a RuntimeError, got: " << e.what();
        return "";
    }
    ADD_FAILURE() << "expected a RuntimeError, nothing was thrown";
    return "";
}

TEST_F(GraphTest, ANodeThatThrowsStopsTheRunWithItsIdTypeAndStep) {
    write_images(tmp_ / "x.idx", 40, 8, 8, ramp_pixels(40, 8, 8));
    std::string msg = runtime_error_of([&] {
        run(head(2, 4) + "  nodes:\n" + reader("data", tmp_ / "x.idx") +
            "    - {id: batches, type: batch}\n"
            "    - {id: boom, type: test_throw, at_step: 3}\n"
            "  edges: [data -> batches, batches -> boom]\n");
    });
    // where it was defined: line 13, column 7 of the inline config
    // (messages name steps 1-based: the body threw on the 4th step, m.step == 3)
    EXPECT_EQ(msg, "node 'boom' (test_throw, inline.yaml:13:7) at step 4: deliberate failure in test_throw");
    // Nothing after the failing step was processed: steps 0-2 were, step 3 threw.
    std::vector<Seen> got = seen("boom");
    ASSERT_GE(got.size(), 4u);
    EXPECT_EQ(got[3].step, 3);
    EXPECT_LE(got.size(), 4u + 4u) << "at most in_flight batches past the failure";
}

TEST_F(GraphTest, AThrowBesideTrainingStopsTheWholeRun) {
    TinyData d = write_tiny_data(tmp_.path(), 96, 32);
    std::string yaml = tiny_config_yaml(d, 50) + "    - batches -> boom\n";
    yaml.insert(yaml.find("  edges:\n"), "    - {id: boom, type: test_throw, at_step: 9, drive: false}\n");
    std::string msg = runtime_error_of([&] { run(yaml); });
    EXPECT_EQ(msg, "node 'boom' (test_throw, inline.yaml:26:7) at step 10: deliberate failure in test_throw");
    // 50 epochs would be 300 steps; the run stopped soon after step 9.
    std::vector<Seen> got = seen("boom");
    EXPECT_LT(got.size(), 30u);
}

}  // namespace
}  // namespace aepipe::test
