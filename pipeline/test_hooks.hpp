// Test seams of a run: faults the end-to-end tests plant in a real `aepipe run` (a signal
// after step N, a NaN in a gradient, a failed evaluation, a slow start-up). They are set only
// by the hidden option `aepipe run --test-hook NAME=VALUE` and reach the nodes in
// RunSettings, like every other setting: no production code reads the environment for them.
//   raise_at_step=N:SIG   raise signal SIG right after the update of step N (1-based)
//   nan_grad=N:K          a NaN in element K of the gradient slab during step N
//   fail_eval=E           the evaluation of epoch E (0-based) throws
//   busy_build_s=S        the build computes for S seconds without looking at signals
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aepipe {

struct TestHooks {
    int64_t raise_at_step = -1;
    int raise_signal = 0;
    int64_t nan_grad_step = -1, nan_grad_element = 0;
    int64_t fail_eval_epoch = -1;
    double busy_build_s = 0;
};

// Parses `--test-hook` values; a malformed one throws std::invalid_argument naming it.
TestHooks parse_test_hooks(const std::vector<std::string> &hooks);

}  // namespace aepipe
