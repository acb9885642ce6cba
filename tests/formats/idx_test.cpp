// IDX reading and writing: round trips (raw and gzip) and every malformed-file case, each
// with the exact message: path, byte offset of what is wrong, and what was expected.
#include <gtest/gtest.h>

#include <cstdlib>

#include "formats/idx.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

class IdxRoundTrip : public ::testing::TestWithParam<const char *> {};

TEST_P(IdxRoundTrip, ImagesKeepDimsAndBytes) {
    TempDir tmp;
    const std::string path = tmp / (std::string("imgs") + GetParam());
    std::vector<uint8_t> px = ramp_pixels(5, 3, 4);
    write_images(path, 5, 3, 4, px);

    IdxHeader h = read_idx_header(path);
    EXPECT_EQ(h.dims, (std::vector<int64_t>{5, 3, 4}));
    EXPECT_EQ(h.header_bytes, 16);
    EXPECT_EQ(h.count(), 60);
    IdxArray a = read_idx(path);
    EXPECT_EQ(a.header.dims, h.dims);
    EXPECT_EQ(a.data, px);
}

TEST_P(IdxRoundTrip, DatasetPairsImagesWithLabels) {
    TempDir tmp;
    const std::string ext = GetParam();
    Shapes s = make_shapes(6, 5, 3);
    write_images(tmp / ("i" + ext), 6, 5, 5, s.pixels);
    write_labels(tmp / ("l" + ext), s.labels);

    Dataset d = load_dataset(tmp / ("i" + ext), tmp / ("l" + ext));
    EXPECT_EQ(d.path, tmp / ("i" + ext));
    EXPECT_EQ(d.n, 6);
    EXPECT_EQ(d.h, 5);
    EXPECT_EQ(d.w, 5);
    EXPECT_EQ(d.c, 1);
    EXPECT_EQ(d.dim(), 25);
    EXPECT_EQ(d.pixels, s.pixels);
    EXPECT_EQ(d.labels, s.labels);
    EXPECT_EQ(std::vector<uint8_t>(d.image(4), d.image(4) + 25),
              std::vector<uint8_t>(s.pixels.begin() + 4 * 25, s.pixels.begin() + 5 * 25));
    EXPECT_TRUE(load_dataset(tmp / ("i" + ext), "").labels.empty());
}

TEST_P(IdxRoundTrip, FourDimensionalImagesHaveChannels) {
    TempDir tmp;
    const std::string path = tmp / (std::string("rgb") + GetParam());
    std::vector<uint8_t> px = ramp_pixels(2, 3, 3 * 3);
    write_idx(path, {2, 3, 3, 3}, px.data());
    Dataset d = load_dataset(path, "");
    EXPECT_EQ(d.n, 2);
    EXPECT_EQ(d.c, 3);
    EXPECT_EQ(d.dim(), 27);
    EXPECT_EQ(d.pixels, px);
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxRoundTrip, ::testing::Values(".idx", ".idx.gz"),
                         [](const auto &info) { return std::string(info.param) == ".idx" ? "raw" : "gz"; });

TEST(Idx, GzNameMeansGzipBytes) {
    TempDir tmp;
    std::vector<uint8_t> zeros(4096, 0);
    write_idx(tmp / "z.idx.gz", {4096}, zeros.data());
    write_idx(tmp / "z.idx", {4096}, zeros.data());
    std::string gz = read_bytes(tmp / "z.idx.gz"), raw = read_bytes(tmp / "z.idx");
    ASSERT_GE(gz.size(), 2u);
    EXPECT_EQ(uint8_t(gz[0]), 0x1f);
    EXPECT_EQ(uint8_t(gz[1]), 0x8b);
    EXPECT_LT(gz.size(), 200u) << "4 KiB of zeros should compress";
    EXPECT_EQ(raw, idx_bytes({4096}, std::string(4096, '\0')));
}

// ---- malformed files ------------------------------------------------------------------

struct BadIdx {
    std::string label;
    std::string file;   // name in the temp folder (.gz: gzip-compressed when `gzip`)
    std::string bytes;  // file contents (before compression)
    bool gzip;
    std::string message;  // after "PATH: "
};
void PrintTo(const BadIdx &c, std::ostream *os) { *os << c.label; }

const int64_t k2p31 = int64_t(1) << 31;

