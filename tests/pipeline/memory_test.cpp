// A run that would not fit in memory is refused by `validate` and `run` before anything is
// allocated, naming the layer and the bytes: `model.layers[0].units=3000000` used to allocate
// for 219 s up to 10.7 GB and die with a bare std::bad_alloc. An allocation that fails anyway
// names the node being built.
#include <gtest/gtest.h>

#include <cmath>
#include <new>

#include "pipeline/graph.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

TEST(Memory, HumanBytes) {
    EXPECT_EQ(human_bytes(512), "512 bytes");
    EXPECT_EQ(human_bytes(9.41e9), "9.41 GB");
    EXPECT_EQ(human_bytes(1.5e6), "1.5 MB");
}

TEST(Memory, AvailableIsPositive) {
    const double a = available_memory();
    EXPECT_GT(a, 0);
}

TEST(Memory, RefusedAtTheLargestItem) {
    std::vector<MemoryItem> items(2);
    items[0].what = "small", items[0].pos = SourcePos{"c.yaml", 3, 5}, items[0].bytes = 1e3, items[0].detail = "a";
    items[1].what = "big", items[1].pos = SourcePos{"c.yaml", 9, 7}, items[1].bytes = 5e9, items[1].detail = "b";
    EXPECT_NO_THROW(check_memory(items, 1e12, 0, {}));
    EXPECT_EQ(error_of<ConfigError>([&] { check_memory(items, 1e9, 0, {}); }),
              "c.yaml:9:7: error: big: the run needs about 5 GB (5000001000 bytes), more than the 1 GB of memory "
              "available (MemAvailable); big alone takes 5 GB: b\n"
              "hint: make it smaller, lower train.batch, or train where more memory is free");
    EXPECT_EQ(lines_of(error_of<ConfigError>([&] { check_memory(items, 1e12, 2e9, {"c.yaml", 14, 15}); })).at(0),
              "c.yaml:9:7: error: big: the run needs about 5 GB (5000001000 bytes), more than train.max_memory (2 GB, "
              "set at c.yaml:14:15); big alone takes 5 GB: b");
}

class MemoryCli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("aepipe-memory");
        data_ = new TinyData(write_tiny_data(dir_->path(), 32, 16, 28));  // MNIST-sized: 784 values per image
        config_ = new std::string(write_tiny_config(dir_->path(), *data_, 1));
    }
    static void TearDownTestSuite() {
        delete config_;
        delete data_;
        delete dir_;
    }
    static TempDir *dir_;
    static TinyData *data_;
    static std::string *config_;
};
TempDir *MemoryCli::dir_ = nullptr;
TinyData *MemoryCli::data_ = nullptr;
std::string *MemoryCli::config_ = nullptr;

// The issue's example against train.max_memory: 784 x 3,000,000 weights with Adam.
TEST_F(MemoryCli, IssueExampleNamesTheLayerAndTheBytes) {
    for (const std::string cmd : {"validate", "run"}) {
        std::vector<std::string> args{cmd, *config_, "model.layers[0].units=3000000", "train.max_memory=8000000000"};
        if (cmd == "run") args.insert(args.end(), {"--out", dir_->path() + "/runs"});
        RunResult r = run_aepipe(args);
        EXPECT_EQ(r.exit_code, 2) << r.err;
        const std::string first = lines_of(r.err).at(0);
        EXPECT_EQ(first.rfind(*config_ + ":4:7: error: model.layers[0] (dense): the run needs about ", 0), 0u) << first;
        EXPECT_NE(first.find("more than train.max_memory (8 GB, set at command-line argument 4 "
                             "'train.max_memory=8000000000'); model.layers[0] (dense) alone takes "),
                  std::string::npos)
            << first;
        EXPECT_NE(first.find("(2355000000 weights, with snapshots)"), std::string::npos) << first;
        EXPECT_TRUE(list_dir(dir_->path() + "/runs").empty());
    }
}

