// PNG files through libpng: 8-bit gray, gray+alpha, RGB or RGBA.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aepipe {

struct Image {
    int64_t w = 0, h = 0, c = 1;  // c: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    std::vector<uint8_t> px;      // h rows of w*c bytes
};

// Encodes and writes atomically; errors name the path.
void write_png(const std::string &path, const Image &img);
std::string encode_png(const Image &img);
// Decodes any PNG (palette, 16-bit, interlaced...) to 8-bit gray/GA/RGB/RGBA; DataError on bad input.
Image read_png(const std::string &path);

}  // namespace aepipe
