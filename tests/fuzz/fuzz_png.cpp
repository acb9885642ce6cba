// libFuzzer target: the PNG loader (read_png: any PNG to 8-bit gray/GA/RGB/RGBA).
#include "fuzz_input.hpp"
#include "formats/png.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string path = aepipe::fuzz::input_file(data, size, ".png");
    aepipe::fuzz::expect_clear_errors([&] {
        aepipe::Image img = aepipe::read_png(path);
        if (img.px.size() != size_t(img.w * img.h * img.c)) std::abort();
    });
    return 0;
}
