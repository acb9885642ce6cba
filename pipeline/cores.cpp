#include "pipeline/cores.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace aepipe {

int usable_cores() {
    const int machine = std::max(1, int(std::thread::hardware_concurrency()));
    // A mask as wide as the machine's CPU numbers (at least glibc's 1024), so a large host
    // does not make sched_getaffinity fail with EINVAL.
    const int ncpu = std::max(1024, machine);
    cpu_set_t *set = CPU_ALLOC(ncpu);
    if (!set) return machine;
    const size_t size = CPU_ALLOC_SIZE(ncpu);
    CPU_ZERO_S(size, set);
    int n = machine;
    if (sched_getaffinity(0, size, set) == 0) n = CPU_COUNT_S(size, set);
    CPU_FREE(set);
    return std::max(1, n);
}

}  // namespace aepipe
