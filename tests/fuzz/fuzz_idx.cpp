// libFuzzer target: the IDX reader (read_idx / load_dataset's first step) on raw and gzip files.
// Input: the file's bytes; one starting with the gzip magic is stored under a .gz name.
#include "fuzz_input.hpp"
#include "formats/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    const std::string path = aepipe::fuzz::input_file(data, size, gz ? ".idx.gz" : ".idx");
    aepipe::fuzz::expect_clear_errors([&] {
        aepipe::IdxArray a = aepipe::read_idx(path);
        int64_t n, h, w, c;
        aepipe::image_dims(path, a.header, n, h, w, c);
    });
    return 0;
}
