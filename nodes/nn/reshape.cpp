// reshape: (N, D) viewed as (N, H, W, C) with H W C = D; `shape: [H, W, C]` (channels last,
//   like the data) or `shape: [D]` (flat).
// flatten: (N, H, W, C) viewed as (N, H W C), for a dense layer after convolutions.
//   Both: y = x, dx = dy; no parameters. The NHWC order is kept, so nothing is permuted.
#include "nodes/nn/reshape.hpp"

#include <cstring>

namespace aepipe {

void ViewLayer::forward(int64_t n, const float *x, float *y, const float *, void *) {
    if (x != y) std::memcpy(y, x, sizeof(float) * size_t(n * out_.size()));
}

void ViewLayer::backward(int64_t n, const float *, const float *, float *dy, float *dx, const float *, float *,
                         void *) {
    if (dx && dx != dy) std::memcpy(dx, dy, sizeof(float) * size_t(n * in_.size()));
}

namespace {
struct ReshapeParams {
    std::vector<int64_t> shape;
    static const Keys<ReshapeParams> &keys() {
        static const Keys<ReshapeParams> k{key(&ReshapeParams::shape, {"shape", Kind::IntList, "",
                                                                       "[H, W, C] (channels last) or [D]", {}, true,
                                                                       size_range()})};
        return k;
    }
};
}  // namespace

static std::unique_ptr<Layer> make_reshape(const Params &p, const LayerInput &in) {
    const std::vector<int64_t> s = parse<ReshapeParams>(p).shape;
    if (s.size() != 3 && s.size() != 1)
        p.fail("shape", "'shape' must be [H, W, C] or [D], got " + std::to_string(s.size()) + " numbers");
    for (int64_t d : s)
        if (d <= 0) p.fail("shape", "'shape' sizes must be positive, got " + std::to_string(d));
    Shape out = s.size() == 3 ? Shape{s[2], s[0], s[1]} : Shape{s[0], 1, 1};
    if (out.size() != in.shape.size())
        p.fail("shape",
               "cannot reshape " + in.shape.str() + " (" + std::to_string(in.shape.size()) + " values) to " +
                   out.str() + " (" + std::to_string(out.size()) + " values)",
               "the product of 'shape' must equal the input's size " + std::to_string(in.shape.size()));
    return std::make_unique<ViewLayer>("reshape", in.shape, out);
}

static std::unique_ptr<Layer> make_flatten(const Params &, const LayerInput &in) {
    return std::make_unique<ViewLayer>("flatten", in.shape, Shape{in.shape.size(), 1, 1});
}

static Registrar<LayerRegistry> reg_reshape(
    {"reshape",
     Category::Layer,
     "views each sample as another shape of the same size (no data moves in NHWC order)",
     ReshapeParams::keys().specs()},
    make_reshape);
static Registrar<LayerRegistry> reg_flatten(
    {"flatten", Category::Layer, "views an H x W x C sample as a flat row of H W C values (for dense layers)", {}},
    make_flatten);

}  // namespace aepipe
