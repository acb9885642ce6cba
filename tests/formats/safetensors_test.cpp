// The safetensors reader on hand-built files: a valid file loads, and each malformed case is a
// DataError with the path and byte offset (the damaged-checkpoint cases of a real run are in
// tests/e2e). Sizes come from the file: a header never sizes an allocation by itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "formats/png.hpp"
#include "formats/safetensors.hpp"
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

std::string read_error(const std::string &path) {
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
    EXPECT_EQ(read_error(tmp / "big.safetensors"),
              tmp / "big.safetensors" + ": byte 8: error: tensor 'w': shape is larger than the file's data");
}

TEST(Safetensors, OffsetsThatDoNotMatchTheShapeAreRefused) {
    TempDir tmp;
    write_bytes(tmp / "off.safetensors",
                st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0')));
    EXPECT_EQ(read_error(tmp / "off.safetensors"),
              tmp / "off.safetensors" + ": byte 8: error: tensor 'w': data_offsets do not match the shape");
}

TEST(Safetensors, HeaderThatIsNotAnObjectIsRefused) {
    TempDir tmp;
    write_bytes(tmp / "arr.safetensors", st_file("[1, 2]", ""));
    EXPECT_EQ(read_error(tmp / "arr.safetensors"),
              tmp / "arr.safetensors" + ": byte 8: error: the header must be a JSON object");
}

TEST(Safetensors, OtherDtypesAreRefused) {
    TempDir tmp;
    write_bytes(tmp / "f16.safetensors",
                st_file(R"({"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", std::string(2, '\0')));
    EXPECT_EQ(read_error(tmp / "f16.safetensors"),
              tmp / "f16.safetensors" + ": byte 8: error: tensor 'w': dtype \"F16\" is not supported (F32 only)");
}


std::string floats(std::initializer_list<float> v) {
    std::string s(v.size() * 4, '\0');
    std::memcpy(s.data(), std::data(v), s.size());
    return s;
}

// The issue's example: two tensors sharing bytes were accepted and aliased each other.
TEST(Safetensors, OverlappingOffsetsAreRefusedNamingBothTensors) {
    TempDir tmp;
    const std::string path = tmp / "overlap.safetensors";
    const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    write_bytes(path, st_file(header, floats({1, 2, 3})));
    EXPECT_EQ(read_error(path), path + ": byte " + std::to_string(8 + header.size() + 4) +
                                    ": error: tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8] (each tensor "
                                    "needs bytes of its own)");
    // The same bytes twice (one tensor's data under two names).
    const std::string twice = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    write_bytes(path, st_file(twice, floats({1, 2})));
    EXPECT_NE(read_error(path).find("tensor 'b': data_offsets [0, 8] overlap tensor 'a' [0, 8]"), std::string::npos);
}

// Out of order in the file is fine (the format sorts by offset), a gap or a tail is not.
TEST(Safetensors, OffsetsMustTileTheDataWithoutGapsOrLeftovers) {
    TempDir tmp;
    const std::string path = tmp / "t.safetensors";
    const std::string swapped = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                                R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    write_bytes(path, st_file(swapped, floats({1, 2})));
    StFile f = read_safetensors(path);
    EXPECT_EQ(f.tensors["a"].data, std::vector<float>{2});
    EXPECT_EQ(f.tensors["b"].data, std::vector<float>{1});

    const std::string gap = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    write_bytes(path, st_file(gap, floats({1, 2, 3})));
    EXPECT_EQ(read_error(path), path + ": byte " + std::to_string(8 + gap.size() + 4) +
                                    ": error: tensor 'b': data_offsets [8, 12] leave bytes [4, 8) of the data to no "
                                    "tensor (the tensors must follow each other without gaps)");
    const std::string one = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    write_bytes(path, st_file(one, floats({1, 2})));
    EXPECT_EQ(read_error(path), path + ": byte " + std::to_string(8 + one.size() + 4) +
                                    ": error: 4 bytes after the last tensor ('a') belong to no tensor");
}

// The issue's example: NaN/Inf weights loaded, and reconstruct wrote their output with exit 0.
TEST(Safetensors, NonFiniteValuesAreRefusedNamingTensorAndByte) {
    TempDir tmp;
    const std::string path = tmp / "nan.safetensors";
    const std::string header = R"({"layers.0.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
    write_bytes(path, st_file(header, floats({1, std::nanf(""), 3})));
    EXPECT_EQ(read_error(path), path + ": byte " + std::to_string(8 + header.size() + 4) +
                                    ": error: tensor 'layers.0.bias': value 1 is NaN (weights must be finite numbers)");
    write_bytes(path, st_file(header, floats({1, 2, -INFINITY})));
    EXPECT_EQ(read_error(path), path + ": byte " + std::to_string(8 + header.size() + 8) +
                                    ": error: tensor 'layers.0.bias': value 2 is -Inf (weights must be finite numbers)");
}

// Through the binary: a run's model.safetensors with one NaN weight; reconstruct refuses it
// (exit 1, the tensor named) and writes nothing.
TEST(Safetensors, ReconstructRefusesANanModelAndWritesNothing) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    RunResult r = run_aepipe({"run", write_tiny_config(tmp.path(), d, 1), "--out", tmp / "runs", "--quiet",
                              "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string model = tmp / "runs/" + list_dir(tmp / "runs").at(0) + "/model.safetensors";
    StFile f = read_safetensors(model);
    f.tensors.at("layers.1.weight").data[5] = std::nanf("");
    write_bytes(model, encode_safetensors(f));
    write_png(tmp / "x.png", Image{8, 8, 1, std::vector<uint8_t>(64, 200)});
    RunResult rec = run_aepipe({"reconstruct", "--checkpoint", model, "--out", tmp / "out", tmp / "x.png"});
    EXPECT_EQ(rec.exit_code, 1) << rec.err;
    EXPECT_NE(rec.err.find(model + ": byte "), std::string::npos) << rec.err;
    EXPECT_NE(rec.err.find("error: tensor 'layers.1.weight': value 5 is NaN"), std::string::npos) << rec.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "out"));
}

}  // namespace
}  // namespace aepipe::test
