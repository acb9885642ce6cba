// gzip IDX files read as zlib defines the format (RFC 1952): every member of a multi-member
// file, nothing trusted to the trailer's size field, and a truncated, damaged or padded stream
// reported with the byte where it fails.
#include <gtest/gtest.h>

#include "formats/idx.hpp"
#include "pipeline/error.hpp"
#include "pipeline/file_io.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// Incompressible pixels (xorshift), so a cut or a flipped byte lands inside the deflate data.
std::vector<uint8_t> noise(size_t n) {
    std::vector<uint8_t> v(n);
    uint64_t x = 88172645463325252ull;
    for (auto &b : v) x ^= x << 13, x ^= x >> 7, x ^= x << 17, b = uint8_t(x);
    return v;
}

std::string as_text(const std::vector<uint8_t> &v) { return std::string(v.begin(), v.end()); }

class Gzip : public ::testing::Test {
protected:
    TempDir tmp{"aepipe-gzip"};
    const std::vector<uint8_t> px = noise(64 * 8 * 8);
    const std::string idx = idx_bytes({64, 8, 8}, as_text(px));
};

// The example: `zcat` reads a two-member file whole; aepipe used to stop after the
// first member and compare against the last member's size field.
// A file refused while it is being opened (too short, no gzip magic) gives its descriptor back:
// a reader that leaked one per refusal ran out of descriptors in a long fuzz run.
TEST_F(Gzip, RefusedFilesLeakNoDescriptor) {
    auto open_fds = [] { return list_dir("/proc/self/fd").size(); };
    write_bytes(tmp / "short.idx.gz", "abc");
    write_bytes(tmp / "plain.idx.gz", idx);
    const size_t before = open_fds();
    for (int i = 0; i < 50; ++i) {
        EXPECT_THROW(read_idx(tmp / "short.idx.gz"), DataError);
        EXPECT_THROW(read_idx(tmp / "plain.idx.gz"), DataError);
    }
    EXPECT_EQ(open_fds(), before);
}

TEST_F(Gzip, TwoMembersReadAsOneStream) {
    const std::string path = tmp / "two.idx.gz";
    write_bytes(path, gzip_bytes(idx.substr(0, 1000)) + gzip_bytes(idx.substr(1000)));
    IdxArray a = read_idx(path);
    EXPECT_EQ(a.header.dims, (std::vector<int64_t>{64, 8, 8}));
    EXPECT_EQ(a.data, px);
    EXPECT_EQ(read_idx_header(path).dims, (std::vector<int64_t>{64, 8, 8}));
}

// One more of the class: a member boundary inside the header, and an empty member between.
TEST_F(Gzip, MembersSplitAnywhereIncludingEmptyOnes) {
    const std::string path = tmp / "three.idx.gz";
    write_bytes(path, gzip_bytes(idx.substr(0, 6)) + gzip_bytes("") + gzip_bytes(idx.substr(6)));
    EXPECT_EQ(read_idx(path).data, px);
}

// A truncated file: the old reader took the size from the 4 bytes the cut left at the end
// ("decompresses to 3800867955 bytes"); now the stream's real end is reported.
TEST_F(Gzip, TruncatedFileSaysWhereItEnds) {
    const std::string path = tmp / "cut.idx.gz";
    std::string gz = gzip_bytes(idx);
    gz.resize(gz.size() - 1000);
    write_bytes(path, gz);
    const std::string prefix = path + ": byte ";
    const std::string why = ": error: the gzip data ends early (truncated file?): the file ends at byte " +
                            std::to_string(gz.size()) + " inside gzip member 1, while reading data";
    for (bool header_only : {false, true}) {
        std::string msg = error_of<DataError>([&] { header_only ? (void)read_idx_header(path) : (void)read_idx(path); });
        EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
        EXPECT_NE(msg.find(why), std::string::npos) << msg;
        EXPECT_EQ(msg.find("decompresses to"), std::string::npos) << msg;
    }
    // Cut inside the trailer: all data inflates, the member's checks are missing.
    gz = gzip_bytes(idx);
    gz.resize(gz.size() - 3);
    write_bytes(path, gz);
    EXPECT_NE(error_of<DataError>([&] { read_idx(path); }).find("the gzip data ends early (truncated file?)"),
              std::string::npos);
}

// A two-member file whose last trailer says nothing about the whole: the data decides.
TEST_F(Gzip, SizeComesFromTheDataNotTheTrailer) {
    const std::string path = tmp / "short.idx.gz";
    // 100 bytes of data for a header that claims 4096: both members are valid.
    write_bytes(path, gzip_bytes(idx.substr(0, 16)) + gzip_bytes(idx.substr(16, 100)));
    EXPECT_EQ(error_of<DataError>([&] { read_idx(path); }),
              path + ": byte 16: error: header claims 64x8x8 = 4096 bytes of data, but the file decompresses to 100 "
                     "bytes after the header");
    EXPECT_EQ(error_of<DataError>([&] { read_idx_header(path); }),
              path + ": byte 16: error: header claims 64x8x8 = 4096 bytes of data, but the file decompresses to 100 "
                     "bytes after the header");
    // More data than claimed, in a second member.
    write_bytes(path, gzip_bytes(idx) + gzip_bytes("xyz"));
    EXPECT_EQ(error_of<DataError>([&] { read_idx(path); }),
              path + ": byte 16: error: header claims 64x8x8 = 4096 bytes of data, but the file decompresses to 4099 "
                     "bytes after the header");
}

TEST_F(Gzip, BytesAfterTheLastMemberAreRejectedWithTheirOffset) {
    const std::string path = tmp / "pad.idx.gz";
    const std::string gz = gzip_bytes(idx);
    write_bytes(path, gz + "junk");
    EXPECT_EQ(error_of<DataError>([&] { read_idx(path); }),
              path + ": byte 4112: error: unexpected bytes after gzip member 1 at byte " + std::to_string(gz.size()) +
                  " of the file: neither the end of the file nor another gzip member (magic 1f 8b)");
}

TEST_F(Gzip, DamageInTheSecondMemberNamesIt) {
    const std::string path = tmp / "bad2.idx.gz";
    const std::string first = gzip_bytes(idx.substr(0, 2000));
    std::string second = gzip_bytes(idx.substr(2000));
    second[second.size() - 8] ^= 0x55;  // its CRC-32
    write_bytes(path, first + second);
    std::string msg = error_of<DataError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("error: corrupt gzip data (incorrect data check) while reading data; the compressed stream "
                       "fails at byte " + std::to_string(first.size() + second.size() - 4) +
                       " of the file, in gzip member 2"),
              std::string::npos)
        << msg;
}

}  // namespace
}  // namespace aepipe::test
