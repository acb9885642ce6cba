// make_shapes: draws a small labelled image set for the shapes example, no network needed.
//   make_shapes OUT_DIR [--per-class N] [--size S] [--seed S]
// Writes OUT_DIR/<class>/<k>.png for the classes circle, square and triangle: one shape of a
// random bright colour, size and position on a dark, slightly noisy background, S x S RGB,
// anti-aliased by 4x4 supersampling. Deterministic for a given seed.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "formats/png.hpp"

namespace {

// Whether (x, y), in units of the shape's radius around its centre, is inside shape `kind`.
bool inside(int kind, double x, double y) {
    switch (kind) {
        case 0:
            return x * x + y * y <= 1.0;  // circle
        case 1:
            return std::abs(x) <= 0.8 && std::abs(y) <= 0.8;  // square
        default:
            return y <= 0.7 && y >= -1.0 + 1.7 * std::abs(x);  // triangle, apex up
    }
}

aepipe::Image draw(int kind, int64_t side, std::mt19937_64 &rng) {
    std::uniform_real_distribution<double> u(0, 1);
    const double r = side * (0.22 + 0.15 * u(rng));
    const double cx = r + (side - 2 * r) * u(rng), cy = r + (side - 2 * r) * u(rng);
    // a bright colour: one channel high, the others random
    double rgb[3] = {0.25 + 0.5 * u(rng), 0.25 + 0.5 * u(rng), 0.25 + 0.5 * u(rng)};
    rgb[rng() % 3] = 0.95;
    aepipe::Image img{side, side, 3, std::vector<uint8_t>(size_t(side * side * 3))};
    for (int64_t py = 0; py < side; ++py)
        for (int64_t px = 0; px < side; ++px) {
            int hits = 0;
            for (int sy = 0; sy < 4; ++sy)
                for (int sx = 0; sx < 4; ++sx)
                    hits += inside(kind, (px + (sx + 0.5) / 4 - cx) / r, (py + (sy + 0.5) / 4 - cy) / r);
            const double cover = hits / 16.0, noise = 12 + 10 * u(rng);
            for (int k = 0; k < 3; ++k)
                img.px[size_t((py * side + px) * 3 + k)] =
                    uint8_t(std::lround(cover * 255 * rgb[k] + (1 - cover) * noise));
        }
    return img;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2 || argc % 2 != 0) {  // OUT_DIR, then option-value pairs
        std::fprintf(stderr, "usage: make_shapes OUT_DIR [--per-class N] [--size S] [--seed S]\n");
        return 2;
    }
    std::string out = argv[1];
    int64_t per_class = 100, side = 32;
    uint64_t seed = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        long long v = std::atoll(argv[i + 1]);
        if (k == "--per-class" && v > 0)
            per_class = v;
        else if (k == "--size" && v >= 8)
            side = v;
        else if (k == "--seed")
            seed = uint64_t(v);
        else {
            std::fprintf(stderr, "make_shapes: bad option %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
    }
    const char *names[] = {"circle", "square", "triangle"};
    std::mt19937_64 rng(seed);
    try {
        for (int kind = 0; kind < 3; ++kind) {
            std::filesystem::create_directories(out + "/" + names[kind]);
            for (int64_t k = 0; k < per_class; ++k) {
                char file[32];
                std::snprintf(file, sizeof file, "/%04lld.png", static_cast<long long>(k));
                // plain writes: write_png's fsync per file would take seconds for a throwaway set
                std::string path = out + "/" + names[kind] + file;
                std::ofstream f(path, std::ios::binary);
                f << aepipe::encode_png(draw(kind, side, rng));
                if (!f.flush()) throw std::runtime_error("cannot write " + path);
            }
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "make_shapes: %s\n", e.what());
        return 1;
    }
    std::printf("make_shapes: %lld pictures of %lldx%lld in %s (circle, square, triangle)\n",
                static_cast<long long>(3 * per_class), static_cast<long long>(side), static_cast<long long>(side),
                out.c_str());
    return 0;
}
