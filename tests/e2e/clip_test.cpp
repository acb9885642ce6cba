// train.clip_grad_norm through the binary: a bound above every gradient norm changes nothing
// (bit for bit), a tight one changes the run, a negative one is a config error.
#include <gtest/gtest.h>

#include "nodes/sink/checkpoint.hpp"
#include "pipeline/ckpt_file.hpp"
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
    EXPECT_NE(r.err.find("train: 'clip_grad_norm' must be 0 (off) or positive"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aepipe::test
