// The safetensors reader on hand-built files: a valid file loads, and each malformed case is a
// DataError with the path and byte offset (the damaged-checkpoint cases of a real run are in
// tests/e2e). Sizes come from the file: a header never sizes an allocation by itself.
#include <gtest/gtest.h>

#include "nodes/sink/safetensors.hpp"
#include "pipeline/error.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// 8-byte little-endian header length, the JSON header, then `data`.
std::string st_file(const std::string &header, const std::string &data) {
    std::string out;
    for (int i = 0; i < 8; ++i) out += char((uint64_t(header.size()) >> (8 * i)) & 0xff);
    return out + header + data;
}

std::string data_error(const std::string &path) {
    return error_of<DataError>([&] { read_safetensors(path); });
}

TEST(Safetensors, HandBuiltFileLoads) {
    TempDir tmp;
    const float v[2] = {1.5f, -2.f};
    write_bytes(tmp / "ok.safetensors",
                st_file(R"({"w":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"__metadata__":{"a":"b"}})",
                        std::string(reinterpret_cast<const char *>(v), 8)));
    StFile f = read_safetensors(tmp / "ok.safetensors");
    ASSERT_EQ(f.tensors.count("w"), 1u);
    EXPECT_EQ(f.tensors["w"].shape, (std::vector<int64_t>{2, 1}));
    EXPECT_EQ(f.tensors["w"].data, (std::vector<float>{1.5f, -2.f}));
    EXPECT_EQ(f.metadata["a"], "b");
}

// A shape of 2^32 x 2^32 x 16 floats in a file with 8 data bytes: refused on the shape, and
// the product is checked before it is formed (it would wrap round to 0 in 64 bits).
TEST(Safetensors, ShapeLargerThanTheDataIsRefused) {
    TempDir tmp;
    write_bytes(tmp / "big.safetensors",
                st_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})",
                        std::string(8, '\0')));
    EXPECT_EQ(data_error(tmp / "big.safetensors"),
              tmp / "big.safetensors" + ": byte 8: error: tensor 'w': shape is larger than the file's data");
}

TEST(Safetensors, OffsetsThatDoNotMatchTheShapeAreRefused) {
    TempDir tmp;
    write_bytes(tmp / "off.safetensors",
                st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0')));
    EXPECT_EQ(data_error(tmp / "off.safetensors"),
              tmp / "off.safetensors" + ": byte 8: error: tensor 'w': data_offsets do not match the shape");
}

TEST(Safetensors, HeaderThatIsNotAnObjectIsRefused) {
    TempDir tmp;
    write_bytes(tmp / "arr.safetensors", st_file("[1, 2]", ""));
    EXPECT_EQ(data_error(tmp / "arr.safetensors"),
              tmp / "arr.safetensors" + ": byte 8: error: the header must be a JSON object");
}

TEST(Safetensors, OtherDtypesAreRefused) {
    TempDir tmp;
    write_bytes(tmp / "f16.safetensors",
                st_file(R"({"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", std::string(2, '\0')));
    EXPECT_EQ(data_error(tmp / "f16.safetensors"),
              tmp / "f16.safetensors" + ": byte 8: error: tensor 'w': dtype \"F16\" is not supported (F32 only)");
}

}  // namespace
}  // namespace aepipe::test
