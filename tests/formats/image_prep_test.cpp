// Image preparation for reconstruct and data pack, each step against small pictures whose
// results are worked out by hand; and read_png on every PNG colour type and bit depth.
#include "formats/image_prep.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>

#include "pipeline/error.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

Image img(int64_t w, int64_t h, int64_t c, std::vector<uint8_t> px) { return Image{w, h, c, std::move(px)}; }

// A w x h gray picture of `bg` with the rectangle [x0, x0+rw) x [y0, y0+rh) set to `fg`.
Image block(int64_t w, int64_t h, uint8_t bg, uint8_t fg, int64_t x0, int64_t y0, int64_t rw, int64_t rh) {
    Image m{w, h, 1, std::vector<uint8_t>(size_t(w * h), bg)};
    for (int64_t y = y0; y < y0 + rh; ++y)
        for (int64_t x = x0; x < x0 + rw; ++x) m.px[size_t(y * w + x)] = fg;
    return m;
}

TEST(ImagePrep, RgbToGrayUsesBt601Weights) {
    // 0.299*255 = 76.2, 0.587*255 = 149.7, 0.114*255 = 29.1, and (10,20,30) -> 18.1
    Image g = to_channels(img(4, 1, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30}), 1);
    EXPECT_EQ(g.c, 1);
    EXPECT_EQ(g.px, (std::vector<uint8_t>{76, 150, 29, 18}));
}

TEST(ImagePrep, GrayToRgbRepeatsTheValue) {
    Image rgb = to_channels(img(2, 1, 1, {7, 200}), 3);
    EXPECT_EQ(rgb.c, 3);
    EXPECT_EQ(rgb.px, (std::vector<uint8_t>{7, 7, 7, 200, 200, 200}));
}

TEST(ImagePrep, DarkInkOnTransparentGoesOnWhite) {
    // ink (alpha-weighted luminance) is 0 -> white sheet: opaque 0, clear -> 255, half -> 255*(1-128/255) = 127
    Image g = drop_alpha(img(3, 1, 2, {0, 255, 0, 0, 0, 128}));
    EXPECT_EQ(g.c, 1);
    EXPECT_EQ(g.px, (std::vector<uint8_t>{0, 255, 127}));
}

TEST(ImagePrep, LightInkOnTransparentGoesOnBlack) {
    Image g = drop_alpha(img(3, 1, 2, {255, 255, 200, 0, 200, 51}));  // ink: (255*255 + 200*51) / 306 = 245.8
    EXPECT_EQ(g.px, (std::vector<uint8_t>{255, 0, 40}));              // 200 * 51/255 = 40
}

TEST(ImagePrep, RgbaDropsAlphaToRgb) {
    Image rgb = drop_alpha(img(2, 1, 4, {255, 0, 0, 255, 9, 9, 9, 0}));  // red ink: luminance 76 -> white
    EXPECT_EQ(rgb.c, 3);
    EXPECT_EQ(rgb.px, (std::vector<uint8_t>{255, 0, 0, 255, 255, 255}));
}

TEST(ImagePrep, LooksGrayOnlyWhenEveryPixelHasEqualChannels) {
    EXPECT_TRUE(looks_gray(img(2, 1, 3, {5, 5, 5, 9, 9, 9})));
    EXPECT_FALSE(looks_gray(img(2, 1, 3, {5, 5, 5, 9, 9, 8})));
    EXPECT_TRUE(looks_gray(img(1, 1, 2, {5, 0})));
}

TEST(ImagePrep, InversionRuleLooksAtTheBorderMean) {
    // 3x3: eight border pixels, centre ignored. 127 * 8 -> not inverted; one pixel more -> 128.5 mean
    Image m = block(3, 3, 127, 255, 1, 1, 1, 1);
    EXPECT_DOUBLE_EQ(border_mean(m), 127.0);
    EXPECT_FALSE(dark_on_light(m));
    m.px[0] = 139;  // mean (127*7 + 139) / 8 = 128.5
    EXPECT_DOUBLE_EQ(border_mean(m), 128.5);
    EXPECT_TRUE(dark_on_light(m));
    invert(m);
    EXPECT_EQ(m.px[0], 116);
    EXPECT_EQ(m.px[4], 0);
}

