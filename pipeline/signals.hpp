// SIGINT / SIGTERM during `aepipe run`. While training, the handler only records the signal;
// the training node checks it after each step, writes a checkpoint and stops training; once
// the epochs already trained are evaluated and recorded, Pipeline::run throws Interrupted,
// which main() turns into exit 128 + signal (130 / 143) with the command that resumes the run.
// In the other phases (start-up: parsing, building the model, loading data; the last
// evaluation and writes) there is no step to end cleanly, and waiting could take minutes (a
// large model build ignored SIGTERM for 86 s): the handler prints the phase and exits at once
// with 128 + signal. Files are written atomically, so no output is left half-written.
#pragma once

#include <string>

namespace aepipe {

void install_stop_handlers();  // SIGINT and SIGTERM; the phase starts as "start-up", immediate
int stop_signal();             // the signal received so far, 0 if none
// `phase` (a string literal: the handler reads it) names what the process is doing; when
// `immediate`, a signal ends the process at once, otherwise it is recorded for the training
// node (a second one still stops at once).
void set_stop_phase(const char *phase, bool immediate);

// Not a std::exception on purpose: node guards wrap std::exceptions into node errors, while
// this one must reach main() as it is (through tbb's wait_for_all).
struct Interrupted {
    int signal = 0;
    long long steps = 0;     // steps done
    std::string checkpoint;  // written before stopping ("" if the graph has no checkpoint node)
    long long epochs_done = 0;  // epochs trained; their metrics rows are written before the exit
};

}  // namespace aepipe
