// aepipe data pack through the binary: PNG folders to IDX files (gray, RGB, labels from
// class folders, resizing, alpha, a test split), read back exactly; and one test per error,
// each with its message and exit code, leaving earlier outputs as they were.
#include <gtest/gtest.h>

#include <filesystem>

#include "formats/idx.hpp"
#include "formats/png.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

// A w x h picture with c channels whose bytes are `first`, first+1, ... (mod 256).
Image counting(int64_t w, int64_t h, int64_t c, int first) {
    Image m{w, h, c, std::vector<uint8_t>(size_t(w * h * c))};
    for (size_t i = 0; i < m.px.size(); ++i) m.px[i] = uint8_t(first + int(i));
    return m;
}

void put(const TempDir &t, const std::string &rel, const Image &m) {
    fs::create_directories(fs::path(t / rel).parent_path());
    write_png(t / rel, m);
}

RunResult pack(const TempDir &t, std::vector<std::string> extra) {
    std::vector<std::string> args{"data", "pack", t / "pics", "--out", t / "out/set"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_aepipe(args);
}

std::vector<uint8_t> bytes_of(const std::vector<std::vector<uint8_t>> &parts) {
    std::vector<uint8_t> all;
    for (const auto &p : parts) all.insert(all.end(), p.begin(), p.end());
    return all;
}

TEST(DataPack, GrayFolderWithClassesRoundTrips) {
    TempDir t("aepipe-pack");
    // written out of order: the files are taken in sorted path order
    put(t, "pics/dog/c.png", counting(3, 2, 1, 100));
    put(t, "pics/cat/b.png", counting(3, 2, 1, 50));
    put(t, "pics/cat/a.png", counting(3, 2, 1, 0));
    put(t, "pics/cat/deeper/z.png", counting(3, 2, 1, 200));  // label: its first-level folder
    RunResult r = pack(t, {});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    IdxArray img = read_idx(t / "out/set-images-idx3-ubyte");
    EXPECT_EQ(img.header.dims, (std::vector<int64_t>{4, 2, 3}));
    EXPECT_EQ(img.data, bytes_of({counting(3, 2, 1, 0).px, counting(3, 2, 1, 50).px, counting(3, 2, 1, 200).px,
                                  counting(3, 2, 1, 100).px}));
    IdxArray lab = read_idx(t / "out/set-labels-idx1-ubyte");
    EXPECT_EQ(lab.data, (std::vector<uint8_t>{0, 0, 0, 1}));
    EXPECT_EQ(read_bytes(t / "out/set-labels.txt"), "0 cat\n1 dog\n");
    EXPECT_NE(r.out.find("packed 4 pictures of 2x3x1 (gray), 2 classes"), std::string::npos) << r.out;
}

TEST(DataPack, FlatFolderHasNoLabels) {
    TempDir t("aepipe-pack");
    put(t, "pics/1.png", counting(2, 2, 1, 0));
    put(t, "pics/2.png", counting(2, 2, 1, 9));
    ASSERT_EQ(pack(t, {}).exit_code, 0);
    EXPECT_EQ(list_dir(t / "out"), (std::vector<std::string>{"set-images-idx3-ubyte"}));
}

TEST(DataPack, ColourPicturesGiveIdx4AndGrayOnesAreRepeated) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", counting(2, 1, 3, 10));
    put(t, "pics/b.png", Image{2, 1, 1, {7, 9}});
    RunResult r = pack(t, {});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    IdxArray img = read_idx(t / "out/set-images-idx4-ubyte");
    EXPECT_EQ(img.header.dims, (std::vector<int64_t>{2, 1, 2, 3}));
    EXPECT_EQ(img.data, bytes_of({counting(2, 1, 3, 10).px, {7, 7, 7, 9, 9, 9}}));
    // and idx_reader's loader takes it as N x H x W x C
    Dataset ds = load_dataset(t / "out/set-images-idx4-ubyte", "");
    EXPECT_EQ(ds.c, 3);
    EXPECT_EQ(ds.dim(), 6);
}

