// Optimizers: three steps on a 3-element vector against values computed by hand (plain
// Python in double, formulas in the comments), and five steps on random vectors against the
// reference loops in nodes/math, state buffers included.
//
// The hand example: w0 = (1, -2, 0.5); gradients g1 = (0.1, -0.2, 0.3), g2 = (-0.4, 0.5, 0),
// g3 = (0.2, 0.1, -0.6). With weight decay, g' = g + wd w is used in place of g.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>

#include "nn_test_util.hpp"
#include "nodes/math/reference.hpp"
#include "nodes/nn/optimizer.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

const float kW0[3] = {1.f, -2.f, 0.5f};
const float kG[3][3] = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.5f, 0.f}, {0.2f, 0.1f, -0.6f}};

// The reference optimizer of a case, type-erased: its step and its named state buffers.
struct RefRun {
    std::shared_ptr<void> keep;
    std::function<void(std::vector<double> &, const std::vector<double> &)> step;
    std::map<std::string, const std::vector<double> *> state;
};

template <class R>
RefRun ref_run(R r, std::map<std::string, std::vector<double> R::*> names) {
    auto p = std::make_shared<R>(r);
    RefRun run{p, [p](std::vector<double> &w, const std::vector<double> &g) { p->step(w, g); }, {}};
    for (const auto &[name, member] : names) run.state[name] = &((*p).*member);
    return run;
}

struct OptCase {
    const char *name, *yaml;
    double expect[3][3];  // w after steps 1, 2, 3
    std::function<RefRun()> ref;
};
void PrintTo(const OptCase &c, std::ostream *os) { *os << c.yaml; }

RefRun sgd(double lr, double momentum, bool nesterov, double wd) {
    ref::Sgd r;
    r.lr = lr, r.momentum = momentum, r.nesterov = nesterov, r.weight_decay = wd;
    return ref_run(r, {{"momentum_buffer", &ref::Sgd::momentum_buffer}});
}
RefRun rmsprop(double lr, double alpha, double wd) {
    ref::RmsProp r;
    r.lr = lr, r.alpha = alpha, r.weight_decay = wd;
    return ref_run(r, {{"square_avg", &ref::RmsProp::square_avg}});
}
RefRun adam(double lr, double b1, double b2, double wd) {
    ref::Adam r;
    r.lr = lr, r.beta1 = b1, r.beta2 = b2, r.weight_decay = wd;
    return ref_run(r, {{"exp_avg", &ref::Adam::exp_avg}, {"exp_avg_sq", &ref::Adam::exp_avg_sq}});
}
RefRun adagrad(double lr, double init, double wd) {
    ref::AdaGrad r;
    r.lr = lr, r.initial_accumulator = init, r.weight_decay = wd;
    return ref_run(r, {{"sum", &ref::AdaGrad::sum}});
}

const OptCase kCases[] = {
    // w -= lr g.  Step 1: 1 - 0.1*0.1 = 0.99, -2 + 0.02 = -1.98, 0.5 - 0.03 = 0.47.
    {"sgd", "{type: sgd, lr: 0.1}",
     {{0.99, -1.98, 0.47}, {1.03, -2.03, 0.47}, {1.01, -2.04, 0.53}},
     [] { return sgd(0.1, 0, false, 0); }},
    // v1 = g1; v = 0.9 v + g; w -= lr v.  Step 2, element 0: v = 0.09 - 0.4 = -0.31, w = 0.99 + 0.031.
    {"sgd_momentum", "{type: sgd, lr: 0.1, momentum: 0.9}",
     {{0.99, -1.98, 0.47}, {1.021, -2.012, 0.443}, {1.0289, -2.0508, 0.4787}},
     [] { return sgd(0.1, 0.9, false, 0); }},
    // Same v; w -= lr (g + 0.9 v).  Step 1, element 0: 1 - 0.1 (0.1 + 0.09) = 0.981.
    {"sgd_nesterov", "{type: sgd, lr: 0.1, momentum: 0.9, nesterov: true}",
     {{0.981, -1.962, 0.443}, {1.0489, -2.0408, 0.4187}, {1.03601, -2.08572, 0.51083}},
     [] { return sgd(0.1, 0.9, true, 0); }},
    // g' = g + 0.1 w; v = 0.5 v + g'.  Step 1, element 0: g' = 0.2, w = 1 - 0.02 = 0.98.
    {"sgd_momentum_weight_decay", "{type: sgd, lr: 0.1, momentum: 0.5, weight_decay: 0.1}",
     {{0.98, -1.96, 0.465}, {1.0002, -1.9704, 0.44285}, {0.980298, -1.965896, 0.4873465}},
     [] { return sgd(0.1, 0.5, false, 0.1); }},
    // s = 0.9 s + 0.1 g^2; w -= 0.01 g / (sqrt(s) + 1e-8).  Step 1: each moves 0.01/sqrt(0.1) = 0.0316228
    // against its gradient's sign; step 2, element 2 has g = 0 and stays.
    {"rmsprop", "{type: rmsprop, lr: 0.01, alpha: 0.9}",
     {{0.968377233, -1.96837723, 0.468377227},
      {0.999146462, -1.99794285, 0.468377227},
      {0.984716463, -2.00405817, 0.497214715}},
     [] { return rmsprop(0.01, 0.9, 0); }},
    // alpha 0.99 (default), g' = g + 0.1 w.  Step 1 moves each by 0.01/sqrt(0.01) = 0.1.
    {"rmsprop_weight_decay", "{type: rmsprop, lr: 0.01, weight_decay: 0.1}",
     {{0.90000005, -1.90000002, 0.400000029},
      {0.984153447, -1.96144943, 0.388588912},
      {0.921016349, -1.94263718, 0.473520093}},
     [] { return rmsprop(0.01, 0.99, 0.1); }},
    // m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g^2; w -= 0.1 (m / (1 - 0.9^t)) / (sqrt(v / (1 - 0.999^t)) + 1e-8).
    // Bias correction makes step 1 exactly lr * sign(g) (up to eps): 1 - 0.1 = 0.9, ...
    {"adam", "{type: adam, lr: 0.1}",
     {{0.90000001, -1.9, 0.400000003},
      {0.955950357, -1.94422153, 0.332994181},
      {0.966967723, -1.98949921, 0.366997627}},
     [] { return adam(0.1, 0.9, 0.999, 0); }},
    // betas (0.8, 0.99), g' = g + 0.1 w.
    {"adam_betas_weight_decay", "{type: adam, lr: 0.1, beta1: 0.8, beta2: 0.99, weight_decay: 0.1}",
     {{0.900000005, -1.9, 0.400000003},
      {0.931912103, -1.89844651, 0.328456166},
      {0.905849951, -1.88489388, 0.36146405}},
     [] { return adam(0.1, 0.8, 0.99, 0.1); }},
    // s starts at 0.1; s += g^2; w -= 0.1 g / (sqrt(s) + 1e-10).  Step 1, element 0:
    // 1 - 0.01 / sqrt(0.11) = 0.969848866.
    {"adagrad_initial_accumulator", "{type: adagrad, lr: 0.1, initial_accumulator: 0.1}",
     {{0.969848866, -1.94654775, 0.43117528},
      {1.0468289, -2.02661183, 0.43117528},
      {1.01090784, -2.04242322, 0.512079263}},
     [] { return adagrad(0.1, 0.1, 0); }},
    // s starts at 0, g' = g + 0.1 w: step 1 moves each by exactly lr = 0.1.
    {"adagrad_weight_decay", "{type: adagrad, lr: 0.1, weight_decay: 0.1}",
     {{0.9, -1.9, 0.4}, {0.984029665, -1.96125717, 0.388645341}, {0.921140963, -1.94259603, 0.473338593}},
     [] { return adagrad(0.1, 0, 0.1); }},
};

