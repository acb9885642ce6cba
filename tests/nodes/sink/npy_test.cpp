// The .npy writer: the bytes follow format 1.0 (magic, version, header length, a dict header
// padded so the data is 64-byte aligned, little-endian values), and numpy.load reads them.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "nodes/sink/npy.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// The header length field and the dict text of a .npy file's bytes.
std::pair<size_t, std::string> header_of(const std::string &b) {
    const size_t len = uint8_t(b[8]) | size_t(uint8_t(b[9])) << 8;
    return {len, b.substr(10, len)};
}

TEST(Npy, FloatMatrixBytes) {
    TempDir tmp;
    const std::vector<float> v = {1.5f, -2.f, 0.25f, 3.f, 1e-3f, -7.f};
    write_npy(tmp / "a.npy", 3, 2, v.data());
    const std::string b = read_bytes(tmp / "a.npy");
    ASSERT_GT(b.size(), 10u);
    EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const auto [len, dict] = header_of(b);
    EXPECT_EQ((10 + len) % 64, 0u);
    EXPECT_EQ(dict.back(), '\n');
    EXPECT_EQ(dict.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 0), 0u) << dict;
    ASSERT_EQ(b.size(), 10 + len + v.size() * 4);
    std::vector<float> back(v.size());
    std::memcpy(back.data(), b.data() + 10 + len, v.size() * 4);
    EXPECT_EQ(back, v);
}

TEST(Npy, LabelsAreOneDimensionalInt64) {
    TempDir tmp;
    write_npy_labels(tmp / "l.npy", {3, 0, 9});
    const std::string b = read_bytes(tmp / "l.npy");
    const auto [len, dict] = header_of(b);
    EXPECT_EQ((10 + len) % 64, 0u);
    EXPECT_NE(dict.find("'descr': '<i8'"), std::string::npos) << dict;
    EXPECT_NE(dict.find("'shape': (3,)"), std::string::npos) << dict;  // a Python 1-tuple
    ASSERT_EQ(b.size(), 10 + len + 24);
    int64_t back[3];
    std::memcpy(back, b.data() + 10 + len, 24);
    EXPECT_EQ(back[0], 3);
    EXPECT_EQ(back[2], 9);
}

// A header that would cross a 64-byte boundary grows by a whole block.
TEST(Npy, LongShapesStayAligned) {
    for (int64_t rows : {int64_t(1), int64_t(10), int64_t(123456789), int64_t(1234567890123)})
        EXPECT_EQ(npy_header("<f4", {rows, 64}).size() % 64, 0u) << rows;
}

std::string python_with_numpy() {
    for (const char *py : {"/usr/bin/python3", "python3"}) {
        RunResult r = run_program({py, "-c", "import numpy"});
        if (r.exit_code == 0) return py;
    }
    return "";
}

TEST(Npy, NumpyLoadReadsBoth) {
    const std::string py = python_with_numpy();
    if (py.empty()) GTEST_SKIP() << "no python3 with numpy here: the byte-level tests above still run";
    TempDir tmp;
    const std::vector<float> v = {1.5f, -2.f, 0.25f, 3.f, 1e-3f, -7.f};
    write_npy(tmp / "a.npy", 2, 3, v.data());
    write_npy_labels(tmp / "l.npy", {4, 5});
    RunResult r = run_program({py, "-c",
                               "import numpy as np, sys; a = np.load(sys.argv[1]); l = np.load(sys.argv[2]); "
                               "print(a.dtype, a.shape, a[1, 2], l.dtype, l.tolist())",
                               tmp / "a.npy", tmp / "l.npy"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "float32 (2, 3) -7.0 int64 [4, 5]\n");
}

}  // namespace
}  // namespace aepipe::test
