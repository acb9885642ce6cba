// Image preparation for reconstruct and data pack; see image_prep.hpp for each step's rule.
// Everything works on 8-bit channels-last images (formats/png.hpp's Image); resampling
// computes in double and rounds once per axis.
#include "formats/image_prep.hpp"

#include <algorithm>
#include <cmath>

#include "pipeline/error.hpp"

namespace aepipe {

static uint8_t to_u8(double v) { return uint8_t(std::lround(std::clamp(v, 0.0, 255.0))); }

static double luminance(const uint8_t *p, int64_t c) {
    return c >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : double(p[0]);
}

Image drop_alpha(const Image &img) {
    if (img.c != 2 && img.c != 4) return img;
    const int64_t n = img.w * img.h, cc = img.c - 1;
    double ink = 0, weight = 0;
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t *p = &img.px[size_t(i * img.c)];
        ink += p[cc] * luminance(p, cc);
        weight += p[cc];
    }
    const double bg = weight > 0 && ink / weight >= 128 ? 0 : 255;
    Image out{img.w, img.h, cc, std::vector<uint8_t>(size_t(n * cc))};
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t *p = &img.px[size_t(i * img.c)];
        const double a = p[cc] / 255.0;
        for (int64_t k = 0; k < cc; ++k) out.px[size_t(i * cc + k)] = to_u8(p[k] * a + bg * (1 - a));
    }
    return out;
}

Image to_channels(const Image &img, int64_t c) {
    if (c != 1 && c != 3)
        throw RuntimeError("images can be made gray (1 channel) or RGB (3), not " + std::to_string(c));
    Image src = drop_alpha(img);
    if (src.c == c) return src;
    const int64_t n = src.w * src.h;
    Image out{src.w, src.h, c, std::vector<uint8_t>(size_t(n * c))};
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t *p = &src.px[size_t(i * src.c)];
        if (c == 1)
            out.px[size_t(i)] = to_u8(luminance(p, src.c));
        else
            for (int64_t k = 0; k < 3; ++k) out.px[size_t(i * 3 + k)] = p[0];
    }
    return out;
}

bool looks_gray(const Image &img) {
    if (img.c < 3) return true;
    for (int64_t i = 0; i < img.w * img.h; ++i) {
        const uint8_t *p = &img.px[size_t(i * img.c)];
        if (p[0] != p[1] || p[1] != p[2]) return false;
    }
    return true;
}

double border_mean(const Image &gray) {
    double sum = 0;
    int64_t count = 0;
    for (int64_t y = 0; y < gray.h; ++y)
        for (int64_t x = 0; x < gray.w; ++x)
            if (y == 0 || x == 0 || y == gray.h - 1 || x == gray.w - 1) sum += gray.px[size_t(y * gray.w + x)], ++count;
    return count ? sum / double(count) : 0;
}

bool dark_on_light(const Image &gray) { return border_mean(gray) > 127.5; }

void invert(Image &img) {
    for (auto &p : img.px) p = uint8_t(255 - p);
}

namespace {

struct Tap {
    int64_t i;
    double w;
};

// For each output index along one axis, the source indices and their weights.
std::vector<std::vector<Tap>> axis_taps(int64_t n_in, int64_t n_out) {
    std::vector<std::vector<Tap>> taps{size_t(n_out)};
    const double s = double(n_in) / double(n_out);
    for (int64_t o = 0; o < n_out; ++o) {
        auto &t = taps[size_t(o)];
        if (n_out <= n_in) {  // area: the source interval [o s, (o+1) s) by coverage
            const double a = double(o) * s, b = double(o + 1) * s;
            for (int64_t i = int64_t(std::floor(a)); i < n_in && double(i) < b; ++i) {
                double cover = std::min(b, double(i + 1)) - std::max(a, double(i));
                if (cover > 1e-12) t.push_back({i, cover / s});
            }
        } else {  // bilinear between the two nearest source centres
            double x = std::clamp((double(o) + 0.5) * s - 0.5, 0.0, double(n_in - 1));
            int64_t i0 = int64_t(std::floor(x));
            double f = x - double(i0);
            t.push_back({i0, 1 - f});
            if (f > 0) t.push_back({i0 + 1, f});
        }
    }
    return taps;
}

}  // namespace

