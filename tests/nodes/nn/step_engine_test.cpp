// The training step without a graph (nodes/nn/step_engine.hpp): one SGD step against the
// model's own forward/backward and the update rule; shard count invariance (also a batch
// smaller than the shard count); clipping; a denoising target; the failure paths (a
// non-finite loss, a non-finite gradient) leave the weights as they were; many steps learn.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nn_test_util.hpp"
#include "nodes/nn/step_engine.hpp"
#include "support/expect_error.hpp"

namespace aepipe {
namespace {

constexpr int64_t kDim = 6;

std::shared_ptr<const ModelSpec> spec_of(const std::string &model_yaml) {
    ConfigFile cfg = parse_config("model: " + model_yaml + "\n", "engine.yaml");
    return ModelSpec::parse(cfg, cfg.root["model"], kDim);
}

const char *kMlp = "{layers: [{type: dense, units: 5, activation: tanh}, {type: dense, units: 6}]}";

std::unique_ptr<Optimizer> optimizer(const std::string &type, double lr) {
    ConfigFile cfg = parse_config("optimizer: {type: " + type + ", lr: " + std::to_string(lr) + "}\n", "opt.yaml");
    Diags d;
    const auto *e = OptimizerRegistry::get().find(type);
    Params p = check_params(e->spec, cfg, cfg.root["optimizer"], "optimizer", d, {"type"});
    return e->make(p);
}
std::unique_ptr<Optimizer> sgd(double lr) { return optimizer("sgd", lr); }

StepEngine engine(int64_t shards, double lr = 0.1, double clip = 0, const char *model = kMlp) {
    StepOptions o;
    o.shards = shards, o.clip_grad_norm = clip, o.seed = 7;
    return StepEngine(spec_of(model), sgd(lr), o);
}

std::vector<float> batch(int64_t rows, uint64_t seed) {
    std::mt19937_64 rng(seed);
    return test::uniform(size_t(rows * kDim), 0.0, 1.0, rng);
}

// The mean loss and its gradient over the whole batch, from a Model of its own.
std::vector<float> reference_grad(const StepEngine &e, const std::vector<float> &x, const std::vector<float> &t,
                                  int64_t rows, double *loss) {
    Model m(e.model().spec_ptr());
    Workspace ws(m, rows);
    std::vector<float> g(size_t(m.num_params()), 0.f), w = e.params_copy();
    ws.forward(rows, x.data(), w.data());
    *loss = m.loss().forward_backward(rows, kDim, ws.output(), t.data(), ws.output_grad());
    ws.backward(rows, w.data(), g.data());
    return g;
}

TEST(StepEngine, OneSgdStepIsTheModelsGradientTimesTheRate) {
    StepEngine e = engine(1, 0.1);
    const int64_t rows = 8;
    const std::vector<float> x = batch(rows, 1);
    double loss = 0;
    const std::vector<float> g = reference_grad(e, x, x, rows, &loss), w0 = e.params_copy();
    const StepSums s = e.step({.x = x.data(), .rows = rows});
    EXPECT_NEAR(s.loss / rows, loss, 1e-6 * std::max(1.0, loss));
    EXPECT_DOUBLE_EQ(s.loss, s.recon);  // no KL term
    for (size_t i = 0; i < w0.size(); ++i) ASSERT_NEAR(e.params_copy()[i], w0[i] - 0.1f * g[i], 1e-6f) << i;
    EXPECT_EQ(e.updates(), 1);
}

// Shards split the rows; the loss gradient of each is scaled by rows/total, so any split gives
// the same step. 3 shards on 8 rows (3/3/2), and on 2 rows (one shard gets none).
TEST(StepEngine, AnyShardCountTakesTheSameStep) {
    for (int64_t rows : {8, 2}) {
        SCOPED_TRACE(rows);
        StepEngine one = engine(1), three = engine(3);
        const std::vector<float> x = batch(rows, 2);
        const StepSums a = one.step({.x = x.data(), .rows = rows}), b = three.step({.x = x.data(), .rows = rows});
        EXPECT_NEAR(a.loss, b.loss, 1e-5 * std::abs(a.loss));
        for (size_t i = 0; i < one.params_copy().size(); ++i)
            ASSERT_NEAR(one.params_copy()[i], three.params_copy()[i], 1e-6f) << i;
    }
}

TEST(StepEngine, ClippingScalesTheGradientToTheMaxNorm) {
    const int64_t rows = 4;
    const double lr = 0.5, clip = 1e-3;
    StepEngine e = engine(1, lr, clip);
    const std::vector<float> x = batch(rows, 3);
    double loss = 0;
    const std::vector<float> g = reference_grad(e, x, x, rows, &loss), w0 = e.params_copy();
    double norm = 0;
    for (float v : g) norm += double(v) * v;
    norm = std::sqrt(norm);
    ASSERT_GT(norm, 10 * clip);  // the clip must bite
    e.step({.x = x.data(), .rows = rows});
    double moved = 0;
    for (size_t i = 0; i < w0.size(); ++i) {
        const double want = double(w0[i]) - lr * double(g[i]) * clip / norm;
        ASSERT_NEAR(e.params_copy()[i], want, 1e-6) << i;
        moved += std::pow(double(w0[i]) - e.params_copy()[i], 2);
    }
    EXPECT_NEAR(std::sqrt(moved), lr * clip, 1e-3 * lr * clip);
}

// Denoising: the loss compares the output of the corrupted inputs with the clean target.
TEST(StepEngine, TheLossComparesWithTheTarget) {
    const int64_t rows = 5;
    StepEngine e = engine(2);
    const std::vector<float> x = batch(rows, 4), t = batch(rows, 5);
    double loss = 0;
    reference_grad(e, x, t, rows, &loss);
    const StepSums s = e.step({.x = x.data(), .target = t.data(), .rows = rows});
    EXPECT_NEAR(s.loss / rows, loss, 1e-6 * std::max(1.0, loss));
}

TEST(StepEngine, ANonFiniteLossThrowsAndKeepsTheWeights) {
    StepEngine e = engine(1);
    std::vector<float> x = batch(4, 6);
    x[3] = std::numeric_limits<float>::quiet_NaN();
    e.set_failure_note("; the last good checkpoint is c.safetensors");
    const std::vector<float> w0 = e.params_copy();
    EXPECT_EQ(test::error_of<RuntimeError>([&] { e.step({.x = x.data(), .rows = 4}); }),
              "the loss is nan (diverged); lower the learning rate; the last good checkpoint is c.safetensors");
    EXPECT_EQ(e.params_copy(), w0);
    EXPECT_EQ(e.updates(), 0);
}

// The gradient hook (the test seam of StepOptions) plants a NaN in step 2's gradient. Updating
// after the whole backward pass (2 shards, or fuse_update off) leaves every weight as it was.
TEST(StepEngine, ANonFiniteGradientNamesTheTensorAndKeepsTheWeights) {
    for (int64_t shards : {1, 2}) {
        SCOPED_TRACE(shards);
        StepOptions o;
        o.shards = shards, o.fuse_update = false;
        o.grad_hook = [](int64_t step, float *g, int64_t) {
            if (step == 2) g[33] = std::nanf("");
        };
        StepEngine e(spec_of(kMlp), sgd(0.1), o);
        ASSERT_FALSE(e.fused());
        const std::vector<float> x = batch(4, 7);
        e.step({.x = x.data(), .rows = 4});
        const std::vector<float> w1 = e.params_copy();
        EXPECT_EQ(test::error_of<RuntimeError>([&] { e.step({.x = x.data(), .rows = 4, .step = 1}); }),
                  "gradient of 'layers.0.bias' is nan at element 3 (of 5); training stopped before this update\n"
                  "hint: lower the learning rate or set train.clip_grad_norm");
        EXPECT_EQ(e.params_copy(), w1);
    }
}

// Fused (one shard, no clipping): the layer with the NaN and those before it keep their
// weights; the layers after it were updated, and the message says so.
TEST(StepEngine, FusedANonFiniteGradientStopsAtItsLayer) {
    StepOptions o;
    o.grad_hook = [](int64_t step, float *g, int64_t) {
        if (step == 2) g[33] = std::nanf("");
    };
    StepEngine e(spec_of(kMlp), sgd(0.1), o);
    ASSERT_TRUE(e.fused());
    const std::vector<float> x = batch(4, 7);
    e.step({.x = x.data(), .rows = 4});
    const std::vector<float> w1 = e.params_copy();
    EXPECT_EQ(test::error_of<RuntimeError>([&] { e.step({.x = x.data(), .rows = 4, .step = 1}); }),
              "gradient of 'layers.0.bias' is nan at element 3 (of 5); training stopped during this update (the "
              "layers after it were updated)\nhint: lower the learning rate or set train.clip_grad_norm");
    const int64_t layer1 = e.model().offset(1);
    const std::vector<float> w2 = e.params_copy();
    for (int64_t i = 0; i < layer1; ++i) ASSERT_EQ(w2[size_t(i)], w1[size_t(i)]) << i;
    EXPECT_NE(std::vector<float>(w2.begin() + layer1, w2.end()), std::vector<float>(w1.begin() + layer1, w1.end()));
}

// Only a single-threaded shard fuses: an OpenMP team, several shards or clipping do not.
TEST(StepEngine, FusesOnlyOneSingleThreadedShardWithoutClipping) {
    auto fused = [](auto set) {
        StepOptions o;
        set(o);
        return StepEngine(spec_of(kMlp), sgd(0.1), o).fused();
    };
    EXPECT_TRUE(fused([](StepOptions &) {}));
    EXPECT_FALSE(fused([](StepOptions &o) { o.omp_per_shard = 2; }));
    EXPECT_FALSE(fused([](StepOptions &o) { o.shards = 2; }));
    EXPECT_FALSE(fused([](StepOptions &o) { o.clip_grad_norm = 1; }));
    EXPECT_FALSE(fused([](StepOptions &o) { o.fuse_update = false; }));
}

// Updating layer by layer does the same arithmetic per weight as one pass over the slab.
TEST(StepEngine, FusedUpdatesEqualTheWholeSlabUpdate) {
    for (const char *type : {"adam", "rmsprop", "sgd"}) {
        SCOPED_TRACE(type);
        StepOptions fused, whole;
        whole.fuse_update = false;
        StepEngine a(spec_of(kMlp), optimizer(type, 0.01), fused), b(spec_of(kMlp), optimizer(type, 0.01), whole);
        ASSERT_TRUE(a.fused());
        ASSERT_FALSE(b.fused());
        const std::vector<float> x = batch(8, 9);
        for (int64_t k = 0; k < 5; ++k) {
            const StepSums sa = a.step({.x = x.data(), .rows = 8, .step = k}), sb = b.step({.x = x.data(), .rows = 8, .step = k});
            EXPECT_EQ(sa.loss, sb.loss);
        }
        EXPECT_EQ(a.params_copy(), b.params_copy());
    }
}

// A VAE's loss sums carry the KL part; many steps on one batch cut the loss.
TEST(StepEngine, StepsLearnAndAVaeReportsItsKl) {
    StepEngine e = engine(2, 0.05, 0,
                          "{layers: [{type: dense, units: 4}, {type: sample, beta: 1}, {type: dense, units: 6}],"
                          " loss: {type: mse, reduction: sum}}");
    const std::vector<float> x = batch(16, 8);
    const StepSums first = e.step({.x = x.data(), .rows = 16});
    EXPECT_GT(first.kl, 0);
    EXPECT_NEAR(first.loss, first.recon + first.kl, 1e-4 * first.loss);
    StepSums last;
    for (int k = 1; k < 300; ++k) last = e.step({.x = x.data(), .rows = 16, .step = k});
    EXPECT_LT(last.loss, 0.5 * first.loss);
}

}  // namespace
}  // namespace aepipe