TEST(DataPack, RgbFilesWithEqualChannelsCountAsGray) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{1, 1, 3, {40, 40, 40}});
    ASSERT_EQ(pack(t, {}).exit_code, 0);
    EXPECT_EQ(read_idx(t / "out/set-images-idx3-ubyte").data, (std::vector<uint8_t>{40}));
}

TEST(DataPack, GrayFlagConvertsColour) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{2, 1, 3, {255, 0, 0, 0, 0, 255}});
    ASSERT_EQ(pack(t, {"--gray"}).exit_code, 0);
    EXPECT_EQ(read_idx(t / "out/set-images-idx3-ubyte").data, (std::vector<uint8_t>{76, 29}));
}

TEST(DataPack, RgbFlagKeepsGrayAsThreeChannels) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{1, 1, 1, {5}});
    ASSERT_EQ(pack(t, {"--rgb"}).exit_code, 0);
    EXPECT_EQ(read_idx(t / "out/set-images-idx4-ubyte").data, (std::vector<uint8_t>{5, 5, 5}));
}

TEST(DataPack, SizeResizesEveryPicture) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{4, 2, 1, {0, 4, 8, 8, 8, 4, 8, 8}});
    put(t, "pics/b.png", Image{1, 1, 1, {60}});
    ASSERT_EQ(pack(t, {"--size", "1x2"}).exit_code, 0);  // H=1, W=2: area means of 2x2 blocks
    IdxArray img = read_idx(t / "out/set-images-idx3-ubyte");
    EXPECT_EQ(img.header.dims, (std::vector<int64_t>{2, 1, 2}));
    EXPECT_EQ(img.data, (std::vector<uint8_t>{4, 8, 60, 60}));
}

TEST(DataPack, AlphaIsCompositedOnAContrastingSheet) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{2, 1, 2, {0, 255, 0, 0}});  // dark ink, transparent: on white
    ASSERT_EQ(pack(t, {}).exit_code, 0);
    EXPECT_EQ(read_idx(t / "out/set-images-idx3-ubyte").data, (std::vector<uint8_t>{0, 255}));
}

TEST(DataPack, TestSplitTakesEveryKthOfEachClass) {
    TempDir t("aepipe-pack");
    for (int k = 0; k < 5; ++k) {
        put(t, "pics/a/" + std::to_string(k) + ".png", Image{1, 1, 1, {uint8_t(k)}});
        put(t, "pics/b/" + std::to_string(k) + ".png", Image{1, 1, 1, {uint8_t(100 + k)}});
    }
    RunResult r = pack(t, {"--test-split", "0.4"});  // j = 2, 4 of each class: floor((j+1) 0.4) > floor(j 0.4)
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_idx(t / "out/set-train-images-idx3-ubyte").data, (std::vector<uint8_t>{0, 1, 3, 100, 101, 103}));
    EXPECT_EQ(read_idx(t / "out/set-train-labels-idx1-ubyte").data, (std::vector<uint8_t>{0, 0, 0, 1, 1, 1}));
    EXPECT_EQ(read_idx(t / "out/set-test-images-idx3-ubyte").data, (std::vector<uint8_t>{2, 4, 102, 104}));
    EXPECT_EQ(read_idx(t / "out/set-test-labels-idx1-ubyte").data, (std::vector<uint8_t>{0, 0, 1, 1}));
    EXPECT_NE(r.out.find("6 train, 4 test"), std::string::npos) << r.out;
}

// --- errors: one per case ---

TEST(DataPackErrors, EmptyFolder) {
    TempDir t("aepipe-pack");
    fs::create_directories(t / "pics/cats");
    expect_exit(pack(t, {}), 1, t / "pics" + ": error: no PNG pictures found (expected DIR/*.png or DIR/CLASS/*.png)");
}

TEST(DataPackErrors, MissingFolder) {
    TempDir t("aepipe-pack");
    expect_exit(pack(t, {}), 1, t / "pics" + ": error: not a folder (expected a folder of PNG pictures)");
}

TEST(DataPackErrors, NonPngFileIsNamed) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{1, 1, 1, {5}});
    write_bytes(t / "pics/notes.txt", "hello");
    expect_exit(pack(t, {}), 1, t / "pics/notes.txt" + ": error: not a PNG file (aepipe data pack reads *.png");
}

