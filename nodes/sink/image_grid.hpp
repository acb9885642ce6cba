// Laying out images in a grid (the image_grid sink, aepipe reconstruct).
#pragma once

#include <cstdint>
#include <vector>

#include "formats/png.hpp"

namespace aepipe {

// Rows of images (each h x w x c bytes) in a grid with a 2-pixel gap, each pixel zoom x zoom.
Image tile_rows(const std::vector<std::vector<const uint8_t *>> &rows, int64_t h, int64_t w, int64_t c, int64_t zoom);

}  // namespace aepipe
