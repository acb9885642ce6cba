#include "pipeline/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace aepipe {

static std::atomic<int> g_signal{0};
static std::atomic<const char *> g_phase{"start-up"};
static std::atomic<bool> g_immediate{true};

// Only async-signal-safe calls below: write() and _exit().
static void say(const char *s) {
    size_t n = 0;
    while (s[n]) ++n;
    while (n > 0) {
        ssize_t w = ::write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w, n -= size_t(w);
    }
}

static void on_stop(int sig) {
    if (g_immediate.load(std::memory_order_relaxed)) {
        say("\naepipe: stopped by ");
        say(sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
        say(" during ");
        say(g_phase.load(std::memory_order_relaxed));
        say("\n");
        ::_exit(128 + sig);
    }
    // A second signal stops at once (default action), for a run stuck outside the training steps.
    if (g_signal.exchange(sig, std::memory_order_relaxed) != 0) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
}

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() { return g_signal.load(std::memory_order_relaxed); }

void set_stop_phase(const char *phase, bool immediate) {
    g_phase.store(phase, std::memory_order_relaxed);
    g_immediate.store(immediate, std::memory_order_relaxed);
}

}  // namespace aepipe
