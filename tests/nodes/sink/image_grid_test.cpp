// The image_grid sink on hand-made eval messages (support/report_source.hpp): the test images
// in the top row and the model's reconstructions of them below, cell by cell, after the last
// epoch; NAME_epoch<E>.png every `snapshot_every_epochs` epochs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "formats/png.hpp"
#include "support/fixtures.hpp"
#include "support/report_source.hpp"

namespace aepipe::test {
namespace {

constexpr int64_t kSide = 4, kGap = 2, kBackground = 64;
const char *kAe = "    - {type: dense, units: 3, activation: tanh}\n    - {type: dense, units: 16, activation: sigmoid}\n";

// Five 4x4 gray test images, all different.
std::shared_ptr<Dataset> test_set() {
    auto d = std::make_shared<Dataset>();
    d->n = 5, d->h = kSide, d->w = kSide, d->c = 1;
    d->pixels = ramp_pixels(d->n, kSide, kSide);
    return d;
}

// Epoch e of `epochs`, with the weights of `m`.
EpochEval epoch(int64_t e, int64_t epochs, const FakeModel &m, const Normalizer &norm) {
    EpochEval r;
    r.epoch.epoch = e, r.epoch.last = e + 1 == epochs;
    r.epoch.params = m.params, r.epoch.model = m.model.get();
    r.eval.norm = &norm;
    return r;
}

// The reconstructions of the first `count` images as bytes, computed here from the weights.
std::vector<uint8_t> reconstructions(const FakeModel &m, const Dataset &d, const Normalizer &norm, int64_t count) {
    const int64_t dim = d.dim();
    std::vector<float> x(size_t(count * dim)), img(x.size());
    norm.apply(d.image(0), count * dim, x.data());
    Workspace ws(*m.model, count);
    ws.prepare(count);
    m.model->loss().to_image(count * dim, ws.forward(count, x.data(), m.params->data()), img.data());
    std::vector<uint8_t> bytes(img.size());
    for (size_t i = 0; i < img.size(); ++i) bytes[i] = norm.to_byte(img[i]);
    return bytes;
}

// Pixel (x, y) of cell `col` in grid row `row` (zoom 1).
uint8_t cell_px(const Image &g, int64_t row, int64_t col, int64_t x, int64_t y) {
    return g.px[size_t((kGap + row * (kSide + kGap) + y) * g.w + kGap + col * (kSide + kGap) + x)];
}

TEST(ImageGridSink, TestImagesAboveTheirReconstructions) {
    TempDir run("aepipe-grid");
    const std::string yaml = sink_config(kAe, "{id: sink, type: image_grid, count: 3, zoom: 1}");
    const FakeModel m = fake_model(parse_config(yaml, "sink.yaml"), kSide, 7);
    const Normalizer norm;
    auto d = test_set();
    send_next({epoch(0, 2, m, norm), epoch(1, 2, m, norm)}, d);
    run_graph(yaml, run.path());

    EXPECT_EQ(list_dir(run.path()), std::vector<std::string>{"recon.png"});
    const Image g = read_png(run / "recon.png");
    ASSERT_EQ(g.w, 3 * (kSide + kGap) + kGap);
    ASSERT_EQ(g.h, 2 * (kSide + kGap) + kGap);
    EXPECT_EQ(g.px[0], kBackground);
    const std::vector<uint8_t> recon = reconstructions(m, *d, norm, 3);
    for (int64_t k = 0; k < 3; ++k)
        for (int64_t y = 0; y < kSide; ++y)
            for (int64_t x = 0; x < kSide; ++x) {
                const size_t at = size_t(k * kSide * kSide + y * kSide + x);
                EXPECT_EQ(cell_px(g, 0, k, x, y), d->pixels[at]) << "original " << k << " at " << x << "," << y;
                // oneDNN may sum in another order for another batch size: a byte of rounding.
                EXPECT_LE(std::abs(int(cell_px(g, 1, k, x, y)) - int(recon[at])), 1)
                    << "reconstruction " << k << " at " << x << "," << y;
            }
}

TEST(ImageGridSink, EveryNEpochsWritesANumberedGrid) {
    TempDir run("aepipe-grid");
    const std::string yaml = sink_config(kAe, "{id: sink, type: image_grid, snapshot_every_epochs: 2, file: grid.png}");
    const FakeModel m = fake_model(parse_config(yaml, "sink.yaml"), kSide, 7);
    const Normalizer norm;
    std::vector<EpochEval> reports;
    for (int64_t e = 0; e < 5; ++e) reports.push_back(epoch(e, 5, m, norm));
    send_next(reports, test_set());
    run_graph(yaml, run.path());

    EXPECT_EQ(list_dir(run.path()), (std::vector<std::string>{"grid.png", "grid_epoch2.png", "grid_epoch4.png"}));
    const Image g = read_png(run / "grid_epoch4.png");  // 5 images (count 8 is more), zoom 2
    EXPECT_EQ(g.w, 5 * (2 * kSide + kGap) + kGap);
    EXPECT_EQ(g.h, 2 * (2 * kSide + kGap) + kGap);
    EXPECT_EQ(read_bytes(run / "grid.png"), read_bytes(run / "grid_epoch4.png")) << "the same weights";
}

}  // namespace
}  // namespace aepipe::test
