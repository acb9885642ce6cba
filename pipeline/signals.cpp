#include "pipeline/signals.hpp"

#include <atomic>
#include <csignal>

namespace aepipe {

static std::atomic<int> g_signal{0};

// A second signal stops at once (default action), for a run stuck outside the training steps.
static void on_stop(int sig) {
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

}  // namespace aepipe
