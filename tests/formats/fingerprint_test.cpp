// The resume fingerprint: equal configs match; a changed layer, optimizer setting or data
// file is named in the difference; keys a resume may change (epochs, threads) are not.
#include <gtest/gtest.h>

#include "pipeline/config.hpp"
#include "formats/fingerprint.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

struct FingerprintTest : ::testing::Test {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    ConfigFile cfg(const std::vector<std::string> &overrides = {}) {
        ConfigFile c = parse_config(tiny_config_yaml(d, 2), tmp / "tiny.yaml");
        for (const auto &o : overrides) apply_override(c, o);
        return c;
    }
};

TEST_F(FingerprintTest, SameConfigAndDataMatch) {
    EXPECT_TRUE(fingerprint_diff(config_fingerprint(cfg()), config_fingerprint(cfg())).empty());
}

TEST_F(FingerprintTest, EpochsAndThreadsMayChange) {
    auto diff = fingerprint_diff(config_fingerprint(cfg()), config_fingerprint(cfg({"train.epochs=9", "train.threads=2"})));
    EXPECT_TRUE(diff.empty()) << diff.front();
}

TEST_F(FingerprintTest, ChangedLayerIsNamedWithBothValues) {
    auto diff = fingerprint_diff(config_fingerprint(cfg()), config_fingerprint(cfg({"model.layers[1].units=8"})));
    ASSERT_EQ(diff.size(), 1u);
    EXPECT_EQ(diff[0], "model.layers[1].units: checkpoint 16, config 8");
}

TEST_F(FingerprintTest, ChangedOptimizerIsNamed) {
    auto diff = fingerprint_diff(config_fingerprint(cfg()), config_fingerprint(cfg({"train.optimizer.lr=0.5"})));
    ASSERT_EQ(diff.size(), 1u);
    EXPECT_EQ(diff[0], "train.optimizer.lr: checkpoint 0.01, config 0.5");
}

TEST_F(FingerprintTest, ChangedDataFileIsNamedWithItsPath) {
    auto before = config_fingerprint(cfg());
    write_tiny_data(tmp.path(), 40, 16);  // same paths, other contents
    auto diff = fingerprint_diff(before, config_fingerprint(cfg()));
    bool named = false;
    for (const auto &l : diff)
        named |= l.rfind("data file train_set.images: contents differ (checkpoint: " + d.train_images, 0) == 0;
    EXPECT_TRUE(named) << (diff.empty() ? "(no difference)" : diff[0]);
}

}  // namespace
}  // namespace aepipe::test