const std::vector<BadIdx> kBad = {
    {"empty", "e.idx", "", false,
     "byte 0: error: file ends early: expected 4 bytes of the IDX magic number from byte 0, got 0"},
    {"truncated_header", "h.idx", std::string("\0\0\x08\x03\0\0", 6), false,
     "byte 6: error: file ends early: expected 4 bytes of the IDX dimensions from byte 4, got 2"},
    {"truncated_data", "d.idx", idx_bytes({4, 8, 8}, std::string(100, 'x')), false,
     "byte 16: error: header claims 4x8x8 = 256 bytes of data, but the file holds 100 bytes after the header"},
    {"truncated_data_gz", "d.idx.gz", idx_bytes({4, 8, 8}, std::string(100, 'x')), true,
     "byte 16: error: header claims 4x8x8 = 256 bytes of data, but the file decompresses to 100 bytes after the "
     "header"},
    {"extra_data", "x.idx", idx_bytes({2, 2, 2}, std::string(9, 'x')), false,
     "byte 16: error: header claims 2x2x2 = 8 bytes of data, but the file holds 9 bytes after the header"},
    {"wrong_magic", "m.idx", std::string("\x01\x02\x08\x01\0\0\0\x01x", 9), false,
     "byte 0: error: not an IDX file: the magic number must start with two zero bytes (a gzip file needs a .gz "
     "name)"},
    {"gzip_without_gz_name", "g.idx", gzip_bytes(idx_bytes({3}, "abc")), false,
     "byte 0: error: not an IDX file: the magic number must start with two zero bytes (a gzip file needs a .gz "
     "name)"},
    {"element_type_not_u8", "f.idx", idx_bytes({2}, std::string(8, '\0'), 0x0D), false,
     "byte 2: error: unsupported IDX element type 0x0d: aepipe reads unsigned bytes (0x08)"},
    {"zero_dims", "z.idx", std::string("\0\0\x08\0", 4), false,
     "byte 3: error: IDX files with 0 dimensions are not supported (1 to 4)"},
    {"five_dims", "5.idx", idx_bytes({1, 1, 1, 1, 1}, "x"), false,
     "byte 3: error: IDX files with 5 dimensions are not supported (1 to 4)"},
    {"a_dimension_is_zero", "0.idx", idx_bytes({4, 0, 8}, ""), false,
     "byte 8: error: dimension 1 is 0, expected 1 to 2147483648"},
    {"a_dimension_over_2p31", "o.idx", idx_bytes({k2p31 + 1}, "x"), false,
     "byte 4: error: dimension 0 is 2147483649, expected 1 to 2147483648"},
    // The header alone must never size an allocation: 2^31 images in a 26-byte file fail
    // on the size check at the header, not with bad_alloc or "file ends early" after it.
    {"2p31_images_in_a_tiny_file", "big.idx", idx_bytes({k2p31, 1, 1}, std::string(10, 'x')), false,
     "byte 16: error: header claims 2147483648x1x1 = 2147483648 bytes of data, but the file holds 10 bytes after "
     "the header"},
    {"2p31_images_in_a_tiny_gz", "big.idx.gz", idx_bytes({k2p31, 1, 1}, std::string(10, 'x')), true,
     "byte 16: error: header claims 2147483648x1x1 = 2147483648 bytes of data, but the file decompresses to 10 bytes "
     "after the header"},
    {"more_than_1TiB", "tb.idx", idx_bytes({k2p31, k2p31, 1}, "x"), false,
     "byte 4: error: dimensions claim more than 1 TiB of data"},
    {"gz_name_but_not_gzip", "garbage.idx.gz", "this is not gzip data, only text with a .gz name", false,
     "byte 0: error: not a gzip file: the name ends in .gz, but the file does not start with the gzip magic 1f 8b"},
    {"gz_too_short", "short.idx.gz", "\x1f\x8b\x08", false, "byte 0: error: too short to be a gzip file"},
};

class MalformedIdx : public ::testing::TestWithParam<BadIdx> {};

TEST_P(MalformedIdx, ReadIsADataErrorWithPathAndByte) {
    const BadIdx &c = GetParam();
    TempDir tmp;
    const std::string path = tmp / c.file;
    write_bytes(path, c.gzip ? gzip_bytes(c.bytes) : c.bytes);
    EXPECT_EQ(error_of<DataError>([&] { read_idx(path); }), path + ": " + c.message);
    // load_dataset (what idx_reader calls) reports the same.
    EXPECT_EQ(error_of<DataError>([&] { load_dataset(path, ""); }), path + ": " + c.message);
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedIdx, ::testing::ValuesIn(kBad),
                         [](const auto &info) { return info.param.label; });

// The gzip trailer keeps the size mod 2^32: a 16-byte header claiming 2^39 bytes has a
// trailer that agrees (2^39 + 16 = 16 mod 2^32). The trailer is no evidence: the data that
// really inflates decides, and nothing is allocated for the claim.
TEST(Idx, GzipTrailerCannotVouchForAHugeClaim) {
    TempDir tmp;
    const std::string path = tmp / "forged.idx.gz";
    write_bytes(path, gzip_bytes(idx_bytes({k2p31, 256, 1}, "")));
    EXPECT_EQ(error_of<DataError>([&] { read_idx(path); }),
              path +
                  ": byte 16: error: header claims 2147483648x256x1 = 549755813888 bytes of data, but the file "
                  "decompresses to 0 bytes after the header");
}

TEST(Idx, HeaderOnlyReadChecksTheSizeToo) {
    TempDir tmp;
    write_bytes(tmp / "d.idx", idx_bytes({4, 8, 8}, std::string(100, 'x')));
    EXPECT_EQ(error_of<DataError>([&] { read_idx_header(tmp / "d.idx"); }),
              tmp / "d.idx" +
                  ": byte 16: error: header claims 4x8x8 = 256 bytes of data, but the file holds 100 bytes "
                  "after the header");
}

