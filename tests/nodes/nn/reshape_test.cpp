// reshape and flatten: the values pass unchanged (forward and backward) under the new shape.
#include <gtest/gtest.h>

#include "nn_test_util.hpp"
#include "nodes/nn/reshape.hpp"
#include "support/expect_error.hpp"
#include "support/grad_check.hpp"

namespace aepipe {
namespace {

TEST(Reshape, FlatToImageKeepsTheValues) {
    auto l = test::make_from_yaml<LayerRegistry>("{type: reshape, shape: [3, 2, 4]}", LayerInput{24});
    EXPECT_EQ(l->out_shape(), (Shape{4, 3, 2}));  // [H, W, C]
    EXPECT_EQ(l->num_params(), 0);
    std::mt19937_64 rng(1);
    const auto x = test::uniform(48, -1.0, 1.0, rng);
    std::vector<float> y(48), dy = test::uniform(48, -1.0, 1.0, rng), dx(48);
    l->prepare(2);
    l->forward(2, x.data(), y.data(), nullptr, nullptr);
    EXPECT_EQ(x, y);
    l->backward(2, x.data(), y.data(), dy.data(), dx.data(), nullptr, nullptr, nullptr);
    EXPECT_EQ(dx, dy);
    EXPECT_TRUE(test::check_layer(*l, 2, x, {}));
}

TEST(Flatten, ImageToFlat) {
    auto l = test::make_from_yaml<LayerRegistry>("{type: flatten}", LayerInput{24, {4, 3, 2}});
    EXPECT_EQ(l->out_shape(), (Shape{24, 1, 1}));
    std::mt19937_64 rng(2);
    EXPECT_TRUE(test::check_layer(*l, 3, test::uniform(72, -1.0, 1.0, rng), {}));
}

TEST(Reshape, SizeMismatchIsAConfigError) {
    const std::string e = test::error_of<ConfigError>(
        [] { test::make_from_yaml<LayerRegistry>("{type: reshape, shape: [7, 7, 3]}", LayerInput{64}); });
    EXPECT_NE(e.find("cannot reshape 64 (64 values) to 7x7x3 (147 values)"), std::string::npos) << e;
}

TEST(Reshape, WrongRankIsAConfigError) {
    const std::string e = test::error_of<ConfigError>(
        [] { test::make_from_yaml<LayerRegistry>("{type: reshape, shape: [8, 8]}", LayerInput{64}); });
    EXPECT_NE(e.find("'shape' must be [H, W, C] or [D], got 2 numbers"), std::string::npos) << e;
}

}  // namespace
}  // namespace aepipe
