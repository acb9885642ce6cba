// normalize: batch -> tensor. Gathers the batch's u8 samples into a pooled float buffer:
//   y = (p * scale + shift - mean) / std,  (N, H*W*C) u8 -> (N, H*W*C) f32.
// Stateless per batch, so it runs in parallel (several batches at once); a sequencer puts
// the batches back in step order before they reach the compute nodes (determinism).
// YAML keys: scale, shift, mean, std.
#include "nodes/data/normalize.hpp"

#include <algorithm>
#include <cmath>

#include "formats/idx.hpp"
#include "pipeline/simd.hpp"

namespace aepipe {

#ifdef AEPIPE_TSAN  // cmake/sanitize.cmake
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif

// Built per ISA: as baseline x86-64 (SSE2) the conversion of a batch-256 Fashion-MNIST batch
// took 174 us of a 6.9 ms step on one core, on the critical path when two shards wait for it.
AEPIPE_SIMD_CLONES
void scale_bytes(const uint8_t *src, int64_t count, float a, float b, float *dst) {
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) dst[i] = float(src[i]) * a + b;
}

void Normalizer::apply(const uint8_t *src, int64_t count, float *dst) const {
    scale_bytes(src, count, scale / std, (shift - mean) / std, dst);
}

uint8_t Normalizer::to_byte(float y) const {
    float p = (y * std + mean - shift) / scale;
    return uint8_t(std::lround(std::clamp(p, 0.f, 255.f)));
}

namespace {
struct NormalizeParams {
    double scale = 0, shift = 0, mean = 0, std = 1;
    static const Keys<NormalizeParams> &keys();
};
const Keys<NormalizeParams> &NormalizeParams::keys() {
    using P = NormalizeParams;
    static const Keys<P> k{
        key(&P::scale, {"scale", Kind::Float, "0.00392156862745098", "factor on the byte (1/255)", {}, false, above(0)}),
        key(&P::shift, {"shift", Kind::Float, "0", "added after scaling", {}, false, any_finite()}),
        key(&P::mean, {"mean", Kind::Float, "0", "subtracted (standardisation)", {}, false, any_finite()}),
        key(&P::std, {"std", Kind::Float, "1", "divided by (standardisation)", {}, false, above(0)})};
    return k;
}
}  // namespace

NormalizeNode::NormalizeNode(const Params &p) {
    const auto prm = parse<NormalizeParams>(p);
    norm_ = {float(prm.scale), float(prm.shift), float(prm.mean), float(prm.std)};
}

// A value in range may still round to 0 as a float.
std::unique_ptr<flow::sequencer_node<TensorMsg>> step_order(Pipeline &p) {
    // Sequence numbers start at 0: a resumed run's first step is start_step.
    const int64_t first = p.settings().start_step;
    return std::make_unique<flow::sequencer_node<TensorMsg>>(p.graph(),
                                                             [first](const TensorMsg &m) { return size_t(m.step - first); });
}

void NormalizeNode::resolve(Pipeline &, Diags &d) {
    if (norm_.scale == 0.f) d.error(params_.pos("scale"), params_.context() + ": 'scale' must not be 0");
    if (norm_.std <= 0.f) d.error(params_.pos("std"), params_.context() + ": 'std' must be positive");
}

void NormalizeNode::build(Pipeline &p) {
    pool_ = &p.pool(*this, int(p.settings().in_flight));
    // With one training shard its OpenMP team would wait while this thread converts the next
    // batch, so the rows are split over that team (batch 50 on 2 threads: 25 -> 13 us); beside
    // several shards, one thread. ThreadSanitizer cannot see into the OpenMP runtime (its
    // joins read as races, tests/tsan), so a TSan build converts on one thread.
    const int team = p.shards() == 1 && !kThreadSanitizer ? p.omp_per_shard() : 1;
    node_ = std::make_unique<flow::function_node<BatchMsg, TensorMsg>>(
        p.graph(), flow::unlimited, [this, &p, team](const BatchMsg &b) {
            return p.guard(*this, b, [&] {
                TensorMsg m;
                static_cast<BatchMsg &>(m) = b;
                const int64_t dim = m.data->dim();
                m.x = pool_->acquire(size_t(m.count * dim));
                float *x = m.x.data();
#pragma omp parallel for schedule(static) num_threads(team) if (team > 1)
                for (int64_t k = 0; k < m.count; ++k) norm_.apply(m.data->image(m.sample(k)), dim, x + k * dim);
                m.t_ready = p.now();
                return m;
            });
        });
    order_ = step_order(p);
    flow::make_edge(*node_, *order_);
}

static Registrar<FlowNodeRegistry> reg({"normalize",
                                        Category::Data,
                                        "u8 pixels -> floats: (p * scale + shift - mean) / std, batches in order",
                                        NormalizeParams::keys().specs(),
                                        {{"in", {"batch"}, "sample indices"}},
                                        {{"out", {"tensor"}, "float batch in a pooled buffer"}}},
                                       [](const Params &p) { return std::make_unique<NormalizeNode>(p); });

}  // namespace aepipe
