// corrupt: tensor -> tensor. Corrupts each clean batch for a denoising autoencoder:
//   x' = normalize(corrupt(p / 255)),  (N, H*W*C) -> (N, H*W*C), the corruption in raw
// pixel space [0, 1] (see Corruption in corrupt.hpp: Gaussian noise, salt and pepper,
// rectangular masks; clipped to [0, 1]). The corrupted batch goes into this node's own
// pooled buffer and becomes the model input x; the clean batch stays in the normalize
// node's buffer as the loss target, and the training step returns both buffers.
// Sample i of epoch e always gets the same corruption (a pure function of seed, e, i); the
// evaluate node corrupts test image i with epoch kTestEpoch, fixed across epochs.
// Stateless per batch, so it runs in parallel; a sequencer restores the step order.
// YAML keys: noise_std, salt_pepper, masks, mask_min, mask_max, mask_value, seed.
#include "nodes/data/corrupt.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "formats/idx.hpp"

namespace aepipe {
namespace {

uint64_t mix(uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
// The j-th random 64 bits of stream `key` (splitmix64's j-th output: a counter, no state).
uint64_t bits(uint64_t key, uint64_t j) { return mix(key + (j + 1) * kGolden); }
// Uniform in (0, 1] with 53 bits.
double unit(uint64_t key, uint64_t j) { return double((bits(key, j) >> 11) + 1) * 0x1.0p-53; }
int64_t below(uint64_t key, uint64_t j, int64_t n) { return int64_t(bits(key, j) % uint64_t(n)); }

}  // namespace

uint64_t Corruption::key(int64_t epoch, int64_t index) const {
    return mix(mix(mix(seed ^ 0xC0229u) ^ uint64_t(epoch)) ^ uint64_t(index));
}

void Corruption::apply(const uint8_t *src, int64_t h, int64_t w, int64_t c, uint64_t key, const Normalizer &norm,
                       float *dst) const {
    const int64_t px = h * w, dim = px * c;
    for (int64_t i = 0; i < dim; ++i) dst[i] = float(src[i]) / 255.f;
    if (noise_std > 0) {  // Box-Muller in float: one 64-bit hash gives two normals
        const uint64_t k = mix(key ^ 1);
        const float sigma = float(noise_std), to_angle = 0x1.0p-24f * 2.f * std::numbers::pi_v<float>;
        for (int64_t i = 0; i < dim; i += 2) {
            const uint64_t b = bits(k, uint64_t(i / 2));
            const float u = float((b >> 40) + 1) * 0x1.0p-24f;  // (0, 1]: |z| <= 5.8
            const float r = sigma * std::sqrt(-2.f * std::log(u)), t = float((b >> 16) & 0xFFFFFF) * to_angle;
            dst[i] = std::clamp(dst[i] + r * std::cos(t), 0.f, 1.f);
            if (i + 1 < dim) dst[i + 1] = std::clamp(dst[i + 1] + r * std::sin(t), 0.f, 1.f);
        }
    }
    if (salt_pepper > 0) {
        const uint64_t k = mix(key ^ 2);
        for (int64_t q = 0; q < px; ++q) {
            double u = unit(k, uint64_t(q));
            if (u > salt_pepper) continue;
            std::fill(dst + q * c, dst + (q + 1) * c, u * 2 <= salt_pepper ? 0.f : 1.f);
        }
    }
    const uint64_t k = mix(key ^ 3);
    for (int64_t r = 0; r < masks; ++r) {
        const uint64_t j = uint64_t(r) * 4, span = uint64_t(mask_max - mask_min + 1);
        const int64_t mh = std::min(h, mask_min + below(k, j, int64_t(span))),
                      mw = std::min(w, mask_min + below(k, j + 1, int64_t(span)));
        const int64_t y0 = below(k, j + 2, h - mh + 1), x0 = below(k, j + 3, w - mw + 1);
        for (int64_t y = y0; y < y0 + mh; ++y)
            std::fill(dst + (y * w + x0) * c, dst + (y * w + x0 + mw) * c, float(mask_value));
    }
    for (int64_t i = 0; i < dim; ++i) dst[i] = norm.from_unit(dst[i]);
}

namespace {
struct CorruptParams {
    double noise_std = 0, salt_pepper = 0, mask_value = 0;
    int64_t masks = 0, mask_min = 1, mask_max = 1;
    std::optional<int64_t> seed;  // unset: train.seed
    static const Keys<CorruptParams> &keys();
};
const Keys<CorruptParams> &CorruptParams::keys() {
    using P = CorruptParams;
    static const Keys<P> k{
        key(&P::noise_std, {"noise_std", Kind::Float, "0", "Gaussian noise sigma, pixel range [0, 1] (clipped after)", {},
                            false, at_least(0, 1e3)}),  // a sigma of 1000 pixel ranges is noise alone
        key(&P::salt_pepper,
            {"salt_pepper", Kind::Float, "0", "fraction of pixels set to 0 or 1 (half each)", {}, false, unit_interval()}),
        key(&P::masks, {"masks", Kind::Int, "0", "rectangles blanked per image", {}, false, at_least(0, 1024)}),
        key(&P::mask_min,
            {"mask_min", Kind::Int, "4", "smallest rectangle side (pixels)", {}, false, size_range(1, 1 << 16)}),
        key(&P::mask_max, {"mask_max", Kind::Int, "10", "largest rectangle side (pixels; at most the image side)", {},
                           false, size_range(1, 1 << 16)}),
        key(&P::mask_value,
            {"mask_value", Kind::Float, "0", "fill of the rectangles, in [0, 1]", {}, false, unit_interval()}),
        key(&P::seed, {"seed", Kind::Int, "", "seed (default: train.seed)", {}, false, seed_range()})};
    return k;
}
}  // namespace

CorruptNode::CorruptNode(const Params &p) {
    const auto prm = parse<CorruptParams>(p);
    corruption_ = {prm.noise_std, prm.salt_pepper, prm.mask_value, prm.masks, prm.mask_min, prm.mask_max, 0};
    seed_ = prm.seed;
}

void CorruptNode::resolve(Pipeline &p, Diags &d) {
    Corruption &c = corruption_;
    c.seed = seed_ ? uint64_t(*seed_) : p.settings().seed;
    const std::string &ctx = params_.context();
    if (!(c.noise_std >= 0 && c.noise_std <= 1e3))
        d.error(params_.pos("noise_std"),
                ctx + ": 'noise_std' must be between 0 and 1000 (in units of the pixel range [0, 1])");
    if (!(c.salt_pepper >= 0 && c.salt_pepper <= 1))
        d.error(params_.pos("salt_pepper"), ctx + ": 'salt_pepper' must be a fraction of pixels in [0, 1]");
    if (!(c.mask_value >= 0 && c.mask_value <= 1))
        d.error(params_.pos("mask_value"), ctx + ": 'mask_value' must be a pixel value in [0, 1]");
    if (c.masks < 0) d.error(params_.pos("masks"), ctx + ": 'masks' must be at least 0");
    if (c.mask_min < 1) d.error(params_.pos("mask_min"), ctx + ": 'mask_min' must be at least 1 pixel");
    if (c.mask_max < c.mask_min)
        d.error(params_.pos("mask_max"), ctx + ": 'mask_max' (" + std::to_string(c.mask_max) +
                                             ") must be at least 'mask_min' (" + std::to_string(c.mask_min) + ")");
    if (d.empty() && c.noise_std == 0 && c.salt_pepper == 0 && c.masks == 0)
        d.error(params_.where(), ctx + ": the corruption does nothing",
                "set noise_std, salt_pepper or masks (aepipe list-nodes shows the keys)");
    FlowNode *up = p.upstream(id_, "in");
    if (auto *n = dynamic_cast<NormalizeNode *>(up))
        norm_ = &n->normalizer();
    else if (up)
        d.error(params_.where(), ctx + ": must be fed by a normalize node, not '" + up->id() + "' (" +
                                     up->spec().type + ")",
                "for example: batches -> scale -> " + id_ + " -> model");
}

void CorruptNode::build(Pipeline &p) {
    pool_ = &p.pool(*this, int(p.settings().in_flight));
    node_ = std::make_unique<flow::function_node<TensorMsg, TensorMsg>>(p.graph(), flow::unlimited, [this, &p](TensorMsg m) {
        return p.guard(*this, m, [&] {
            const Dataset &ds = *m.data;
            const int64_t dim = ds.dim();
            m.target = std::move(m.x);  // the clean batch: the loss target
            m.x = pool_->acquire(size_t(m.count * dim));
            float *x = m.x.data();
            for (int64_t k = 0; k < m.count; ++k) {
                const int64_t i = m.sample(k);
                corruption_.apply(ds.image(i), ds.h, ds.w, ds.c, corruption_.key(m.epoch, i), *norm_, x + k * dim);
            }
            m.t_ready = p.now();
            return m;
        });
    });
    order_ = step_order(p);
    flow::make_edge(*node_, *order_);
}

bool has_corruption(const Pipeline &p) {
    for (const auto &n : p.nodes())
        if (dynamic_cast<const CorruptNode *>(n.get())) return true;
    return false;
}

static Registrar<FlowNodeRegistry> reg(
    {"corrupt",
     Category::Data,
     "corrupts clean batches (noise, salt and pepper, masks; seeded) and keeps them as the loss target",
     CorruptParams::keys().specs(),
     {{"in", {"tensor"}, "clean batches from a normalize node"}},
     {{"out", {"tensor"}, "corrupted batches (x) with the clean ones as the target"}}},
    [](const Params &p) { return std::make_unique<CorruptNode>(p); });

}  // namespace aepipe
