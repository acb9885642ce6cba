// A convolutional autoencoder end to end: the tiny shapes data set (8x8 images), the tiny
// config with its model swapped for conv2d / maxpool / upsample / deconv2d layers, run by the
// aepipe binary; the reader's image shape must reach the layers and the test error must fall.
#include <gtest/gtest.h>

#include <string>

#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

const char *kConvModel =
    "model:\n"
    "  layers:\n"
    "    - {type: conv2d, filters: 8, kernel: 3, padding: 1, activation: relu, init: he}\n"
    "    - {type: maxpool, kernel: 2}\n"
    "    - {type: conv2d, filters: 8, kernel: 3, stride: 2, padding: 1, activation: relu, init: he}\n"
    "    - {type: flatten}\n"
    "    - {type: dense, units: 16}\n"
    "    - {type: dense, units: 128, activation: relu}\n"
    "    - {type: reshape, shape: [2, 2, 32]}\n"
    "    - {type: deconv2d, filters: 8, kernel: 4, stride: 2, padding: 1, activation: relu, init: he}\n"
    "    - {type: upsample, factor: 2, mode: bilinear}\n"
    "    - {type: conv2d, filters: 1, kernel: 3, padding: 1, activation: sigmoid}\n"
    "  loss: mse\n";

TEST(ConvE2E, TrainsAndTheTestErrorFalls) {
    TempDir tmp("aepipe-conv");
    TinyData d = write_tiny_data(tmp.path());
    std::string yaml = tiny_config_yaml(d, 8, "conv");
    const size_t from = yaml.find("model:\n"), to = yaml.find("train:\n");
    ASSERT_TRUE(from != std::string::npos && to != std::string::npos);
    yaml.replace(from, to - from, kConvModel);
    const size_t lr = yaml.find("lr: 0.01}");
    ASSERT_NE(lr, std::string::npos);
    yaml.replace(lr, 9, "lr: 0.003}");  // 0.01 kills the ReLUs of this small conv net
    write_bytes(tmp / "conv.yaml", yaml);

    RunResult r = run_aepipe({"run", tmp / "conv.yaml", "--out", tmp / "runs", "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("conv2d 8x8x1->8x8x8 k3s1p1 relu | maxpool 8x8x8->4x4x8"), std::string::npos) << r.out;
    std::vector<std::string> dirs = list_dir(tmp / "runs");
    ASSERT_EQ(dirs.size(), 1u);
    std::vector<std::string> lines = lines_of(read_bytes(tmp / "runs/" + dirs[0] + "/metrics.csv"));
    ASSERT_EQ(lines.size(), 9u);  // header + 8 epochs
    auto test_mse = [](const std::string &line) {  // 5th column: test_mse_per_px
        size_t at = 0;
        for (int k = 0; k < 4; ++k) at = line.find(',', at) + 1;
        return std::stod(line.substr(at));
    };
    double first = test_mse(lines[1]), last = test_mse(lines.back());
    EXPECT_LT(last, 0.5 * first) << "test_mse_per_px " << first << " -> " << last << "\n" << read_bytes(tmp / "runs/" + dirs[0] + "/metrics.csv");
}

}  // namespace
}  // namespace aepipe::test
