// The VAE's sample layer: gradients of z and of the KL term against finite differences (fixed
// noise: the same PassInfo for every evaluation), the KL value against a hand computation, the
// noise as a pure function of (seed, step, row), evaluation modes, the per-image loss
// reduction, a whole VAE's parameter gradients, and the config errors a sample layer adds.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/noise.hpp"
#include "nodes/nn/sample.hpp"
#include "pipeline/error.hpp"
#include "support/expect_error.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

std::unique_ptr<Layer> make_sample(int64_t in, const std::string &keys = "") {
    return test::make_from_yaml<LayerRegistry>("{type: sample" + keys + "}", LayerInput{in});
}

struct SampleCase {
    int64_t n, k;
    double beta, row_weight;
};
void PrintTo(const SampleCase &c, std::ostream *os) {
    *os << "n=" << c.n << " k=" << c.k << " beta=" << c.beta << " row_weight=" << c.row_weight;
}

class SampleGradient : public testing::TestWithParam<SampleCase> {};

// Objective L = sum r * z + beta * row_weight * sum_rows KL_i with the noise held fixed.
TEST_P(SampleGradient, MuAndLogvarMatchFiniteDifferences) {
    const SampleCase c = GetParam();
    auto layer = make_sample(2 * c.k, ", beta: " + std::to_string(c.beta));
    const PassInfo pass{11, 3, 5, c.row_weight, true};
    std::mt19937_64 rng(17);
    std::vector<float> x = test::uniform(size_t(c.n * 2 * c.k), -1.0, 1.0, rng);
    const std::vector<float> r = test::uniform(size_t(c.n * c.k), -1.0, 1.0, rng);
    std::vector<float> z(r.size()), dz, dx(x.size(), std::numeric_limits<float>::quiet_NaN());
    layer->prepare(c.n);
    layer->begin_pass(pass);
    layer->forward(c.n, x.data(), z.data(), nullptr, nullptr);
    dz = r;
    layer->backward(c.n, x.data(), z.data(), dz.data(), dx.data(), nullptr, nullptr, nullptr);
    auto objective = [&] {
        layer->begin_pass(pass);
        layer->forward(c.n, x.data(), z.data(), nullptr, nullptr);
        double s = 0;
        for (size_t i = 0; i < z.size(); ++i) s += double(r[i]) * z[i];
        return s + c.beta * c.row_weight * layer->penalty_sum();
    };
    EXPECT_TRUE(test::check_numeric("dx", {c.n, 2 * c.k}, x.data(), dx.data(), objective));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SampleGradient,
                         testing::Values(SampleCase{1, 1, 1.0, 1.0}, SampleCase{3, 2, 1.0, 0.5},
                                         SampleCase{4, 5, 0.25, 1.0}, SampleCase{2, 3, 0.0, 1.0}));

TEST(Sample, KlMatchesHandComputation) {
    // Row 0: mu (0.5, -1), logvar (0.2, -0.3):
    //   -1/2 [(1 + 0.2 - 0.25 - e^0.2) + (1 - 0.3 - 1 - e^-0.3)] = 0.65611049...
    // Row 1: mu = 0, logvar = 0 is the prior itself: KL 0.
    const std::vector<float> x{0.5f, -1.f, 0.2f, -0.3f, 0.f, 0.f, 0.f, 0.f};
    const double row0 = -0.5 * ((1 + 0.2 - 0.25 - std::exp(0.2)) + (1 - 0.3 - 1 - std::exp(-0.3)));
    EXPECT_NEAR(row0, 0.6561104895, 1e-9);
    EXPECT_NEAR(SampleLayer::kl_row(2, x.data(), x.data() + 2), row0, 1e-6);
    EXPECT_EQ(SampleLayer::kl_row(2, x.data() + 4, x.data() + 6), 0.0);
    auto layer = make_sample(4, ", beta: 0.5");
    std::vector<float> z(4);
    layer->prepare(2);
    layer->forward(2, x.data(), z.data(), nullptr, nullptr);
    EXPECT_NEAR(layer->penalty_sum(), row0, 1e-6) << "summed over rows, before beta";
    EXPECT_EQ(layer->penalty_weight(), 0.5);
}

TEST(Sample, ForwardIsMuPlusSigmaTimesCounterNoise) {
    auto layer = make_sample(6);
    std::mt19937_64 rng(3);
    const int64_t n = 4, k = 3;
    std::vector<float> x = test::uniform(size_t(n * 2 * k), -1.0, 1.0, rng), z(size_t(n * k));
    const PassInfo pass{42, 7, 10, 1.0, true};
    layer->prepare(n);
    layer->begin_pass(pass);
    layer->forward(n, x.data(), z.data(), nullptr, nullptr);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j) {
            const float mu = x[size_t(i * 2 * k + j)], lv = x[size_t(i * 2 * k + k + j)];
            EXPECT_FLOAT_EQ(z[size_t(i * k + j)], mu + std::exp(0.5f * lv) * counter_normal(42, 7, 10 + i, j));
        }
}