TEST(ImagePrep, ShrinkingAveragesAreas) {
    Image m = img(4, 4, 1, {0, 4, 8, 8, 8, 4, 8, 8, 100, 100, 0, 0, 100, 100, 0, 4});
    EXPECT_EQ(resize(m, 2, 2).px, (std::vector<uint8_t>{4, 8, 100, 1}));
}

TEST(ImagePrep, ShrinkingByAFractionWeighsCoverage) {
    // 3 -> 2: output 0 covers [0, 1.5): (0*1 + 90*0.5) / 1.5 = 30; output 1 [1.5, 3): (90*0.5 + 180) / 1.5 = 150
    EXPECT_EQ(resize(img(3, 1, 1, {0, 90, 180}), 2, 1).px, (std::vector<uint8_t>{30, 150}));
}

TEST(ImagePrep, GrowingIsBilinearWithClampedEdges) {
    // 2 -> 4: centres at -0.25, 0.25, 0.75, 1.25 in source pixels
    EXPECT_EQ(resize(img(2, 1, 1, {0, 100}), 4, 1).px, (std::vector<uint8_t>{0, 25, 75, 100}));
    // each channel on its own, and the vertical axis too
    Image rgb = resize(img(1, 2, 3, {0, 200, 8, 100, 0, 8}), 1, 4);
    EXPECT_EQ(rgb.px, (std::vector<uint8_t>{0, 200, 8, 25, 150, 8, 75, 50, 8, 100, 0, 8}));
}

TEST(ImagePrep, SameSizeIsACopy) {
    Image m = img(2, 2, 1, {1, 2, 3, 4});
    EXPECT_EQ(resize(m, 2, 2).px, m.px);
}

TEST(ImagePrep, MnistFitScalesTheInkTo20AndCentresItsMass) {
    // A 4x2 white bar in a 10x10 black picture -> 20x10 (scale 5), centre of mass (9.5, 4.5)
    // placed at 13.5: left 4, top 9.
    Image out = mnist_fit(block(10, 10, 0, 255, 2, 3, 4, 2), "bar.png");
    ASSERT_EQ(out.w, 28);
    ASSERT_EQ(out.h, 28);
    EXPECT_EQ(out.px, block(28, 28, 0, 255, 4, 9, 20, 10).px);
}

TEST(ImagePrep, MnistFitRemovesTheBackgroundLevel) {
    // Grey paper (40) with a 1x1 stroke of 240: levels put 40 + 20 -> 0 and 240 -> 255, so only
    // the stroke is ink: a 20x20 white square at 4..23 (mass centre 9.5 -> 13.5).
    Image out = mnist_fit(block(5, 5, 40, 240, 2, 2, 1, 1), "dot.png");
    EXPECT_EQ(out.px, block(28, 28, 0, 255, 4, 4, 20, 20).px);
}

TEST(ImagePrep, MnistFitShiftsByMassNotByBox) {
    // An L: a 1-pixel column of 8 plus a bottom row of 8 (mass sits bottom-left of the box).
    Image l{16, 16, 1, std::vector<uint8_t>(256, 0)};
    for (int k = 0; k < 8; ++k) l.px[size_t((4 + k) * 16 + 4)] = 255, l.px[size_t(11 * 16 + 4 + k)] = 255;
    Image out = mnist_fit(l, "l.png");
    double mass = 0, mx = 0, my = 0;
    int64_t x0 = 28, x1 = -1, y0 = 28, y1 = -1;
    for (int64_t y = 0; y < 28; ++y)
        for (int64_t x = 0; x < 28; ++x)
            if (double v = out.px[size_t(y * 28 + x)]) {
                mass += v, mx += v * double(x), my += v * double(y);
                x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
            }
    EXPECT_EQ(x1 - x0 + 1, 20);
    EXPECT_EQ(y1 - y0 + 1, 20);
    EXPECT_NEAR(mx / mass, 13.5, 0.5);
    EXPECT_NEAR(my / mass, 13.5, 0.5);
    EXPECT_GT(x0, 4);  // mass bottom-left: the box moved right and up from the centred (4, 4)
    EXPECT_LT(y0, 4);
}

