// The graph probe harness: test-only node types that record what flows on an edge, so graph
// tests can look at a running graph without a model.
//   test_probe  records every message it gets (any port kind); with `drive: true` it plays the
//               training node's part in flow control: it sends the step_done and epoch_done
//               credits (one per batch, one per epoch), so data nodes run without a model.
//   test_throw  a driving probe whose body throws at step `at_step`.
// Records are kept by node id, in arrival order; clear_probes() before each run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nodes/nn/reports.hpp"
#include "pipeline/message.hpp"

namespace aepipe::test {

// What a probe saw of one message.
struct Seen {
    std::string kind;  // the port kind it came on
    int64_t epoch = 0, step = 0, begin = 0, count = 0;
    bool last_in_epoch = false;
    std::vector<int32_t> samples;  // batch / tensor: dataset indices of the rows
    std::vector<float> x, target;  // tensor: the rows' values, and the loss target if any
    std::shared_ptr<const EpochReport> report;
    std::shared_ptr<const EvalReport> eval;
};

std::vector<Seen> probe_seen(const std::string &id);
void clear_probes();

}  // namespace aepipe::test
