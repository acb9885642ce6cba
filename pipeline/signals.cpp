#include "pipeline/signals.hpp"

#include <atomic>
#include <csignal>

namespace aepipe {

static std::atomic<int> g_signal{0};

static void on_stop(int sig) { g_signal.store(sig, std::memory_order_relaxed); }

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