TEST(ImagePrep, MnistFitRejectsABlankPicture) {
    EXPECT_EQ(error_of<DataError>([] { mnist_fit(block(6, 6, 30, 40, 2, 2, 1, 1), "blank.png"); }),
              "blank.png: error: the picture is blank: nothing is clearly brighter than its background (level "
              "30) after the dark-on-light rule");
}

TEST(ImagePrep, PrepareInvertsDarkOnLightFor28x28GrayModels) {
    Prepared p = prepare_input(block(40, 40, 255, 0, 10, 20, 20, 10), 28, 28, 1, "ink.png");
    EXPECT_TRUE(p.mnist);
    EXPECT_TRUE(p.inverted);
    EXPECT_EQ(p.img.px, block(28, 28, 0, 255, 4, 9, 20, 10).px);
    Prepared q = prepare_input(block(40, 40, 0, 255, 10, 20, 20, 10), 28, 28, 1, "chalk.png");
    EXPECT_FALSE(q.inverted);
    EXPECT_EQ(q.img.px, p.img.px);
}

TEST(ImagePrep, PrepareResizesForOtherShapes) {
    Prepared p = prepare_input(img(2, 2, 1, {0, 100, 100, 0}), 2, 1, 3, "x.png");  // to 1x2 RGB
    EXPECT_FALSE(p.mnist);
    EXPECT_FALSE(p.inverted);
    EXPECT_EQ(p.img.w, 1);
    EXPECT_EQ(p.img.h, 2);
    EXPECT_EQ(p.img.px, (std::vector<uint8_t>{50, 50, 50, 50, 50, 50}));
}

TEST(ImagePrep, ForcedMnistFitScalesTheBoxWithTheSide) {
    // 14x14 model: box round(14 * 20/28) = 10; the 4x2 bar becomes 10x5 with mass centre (4.5, 2)
    // placed at 6.5: left round(2) = 2, top round(4.5) = 5.
    PrepOptions o;
    o.fit = PrepOptions::Fit::Mnist;
    Prepared p = prepare_input(block(10, 10, 0, 255, 2, 3, 4, 2), 14, 14, 1, "bar.png", o);
    EXPECT_TRUE(p.mnist);
    EXPECT_EQ(p.img.px, block(14, 14, 0, 255, 2, 5, 10, 5).px);
}

TEST(ImagePrep, ForcedMnistFitNeedsASquareGrayModel) {
    PrepOptions o;
    o.fit = PrepOptions::Fit::Mnist;
    EXPECT_THROW(prepare_input(block(4, 4, 0, 255, 1, 1, 2, 2), 8, 8, 3, "x.png", o), RuntimeError);
    EXPECT_THROW(prepare_input(block(4, 4, 0, 255, 1, 1, 2, 2), 8, 6, 1, "x.png", o), RuntimeError);
}

TEST(ImagePrep, ResizeFitOn28x28NeverInvertsUnlessAsked) {
    PrepOptions o;
    o.fit = PrepOptions::Fit::Resize;
    Prepared p = prepare_input(block(56, 56, 255, 0, 0, 0, 2, 2), 28, 28, 1, "x.png", o);
    EXPECT_FALSE(p.mnist);
    EXPECT_FALSE(p.inverted);
    EXPECT_EQ(p.img.px, block(28, 28, 255, 0, 0, 0, 1, 1).px);
    o.invert = PrepOptions::Invert::Always;
    Prepared q = prepare_input(block(56, 56, 255, 0, 0, 0, 2, 2), 28, 28, 1, "x.png", o);
    EXPECT_TRUE(q.inverted);
    EXPECT_EQ(q.img.px, block(28, 28, 0, 255, 0, 0, 1, 1).px);
}

