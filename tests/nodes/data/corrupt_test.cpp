// The corrupt node's corruption (Corruption::apply) and the PSNR used to measure restoration:
// noise, salt-and-pepper and mask statistics, clipping, the normalizer mapping, and that the
// result is a pure function of (seed, epoch, index).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "nodes/data/corrupt.hpp"
#include "nodes/nn/psnr.hpp"

namespace aepipe::test {
namespace {

const Normalizer kUnit;  // bytes -> [0, 1]

std::vector<float> corrupt(const Corruption &c, const std::vector<uint8_t> &img, int64_t h, int64_t w, int64_t ch,
                           int64_t epoch, int64_t index, const Normalizer &norm = kUnit) {
    std::vector<float> out(img.size());
    c.apply(img.data(), h, w, ch, c.key(epoch, index), norm, out.data());
    return out;
}

TEST(Corruption, GaussianNoiseHasTheGivenSigmaAndZeroMean) {
    Corruption c;
    c.noise_std = 0.1;
    const int64_t side = 100;
    std::vector<uint8_t> grey(side * side, 128);  // 0.502: five sigmas from either clip
    std::vector<float> y = corrupt(c, grey, side, side, 1, 0, 0);
    double sum = 0, sq = 0;
    int64_t within = 0;
    for (float v : y) {
        double e = double(v) - 128.0 / 255.0;
        sum += e, sq += e * e;
        within += std::abs(e) <= 0.1;
    }
    const double n = double(y.size()), mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.004);  // standard error 0.001
    EXPECT_NEAR(sd, 0.1, 0.003);    // standard error 0.0007
    EXPECT_NEAR(double(within) / n, 0.6827, 0.02) << "a normal distribution has 68% within one sigma";
}

TEST(Corruption, NoiseIsClippedToThePixelRange) {
    Corruption c;
    c.noise_std = 0.5;
    std::vector<uint8_t> img(64 * 64);
    for (size_t i = 0; i < img.size(); ++i) img[i] = i % 2 ? 255 : 0;
    std::vector<float> y = corrupt(c, img, 64, 64, 1, 3, 9);
    int64_t at0 = 0, at1 = 0;
    for (float v : y) {
        ASSERT_GE(v, 0.f);
        ASSERT_LE(v, 1.f);
        at0 += v == 0.f, at1 += v == 1.f;
    }
    // Half of the noise pushes each pixel out of range: about a quarter of all values clip at each end.
    EXPECT_NEAR(double(at0) / double(y.size()), 0.25, 0.03);
    EXPECT_NEAR(double(at1) / double(y.size()), 0.25, 0.03);
}

TEST(Corruption, SaltAndPepperHitsTheGivenFractionHalfEach) {
    Corruption c;
    c.salt_pepper = 0.2;
    const int64_t side = 100, ch = 3;
    std::vector<uint8_t> grey(side * side * ch, 100);
    std::vector<float> y = corrupt(c, grey, side, side, ch, 1, 5);
    int64_t pepper = 0, salt = 0, kept = 0;
    for (int64_t q = 0; q < side * side; ++q) {
        const float *p = y.data() + q * ch;
        EXPECT_TRUE(p[0] == p[1] && p[1] == p[2]) << "every channel of a pixel gets the same treatment, pixel " << q;
        if (p[0] == 0.f)
            ++pepper;
        else if (p[0] == 1.f)
            ++salt;
        else if (std::abs(p[0] - 100.f / 255.f) < 1e-6f)
            ++kept;
    }
    EXPECT_EQ(pepper + salt + kept, side * side) << "other pixels are untouched";
    // Binomial(10000, 0.1): standard deviation 30.
    EXPECT_NEAR(double(pepper), 1000.0, 120.0);
    EXPECT_NEAR(double(salt), 1000.0, 120.0);
}

// The zero pixels of a corrupted white image: their bounding box, and whether they fill it.
struct Box {
    int64_t y0 = 1 << 30, x0 = 1 << 30, y1 = -1, x1 = -1, zeros = 0;
    int64_t h() const { return y1 - y0 + 1; }
    int64_t w() const { return x1 - x0 + 1; }
};
Box zero_box(const std::vector<float> &y, int64_t h, int64_t w) {
    Box b;
    for (int64_t r = 0; r < h; ++r)
        for (int64_t c = 0; c < w; ++c)
            if (y[size_t(r * w + c)] == 0.f) {
                b.y0 = std::min(b.y0, r), b.y1 = std::max(b.y1, r);
                b.x0 = std::min(b.x0, c), b.x1 = std::max(b.x1, c);
                ++b.zeros;
            }
    return b;
}

TEST(Corruption, MaskIsAFilledRectangleWithSidesWithinBounds) {
    Corruption c;
    c.masks = 1, c.mask_min = 3, c.mask_max = 7;
    const int64_t h = 20, w = 28;
    std::vector<uint8_t> white(h * w, 255);
    std::set<int64_t> heights, widths;
    bool top = false, bottom = false, left = false, right = false;
    for (int64_t i = 0; i < 400; ++i) {
        Box b = zero_box(corrupt(c, white, h, w, 1, 0, i), h, w);
        ASSERT_EQ(b.zeros, b.h() * b.w()) << "sample " << i << ": the mask is one filled rectangle";
        ASSERT_TRUE(b.h() >= 3 && b.h() <= 7 && b.w() >= 3 && b.w() <= 7) << b.h() << " x " << b.w();
        heights.insert(b.h()), widths.insert(b.w());
        top |= b.y0 == 0, bottom |= b.y1 == h - 1, left |= b.x0 == 0, right |= b.x1 == w - 1;
    }
    EXPECT_EQ(heights, (std::set<int64_t>{3, 4, 5, 6, 7})) << "every side length occurs";
    EXPECT_EQ(widths, (std::set<int64_t>{3, 4, 5, 6, 7}));
    EXPECT_TRUE(top && bottom && left && right) << "masks reach every edge of the image";
}

TEST(Corruption, MaskLargerThanTheImageCoversItWithTheFillValue) {
    Corruption c;
    c.masks = 2, c.mask_min = 30, c.mask_max = 40, c.mask_value = 0.25;
    std::vector<uint8_t> img(8 * 6, 200);
    for (float v : corrupt(c, img, 8, 6, 1, 0, 0)) EXPECT_FLOAT_EQ(v, 0.25f);
}

TEST(Corruption, ResultsGoThroughTheNormalizer) {
    Corruption c;
    c.masks = 1, c.mask_min = 28, c.mask_max = 28;  // the whole image becomes 0
    const Normalizer norm{1.f / 255.f, 0.f, 0.5f, 0.25f};
    std::vector<uint8_t> img(28 * 28, 77);
    for (float v : corrupt(c, img, 28, 28, 1, 0, 0, norm)) EXPECT_FLOAT_EQ(v, (0.f - 0.5f) / 0.25f);
    // And to_unit inverts from_unit.
    for (float v : {0.f, 0.3f, 1.f}) EXPECT_NEAR(norm.to_unit(norm.from_unit(v)), v, 1e-6f);
    EXPECT_FLOAT_EQ(norm.from_unit(77.f / 255.f), (77.f / 255.f - 0.5f) / 0.25f);
}

TEST(Corruption, IsAPureFunctionOfSeedEpochAndIndex) {
    Corruption c;
    c.noise_std = 0.2, c.salt_pepper = 0.1, c.masks = 1, c.seed = 42;
    std::vector<uint8_t> img(28 * 28);
    for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t(i * 7);
    const std::vector<float> a = corrupt(c, img, 28, 28, 1, 2, 17);
    // Again, after other calls in between: no hidden state.
    corrupt(c, img, 28, 28, 1, 0, 0);
    EXPECT_EQ(corrupt(c, img, 28, 28, 1, 2, 17), a);
    EXPECT_EQ(c.key(2, 17), Corruption{.seed = 42}.key(2, 17)) << "the key depends on the seed only";
    // Another index, epoch or seed gives another corruption.
    EXPECT_NE(corrupt(c, img, 28, 28, 1, 2, 18), a);
    EXPECT_NE(corrupt(c, img, 28, 28, 1, 3, 17), a);
    EXPECT_NE(corrupt(c, img, 28, 28, 1, Corruption::kTestEpoch, 17), a);
    Corruption d = c;
    d.seed = 43;
    EXPECT_NE(corrupt(d, img, 28, 28, 1, 2, 17), a);
    std::set<uint64_t> keys;
    for (int64_t e = -1; e < 10; ++e)
        for (int64_t i = 0; i < 1000; ++i) keys.insert(c.key(e, i));
    EXPECT_EQ(keys.size(), 11000u) << "distinct keys per (epoch, index)";
}

TEST(Psnr, MatchesAHandComputation) {
    // Four pixels in [0, 1]: errors 0.1, 0, 0.2, 0 -> MSE 0.0125 -> 10 log10(80) = 19.0309 dB.
    const float a[4] = {0.5f, 0.2f, 0.9f, 0.f}, b[4] = {0.4f, 0.2f, 0.7f, 0.f};
    const double sse = unit_sse(4, a, b, kUnit);
    EXPECT_NEAR(sse, 0.05, 1e-7);
    EXPECT_NEAR(psnr_db(sse / 4), 19.0309, 1e-4);
    EXPECT_NEAR(psnr_db(0.01), 20.0, 1e-12);
    EXPECT_EQ(psnr_db(0.0), kMaxPsnrDb) << "identical images";
}

TEST(Psnr, MeasuresInRawPixelSpaceAndClipsTheRestoration) {
    // Model inputs standardised with mean 0.5, std 0.25: y = (v - 0.5) / 0.25.
    const Normalizer norm{1.f / 255.f, 0.f, 0.5f, 0.25f};
    const float clean[2] = {norm.from_unit(0.5f), norm.from_unit(1.f)};
    const float out[2] = {norm.from_unit(0.6f), norm.from_unit(1.5f)};  // 1.5 is clipped to 1
    EXPECT_NEAR(unit_sse(2, out, clean, norm), 0.01, 1e-6);
}

}  // namespace
}  // namespace aepipe::test
