// The CPUs this process may run on: its affinity mask (`taskset`, a container's cpuset, a
// batch scheduler's allotment), not every core of the machine. The default thread count and
// the cores left free for evaluation and sinks (Pipeline::free_cores) are taken from it, so a
// run limited to 2 of 16 CPUs uses 2 threads and knows that none is free, as OpenMP does.
#pragma once

namespace aepipe {

// CPUs in the calling thread's affinity mask (threads inherit it from their creator); the
// machine's core count should the mask be unreadable; at least 1.
int usable_cores();

}  // namespace aepipe
