// The shape of one sample: channels, height, width. Rows are stored channels last (NHWC, as
// the IDX files are), so a sample is h*w*c floats with the channel index fastest. Flat data
// (a dense layer's output) is {c = width, h = 1, w = 1}.
#pragma once

#include <cstdint>
#include <string>

namespace aepipe {

struct Shape {
    int64_t c = 0, h = 1, w = 1;
    int64_t size() const { return c * h * w; }
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