// The noise of a row depends on (seed, step, row) only: a batch cut into two row shards
// draws exactly what the whole batch draws, and a repeated pass draws the same again.
TEST(Sample, NoiseIsTheSameWholeOrInShards) {
    auto whole = make_sample(4), shard = make_sample(4);
    const int64_t n = 6, k = 2;
    std::mt19937_64 rng(5);
    std::vector<float> x = test::uniform(size_t(n * 2 * k), -1.0, 1.0, rng), a(size_t(n * k)), b(a.size()),
                       again(a.size());
    whole->prepare(n);
    whole->begin_pass({9, 12, 0, 1.0 / n, true});
    whole->forward(n, x.data(), a.data(), nullptr, nullptr);
    shard->prepare(2);
    shard->prepare(4);
    shard->begin_pass({9, 12, 0, 1.0 / n, true});
    shard->forward(2, x.data(), b.data(), nullptr, nullptr);
    shard->begin_pass({9, 12, 2, 1.0 / n, true});
    shard->forward(4, x.data() + 2 * 2 * k, b.data() + 2 * k, nullptr, nullptr);
    EXPECT_EQ(a, b);
    whole->begin_pass({9, 12, 0, 1.0 / n, true});
    whole->forward(n, x.data(), again.data(), nullptr, nullptr);
    EXPECT_EQ(a, again);
    whole->begin_pass({9, 13, 0, 1.0 / n, true});
    whole->forward(n, x.data(), again.data(), nullptr, nullptr);
    EXPECT_NE(a, again) << "another step draws other noise";
    whole->begin_pass({10, 12, 0, 1.0 / n, true});
    whole->forward(n, x.data(), again.data(), nullptr, nullptr);
    EXPECT_NE(a, again) << "another seed draws other noise";
}

TEST(Sample, CounterNoiseIsStandardNormal) {
    const int64_t rows = 4000, cols = 10;
    double s = 0, s2 = 0, s4 = 0;
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
            const double e = counter_normal(1, 0, i, j);
            s += e, s2 += e * e, s4 += e * e * e * e;
        }
    const double n = double(rows * cols), mean = s / n, var = s2 / n - mean * mean;
    EXPECT_NEAR(mean, 0.0, 0.02);  // standard error 0.005
    EXPECT_NEAR(var, 1.0, 0.03);   // standard error 0.007
    EXPECT_NEAR(s4 / n, 3.0, 0.15) << "fourth moment of N(0, 1)";
}

TEST(Sample, EvalMeanUsesMuAndEvalSampleDraws) {
    const std::vector<float> x{0.3f, -0.2f, 0.5f, 0.1f};
    std::vector<float> z(2);
    auto mean = make_sample(4, ", eval: mean");
    mean->prepare(1);
    mean->begin_pass({1, -1, 0, 1.0, false});
    mean->forward(1, x.data(), z.data(), nullptr, nullptr);
    EXPECT_EQ(z, (std::vector<float>{0.3f, -0.2f}));
    mean->begin_pass({1, 0, 0, 1.0, true});
    mean->forward(1, x.data(), z.data(), nullptr, nullptr);
    EXPECT_NE(z, (std::vector<float>{0.3f, -0.2f})) << "training always samples";
    auto sample = make_sample(4);
    sample->prepare(1);
    sample->begin_pass({1, -1, 0, 1.0, false});
    sample->forward(1, x.data(), z.data(), nullptr, nullptr);
    EXPECT_FLOAT_EQ(z[0], 0.3f + std::exp(0.25f) * counter_normal(1, -1, 0, 0));
}

// reduction: sum is the mean reduction times the values per sample, gradient included.
TEST(Sample, SumReductionIsPerSample) {
    const int64_t n = 3, d = 5;
    std::mt19937_64 rng(8);
    const std::vector<float> y = test::uniform(size_t(n * d), -2.0, 2.0, rng), t = test::uniform(size_t(n * d), 0.0, 1.0, rng);
    for (const char *type : {"bce, from_logits: true", "mse"}) {
        auto mean = test::make_from_yaml<LossRegistry>(std::string("{type: ") + type + "}");
        auto sum = test::make_from_yaml<LossRegistry>(std::string("{type: ") + type + ", reduction: sum}");
        std::vector<float> gm(y.size()), gs(y.size());
        const double lm = mean->forward_backward(n, d, y.data(), t.data(), gm.data());
        const double ls = sum->forward_backward(n, d, y.data(), t.data(), gs.data());
        EXPECT_NEAR(ls, lm * d, 1e-9 * ls) << type;
        EXPECT_NEAR(sum->value(n, d, y.data(), t.data()), ls, 1e-6 * ls) << type;  // float vs double differences
        for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(gs[i], gm[i] * d, 1e-6) << type << " [" << i << "]";
    }
    EXPECT_EQ(test::make_from_yaml<LossRegistry>("{type: bce, reduction: sum}")->unit(), "nats_per_img");
}

