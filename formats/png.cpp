#include "formats/png.hpp"

#include <png.h>

#include <cstring>

#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"

namespace aepipe {

static int color_type(int64_t c) {
    switch (c) {
        case 1: return PNG_COLOR_TYPE_GRAY;
        case 2: return PNG_COLOR_TYPE_GRAY_ALPHA;
        case 3: return PNG_COLOR_TYPE_RGB;
        case 4: return PNG_COLOR_TYPE_RGBA;
    }
    throw RuntimeError("PNG: unsupported channel count " + std::to_string(c));
}

std::string encode_png(const Image &img) {
    png_image pi;
    std::memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = png_uint_32(img.w);
    pi.height = png_uint_32(img.h);
    int ct = color_type(img.c);
    pi.format = ct == PNG_COLOR_TYPE_GRAY ? PNG_FORMAT_GRAY
                : ct == PNG_COLOR_TYPE_GRAY_ALPHA ? PNG_FORMAT_GA
                : ct == PNG_COLOR_TYPE_RGB ? PNG_FORMAT_RGB
                                           : PNG_FORMAT_RGBA;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&pi, nullptr, &size, 0, img.px.data(), 0, nullptr))
        throw RuntimeError(std::string("PNG encode failed: ") + pi.message);
    std::string out(size, '\0');
    if (!png_image_write_to_memory(&pi, out.data(), &size, 0, img.px.data(), 0, nullptr))
        throw RuntimeError(std::string("PNG encode failed: ") + pi.message);
    out.resize(size);
    return out;
}

void write_png(const std::string &path, const Image &img) { write_file_atomic(path, encode_png(img)); }

Image read_png(const std::string &path) {
    std::string bytes = read_file(path, "a PNG file");
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (bytes.size() < 8 || std::memcmp(bytes.data(), sig, 8) != 0)
        throw DataError(path, 0, "not a PNG file (bad signature)");
    png_image pi;
    std::memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, bytes.data(), bytes.size()))
        throw DataError(path, 8, std::string("malformed PNG header: ") + pi.message);
    if (pi.width == 0 || pi.height == 0 || uint64_t(pi.width) * pi.height > (uint64_t(1) << 28)) {
        png_image_free(&pi);
        throw DataError(path, 16, "PNG size " + std::to_string(pi.width) + "x" + std::to_string(pi.height) +
                                      " is empty or too large");
    }
    // 16-bit files without gamma chunks hold sRGB-encoded values in practice (GIMP, ImageMagick);
    // libpng would otherwise take them as linear and brighten them when it makes 8-bit.
    pi.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    // A PNG's pixels are one zlib stream, which expands at most 1032:1: a header claiming more
    // raw pixel data than that is rejected before the output buffer is allocated.
    const uint8_t *ihdr = reinterpret_cast<const uint8_t *>(bytes.data()) + 16;  // libpng checked it
    static const int kSamples[7] = {1, 0, 3, 1, 2, 0, 4};                     // per color type
    const uint64_t bits = uint64_t(pi.width) * kSamples[ihdr[9] % 7] * ihdr[8];
    const uint64_t raw = uint64_t(pi.height) * (1 + (bits + 7) / 8);
    if (raw > uint64_t(bytes.size()) * 1032) {
        png_image_free(&pi);
        throw DataError(path, 16, "PNG header claims " + std::to_string(pi.width) + "x" + std::to_string(pi.height) +
                                      " pixels (" + std::to_string(raw) + " bytes of image data), more than a file of " +
                                      std::to_string(bytes.size()) + " bytes can hold");
    }
    Image img;
    bool alpha = pi.format & PNG_FORMAT_FLAG_ALPHA, color = pi.format & PNG_FORMAT_FLAG_COLOR;
    pi.format = color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
    img.w = pi.width, img.h = pi.height, img.c = PNG_IMAGE_PIXEL_CHANNELS(pi.format);
    img.px.resize(PNG_IMAGE_SIZE(pi));
    if (!png_image_finish_read(&pi, nullptr, img.px.data(), 0, nullptr)) {
        std::string msg = pi.message;
        png_image_free(&pi);
        throw DataError(path, 8, "malformed PNG data: " + msg);
    }
    return img;
}

}  // namespace aepipe
