// What a valid graph is (README, "What a valid graph is"): at least one node and one sink,
// every node's output leading to a sink, and at most one train, evaluate, checkpoint, metrics
// and report node. `nodes: []` used to exit 0 having trained nothing; two train nodes on one
// stream exited 0 with a metrics row missing and both nodes' checkpoints in one folder.
#include <gtest/gtest.h>

#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

class GraphShape : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("aepipe-graph-shape");
        data_ = new TinyData(write_tiny_data(dir_->path(), 32, 16));
    }
    static void TearDownTestSuite() {
        delete data_;
        delete dir_;
    }
    // The tiny config with each {from, to} replaced once, validated in-process as tiny.yaml.
    static std::string error_with(const std::vector<std::pair<std::string, std::string>> &edits) {
        std::string text = tiny_config_yaml(*data_, 2);
        for (const auto &[from, to] : edits) {
            const size_t at = text.find(from);
            EXPECT_NE(at, std::string::npos) << from;
            if (at != std::string::npos) text.replace(at, from.size(), to);
        }
        return config_error(text, "tiny.yaml");
    }
    static TempDir *dir_;
    static TinyData *data_;
};
TempDir *GraphShape::dir_ = nullptr;
TinyData *GraphShape::data_ = nullptr;

TEST_F(GraphShape, NoNodesIsAnError) {
    const std::string msg = config_error(
        "model: {layers: [{type: dense, units: 4}]}\ngraph:\n  nodes: []\n  edges: []\n", "empty.yaml");
    EXPECT_EQ(msg,
              "empty.yaml:3:10: error: graph.nodes: the graph has no nodes, so a run would do nothing\n"
              "hint: a graph needs at least a data source (idx_reader), a train node and a sink (metrics, "
              "checkpoint, ...); see configs/mnist_ae.yaml");
}

// The case: a second train node fed by the same stream.
TEST_F(GraphShape, TwoTrainNodesOnOneStream) {
    const std::string msg = error_with({{"    - {id: model, type: train}\n",
                                         "    - {id: model, type: train}\n    - {id: model2, type: train}\n"},
                                        {"    - scale -> model\n", "    - scale -> model\n    - scale -> model2\n"}});
    EXPECT_EQ(lines_of(msg).at(0),
              "tiny.yaml:21:7: error: node 'model2' (train): a graph may hold one train node, and 'model' at "
              "tiny.yaml:20:7 is one already");
    EXPECT_EQ(lines_of(msg).at(1), "hint: it owns the model and the optimizer; a run trains one model");
}

TEST_F(GraphShape, TwoEvaluateNodes) {
    const std::string msg = error_with({{"    - {id: eval, type: evaluate}\n",
                                         "    - {id: eval, type: evaluate}\n    - {id: eval2, type: evaluate}\n"},
                                        {"    - eval -> metrics\n",
                                         "    - eval -> metrics\n    - model.epoch -> eval2.model\n    - test_set -> eval2.data\n"
                                         "    - eval2 -> recon\n"},
                                        {"    - eval -> recon\n", ""}});
    EXPECT_EQ(lines_of(msg).at(0),
              "tiny.yaml:23:7: error: node 'eval2' (evaluate): a graph may hold one evaluate node, and 'eval' at "
              "tiny.yaml:22:7 is one already");
}

TEST_F(GraphShape, ANodeWhoseOutputReachesNoSink) {
    const std::string msg = error_with({{"    - {id: model, type: train}\n",
                                         "    - {id: model, type: train}\n    - {id: spare, type: idx_reader, images: '" +
                                             data_->test_images + "'}\n"}});
    EXPECT_EQ(msg,
              "tiny.yaml:21:7: error: node 'spare' (idx_reader): its output reaches no sink, so its work would be lost\n"
              "hint: connect it towards a sink (e.g. 'spare -> NODE') or remove it");
}

TEST_F(GraphShape, NoSinkAtAll) {
    const std::string msg = config_error("model: {layers: [{type: dense, units: 64}]}\n"
                                         "graph:\n  nodes:\n    - {id: data, type: idx_reader, images: '" +
                                             data_->train_images +
                                             "'}\n    - {id: shuffle, type: shuffle}\n  edges: [data -> shuffle]\n",
                                         "nosink.yaml");
    EXPECT_EQ(msg,
              "nosink.yaml:4:5: error: graph.nodes: the graph has no sink node, so a run would keep nothing\n"
              "hint: add a metrics, checkpoint, image_grid or report node fed by the train or evaluate node");
}

// An edge back into a data source (a cycle through a node with no inputs) used to say
// "node 'train_set' has 0 input ports; name one: (none)".
TEST_F(GraphShape, AnEdgeIntoASourceSaysItHasNoInputs) {
    const std::string msg = error_with({{"    - shuffle -> batches\n", "    - shuffle -> batches\n    - shuffle -> train_set\n"}});
    EXPECT_EQ(lines_of(msg).at(0), "tiny.yaml:29:7: error: graph.edges[2]: node 'train_set' has no input ports");
    EXPECT_EQ(lines_of(msg).at(1), "hint: it is a source: no edge can lead to it");
}

// `aepipe validate` exits 2 for the file form of the first case.
TEST_F(GraphShape, ValidateExits2OnEmptyGraph) {
    const std::string path = dir_->path() + "/empty.yaml";
    write_bytes(path, "model: {layers: [{type: dense, units: 4}]}\ngraph: {nodes: [], edges: []}\n");
    RunResult r = run_aepipe({"validate", path});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(lines_of(r.err).at(0),
              path + ":2:16: error: graph.nodes: the graph has no nodes, so a run would do nothing");
}

}  // namespace
}  // namespace aepipe::test