TEST(DataPackErrors, DamagedPngIsNamedAndEarlierOutputsStay) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{1, 1, 1, {5}});
    ASSERT_EQ(pack(t, {}).exit_code, 0);
    const std::string before = read_bytes(t / "out/set-images-idx3-ubyte");
    std::string png = read_bytes(t / "pics/a.png");
    write_bytes(t / "pics/b.png", png.substr(0, png.size() / 2));
    expect_exit(pack(t, {}), 1, t / "pics/b.png" + ": byte 8: error: malformed PNG");
    EXPECT_EQ(read_bytes(t / "out/set-images-idx3-ubyte"), before);
}

TEST(DataPackErrors, TextRenamedToPngIsNotAPng) {
    TempDir t("aepipe-pack");
    fs::create_directories(t / "pics");
    write_bytes(t / "pics/a.png", "just text");
    expect_exit(pack(t, {}), 1, t / "pics/a.png" + ": byte 0: error: not a PNG file (bad signature)");
}

TEST(DataPackErrors, SizesDifferWithoutSize) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{2, 1, 1, {5, 5}});
    put(t, "pics/b.png", Image{1, 1, 1, {5}});
    expect_exit(pack(t, {}), 1,
                t / "pics/b.png" + ": error: is 1x1 (WxH) but " + t / "pics/a.png" +
                    " is 2x1; give --size HxW to resize every picture");
}

TEST(DataPackErrors, PictureOutsideTheClassFolders) {
    TempDir t("aepipe-pack");
    put(t, "pics/cat/a.png", Image{1, 1, 1, {5}});
    put(t, "pics/b.png", Image{1, 1, 1, {5}});
    expect_exit(pack(t, {}), 1, t / "pics/b.png" + ": error: is not inside a class folder");
}

TEST(DataPackErrors, MoreClassesThanALabelByteHolds) {
    TempDir t("aepipe-pack");
    for (int k = 0; k < 257; ++k) fs::create_directories(t / ("pics/c" + std::to_string(k)));
    expect_exit(pack(t, {}), 1, t / "pics" + ": error: 257 class folders; IDX labels are bytes, at most 256");
}

TEST(DataPack, HiddenFilesAndFoldersAreSkipped) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{1, 1, 1, {5}});
    write_bytes(t / "pics/.DS_Store", "x");
    fs::create_directories(t / "pics/.cache");
    write_bytes(t / "pics/.cache/junk", "x");
    RunResult r = pack(t, {});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(list_dir(t / "out"), (std::vector<std::string>{"set-images-idx3-ubyte"})) << "no class from .cache";
}

TEST(DataPackErrors, GrayAndRgbTogether) {
    TempDir t("aepipe-pack");
    expect_exit(pack(t, {"--gray", "--rgb"}), 2, "--gray and --rgb exclude each other");
}

TEST(DataPackErrors, MalformedSize) {
    TempDir t("aepipe-pack");
    expect_exit(pack(t, {"--size", "28"}), 2, "--size '28': expected HxW with sides 1..4096, e.g. --size 28x28");
}

TEST(DataPackErrors, MissingOut) {
    TempDir t("aepipe-pack");
    expect_exit(run_aepipe({"data", "pack", t / "pics"}), 2, "missing --out NAME");
}

TEST(DataPackErrors, SplitOutOfRange) {
    TempDir t("aepipe-pack");
    expect_exit(pack(t, {"--test-split", "1.5"}), 2, "--test-split must be a fraction in [0, 1)");
}

TEST(DataPackErrors, SplitLeavesTestSetEmpty) {
    TempDir t("aepipe-pack");
    put(t, "pics/a.png", Image{1, 1, 1, {5}});
    expect_exit(pack(t, {"--test-split", "0.1"}), 2, "leaves the test set empty (1 pictures)");
}

TEST(DataPackErrors, UnknownSubcommand) {
    expect_exit(run_aepipe({"data", "unpack"}), 2, "unknown subcommand 'unpack' (expected: pack)");
}

}  // namespace
}  // namespace aepipe::test
