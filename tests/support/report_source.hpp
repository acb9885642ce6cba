// Hand-made epoch/eval messages for the sinks' unit tests, sent by `test_reports`: a test-only
// source node that plays the training and evaluate nodes' part on an `eval` port.
//
// Every message of a sink test is built here (eval_message), so that a change of the message
// types (pipeline/message.hpp) changes this file and not the tests.
//
//   graph: {nodes: [{id: src, type: test_reports, side: 4}, {id: m, type: metrics}], edges: [src -> m]}
//
// `side`: the samples are side x side x 1 (the width the sinks' ModelSpec is parsed for).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formats/idx.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/nn/reports.hpp"
#include "pipeline/config.hpp"
#include "pipeline/message.hpp"

namespace aepipe::test {

// What the training and evaluate nodes would report after one epoch.
struct EpochEval {
    EpochReport epoch;
    EvalReport eval;
};

// The message on an `eval` edge: both reports and the test set they were measured on.
EvalMsg eval_message(const EpochEval &r, const Dataset *test_set);

// A model trained by nobody: its weights for the reports (EpochReport::params and ::model).
struct FakeModel {
    std::unique_ptr<Model> model;
    std::shared_ptr<const std::vector<float>> params;
};
// The `model` section of `cfg` for side x side x 1 samples, with weights drawn from `seed`.
FakeModel fake_model(const ConfigFile &cfg, int64_t side, uint64_t seed);

// A config: `layers` (YAML list items, two-space indented under "layers:"), then a graph of the
// test_reports node `src` (side x side samples) and the `sink` node line, src -> sink.
std::string sink_config(const std::string &layers, const std::string &sink, int64_t side = 4,
                        const std::string &loss = "{type: mse}");
// Builds and runs the Pipeline of `yaml` with its run folder `run_dir`.
void run_graph(const std::string &yaml, const std::string &run_dir);

// What the next run's test_reports node sends, in order. A global: the registry builds the
// node; tests that use it run one Pipeline at a time.
void send_next(std::vector<EpochEval> reports, std::shared_ptr<const Dataset> test_set);

}  // namespace aepipe::test
