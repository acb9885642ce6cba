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
#include "support/fixtures.hpp"
#include "support/probe.hpp"

namespace aepipe::test {
namespace {

TEST(CorruptGraph, InputsAreCorruptedTargetsCleanInStepOrder) {
    clear_probes();
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
        "    - {id: probe, type: test_probe, drive: true}\n"
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
    const std::vector<Seen> batches = probe_seen("probe");
    ASSERT_EQ(int64_t(batches.size()), epochs * per_epoch);
    std::vector<float> want(static_cast<size_t>(dim)), clean(static_cast<size_t>(dim));
    int64_t changed = 0;
    for (size_t b = 0; b < batches.size(); ++b) {
        const Seen &got = batches[b];
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
    // Every buffer went back to its pool when the last message holding it was dropped, and
    // the pools stayed small: in_flight (3) slots, and a slot or two more for the moment a
    // step's credit admits the next batch before the step's message is dropped.
    for (const char *id : {"scale", "noisy"}) {
        SlotPool &pool = p.pool(*p.find(id), 0);
        EXPECT_EQ(pool.free_slots(), pool.slots()) << id;
        EXPECT_LE(pool.slots(), 3u + 2u) << id;
    }
}

}  // namespace
}  // namespace aepipe::test
