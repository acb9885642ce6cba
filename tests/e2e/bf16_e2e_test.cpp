// train.precision: bf16 end to end through the aepipe binary on the tiny bar images: the dense
// model and a conv / deconv model cut the test error like f32 does (a direction and a ratio,
// not exact floats), the run really trained in bf16 (its losses are not f32's), and the
// checkpoint holds f32 weights. Skipped, saying why, on a CPU without bf16.
#include <gtest/gtest.h>

#include <sstream>

#include "pipeline/precision.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

constexpr int kEpochs = 8;

#define SKIP_WITHOUT_BF16()                                                                                   \
    if (!cpu_has_bf16())                                                                                      \
    GTEST_SKIP() << "this CPU has no avx512_bf16 / amx_bf16 (oneDNN dispatches to " << cpu_isa_name()         \
                 << "): train.precision bf16 is refused here (tests/pipeline/precision_test.cpp checks that)"

const char *kConvModel =
    "model:\n"
    "  layers:\n"
    "    - {type: conv2d, filters: 8, kernel: 3, padding: 1, activation: relu, init: he}\n"
    "    - {type: conv2d, filters: 16, kernel: 3, stride: 2, padding: 1, activation: relu, init: he}\n"
    "    - {type: flatten}\n"
    "    - {type: dense, units: 16}\n"
    "    - {type: dense, units: 256, activation: relu}\n"
    "    - {type: reshape, shape: [4, 4, 16]}\n"
    "    - {type: deconv2d, filters: 8, kernel: 4, stride: 2, padding: 1, activation: relu, init: he}\n"
    "    - {type: conv2d, filters: 1, kernel: 3, padding: 1, activation: sigmoid}\n"
    "  loss: mse\n";

struct Metrics {
    std::vector<double> train_loss, test_mse;  // per epoch
    std::string dir, csv;
};

class Bf16E2E : public testing::Test {
protected:
    TempDir tmp{"aepipe-bf16"};
    TinyData d = write_tiny_data(tmp.path());

    // Trains the tiny config (or its model swapped for `model`) at `precision`.
    Metrics train(const std::string &precision, const std::string &model, const std::vector<std::string> &extra) {
        std::string yaml = tiny_config_yaml(d, kEpochs, "tiny_" + precision);
        if (!model.empty()) {
            const size_t from = yaml.find("model:\n"), to = yaml.find("train:\n");
            yaml.replace(from, to - from, model);
            yaml.replace(yaml.find("lr: 0.01}"), 9, "lr: 0.003}");  // as conv_e2e_test: keeps the ReLUs alive
        }
        const std::string config = tmp / ("tiny_" + precision + ".yaml"), out = tmp / ("runs_" + precision);
        write_bytes(config, yaml);
        std::vector<std::string> args{"run", config, "--out", out, "--quiet", "train.precision=" + precision};
        args.insert(args.end(), extra.begin(), extra.end());
        RunResult r = run_aepipe(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        Metrics m;
        const auto runs = list_dir(out);
        if (runs.size() != 1) return ADD_FAILURE() << "expected one run folder in " << out, m;
        m.dir = out + "/" + runs[0];
        m.csv = read_bytes(m.dir + "/metrics.csv");
        const auto lines = lines_of(m.csv);
        for (size_t i = 1; i < lines.size(); ++i) {  // epoch,steps,train_loss,test_loss,test_mse_per_px,...
            std::stringstream ss(lines[i]);
            std::vector<std::string> f;
            for (std::string s; std::getline(ss, s, ',');) f.push_back(s);
            m.train_loss.push_back(std::stod(f.at(2)));
            m.test_mse.push_back(std::stod(f.at(4)));
        }
        EXPECT_EQ(m.test_mse.size(), size_t(kEpochs)) << m.csv;
        return m;
    }

    // bf16 learns as f32 does: the test error falls by the same set ratio, ends within 25% of
    // f32's, and the losses differ from f32's (else the run never used bf16).
    void expect_like_f32(const Metrics &f32, const Metrics &bf16) {
        ASSERT_EQ(f32.test_mse.size(), size_t(kEpochs));
        ASSERT_EQ(bf16.test_mse.size(), size_t(kEpochs));
        EXPECT_LT(f32.test_mse.back(), 0.5 * f32.test_mse.front()) << f32.csv;
        EXPECT_LT(bf16.test_mse.back(), 0.5 * bf16.test_mse.front()) << bf16.csv;
        EXPECT_LT(bf16.test_mse.back(), 1.25 * f32.test_mse.back()) << "f32:\n" << f32.csv << "bf16:\n" << bf16.csv;
        EXPECT_NE(f32.train_loss, bf16.train_loss) << "bf16 trained exactly as f32: it never ran in bf16";
    }
};

TEST_F(Bf16E2E, DenseModelLearnsLikeF32AndKeepsF32Weights) {
    SKIP_WITHOUT_BF16();
    const Metrics f32 = train("f32", "", {"--threads", "1"}), bf16 = train("bf16", "", {"--threads", "1"});
    expect_like_f32(f32, bf16);
    // The checkpoint's tensors are the f32 master weights, whatever the training precision.
    const std::string st = read_bytes(bf16.dir + "/model.safetensors");
    EXPECT_NE(st.find("\"dtype\":\"F32\""), std::string::npos);
    EXPECT_EQ(st.find("BF16"), std::string::npos);
    EXPECT_NE(read_bytes(bf16.dir + "/config.yaml").find("precision: bf16"), std::string::npos);
}

// Two shards on two threads: each shard's layers convert their own operands.
TEST_F(Bf16E2E, ConvModelLearnsLikeF32InTwoShards) {
    SKIP_WITHOUT_BF16();
    const std::vector<std::string> extra{"--threads", "2", "train.shards=2"};
    const Metrics f32 = train("f32", kConvModel, extra), bf16 = train("bf16", kConvModel, extra);
    expect_like_f32(f32, bf16);
}

}  // namespace
}  // namespace aepipe::test
