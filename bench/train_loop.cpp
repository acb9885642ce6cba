// aepipe_loop: the training step of a config without the flow graph, fed one pre-made
// batch from memory. Its samples/s is what the pipeline would reach if data handling
// were free; bench/compare_torch.sh divides the pipeline's figure by it (target >= 95%).
//   aepipe_loop CONFIG [key=value ...] [--threads N] [--steps N] [--warmup N] [--matmul-only]
// --matmul-only times just the dense layers' oneDNN matmuls (forward, backward-data,
// backward-weights, bias) on the model's shapes: the compute bound of a step.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "nodes/nn/dense.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"
#include "pipeline/cli/cli.hpp"

using namespace aepipe;
using namespace aepipe::cli;
using clk = std::chrono::steady_clock;

int main(int argc, char **argv) try {
    Common c;
    po::options_description opts("aepipe_loop CONFIG [key=value ...] [options]");
    opts.add_options()("help,h", "show this help")("threads", po::value<std::string>(), "OpenMP threads")(
        "steps", po::value<int64_t>()->default_value(200), "timed steps")(
        "warmup", po::value<int64_t>()->default_value(20), "untimed steps first")(
        "matmul-only", "time only the layers' matmul primitives");
    auto vm = parse(std::vector<std::string>(argv + 1, argv + argc), opts, c,
                    "Times CONFIG's training step on one pre-made batch (no flow graph).\n");
    ConfigFile cfg = load(c, vm);
    Pipeline p(cfg, RunSettings{});
    FlowNode *train = nullptr;
    for (const auto &n : p.nodes())
        if (n->spec().type == "train") train = n.get();
    if (!train) throw RuntimeError("the config has no train node");
    const int threads = p.compute_threads();
    omp_set_num_threads(threads);
    const int64_t dim = train->sample_dim(p), batch = p.settings().batch;
    const int64_t steps = vm["steps"].as<int64_t>(), warmup = vm["warmup"].as<int64_t>();
    const bool matmul_only = vm.count("matmul-only") > 0;

    Model model(cfg, cfg.root["model"], train->sample_shape(p));  // conv layers need H x W x C
    Diags d;
    auto opt = make_optimizer(cfg, p.train_params(), d);
    d.throw_if_any();
    std::vector<float> w(size_t(model.num_params())), g(w.size()), x(size_t(batch * dim));
    model.init_params(w.data(), p.settings().seed);
    opt->init(model.num_params());
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (auto &v : x) v = u(rng);
    Workspace ws(model, batch);

    auto step = [&] {
        ws.set_input(x.data());
        for (size_t i = 0; i < model.num_layers(); ++i) ws.forward_layer(i, batch, w.data());
        if (!matmul_only) model.loss().forward_backward(batch, dim, ws.output(), x.data(), ws.output_grad());
        for (size_t i = model.num_layers(); i-- > 0;) ws.backward_layer(i, batch, w.data(), g.data());
        if (!matmul_only) opt->step(w.data(), g.data(), model.num_params());
    };
    for (int64_t s = 0; s < warmup; ++s) step();
    auto t0 = clk::now();
    for (int64_t s = 0; s < steps; ++s) step();
    double secs = std::chrono::duration<double>(clk::now() - t0).count();
    std::printf("LOOP mode=%s threads=%d batch=%lld steps=%lld samples_per_s=%.1f\n",
                matmul_only ? "matmul-only" : "full-step", threads, (long long)batch, (long long)steps,
                double(steps * batch) / secs);
    return 0;
} catch (const ConfigError &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
} catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
