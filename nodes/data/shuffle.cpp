// shuffle: dataset -> dataset with a new sample order each epoch.
//   order_e = Fisher-Yates permutation of 0..N-1 drawn from mt19937_64 seeded by (seed, e),
//   so every sample appears exactly once per epoch, and an epoch's order depends only on
//   the seed and the epoch number (resuming mid-run needs no generator state).
// YAML keys: seed (default: train.seed).
#include <numeric>
#include <random>

#include "nodes/data/shuffle.hpp"
#include "formats/idx.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {

std::vector<int32_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
    std::vector<int32_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(epoch), 0x5eedu};
    std::mt19937_64 rng(seq);
    for (int64_t i = n - 1; i > 0; --i) {
        int64_t j = int64_t(rng() % uint64_t(i + 1));
        std::swap(order[size_t(i)], order[size_t(j)]);
    }
    return order;
}

namespace {

struct ShuffleParams {
    std::optional<int64_t> seed;  // unset: train.seed
    static const Keys<ShuffleParams> &keys();
};
const Keys<ShuffleParams> &ShuffleParams::keys() {
    static const Keys<ShuffleParams> k{
        key(&ShuffleParams::seed, {"seed", Kind::Int, "", "seed (default: train.seed)", {}, false, seed_range()})};
    return k;
}

class Shuffle : public FlowNode {
public:
    explicit Shuffle(const Params &p) : prm_(parse<ShuffleParams>(p)) {}
    void build(Pipeline &p) override {
        seed_ = prm_.seed ? uint64_t(*prm_.seed) : p.settings().seed;
        // Serial: one order per epoch, in epoch order. Allocates once per epoch.
        node_ = std::make_unique<Fn>(p.graph(), flow::serial, [this, &p](DatasetMsg m) {
            return p.guard(*this, m, [&] {
                m.order = std::make_shared<const std::vector<int32_t>>(epoch_order(m.data->n, seed_, m.epoch));
                return m;
            });
        });
    }
    InPort in(const std::string &, const std::string &) override { return *node_; }
    OutPort out(const std::string &) override { return *node_; }

private:
    using Fn = flow::function_node<DatasetMsg, DatasetMsg>;
    ShuffleParams prm_;
    uint64_t seed_ = 0;
    std::unique_ptr<Fn> node_;
};

Registrar<FlowNodeRegistry> reg({"shuffle",
                                 Category::Data,
                                 "seeded permutation of the samples, new each epoch, each sample once",
                                 ShuffleParams::keys().specs(),
                                 {{"in", {"dataset"}, "the dataset"}},
                                 {{"out", {"dataset"}, "the dataset with this epoch's order"}}},
                                [](const Params &p) { return std::make_unique<Shuffle>(p); });

}  // namespace
}  // namespace aepipe
