// aepipe_pingpong: the round trip of one cache line between two threads pinned to two CPUs
// (default: the first two this process may use), median of --rounds rounds of --trips trips.
// Two cores that share a cache pass a line in about 50-70 ns; on a virtual machine whose host
// has put the two virtual CPUs on different core complexes (separate L3 caches) it takes
// 300 ns and more, and every barrier and hand-over of a 2-thread training step slows down
// with it (bench/README.md, fourth session: the half-speed spells). Run it beside a slow run
// to tell the host's placement from a regression.
//
//   build/bench/aepipe_pingpong [--cpus A,B] [--trips 200000] [--rounds 5]
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

alignas(64) std::atomic<int> g_ball{0};

bool pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s) == 0;
}

// Nanoseconds per round trip: this thread serves (0 -> 1), the other returns (1 -> 0).
double round_trip_ns(int a, int b, long trips) {
    g_ball.store(0);
    std::thread other([&] {
        pin(b);
        for (long i = 0; i < trips; ++i) {
            while (g_ball.load(std::memory_order_acquire) != 1) {
            }
            g_ball.store(0, std::memory_order_release);
        }
    });
    pin(a);
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < trips; ++i) {
        g_ball.store(1, std::memory_order_release);
        while (g_ball.load(std::memory_order_acquire) != 0) {
        }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    other.join();
    return s * 1e9 / double(trips);
}

[[noreturn]] void usage(const char *why) {
    std::fprintf(stderr, "aepipe_pingpong: %s\nusage: aepipe_pingpong [--cpus A,B] [--trips N] [--rounds N]\n", why);
    std::exit(2);
}

}  // namespace

int main(int argc, char **argv) {
    std::vector<int> usable;
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof mine, &mine) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &mine)) usable.push_back(c);
    if (usable.size() < 2) usage("needs two CPUs");
    int a = usable[0], b = usable[1];
    long trips = 200000, rounds = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) usage(("missing the value of " + k).c_str());
        const char *v = argv[++i];
        if (k == "--cpus") {
            if (std::sscanf(v, "%d,%d", &a, &b) != 2 || a == b) usage("--cpus takes two different CPUs, e.g. 0,1");
        } else if (k == "--trips") {
            trips = std::atol(v);
        } else if (k == "--rounds") {
            rounds = std::atol(v);
        } else {
            usage(("unknown option " + k).c_str());
        }
    }
    if (trips < 1 || rounds < 1) usage("--trips and --rounds must be positive");
    for (int c : {a, b})
        if (std::find(usable.begin(), usable.end(), c) == usable.end())
            usage(("CPU " + std::to_string(c) + " is not one this process may use").c_str());
    std::vector<double> ns;
    for (long r = 0; r < rounds; ++r) ns.push_back(round_trip_ns(a, b, trips));
    std::sort(ns.begin(), ns.end());
    std::printf("PINGPONG cpus=%d,%d round_trip_ns=%.0f (min %.0f, max %.0f over %ld rounds of %ld trips)\n", a, b,
                ns[ns.size() / 2], ns.front(), ns.back(), rounds, trips);
}
