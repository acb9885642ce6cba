// aepipe_alloc_count: counts heap allocations of the real pipeline per training step.
// Runs CONFIG twice inside the first epoch, with train.max_steps = A and then = B, and
// reports (allocations(B) - allocations(A)) / (B - A): everything that happens once per run
// or per epoch cancels, what remains is what each step allocates (target: 0).
//   aepipe_alloc_count CONFIG [key=value ...] [--a 40] [--b 140] [--threads N]
#include <omp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "pipeline/cli/cli.hpp"
#include "pipeline/denormals.hpp"

static std::atomic<long long> g_allocs{0};

void *operator new(std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void *p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void *operator new[](std::size_t n) { return operator new(n); }
// These replacements pair malloc with free; GCC 12 still sees "operator new" paired with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }

using namespace aepipe;
using namespace aepipe::cli;

static long long run(const ConfigFile &base, int64_t steps, int threads) {
    ConfigFile cfg = base;
    cfg.root = YAML::Clone(base.root);
    apply_override(cfg, "train.max_steps=" + std::to_string(steps));
    RunSettings s;
    s.quiet = true;
    Pipeline p(cfg, s);
    long long before = g_allocs.load();
    p.run();
    return g_allocs.load() - before;
}

int main(int argc, char **argv) try {
    flush_denormals_to_zero();  // as aepipe's main
    Common c;
    po::options_description opts("aepipe_alloc_count CONFIG [key=value ...] [options]");
    opts.add_options()("help,h", "show this help")("threads", po::value<std::string>(), "threads")(
        "a", po::value<int64_t>()->default_value(40), "steps of the short run")(
        "b", po::value<int64_t>()->default_value(140), "steps of the long run (same epoch)");
    auto vm = parse(std::vector<std::string>(argv + 1, argv + argc), opts, c,
                    "Counts heap allocations per training step of CONFIG's pipeline.\n");
    ConfigFile cfg = load(c, vm);
    Pipeline p(cfg, RunSettings{});
    int threads = p.compute_threads();
    int64_t a = vm["a"].as<int64_t>(), b = vm["b"].as<int64_t>();
    run(cfg, a, threads);  // warm: first-time library initialisation
    long long na = run(cfg, a, threads), nb = run(cfg, b, threads);
    std::printf("ALLOC threads=%d run(%lld steps)=%lld run(%lld steps)=%lld per_step=%.3f\n", threads, (long long)a, na,
                (long long)b, nb, double(nb - na) / double(b - a));
    return 0;
} catch (const HelpRequested &h) {  // --help: parse() throws the page for the caller to print
    std::fputs(h.text.c_str(), stdout);
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