class OptimizerTest : public testing::TestWithParam<OptCase> {};

TEST_P(OptimizerTest, ThreeStepsMatchHandComputedValues) {
    const OptCase &c = GetParam();
    auto opt = test::make_from_yaml<OptimizerRegistry>(c.yaml);
    std::vector<float> w(kW0, kW0 + 3);
    opt->init(3);
    for (int t = 0; t < 3; ++t) {
        opt->step(w.data(), kG[t], 3);
        EXPECT_EQ(opt->steps(), t + 1);
        for (int i = 0; i < 3; ++i) EXPECT_NEAR(w[i], c.expect[t][i], 1e-6) << "step " << t + 1 << ", w[" << i << "]";
    }
}

TEST_P(OptimizerTest, FiveStepsMatchReferenceOnRandomVectors) {
    const OptCase &c = GetParam();
    // 1000 elements, and 40000 to cross the optimizer's 16K-element chunks.
    for (int64_t n : {1000, 40000}) {
        SCOPED_TRACE("n=" + std::to_string(n));
        std::mt19937_64 rng(uint64_t(51 + n));
        std::vector<float> w = test::uniform(size_t(n), -2.0, 2.0, rng);
        std::vector<double> rw = test::to_double(w);
        auto opt = test::make_from_yaml<OptimizerRegistry>(c.yaml);
        opt->init(n);
        RefRun r = c.ref();
        for (int t = 0; t < 5; ++t) {
            // Gradients spread over three decades, so denominators are not all alike.
            std::vector<float> g = test::uniform(size_t(n), -1.0, 1.0, rng);
            for (size_t i = 0; i < g.size(); i += 3) g[i] *= 0.01f;
            opt->step(w.data(), g.data(), n);
            r.step(rw, test::to_double(g));
        }
        EXPECT_TRUE(test::all_close("w", {n}, w.data(), rw.data(), 2e-6));
        auto state = opt->state();
        ASSERT_EQ(state.size(), r.state.size());
        for (const auto &[name, buf] : state) {
            ASSERT_TRUE(r.state.count(name)) << "unexpected state buffer " << name;
            ASSERT_EQ(int64_t(buf->size()), n) << name;
            EXPECT_TRUE(test::all_close(name, {n}, buf->data(), r.state[name]->data(), 1e-5));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Table, OptimizerTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<OptCase> &info) { return std::string(info.param.name); });

// Without bias correction Adam's first step would be lr * 0.1 g / (sqrt(0.001) |g|) = 3.16 lr;
// with it, every element moves by lr against its gradient's sign, whatever its magnitude.
TEST(Adam, FirstStepIsLrTimesSignOfGradient) {
    auto opt = test::make_from_yaml<OptimizerRegistry>("{type: adam, lr: 0.01}");
    const float g[6] = {1e-3f, -1e-2f, 0.5f, -3.f, 100.f, -1000.f};
    std::vector<float> w(6, 1.f);
    opt->init(6);
    opt->step(w.data(), g, 6);
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(w[i], g[i] > 0 ? 0.99 : 1.01, 1e-6) << "g=" << g[i];
}

}  // namespace
}  // namespace aepipe
