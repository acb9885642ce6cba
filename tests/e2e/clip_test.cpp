// train.clip_grad_norm through the binary: a bound above every gradient norm changes nothing
// (bit for bit), a tight one changes the run, a negative one is a config error.
#include <gtest/gtest.h>

#include "nodes/sink/checkpoint.hpp"
#include "formats/ckpt_file.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

std::vector<float> final_weights(const TempDir &tmp, const std::string &config, const std::string &out,
                                 const std::string &clip) {
    RunResult r = run_aepipe({"run", config, "--out", tmp / out, "--threads", "1", "--quiet", "train.epochs=1",
                              "train.clip_grad_norm=" + clip});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto runs = list_dir(tmp / out);
    if (runs.size() != 1) return {};
    auto ck = list_train_checkpoints(tmp / out + "/" + runs[0]);
    return ck.empty() ? std::vector<float>{} : read_ckpt(ck.back()).find("layers.0.weight")->data;
}

TEST(ClipGradNorm, LooseBoundChangesNothingTightBoundChangesTheRun) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 64, 16);
    std::string config = write_tiny_config(tmp.path(), d, 1);
    auto off = final_weights(tmp, config, "off", "0"), loose = final_weights(tmp, config, "loose", "1e9"),
         tight = final_weights(tmp, config, "tight", "1e-4");
    ASSERT_FALSE(off.empty());
    EXPECT_TRUE(off == loose);
    EXPECT_FALSE(off == tight);
}

TEST(ClipGradNorm, NegativeBoundIsAConfigError) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    RunResult r = run_aepipe({"validate", write_tiny_config(tmp.path(), d, 1), "train.clip_grad_norm=-1"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("train: 'clip_grad_norm' must be at least 0, got '-1'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aepipe::test

namespace aepipe::test {
namespace {

// A NaN planted in the gradient of step 7 (the test hook --test-hook nan_grad=STEP:ELEMENT;
// element 2100 is in layers.1.weight, which starts at 64*32 + 32 = 2080) stops the run there.
TEST(NonFiniteGradient, StopsAtTheStepNamingNodeTensorAndTheLastGoodCheckpoint) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 64, 16);  // 4 steps per epoch
    std::string config = write_tiny_config(tmp.path(), d, 3);
    RunResult r = run_aepipe(
        {"run", config, "--out", tmp / "runs", "--threads", "1", "--quiet", "--test-hook", "nan_grad=7:2100"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto runs = list_dir(tmp / "runs");
    ASSERT_EQ(runs.size(), 1u);
    const std::string dir = tmp / "runs" + "/" + runs[0];
    EXPECT_NE(r.err.find("node 'model' (train, " + config + ":"), std::string::npos) << r.err;
    // One thread, no clipping: layers are updated during the backward pass (nodes/nn/step_engine.hpp).
    EXPECT_NE(r.err.find(" at step 7: gradient of 'layers.1.weight' is nan at element 20 (of 512); training stopped "
                         "during this update (the layers after it were updated); the last good checkpoint is " +
                         dir + "/checkpoints/step-00000004.ckpt"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(list_dir(dir + "/checkpoints"), std::vector<std::string>{"step-00000004.ckpt"});
    EXPECT_NO_THROW(read_ckpt(dir + "/checkpoints/step-00000004.ckpt"));
}

}  // namespace
}  // namespace aepipe::test