// A damaged gzip member whose trailer still claims the right size: the stream itself is bad.
// zlib inflates ahead (256 KiB at a time), so a small file fails on its first read.
TEST(Idx, CorruptGzipStreamIsADataError) {
    TempDir tmp;
    auto corrupt_crc = [&](const std::string &name, int64_t n) {
        std::vector<uint8_t> px(static_cast<size_t>(n));
        uint64_t x = 88172645463325252ull;  // xorshift: incompressible bytes
        for (auto &b : px) x ^= x << 13, x ^= x >> 7, x ^= x << 17, b = uint8_t(x);
        write_idx(tmp / name, {n, 1, 1}, px.data());
        std::string gz = read_bytes(tmp / name);
        gz[gz.size() - 8] ^= 0x55;  // the CRC-32 in the trailer: every byte inflates, the check fails
        write_bytes(tmp / name, gz);
        return tmp / name;
    };
    std::string small = corrupt_crc("small.idx.gz", 4096);
    EXPECT_EQ(error_of<DataError>([&] { read_idx(small); }),
              small + ": byte 0: error: corrupt gzip data (incorrect data check) while reading the IDX magic number; "
                      "the compressed stream fails at byte " + std::to_string(read_bytes(small).size() - 4) +
                      " of the file, in gzip member 1");
    // Where zlib notices depends on its buffering: somewhere in the data or at its end.
    std::string large = corrupt_crc("large.idx.gz", 1 << 20);
    std::string lmsg = error_of<DataError>([&] { read_idx(large); });
    EXPECT_EQ(lmsg.rfind(large + ": byte ", 0), 0u) << lmsg;
    int64_t at = std::atoll(lmsg.c_str() + large.size() + 7);
    EXPECT_GE(at, 16) << lmsg;
    EXPECT_LE(at, 16 + (1 << 20)) << lmsg;
    EXPECT_NE(lmsg.find(": error: corrupt gzip data (incorrect data check) "), std::string::npos) << lmsg;

    // Garbage in the middle of the deflate stream.
    std::vector<uint8_t> px = ramp_pixels(64, 8, 8);
    write_idx(tmp / "mid.idx.gz", {64, 8, 8}, px.data());
    std::string mid = read_bytes(tmp / "mid.idx.gz");
    for (size_t i = mid.size() / 2; i < mid.size() / 2 + 16; ++i) mid[i] = char(0xff);
    write_bytes(tmp / "mid.idx.gz", mid);
    std::string msg = error_of<DataError>([&] { read_idx(tmp / "mid.idx.gz"); });
    EXPECT_EQ(msg.rfind(tmp / "mid.idx.gz" + ": byte ", 0), 0u) << msg;
    EXPECT_NE(msg.find(": error: corrupt gzip data ("), std::string::npos) << msg;
}

TEST(Idx, MissingFileAndDirectory) {
    TempDir tmp;
    EXPECT_EQ(error_of<DataError>([&] { read_idx(tmp / "nope.idx"); }), tmp / "nope.idx" + ": error: file not found");
    EXPECT_EQ(error_of<DataError>([&] { read_idx_header(tmp / "nope.idx.gz"); }),
              tmp / "nope.idx.gz" + ": error: file not found");
    EXPECT_EQ(error_of<DataError>([&] { read_idx(tmp.path()); }),
              tmp.path() + ": error: is a directory, expected an IDX file");
}

TEST(Idx, LabelsMustMatchTheImages) {
    TempDir tmp;
    write_images(tmp / "i.idx", 4, 2, 2, ramp_pixels(4, 2, 2));
    write_labels(tmp / "three.idx", {1, 2, 3});
    EXPECT_EQ(error_of<DataError>([&] { load_dataset(tmp / "i.idx", tmp / "three.idx"); }),
              tmp / "three.idx" + ": byte 4: error: expected 4 labels (one per image in " + tmp / "i.idx" + "), got 3");
    // Labels given as a 2-D array.
    std::vector<uint8_t> l2(8, 1);
    write_idx(tmp / "2d.idx", {4, 2}, l2.data());
    EXPECT_EQ(error_of<DataError>([&] { load_dataset(tmp / "i.idx", tmp / "2d.idx"); }),
              tmp / "2d.idx" + ": byte 3: error: expected 4 labels (one per image in " + tmp / "i.idx" +
                  "), got an array of 4x2");
    // A missing labels file is reported by its own path.
    EXPECT_EQ(error_of<DataError>([&] { load_dataset(tmp / "i.idx", tmp / "none.idx"); }),
              tmp / "none.idx" + ": error: file not found");
}

TEST(Idx, ImagesNeedThreeOrFourDims) {
    TempDir tmp;
    write_labels(tmp / "flat.idx", {1, 2, 3});
    EXPECT_EQ(error_of<DataError>([&] { load_dataset(tmp / "flat.idx", ""); }),
              tmp / "flat.idx" + ": byte 3: error: expected images (N x H x W or N x H x W x C), got 1 dimension(s)");
}

}  // namespace
}  // namespace aepipe::test
