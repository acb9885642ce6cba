// The shape of one sample: channels, height, width. Rows are stored channels last (NHWC, as
// the IDX files are), so a sample is h*w*c floats with the channel index fastest. Flat data
// (a dense layer's output) is {c = width, h = 1, w = 1}.
#pragma once

#include <cstdint>
#include <string>

namespace aepipe {

struct Shape {
    int64_t c = 0, h = 1, w = 1;
    // Saturates at INT64_MAX instead of overflowing: a config may name sides up to 2^24 each
    // (reshape [2^24, 2^24, 2^24]), and validation must be able to say it is too large.
    int64_t size() const {
        int64_t ch = 0, chw = 0;
        if (__builtin_mul_overflow(c, h, &ch) || __builtin_mul_overflow(ch, w, &chw)) return INT64_MAX;
        return chw;
    }
    bool spatial() const { return h > 1 || w > 1; }
    bool operator==(const Shape &o) const { return c == o.c && h == o.h && w == o.w; }
    bool operator!=(const Shape &o) const { return !(*this == o); }
    // "28x28x1" (HxWxC) or "784" when flat.
    std::string str() const {
        if (!spatial()) return std::to_string(c);
        return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
    }
};

}  // namespace aepipe
