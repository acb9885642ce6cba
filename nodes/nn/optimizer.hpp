// Update rules over the model's parameter slab, with PyTorch's semantics and defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/aligned.hpp"
#include "pipeline/registry.hpp"

namespace aepipe {

class Optimizer {
public:
    virtual ~Optimizer() = default;
    // Allocates the state for n parameters (once).
    void init(int64_t n);
    // w -= update(g); t (the step count) is incremented first. Parallel over chunks (OpenMP).
    void step(float *w, const float *g, int64_t n);
    // The same in pieces, for callers that parallelise themselves: begin_step() once, then
    // update_range() over disjoint ranges covering [0, n) in any order or concurrently.
    void begin_step() { ++t_; }
    void update_range(float *w, const float *g, int64_t begin, int64_t end) { update(w, g, begin, end); }
    int64_t steps() const { return t_; }
    void set_steps(int64_t t) { t_ = t; }  // restoring a checkpoint (with state())
    // Named state buffers (for checkpoints): e.g. "exp_avg", "exp_avg_sq".
    std::vector<std::pair<std::string, Floats *>> state();
    double lr() const { return lr_; }
    size_t state_count() const { return names_.size(); }  // state buffers of the size of the parameters

protected:
    explicit Optimizer(double lr, double weight_decay, std::vector<std::string> state_names)
        : lr_(lr), wd_(weight_decay), names_(std::move(state_names)) {}
    // Updates elements [begin, end); s[k] is state buffer k.
    virtual void update(float *w, const float *g, int64_t begin, int64_t end) = 0;
    float *s(size_t k) { return bufs_[k].data(); }
    double lr_, wd_;
    int64_t t_ = 0;

private:
    std::vector<std::string> names_;
    std::vector<Floats> bufs_;  // 64-byte aligned
};

using OptimizerRegistry = Registry<Optimizer>;

// The optimizer of the `train` section (train.optimizer: a name or a map with type);
// mistakes go to diags and nullptr is returned.
std::unique_ptr<Optimizer> make_optimizer(const ConfigFile &cfg, const Params &train, Diags &diags);

}  // namespace aepipe