// Without max_memory the bound is the memory available: 16,000,000 x 784 weights (hundreds
// of GB with their copies) fit nowhere this test runs. The layer named is the one that takes
// the most: the next one, whose weights connect the 16,000,000 units to the 784 outputs.
TEST_F(MemoryCli, MoreThanAvailableMemory) {
    RunResult r = run_aepipe({"validate", *config_, "model.layers[2].units=16000000"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    const std::string first = lines_of(r.err).at(0);
    EXPECT_EQ(first.rfind(*config_ + ":7:7: error: model.layers[3] (dense): the run needs about ", 0), 0u) << first;
    EXPECT_NE(first.find("(12544000784 weights, with snapshots)"), std::string::npos) << first;
    EXPECT_NE(first.find("of memory available ("), std::string::npos) << first;  // MemAvailable, or a lower limit
}

// Under `ulimit -v` (or -d) MemAvailable can be plenty while every large allocation fails:
// validate said ok and run ended in bad_alloc. What the limit leaves is the bound, named.
// (Skipped under sanitizers, whose shadow memory does not fit such a limit.)
TEST_F(MemoryCli, AProcessLimitIsABoundToo) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "sanitizer build";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
    GTEST_SKIP() << "sanitizer build";
#endif
#endif
    const std::string validate = std::string("'") + AEPIPE_BINARY + "' validate '" + *config_ + "'";
    for (const std::string limit : {"ulimit -v 1500000", "ulimit -d 1500000"}) {
        RunResult ok = run_program({"/bin/sh", "-c", limit + " && exec " + validate});
        EXPECT_EQ(ok.exit_code, 0) << limit << ": " << ok.err;  // the tiny run fits
        RunResult r = run_program({"/bin/sh", "-c", limit + " && exec " + validate + " model.layers[0].units=100000"});
        EXPECT_EQ(r.exit_code, 2) << limit << ": " << r.err;
        const std::string bound = limit.find("-v") != std::string::npos ? "the address-space limit, ulimit -v"
                                                                          : "the data-segment limit, ulimit -d";
        EXPECT_NE(r.err.find("of memory available (what " + bound + ", leaves)"), std::string::npos) << r.err;
    }
}

TEST_F(MemoryCli, TheTinyRunFitsAndMaxMemoryIsChecked) {
    EXPECT_EQ(run_aepipe({"validate", *config_, "train.max_memory=100000000"}).exit_code, 0);
    RunResult r = run_aepipe({"validate", *config_, "train.max_memory=1000"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("more than train.max_memory (1 kB"), std::string::npos) << r.err;
}

// A node whose build runs out of memory (test only): the error names it, exit code path 1.
class Hungry : public FlowNode {
public:
    void build(Pipeline &) override { throw std::bad_alloc(); }
    InPort in(const std::string &, const std::string &) override { return sink_; }
    flow::graph g_;
    flow::queue_node<DatasetMsg> sink_{g_};
};
Registrar<FlowNodeRegistry> reg_hungry({"test_hungry", Category::Sink, "test only: build() throws std::bad_alloc", {},
                                        {{"in", {"dataset"}, "anything"}}, {}},
                                       [](const Params &) { return std::make_unique<Hungry>(); });

TEST_F(MemoryCli, BadAllocWhileBuildingNamesTheNode) {
    ConfigFile cfg = parse_config("model: {layers: [{type: dense, units: 784}]}\n"
                                  "graph:\n  nodes:\n    - {id: data, type: idx_reader, images: '" +
                                      data_->train_images +
                                      "'}\n    - {id: greedy, type: test_hungry}\n  edges: [data -> greedy]\n",
                                  "hungry.yaml");
    Pipeline p(cfg, RunSettings{});
    const std::string msg = error_of<RuntimeError>([&] { p.run(); });
    EXPECT_EQ(msg.rfind("node 'greedy' (test_hungry, hungry.yaml:5:7): out of memory while building it (estimated ", 0),
              0u)
        << msg;
}

}  // namespace
}  // namespace aepipe::test
