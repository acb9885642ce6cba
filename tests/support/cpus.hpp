// Limits the calling thread, and so the programs it starts, to the first n CPUs it may use
// (as `taskset` would), for tests of what aepipe does with fewer cores. Restored on
// destruction. Without n usable CPUs nothing changes and ok() is false: skip the test.
#pragma once

#include <sched.h>

namespace aepipe::test {

class OnlyCpus {
public:
    explicit OnlyCpus(int n);
    ~OnlyCpus();
    OnlyCpus(const OnlyCpus &) = delete;
    OnlyCpus &operator=(const OnlyCpus &) = delete;
    bool ok() const { return ok_; }

private:
    cpu_set_t saved_{};
    bool ok_ = false;
};

}  // namespace aepipe::test