ConfigFile vae_config(const std::string &layers, const std::string &loss = "{type: bce, from_logits: true, reduction: sum}") {
    return parse_config("model: {layers: " + layers + ", loss: " + loss + "}\ngraph: {nodes: [], edges: []}",
                        "inline.yaml");
}

// A whole VAE: d(sum over rows of recon + beta * KL)/d(every parameter), noise fixed.
TEST(Sample, VaeModelGradientMatchesFiniteDifferences) {
    const int64_t n = 3, dim = 4;
    ConfigFile cfg = vae_config(
        "[{type: dense, units: 5, activation: tanh}, {type: dense, units: 4}, {type: sample, beta: 0.7},"
        " {type: dense, units: 4}]");
    Model m(ModelSpec::parse(cfg, cfg.root["model"], dim));
    ASSERT_EQ(m.sample_layer(), 2);
    std::vector<float> w(size_t(m.num_params()));
    m.init_params(w.data(), 5);
    std::mt19937_64 rng(23);
    for (const NamedParam &p : m.named_params())
        if (p.name.ends_with(".bias"))
            for (int64_t k = 0; k < p.size(); ++k) w[size_t(p.offset + k)] = float(rng() % 1000) / 2000.f - 0.25f;
    const std::vector<float> x = test::uniform(size_t(n * dim), 0.0, 1.0, rng);
    Workspace ws(m, n);
    const PassInfo pass{3, 4, 0, 1.0, true};  // row weight 1: the objective is the sum over rows
    std::vector<float> g(w.size(), std::numeric_limits<float>::quiet_NaN()), scratch(size_t(n * dim));
    ws.begin_pass(pass);
    ws.forward(n, x.data(), w.data());
    m.loss().forward_backward(n, dim, ws.output(), x.data(), ws.output_grad(), double(n));
    ws.backward(n, w.data(), g.data());
    auto objective = [&] {
        ws.begin_pass(pass);
        ws.forward(n, x.data(), w.data());
        return double(n) * m.loss().forward_backward(n, dim, ws.output(), x.data(), scratch.data()) +
               ws.weighted_penalty_sum();
    };
    EXPECT_GT(ws.penalty_sum(), 0.0);
    for (const NamedParam &p : m.named_params())
        EXPECT_TRUE(test::check_numeric(p.name, p.shape, w.data() + p.offset, g.data() + p.offset, objective));
}

std::string config_error(const std::string &layers, const std::string &loss) {
    ConfigFile cfg = vae_config(layers, loss);
    return test::error_of<ConfigError>([&] { Model m(ModelSpec::parse(cfg, cfg.root["model"], 4)); });
}

TEST(SampleConfig, OddInputWidthIsAnError) {
    std::string e = config_error("[{type: dense, units: 3}, {type: sample}, {type: dense, units: 4}]",
                                 "{type: bce, reduction: sum}");
    EXPECT_NE(e.find("inline.yaml:1:"), std::string::npos) << e;
    EXPECT_NE(e.find("needs an even input width, got 3"), std::string::npos) << e;
}

TEST(SampleConfig, MeanReductionIsAnError) {
    std::string e = config_error("[{type: dense, units: 4}, {type: sample}, {type: dense, units: 4}]", "{type: bce}");
    EXPECT_NE(e.find("model.loss: a model with a sample layer"), std::string::npos) << e;
    EXPECT_NE(e.find("reduction: sum"), std::string::npos) << e;
}

TEST(SampleConfig, NegativeBetaIsAnError) {
    std::string e = config_error("[{type: dense, units: 4}, {type: sample, beta: -1}, {type: dense, units: 4}]",
                                 "{type: bce, reduction: sum}");
    EXPECT_NE(e.find("'beta' must be at least 0"), std::string::npos) << e;
}

TEST(SampleConfig, UnknownEvalModeIsAnError) {
    std::string e = config_error("[{type: dense, units: 4}, {type: sample, eval: mu}, {type: dense, units: 4}]",
                                 "{type: bce, reduction: sum}");
    EXPECT_NE(e.find("'eval'"), std::string::npos) << e;
    EXPECT_NE(e.find("mean"), std::string::npos) << e;
}

}  // namespace
}  // namespace aepipe
