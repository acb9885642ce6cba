// libFuzzer target: the training-checkpoint reader (formats/ckpt_file.*, .ckpt files).
// The format ends in a crc32 of everything before it, so random mutations would almost all
// stop at the checksum; the target rewrites the last 4 bytes with the right crc32 first, so
// the fuzzer reaches the prefix, JSON header and tensor-table checks behind it.
#include <zlib.h>

#include <cstring>

#include "fuzz_input.hpp"
#include "formats/ckpt_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string bytes(reinterpret_cast<const char *>(data), size);
    if (bytes.size() >= aepipe::kCkptPrefix + 4) {
        const size_t body = bytes.size() - 4;
        const uint32_t crc = uint32_t(crc32(0L, reinterpret_cast<const Bytef *>(bytes.data()), uInt(body)));
        std::memcpy(bytes.data() + body, &crc, 4);  // little-endian, as the format stores it
    }
    aepipe::fuzz::expect_clear_errors([&] { aepipe::decode_ckpt(bytes, "fuzz.ckpt"); });
    return 0;
}
