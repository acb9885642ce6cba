// The PNG loader (read_png): round trips, and each malformed-file case with its exact message
// (path, byte offset, what was expected). Hand-built files use png_file() below.
#include <gtest/gtest.h>
#include <zlib.h>

#include "formats/png.hpp"
#include "pipeline/error.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string chunk(const std::string &type, const std::string &data) {
    std::string td = type + data;
    return be32(uint32_t(data.size())) + td + be32(uint32_t(crc32(0, reinterpret_cast<const Bytef *>(td.data()), uInt(td.size()))));
}
std::string zlib_bytes(const std::string &raw) {
    uLongf n = compressBound(uLong(raw.size()));
    std::string out(n, '\0');
    compress(reinterpret_cast<Bytef *>(out.data()), &n, reinterpret_cast<const Bytef *>(raw.data()), uLong(raw.size()));
    out.resize(n);
    return out;
}
// A PNG: signature, IHDR (w, h, bit depth, color type), one IDAT holding `raw` (filter bytes
// and scanlines) compressed, IEND.
std::string png_file(uint32_t w, uint32_t h, int depth, int color, const std::string &raw) {
    std::string ihdr = be32(w) + be32(h) + char(depth) + char(color) + std::string(3, '\0');
    return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", zlib_bytes(raw)) + chunk("IEND", "");
}

TEST(PngRead, RoundTripKeepsSizeChannelsAndPixels) {
    TempDir tmp;
    for (int64_t c : {1, 2, 3, 4}) {
        Image img;
        img.w = 5, img.h = 3, img.c = c;
        for (int64_t i = 0; i < img.w * img.h * c; ++i) img.px.push_back(uint8_t(i * 7));
        write_png(tmp / "x.png", img);
        Image back = read_png(tmp / "x.png");
        EXPECT_EQ(back.w, 5);
        EXPECT_EQ(back.h, 3);
        EXPECT_EQ(back.c, c);
        EXPECT_EQ(back.px, img.px) << c << " channel(s)";
    }
}

TEST(PngRead, HandBuiltGrayFileDecodes) {
    TempDir tmp;
    write_bytes(tmp / "g.png", png_file(2, 2, 8, 0, std::string("\0\x10\x20\0\x30\x40", 6)));
    Image img = read_png(tmp / "g.png");
    EXPECT_EQ(img.px, (std::vector<uint8_t>{0x10, 0x20, 0x30, 0x40}));
}

TEST(PngRead, BadSignatureIsAnErrorAtByte0) {
    TempDir tmp;
    write_bytes(tmp / "t.png", "GIF89a, not a PNG");
    EXPECT_EQ(error_of<DataError>([&] { read_png(tmp / "t.png"); }),
              tmp / "t.png" + ": byte 0: error: not a PNG file (bad signature)");
}

TEST(PngRead, TruncatedHeaderIsAnError) {
    TempDir tmp;
    write_bytes(tmp / "h.png", png_file(2, 2, 8, 0, std::string(6, '\0')).substr(0, 20));
    std::string msg = error_of<DataError>([&] { read_png(tmp / "h.png"); });
    EXPECT_EQ(msg.rfind(tmp / "h.png" + ": byte 8: error: malformed PNG header: ", 0), 0u) << msg;
}

// 65535 x 4096 RGBA (1 GiB of pixels) claimed by a 60-byte file: refused at the header,
// before the output buffer would be allocated.
TEST(PngRead, HugeSizeClaimedByATinyFileIsRefusedBeforeAllocating) {
    TempDir tmp;
    const std::string bytes = png_file(65535, 4096, 8, 6, std::string(10, '\0'));
    write_bytes(tmp / "big.png", bytes);
    EXPECT_EQ(error_of<DataError>([&] { read_png(tmp / "big.png"); }),
              tmp / "big.png" + ": byte 16: error: PNG header claims 65535x4096 pixels (1073729536 bytes of image data), " +
                  "more than a file of " + std::to_string(bytes.size()) + " bytes can hold");
}

TEST(PngRead, MoreThan2p28PixelsIsTooLarge) {
    TempDir tmp;
    write_bytes(tmp / "wide.png", png_file(1 << 19, 1 << 10, 1, 0, std::string(10, '\0')));
    EXPECT_EQ(error_of<DataError>([&] { read_png(tmp / "wide.png"); }),
              tmp / "wide.png" + ": byte 16: error: PNG size 524288x1024 is empty or too large");
}

TEST(PngRead, MissingImageDataIsAnError) {
    TempDir tmp;
    write_bytes(tmp / "short.png", png_file(4, 4, 8, 0, std::string(5, '\0')));  // 1 of 4 rows
    std::string msg = error_of<DataError>([&] { read_png(tmp / "short.png"); });
    EXPECT_EQ(msg.rfind(tmp / "short.png" + ": byte 8: error: malformed PNG data: ", 0), 0u) << msg;
}

TEST(PngRead, MissingFileIsAnError) {
    TempDir tmp;
    std::string msg = error_of<DataError>([&] { read_png(tmp / "none.png"); });
    EXPECT_EQ(msg.rfind(tmp / "none.png" + ": ", 0), 0u) << msg;
}

}  // namespace
}  // namespace aepipe::test