Image resize(const Image &img, int64_t w, int64_t h) {
    if (w < 1 || h < 1) throw RuntimeError("cannot resize to " + std::to_string(w) + "x" + std::to_string(h));
    if (w == img.w && h == img.h) return img;
    const int64_t c = img.c;
    auto tx = axis_taps(img.w, w), ty = axis_taps(img.h, h);
    std::vector<double> rows(size_t(img.h * w * c), 0.0);  // horizontal pass
    for (int64_t y = 0; y < img.h; ++y)
        for (int64_t x = 0; x < w; ++x)
            for (const Tap &t : tx[size_t(x)])
                for (int64_t k = 0; k < c; ++k)
                    rows[size_t((y * w + x) * c + k)] += t.w * img.px[size_t((y * img.w + t.i) * c + k)];
    Image out{w, h, c, std::vector<uint8_t>(size_t(w * h * c))};
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            for (int64_t k = 0; k < c; ++k) {
                double v = 0;
                for (const Tap &t : ty[size_t(y)]) v += t.w * rows[size_t((t.i * w + x) * c + k)];
                out.px[size_t((y * w + x) * c + k)] = to_u8(v);
            }
    return out;
}

// Levels (step 1 of mnist_fit): the background and faint pixels to 0, the brightest to 255.
static Image levels(const Image &gray, const std::string &path) {
    const double bg = border_mean(gray);
    const double top = *std::max_element(gray.px.begin(), gray.px.end());
    if (top - bg < 16)
        throw DataError(path, "the picture is blank: nothing is clearly brighter than its background (level " +
                                  std::to_string(int(std::lround(bg))) + ") after the dark-on-light rule");
    const double floor = bg + 0.1 * (top - bg), gain = 255.0 / (top - floor);
    Image out = gray;
    for (auto &p : out.px) p = to_u8((p - floor) * gain);
    return out;
}

Image mnist_fit(const Image &gray, const std::string &path, int64_t side, int64_t box) {
    Image ink = levels(gray, path);
    int64_t x0 = ink.w, y0 = ink.h, x1 = -1, y1 = -1;  // bounding box of the ink
    for (int64_t y = 0; y < ink.h; ++y)
        for (int64_t x = 0; x < ink.w; ++x)
            if (ink.px[size_t(y * ink.w + x)])
                x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    const int64_t bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    Image crop{bw, bh, 1, std::vector<uint8_t>(size_t(bw * bh))};
    for (int64_t y = 0; y < bh; ++y) std::copy_n(&ink.px[size_t((y0 + y) * ink.w + x0)], bw, &crop.px[size_t(y * bw)]);
    const double scale = double(box) / double(std::max(bw, bh));
    const int64_t nw = std::clamp(int64_t(std::lround(double(bw) * scale)), int64_t(1), box);
    const int64_t nh = std::clamp(int64_t(std::lround(double(bh) * scale)), int64_t(1), box);
    Image fit = resize(crop, nw, nh);
    double mass = 0, mx = 0, my = 0;
    for (int64_t y = 0; y < nh; ++y)
        for (int64_t x = 0; x < nw; ++x) {
            double v = fit.px[size_t(y * nw + x)];
            mass += v, mx += v * double(x), my += v * double(y);
        }
    const double centre = double(side - 1) / 2;
    // mass > 0: the box holds ink and resampling keeps some of it (weights sum to 1).
    int64_t ox = mass > 0 ? std::lround(centre - mx / mass) : (side - nw) / 2;
    int64_t oy = mass > 0 ? std::lround(centre - my / mass) : (side - nh) / 2;
    ox = std::clamp(ox, int64_t(0), side - nw), oy = std::clamp(oy, int64_t(0), side - nh);
    Image out{side, side, 1, std::vector<uint8_t>(size_t(side * side), 0)};
    for (int64_t y = 0; y < nh; ++y) std::copy_n(&fit.px[size_t(y * nw)], nw, &out.px[size_t((oy + y) * side + ox)]);
    return out;
}

Prepared prepare_input(const Image &src, int64_t h, int64_t w, int64_t c, const std::string &path,
                       const PrepOptions &opt) {
    using Fit = PrepOptions::Fit;
    using Invert = PrepOptions::Invert;
    Prepared p;
    if (c != 1 && c != 3)
        throw DataError(path, "the model takes " + std::to_string(c) +
                                  "-channel images; pictures can be made gray (1 channel) or RGB (3)");
    p.mnist = opt.fit == Fit::Mnist || (opt.fit == Fit::Auto && h == 28 && w == 28 && c == 1);
    if (p.mnist && (h != w || c != 1))
        throw RuntimeError("MNIST's fit needs a square gray model; this one takes " + std::to_string(h) + "x" +
                           std::to_string(w) + "x" + std::to_string(c) + " images (use the plain resize)");
    Image img = to_channels(src, c);
    p.inverted = opt.invert == Invert::Always || (opt.invert == Invert::Auto && p.mnist && dark_on_light(img));
    if (p.inverted) invert(img);
    p.img = p.mnist ? mnist_fit(img, path, h, std::max<int64_t>(1, std::lround(double(h) * 20.0 / 28.0)))
                    : resize(img, w, h);
    return p;
}

}  // namespace aepipe
