// aepipe_loop: the training step of a config without the flow graph, fed one pre-made
// batch from memory: the StepEngine that `aepipe run` uses, with the same shards and
// OpenMP teams. Its samples/s is what the pipeline would reach if data handling and the
// graph were free; bench/compare_torch.sh divides the pipeline's figure by it.
//   aepipe_loop CONFIG [key=value ...] [--threads N] [--steps N] [--warmup N] [--matmul-only]
// --matmul-only times just the dense layers' oneDNN matmuls (forward, backward-data,
// backward-weights, bias) on the model's shapes: the compute bound of a step.
#include <omp.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "nodes/nn/dense.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/optimizer.hpp"
#include "nodes/nn/step_engine.hpp"
#include "pipeline/cli/cli.hpp"
#include "pipeline/denormals.hpp"

using namespace aepipe;
using namespace aepipe::cli;
using clk = std::chrono::steady_clock;

int main(int argc, char **argv) try {
    flush_denormals_to_zero();  // as aepipe's main
    Common c;
    po::options_description opts("aepipe_loop CONFIG [key=value ...] [options]");
    opts.add_options()("help,h", "show this help")("threads", po::value<std::string>(), "OpenMP threads")(
        "steps", po::value<int64_t>()->default_value(200), "timed steps")(
        "warmup", po::value<int64_t>()->default_value(20), "untimed steps first")(
        "matmul-only", "time only the layers' passes (no loss, no update)")(
        "no-fuse", "update after the whole backward pass (not layer by layer)");
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

    auto spec = ModelSpec::parse(cfg, cfg.root["model"], train->sample_shape(p));  // conv layers need H x W x C
    Diags d;
    auto opt = make_optimizer(cfg, p.train_params(), d);
    d.throw_if_any();
    std::vector<float> x(size_t(batch * dim));
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (auto &v : x) v = u(rng);

    // As in a run: TBB runs the shards, each on an OpenMP team of threads / shards.
    tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism, size_t(p.shards()));
    StepEngine engine(spec, std::move(opt),
                      {.shards = p.shards(),
                       .omp_per_shard = p.omp_per_shard(),
                       .clip_grad_norm = parse<StepKeys>(p.train_params()).clip_grad_norm,
                       .seed = p.settings().seed,
                       .precision = p.settings().precision,
                       .fuse_update = vm.count("no-fuse") == 0});
    Model model(spec, p.settings().precision);  // matmul-only: the layers' passes alone, no loss and no update
    std::vector<float> g(size_t(model.num_params()));
    Workspace ws(model, batch);
    int64_t step_index = 0;
    auto step = [&] {
        if (!matmul_only) {
            engine.step({.x = x.data(), .rows = batch, .step = step_index++});
            return;
        }
        ws.set_input(x.data());
        for (size_t i = 0; i < model.num_layers(); ++i) ws.forward_layer(i, batch, engine.params());
        for (size_t i = model.num_layers(); i-- > 0;) ws.backward_layer(i, batch, engine.params(), g.data());
    };
    for (int64_t s = 0; s < warmup; ++s) step();
    auto t0 = clk::now();
    for (int64_t s = 0; s < steps; ++s) step();
    double secs = std::chrono::duration<double>(clk::now() - t0).count();
    std::printf("LOOP mode=%s%s precision=%s threads=%d batch=%lld steps=%lld samples_per_s=%.1f\n",
                matmul_only ? "matmul-only" : "full-step", engine.fused() ? "-fused" : "",
                precision_name(p.settings().precision), threads, (long long)batch, (long long)steps,
                double(steps * batch) / secs);
    return 0;
} catch (const ConfigError &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
} catch (const HelpRequested &h) {  // --help: parse() throws the page for the caller to print
    std::fputs(h.text.c_str(), stdout);
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
