// RGB end to end: coloured PNG pictures packed by `aepipe data pack` into an N x H x W x 3
// IDX set, trained by a tiny config (dense on the flattened H*W*3 values), evaluated, drawn
// as an RGB image grid, and used by `aepipe reconstruct` on a larger RGB picture.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "formats/idx.hpp"
#include "formats/image_prep.hpp"
#include "formats/png.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSide = 6, kPerClass = 16;

// A dark picture with a 3x3 square of colour `rgb` at (x, y).
Image square(const uint8_t rgb[3], int64_t x0, int64_t y0, int64_t side = kSide, int64_t sq = 3) {
    Image m{side, side, 3, std::vector<uint8_t>(size_t(side * side * 3), 10)};
    for (int64_t y = y0; y < y0 + sq; ++y)
        for (int64_t x = x0; x < x0 + sq; ++x)
            for (int k = 0; k < 3; ++k) m.px[size_t((y * side + x) * 3 + k)] = rgb[k];
    return m;
}

const uint8_t kColours[3][3] = {{230, 40, 40}, {40, 230, 40}, {40, 40, 230}};

std::string config(const std::string &set, int64_t epochs) {
    return "name: rgb\n"
           "model:\n"
           "  layers:\n"
           "    - {type: dense, units: 24, activation: relu, init: he}\n"
           "    - {type: dense, units: " +
           std::to_string(kSide * kSide * 3) +
           ", activation: sigmoid, init: xavier}\n"
           "  loss: mse\n"
           "train: {optimizer: {type: adam, lr: 0.01}, batch: 8, epochs: " +
           std::to_string(epochs) +
           ", seed: 3}\n"
           "graph:\n"
           "  nodes:\n"
           "    - {id: train_set, type: idx_reader, images: " +
           set + "-train-images-idx4-ubyte, labels: " + set +
           "-train-labels-idx1-ubyte}\n"
           "    - {id: shuffle, type: shuffle}\n"
           "    - {id: batches, type: batch}\n"
           "    - {id: scale, type: normalize}\n"
           "    - {id: model, type: train}\n"
           "    - {id: test_set, type: idx_reader, images: " +
           set +
           "-test-images-idx4-ubyte}\n"
           "    - {id: eval, type: evaluate}\n"
           "    - {id: metrics, type: metrics}\n"
           "    - {id: recon, type: image_grid, count: 8, zoom: 2}\n"
           "    - {id: ckpt, type: checkpoint}\n"
           "  edges:\n"
           "    - train_set -> shuffle\n    - shuffle -> batches\n    - batches -> scale\n    - scale -> model\n"
           "    - model.epoch -> eval.model\n    - test_set -> eval.data\n    - eval -> metrics\n"
           "    - eval -> recon\n    - model.epoch -> ckpt\n";
}

TEST(RgbEndToEnd, PackTrainGridAndReconstruct) {
    TempDir t("aepipe-rgb");
    for (int c = 0; c < 3; ++c)
        for (int64_t k = 0; k < kPerClass; ++k) {
            fs::create_directories(t / ("pics/" + std::to_string(c)));
            write_png(t / ("pics/" + std::to_string(c) + "/" + std::to_string(100 + k) + ".png"),
                      square(kColours[c], k % 4, (k / 4) % 4));
        }
    RunResult p = run_aepipe({"data", "pack", t / "pics", "--out", t / "data/sq", "--test-split", "0.25"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    Dataset test = load_dataset(t / "data/sq-test-images-idx4-ubyte", "");
    ASSERT_EQ(test.c, 3);
    ASSERT_EQ(test.n, 12);

    write_bytes(t / "rgb.yaml", config(t / "data/sq", 12));
    RunResult r = run_aepipe({"run", t / "rgb.yaml", "--out", t / "runs", "--quiet", "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto dirs = list_dir(t / "runs");
    ASSERT_EQ(dirs.size(), 1u);
    const std::string run = t / "runs/" + dirs[0];

    // Training on colour works: the test MSE falls well below the first epoch's.
    std::vector<std::string> rows = lines_of(read_bytes(run + "/metrics.csv"));
    ASSERT_EQ(rows.size(), 13u);
    auto mse = [&](size_t i) {
        std::stringstream ss(rows[i]);
        std::string f;
        for (int k = 0; k < 5; ++k) std::getline(ss, f, ',');
        return std::stod(f);
    };
    EXPECT_LT(mse(12), 0.5 * mse(1)) << rows[1] << "\n" << rows[12];

    // The grid is RGB: the top row holds the test originals, pixel for pixel.
    Image grid = read_png(run + "/recon.png");
    ASSERT_EQ(grid.c, 3);
    EXPECT_EQ(grid.w, 8 * (kSide * 2 + 2) + 2);
    EXPECT_EQ(grid.h, 2 * (kSide * 2 + 2) + 2);
    for (int64_t y = 0; y < kSide; ++y)
        for (int64_t x = 0; x < kSide; ++x)
            for (int k = 0; k < 3; ++k)
                ASSERT_EQ(grid.px[size_t(((2 + 2 * y) * grid.w + 2 + 2 * x) * 3 + k)],
                          test.image(0)[(y * kSide + x) * 3 + k]);

    // reconstruct: a 12x12 RGB picture is resized (area) to the model's 6x6x3.
    Image big = square(kColours[0], 2, 2, 12, 6);
    write_png(t / "big.png", big);
    RunResult rc =
        run_aepipe({"reconstruct", "--checkpoint", run + "/model.safetensors", "--out", t / "rec", t / "big.png"});
    ASSERT_EQ(rc.exit_code, 0) << rc.err;
    Image in = read_png(t / "rec/big_input.png"), rec = read_png(t / "rec/big_recon.png");
    EXPECT_EQ(in.px, resize(big, kSide, kSide).px);
    EXPECT_EQ(rec.c, 3);
    EXPECT_EQ(rec.w, kSide);
    // the reconstruction is red where the square is
    const uint8_t *centre = &rec.px[size_t((2 * kSide + 2) * 3)];
    EXPECT_GT(int(centre[0]), int(centre[1]) + 60) << "R " << int(centre[0]) << " G " << int(centre[1]);
}

}  // namespace
}  // namespace aepipe::test
