// A user's picture -> a model's input, shared by `aepipe reconstruct` and `aepipe data pack`:
// channels (gray / RGB), alpha, the dark-on-light rule, resampling, and MNIST's recipe
// (ink fitted into a 20x20 box, centred by its centre of mass in 28x28).
#pragma once

#include <cstdint>
#include <string>

#include "formats/png.hpp"

namespace aepipe {

// Alpha composited over a background that contrasts with the picture: white when the
// alpha-weighted mean luminance of its pixels is below 128 (dark ink), else black. So a dark
// drawing on a transparent sheet reads as dark on white, a light one as light on black.
// c=2 -> 1, c=4 -> 3; images without alpha come back unchanged.
Image drop_alpha(const Image &img);
// Gray (c=1) or RGB (c=3) from any of c=1..4. Alpha goes first (drop_alpha); gray =
// round(0.299 R + 0.587 G + 0.114 B) (ITU-R BT.601); gray -> RGB repeats the value.
Image to_channels(const Image &img, int64_t c);
// Whether every pixel has R == G == B (always true for c = 1 or 2).
bool looks_gray(const Image &img);

// Mean of the outermost rows and columns of a gray image (the background's level).
double border_mean(const Image &gray);
// The inversion rule: a border brighter than mid-grey (mean > 127.5) is a light sheet, so the
// picture is dark on light and is inverted to light on dark, as MNIST digits are.
bool dark_on_light(const Image &gray);
void invert(Image &img);  // p -> 255 - p, every channel

// Resamples each channel to w x h, each axis on its own: area averaging (box filter with
// fractional coverage) along an axis that shrinks, bilinear with pixel centres aligned and
// edges clamped along one that grows; an axis that keeps its size is copied.
Image resize(const Image &img, int64_t w, int64_t h);

// MNIST's recipe on a light-on-dark gray image, to side x side (28):
//   1. levels: the background (border mean) plus 10% of the range up to the brightest pixel
//      becomes 0, the brightest pixel 255, linear in between (paper grain and shadows go);
//   2. crop to the bounding box of the non-zero pixels;
//   3. resize that box so its longer side is `box` (20) pixels, keeping the aspect ratio;
//   4. place it so its centre of mass lands on the centre (side-1)/2 of the output, rounded
//      to whole pixels and clamped so the box stays inside.
// DataError(path) when there is nothing brighter than the background.
Image mnist_fit(const Image &gray, const std::string &path, int64_t side = 28, int64_t box = 20);

struct Prepared {
    Image img;              // h x w x c
    bool inverted = false;  // dark on light, turned light on dark
    bool mnist = false;     // the MNIST recipe was used (else a plain resize)
};
struct PrepOptions {
    enum class Fit { Auto, Mnist, Resize } fit = Fit::Auto;           // auto: MNIST's for 28x28 gray
    enum class Invert { Auto, Always, Never } invert = Invert::Auto;  // auto: the rule, with MNIST's fit
};
// A picture to a model input of h x w x c (c = 1 or 3). By default 28x28 gray models get the
// MNIST recipe (gray, inversion rule, mnist_fit) and every other shape a plain resize. Forcing
// the MNIST fit needs a square gray model (box: 20/28 of its side). Inversion comes before the
// fit; without the MNIST fit it happens only when asked for (Always).
Prepared prepare_input(const Image &src, int64_t h, int64_t w, int64_t c, const std::string &path,
                       const PrepOptions &opt = {});

}  // namespace aepipe