TEST(ImagePrep, PrepareRejectsModelsOfOtherChannelCounts) {
    EXPECT_THROW(prepare_input(img(1, 1, 1, {0}), 4, 4, 2, "x.png"), DataError);
}

// --- read_png on every colour type, written byte by byte (libpng's writer only makes 8-bit) ---

std::string chunk(const char *type, const std::string &data) {
    std::string out;
    for (int s = 24; s >= 0; s -= 8) out += char((data.size() >> s) & 0xff);
    std::string body = std::string(type, 4) + data;
    uLong crc = crc32(0, reinterpret_cast<const Bytef *>(body.data()), uInt(body.size()));
    out += body;
    for (int s = 24; s >= 0; s -= 8) out += char((crc >> s) & 0xff);
    return out;
}

std::string raw_png(int w, int h, int depth, int color, const std::vector<std::string> &rows,
                    const std::string &plte = "") {
    std::string ihdr;
    for (int v : {w, h})
        for (int s = 24; s >= 0; s -= 8) ihdr += char((v >> s) & 0xff);
    ihdr += char(depth), ihdr += char(color), ihdr += std::string(3, '\0');
    std::string raw;
    for (const auto &r : rows) raw += '\0' + r;
    uLongf n = compressBound(uLong(raw.size()));
    std::string z(n, '\0');
    compress(reinterpret_cast<Bytef *>(z.data()), &n, reinterpret_cast<const Bytef *>(raw.data()), uLong(raw.size()));
    z.resize(n);
    return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + (plte.empty() ? "" : chunk("PLTE", plte)) +
           chunk("IDAT", z) + chunk("IEND", "");
}

Image read_bytes_as_png(const std::string &bytes) {
    TempDir t("aepipe-png");
    write_bytes(t / "x.png", bytes);
    return read_png(t / "x.png");
}

TEST(PngKinds, Gray16BitIsTakenAsSrgbWithoutGammaChunk) {
    Image m = read_bytes_as_png(raw_png(2, 1, 16, 0, {std::string("\x12\x34\xff\xff", 4)}));
    EXPECT_EQ(m.c, 1);
    EXPECT_EQ(m.px[1], 255);
    EXPECT_EQ(m.px[0], 18);  // 0x1234 / 65535 * 255 = 18.1 (as linear, libpng would give 76)
}

TEST(PngKinds, PaletteBecomesRgb) {
    Image m = read_bytes_as_png(
        raw_png(2, 1, 8, 3, {std::string("\x01\x00", 2)}, std::string("\x0a\x14\x1e\xff\x00\x00", 6)));
    EXPECT_EQ(m.c, 3);
    EXPECT_EQ(m.px, (std::vector<uint8_t>{255, 0, 0, 10, 20, 30}));
}

TEST(PngKinds, GrayAlphaAndRgbaKeepTheirAlpha) {
    Image ga = read_bytes_as_png(raw_png(1, 1, 8, 4, {std::string("\x50\x80", 2)}));
    EXPECT_EQ(ga.c, 2);
    EXPECT_EQ(ga.px, (std::vector<uint8_t>{0x50, 0x80}));
    Image rgba = read_bytes_as_png(raw_png(1, 1, 8, 6, {std::string("\x01\x02\x03\xff", 4)}));
    EXPECT_EQ(rgba.c, 4);
    EXPECT_EQ(rgba.px, (std::vector<uint8_t>{1, 2, 3, 255}));
}

TEST(PngKinds, OneBitGrayExpandsTo0And255) {
    Image m = read_bytes_as_png(raw_png(3, 1, 1, 0, {std::string("\xa0", 1)}));  // bits 1 0 1
    EXPECT_EQ(m.px, (std::vector<uint8_t>{255, 0, 255}));
}

}  // namespace
}  // namespace aepipe::test
