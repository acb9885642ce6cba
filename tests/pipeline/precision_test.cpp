// train.precision: its schema (f32 | bf16, did-you-mean), and bf16 refused on a CPU without
// bf16 instructions: a config error at the `precision` line naming the missing feature, from
// validate and run alike (exit 2, nothing written). RunSettings::cpu_bf16 stands in for the
// CPU in-process; for the binary, oneDNN's own DNNL_MAX_CPU_ISA caps the ISA it reports, so
// both paths are tested on every machine.
#include <gtest/gtest.h>

#include <algorithm>

#include "pipeline/graph.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// The tiny config with `precision: VALUE` under train:, and the 1-based line it is on.
struct PrecisionConfig {
    std::string text;
    int line = 0;
};
PrecisionConfig with_precision(const TinyData &d, const std::string &value) {
    PrecisionConfig c{tiny_config_yaml(d, 2, "tiny"), 0};
    const size_t at = c.text.find("  seed: 7\n");
    EXPECT_NE(at, std::string::npos);
    c.text.insert(at, "  precision: " + value + "\n");
    c.line = int(std::count(c.text.begin(), c.text.begin() + long(at), '\n')) + 1;
    return c;
}

class TrainPrecision : public testing::Test {
protected:
    TempDir tmp{"aepipe-precision"};
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
};

TEST_F(TrainPrecision, DefaultsToF32) {
    ConfigFile cfg = parse_config(tiny_config_yaml(d, 2), "tiny.yaml");
    RunSettings s;
    s.cpu_bf16 = false;
    Pipeline p(cfg, s);
    EXPECT_EQ(p.settings().precision, Precision::F32);
    ConfigFile f32 = parse_config(with_precision(d, "f32").text, "tiny.yaml");
    EXPECT_EQ(Pipeline(f32, s).settings().precision, Precision::F32) << "f32 needs nothing of the CPU";
}

TEST_F(TrainPrecision, UnknownValueGetsDidYouMean) {
    const PrecisionConfig c = with_precision(d, "bf61");
    const std::string err = config_error(c.text, "tiny.yaml");
    EXPECT_NE(err.find("tiny.yaml:" + std::to_string(c.line) + ":14: error: train: 'precision'"), std::string::npos)
        << err;
    EXPECT_NE(err.find("one of f32 bf16"), std::string::npos) << err;
    EXPECT_NE(err.find("hint: did you mean 'bf16'?"), std::string::npos) << err;
}

TEST_F(TrainPrecision, Bf16WithoutTheCpuFeatureIsAConfigErrorAtItsLine) {
    const PrecisionConfig c = with_precision(d, "bf16");
    const std::string err = error_of<ConfigError>([&] {
        ConfigFile cfg = parse_config(c.text, "tiny.yaml");
        RunSettings s;
        s.cpu_bf16 = false;
        Pipeline p(cfg, s);
    });
    EXPECT_NE(err.find("tiny.yaml:" + std::to_string(c.line) +
                       ":14: error: train: 'precision: bf16' needs the CPU feature avx512_bf16"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("hint: use 'precision: f32'"), std::string::npos) << err;
}

TEST_F(TrainPrecision, Bf16WithTheCpuFeatureReachesTheSettings) {
    ConfigFile cfg = parse_config(with_precision(d, "bf16").text, "tiny.yaml");
    RunSettings s;
    s.cpu_bf16 = true;
    Pipeline p(cfg, s);
    EXPECT_EQ(p.settings().precision, Precision::BF16);
}

// The binary asks oneDNN; capping its ISA below avx512_core_bf16 is a CPU without bf16.
TEST_F(TrainPrecision, ValidateAndRunStopWithExit2WhereTheCpuLacksBf16) {
    const PrecisionConfig c = with_precision(d, "bf16");
    const std::string config = tmp / "bf16.yaml";
    write_bytes(config, c.text);
    const std::string where = config + ":" + std::to_string(c.line) + ":14: error: train: 'precision: bf16' needs "
                              "the CPU feature avx512_bf16 (AVX512-BF16) or amx_bf16, which this CPU lacks";
    for (const std::string cmd : {"validate", "run"}) {
        SCOPED_TRACE(cmd);
        std::vector<std::string> args{cmd, config};
        if (cmd == "run") args.insert(args.end(), {"--out", tmp / "runs"});
        RunResult r = run_aepipe_with(args, {"DNNL_MAX_CPU_ISA=AVX2"});
        EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
        EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("oneDNN dispatches to avx2"), std::string::npos) << r.err;
    }
    EXPECT_TRUE(list_dir(tmp / "runs").empty()) << "a refused run creates no run folder";
    // The override addresses the same key, and its error points at the argument.
    RunResult r = run_aepipe_with({"validate", write_tiny_config(tmp.path(), d, 2), "train.precision=bf16"},
                                  {"DNNL_MAX_CPU_ISA=AVX2"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("command-line argument"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("'precision: bf16' needs the CPU feature avx512_bf16"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aepipe::test
