// SIGINT / SIGTERM during `aepipe run`: the handler only records the signal; the training
// node checks it after each step, writes a checkpoint and stops training; once the epochs
// already trained are evaluated and recorded, Pipeline::run throws Interrupted, which main()
// turns into exit 128 + signal (130 / 143) with the command that resumes the run.
#pragma once

#include <string>

namespace aepipe {

void install_stop_handlers();  // SIGINT and SIGTERM
int stop_signal();             // the signal received so far, 0 if none

// Not a std::exception on purpose: node guards wrap std::exceptions into node errors, while
// this one must reach main() as it is (through tbb's wait_for_all).
struct Interrupted {
    int signal = 0;
    long long steps = 0;     // steps done
    std::string checkpoint;  // written before stopping ("" if the graph has no checkpoint node)
    long long epochs_done = 0;  // epochs trained; their metrics rows are written before the exit
};

}  // namespace aepipe
