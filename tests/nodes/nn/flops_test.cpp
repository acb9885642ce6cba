// Model::flops_per_sample: multiply-adds of every matmul and convolution, counted by hand for
// the shipped dense and conv configs (bench and profile quote GFLOP/s from these figures).
#include <gtest/gtest.h>

#include "nodes/nn/model.hpp"
#include "pipeline/config.hpp"

namespace aepipe {
namespace {

ModelFlops flops_of(const std::string &config, Shape input) {
    ConfigFile cfg = load_config(std::string(AEPIPE_SOURCE_DIR) + "/configs/" + config);
    Model m(ModelSpec::parse(cfg, cfg.root["model"], input));
    return m.flops_per_sample();
}

// 784-256-128-64-128-256-784: 483,328 weights, one multiply-add each per sample.
// forward 2 x 483,328; backward twice that, less layer 0's data gradient (2 x 784 x 256).
TEST(Flops, SeedMlpIs2p50MflopPerTrainingSample) {
    ModelFlops f = flops_of("mnist_ae.yaml", Shape{784, 1, 1});
    EXPECT_DOUBLE_EQ(f.forward, 966656);
    EXPECT_DOUBLE_EQ(f.backward, 2 * 966656 - 2 * 784 * 256);
    EXPECT_DOUBLE_EQ(f.train(), 2498560);  // ../shared/bench's "2.50 MFLOP per training sample"
}

// conv2d: out H x W x filters x C_in x K x K; deconv2d: in H x W x C_in x filters x K x K.
TEST(Flops, ConvAutoencoderCountsEveryConvolution) {
    const double macs = 14 * 14 * 8 * 1 * 9     // conv 1->8 s2 -> 14x14
                        + 7 * 7 * 16 * 8 * 9    // conv 8->16 s2 -> 7x7
                        + 784 * 64 + 64 * 784   // dense code and back
                        + 7 * 7 * 16 * 8 * 16   // deconv 16->8 k4 from 7x7
                        + 14 * 14 * 8 * 8 * 16  // deconv 8->8 k4 from 14x14
                        + 28 * 28 * 1 * 8 * 9;  // conv 8->1 at 28x28
    ModelFlops f = flops_of("mnist_conv_ae.yaml", Shape{1, 28, 28});
    EXPECT_DOUBLE_EQ(f.forward, 2 * macs);
    EXPECT_DOUBLE_EQ(f.backward, 4 * macs - 2 * (14 * 14 * 8 * 9));
}

}  // namespace
}  // namespace aepipe
