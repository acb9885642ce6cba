// The corrupt node in a running graph: each batch's model input x is the corruption of its
// samples (a pure function of seed, epoch and sample index) while target holds the clean
// normalized pixels, batches reach the next node in step order although corruption runs in
// parallel, and both buffers go back to their pools (a bounded run does not run dry).
#include <gtest/gtest.h>

#include <mutex>

#include "nodes/data/corrupt.hpp"
#include "formats/idx.hpp"
#include "nodes/data/shuffle.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/slot_pool.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

struct Batch {
    int64_t epoch = 0, step = 0;
    std::vector<int32_t> samples;
    std::vector<float> x, target;
};

std::mutex g_mu;
std::vector<Batch> g_batches;

// Stands in for the training node: records x and target, returns the buffers and the credits.
class TargetProbe : public FlowNode {
public:
    void build(Pipeline &p) override {
        node_ = std::make_unique<flow::function_node<Msg>>(p.graph(), flow::serial, [this, &p](const Msg &m) {
            p.guard(*this, m, [&] { on(p, m); });
            return flow::continue_msg();
        });
    }
    Receiver &in(const std::string &) override { return *node_; }

private:
    void on(Pipeline &p, const Msg &m) {
        const int64_t dim = m.data->dim();
        Batch b{m.epoch, m.step, {}, std::vector<float>(m.x, m.x + m.count * dim), {}};
        if (m.target) b.target.assign(m.target, m.target + m.count * dim);
        for (int64_t k = 0; k < m.count; ++k) b.samples.push_back(int32_t(m.sample(k)));
        {
            std::lock_guard<std::mutex> lock(g_mu);
            g_batches.push_back(std::move(b));
        }
        release_buffers(m);
        if (m.last_in_epoch) p.epoch_done().try_put(flow::continue_msg());
        p.step_done().try_put(flow::continue_msg());
    }
    std::unique_ptr<flow::function_node<Msg>> node_;
};

Registrar<FlowNodeRegistry> reg({"test_target_probe",
                                 Category::Sink,
                                 "test only: records tensor batches with their targets and drives the data side",
                                 {},
                                 {{"in", {"tensor"}, "batches"}},
                                 {}},
                                [](const Params &) { return std::make_unique<TargetProbe>(); });

TEST(CorruptGraph, InputsAreCorruptedTargetsCleanInStepOrder) {
    {
        std::lock_guard<std::mutex> lock(g_mu);
        g_batches.clear();
    }
    TempDir tmp("aepipe-corrupt-graph");
    const int64_t n = 40, side = 8, dim = side * side, epochs = 3, batch = 6;
    std::vector<uint8_t> px = ramp_pixels(n, side, side);
    write_images(tmp / "x.idx", n, side, side, px);
    const std::string yaml =
        "model:\n  layers:\n    - {type: dense, units: 64, activation: sigmoid}\n"
        "train: {epochs: " + std::to_string(epochs) + ", batch: " + std::to_string(batch) + ", seed: 5, in_flight: 3}\n"
        "graph:\n  nodes:\n"
        "    - {id: data, type: idx_reader, images: '" + tmp / "x.idx" + "'}\n"
        "    - {id: shuffle, type: shuffle}\n"
        "    - {id: batches, type: batch}\n"
        "    - {id: scale, type: normalize, mean: 0.5, std: 0.5}\n"
        "    - {id: noisy, type: corrupt, noise_std: 0.2, salt_pepper: 0.1, masks: 1, mask_min: 2, mask_max: 4}\n"
        "    - {id: probe, type: test_target_probe}\n"
        "  edges: [data -> shuffle, shuffle -> batches, batches -> scale, scale -> noisy, noisy -> probe]\n";
    ConfigFile cfg = parse_config(yaml, "inline.yaml");
    RunSettings s;
    s.quiet = true;
    s.threads = 2;
    Pipeline p(cfg, s);
    p.run();

    Corruption c;
    c.noise_std = 0.2, c.salt_pepper = 0.1, c.masks = 1, c.mask_min = 2, c.mask_max = 4, c.seed = 5;  // train.seed
    const Normalizer norm{1.f / 255.f, 0.f, 0.5f, 0.5f};
    const int64_t per_epoch = (n + batch - 1) / batch;
    ASSERT_EQ(int64_t(g_batches.size()), epochs * per_epoch);
    std::vector<float> want(static_cast<size_t>(dim)), clean(static_cast<size_t>(dim));
    int64_t changed = 0;
    for (size_t b = 0; b < g_batches.size(); ++b) {
        const Batch &got = g_batches[b];
        EXPECT_EQ(got.step, int64_t(b)) << "step order survives the parallel corruption";
        ASSERT_EQ(got.target.size(), got.x.size()) << "a target travels with every batch";
        const std::vector<int32_t> order = epoch_order(n, 5, got.epoch);
        for (size_t k = 0; k < got.samples.size(); ++k) {
            const int32_t i = got.samples[k];
            EXPECT_EQ(i, order[size_t((got.step - got.epoch * per_epoch) * batch) + k]);
            c.apply(px.data() + i * dim, side, side, 1, c.key(got.epoch, i), norm, want.data());
            norm.apply(px.data() + i * dim, dim, clean.data());
            for (int64_t j = 0; j < dim; ++j) {
                ASSERT_EQ(got.x[k * size_t(dim) + size_t(j)], want[size_t(j)]) << "step " << b << " row " << k;
                ASSERT_EQ(got.target[k * size_t(dim) + size_t(j)], clean[size_t(j)]) << "step " << b << " row " << k;
                changed += want[size_t(j)] != clean[size_t(j)];
            }
        }
    }
    EXPECT_GT(changed, epochs * n * dim / 4) << "the inputs really are corrupted";
}

}  // namespace
}  // namespace aepipe::test
