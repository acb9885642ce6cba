#include "support/cpus.hpp"

namespace aepipe::test {

OnlyCpus::OnlyCpus(int n) {
    if (sched_getaffinity(0, sizeof saved_, &saved_) != 0 || CPU_COUNT(&saved_) < n) return;
    cpu_set_t want;
    CPU_ZERO(&want);
    for (int c = 0, kept = 0; c < CPU_SETSIZE && kept < n; ++c)
        if (CPU_ISSET(c, &saved_)) CPU_SET(c, &want), ++kept;
    ok_ = sched_setaffinity(0, sizeof want, &want) == 0;
}

OnlyCpus::~OnlyCpus() {
    if (ok_) sched_setaffinity(0, sizeof saved_, &saved_);
}

}  // namespace aepipe::test
