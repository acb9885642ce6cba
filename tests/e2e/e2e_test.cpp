// End to end through the aepipe binary on generated 8x8 bar images: a run writes its
// config, metrics, reconstruction grid and checkpoint; the loss falls by a set ratio; two
// runs with the same seed on one thread are identical; bad data fails with exit 1 and the
// file's name and byte offset, leaving earlier runs as they were.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/idx.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/sink/checkpoint.hpp"
#include "formats/png.hpp"
#include "formats/safetensors.hpp"
#include "pipeline/config.hpp"
#include "pipeline/error.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"
#include "support/shared_run.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kEpochs = 16, kTrain = 256, kTest = 64, kSide = 8, kBatch = 16;

std::vector<std::string> split(const std::string &line, char sep) {
    std::vector<std::string> v;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, sep);) v.push_back(f);
    return v;
}

// One training run of the tiny config.
struct RunDir {
    RunResult result;
    std::string dir;  // the run folder
};

// The suite's shared folder: the tiny data, tiny.yaml and run a (in a/, its console output in
// a.exit, a.out, a.err), made once per ctest run (support/shared_run.hpp).
SharedRun &shared() {
    static SharedRun s("E2E", [](const std::string &dir) {
        write_tiny_config(dir, write_tiny_data(dir, kTrain, kTest, kSide), kEpochs);
        RunResult r = run_aepipe({"run", dir + "/tiny.yaml", "--out", dir + "/a", "--threads", "1"});
        save_result(dir + "/a", r);
        EXPECT_EQ(r.exit_code, 0) << r.err;
    });
    return s;
}
TEST(SharedRuns, E2E) { shared().make_for_ctest(); }

// Run a is shared (read only); run b, made on first use, is this process's: only one test
// needs it.
class E2E : public ::testing::Test {
protected:
    static void TearDownTestSuite() {
        a_.reset();
        b_.reset();
        b_tmp_.reset();
    }
    static TinyData data() { return tiny_data_in(shared().dir(), kTrain, kTest, kSide); }
    static std::string config() { return shared().dir() + "/tiny.yaml"; }
    static const RunDir &a() {
        if (!a_) {
            const std::string dir = shared().dir();
            a_ = std::make_unique<RunDir>(RunDir{load_result(dir + "/a"), only_run_in(dir + "/a")});
        }
        return *a_;
    }
    static const RunDir &b() {
        if (!b_) {
            b_tmp_ = std::make_unique<TempDir>("aepipe-e2e-b");
            RunDir r;
            r.result = run_aepipe({"run", config(), "--out", *b_tmp_ / "b", "--threads", "1"});
            r.dir = only_run_in(*b_tmp_ / "b");
            b_ = std::make_unique<RunDir>(r);
        }
        return *b_;
    }
    // metrics.csv without its header, split into fields.
    static std::vector<std::vector<std::string>> csv_rows(const RunDir &r) {
        std::vector<std::vector<std::string>> rows;
        std::vector<std::string> lines = lines_of(read_bytes(r.dir + "/metrics.csv"));
        for (size_t i = 1; i < lines.size(); ++i) rows.push_back(split(lines[i], ','));
        return rows;
    }
    void SetUp() override {
        ASSERT_EQ(a().result.exit_code, 0) << a().result.err;
        ASSERT_FALSE(a().dir.empty()) << "expected exactly one run folder";
    }

private:
    static inline std::unique_ptr<TempDir> b_tmp_;
    static inline std::unique_ptr<RunDir> a_, b_;
};

TEST_F(E2E, RunFolderHoldsEveryOutput) {
    EXPECT_EQ(fs::path(a().dir).filename().string().rfind("tiny-", 0), 0u) << a().dir;
    // .aepipe.lock: the run's flock (one writer per folder); it stays, as lock files must.
    EXPECT_EQ(list_dir(a().dir), (std::vector<std::string>{".aepipe.lock", "checkpoints", "config.yaml", "metrics.csv",
                                                           "metrics.jsonl", "model.safetensors", "recon.png"}));
    // Training checkpoints every epoch (16 steps), the newest 3 kept.
    EXPECT_EQ(list_dir(a().dir + "/checkpoints"),
              (std::vector<std::string>{"step-00000224.ckpt", "step-00000240.ckpt", "step-00000256.ckpt"}));
    EXPECT_EQ(a().result.err, "");
    EXPECT_NE(a().result.out.find("run: " + a().dir + " (1 threads)"), std::string::npos) << a().result.out;
    EXPECT_NE(a().result.out.find("done in "), std::string::npos) << a().result.out;
}

TEST_F(E2E, SavedConfigHasAbsoluteDataPathsAndValidates) {
    ConfigFile cfg = load_config(a().dir + "/config.yaml");
    EXPECT_EQ(cfg.root["graph"]["nodes"][0]["images"].as<std::string>(), data().train_images);
    EXPECT_EQ(cfg.root["train"]["threads"].as<int>(), 1) << "--threads is recorded";
    RunResult v = run_aepipe({"validate", "config.yaml"}, a().dir);
    EXPECT_EQ(v.exit_code, 0) << v.err;
}

TEST_F(E2E, MetricsHaveOneRowPerEpochInCsvAndJsonl) {
    std::vector<std::string> lines = lines_of(read_bytes(a().dir + "/metrics.csv"));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s");
    auto rows = csv_rows(a());
    ASSERT_EQ(int64_t(rows.size()), kEpochs);
    std::vector<std::string> json_lines = lines_of(read_bytes(a().dir + "/metrics.jsonl"));
    ASSERT_EQ(int64_t(json_lines.size()), kEpochs);
    for (int64_t e = 0; e < kEpochs; ++e) {
        const auto &row = rows[size_t(e)];
        ASSERT_EQ(row.size(), 8u) << lines[size_t(e + 1)];
        EXPECT_EQ(row[0], std::to_string(e + 1));
        EXPECT_EQ(row[1], std::to_string((e + 1) * kTrain / kBatch)) << "steps so far";
        for (size_t k = 2; k < 8; ++k) {
            double v = std::stod(row[k]);
            EXPECT_TRUE(std::isfinite(v) && v >= 0) << "column " << k << ": " << row[k];
        }
        nlohmann::json j = nlohmann::json::parse(json_lines[size_t(e)]);
        EXPECT_EQ(j["epoch"].get<int64_t>(), e + 1);
        EXPECT_EQ(j["steps"].get<int64_t>(), (e + 1) * kTrain / kBatch);
        for (auto [key, col] : {std::pair{"train_loss", 2}, {"test_loss", 3}, {"test_mse_per_px", 4}}) {
            double csv = std::stod(row[size_t(col)]);
            EXPECT_NEAR(j[key].get<double>(), csv, 1e-7 * csv) << key << " agrees between CSV and JSON";
        }
    }
}

// The bars are easy: a small autoencoder must cut the test error by a large factor. (Over
// seeds 1-8, 16 epochs gave ratios of 0.08-0.16 for the test error and 0.05-0.07 for the
// training loss.)
TEST_F(E2E, LossFallsByASetRatio) {
    auto rows = csv_rows(a());
    ASSERT_EQ(int64_t(rows.size()), kEpochs);
    double first = std::stod(rows.front()[4]), last = std::stod(rows.back()[4]);
    double first_train = std::stod(rows.front()[2]), last_train = std::stod(rows.back()[2]);
    EXPECT_LT(last, 0.3 * first) << "test_mse_per_px " << first << " -> " << last;
    EXPECT_LT(last_train, 0.2 * first_train) << "train_loss " << first_train << " -> " << last_train;
}

TEST_F(E2E, ReconstructionGridShowsTestImagesAndCloseReconstructions) {
    Image img = read_png(a().dir + "/recon.png");
    const int64_t zoom = 2, gap = 2, count = 8, cell = kSide * zoom + gap;
    ASSERT_EQ(img.c, 1);
    ASSERT_EQ(img.w, count * cell + gap);
    ASSERT_EQ(img.h, 2 * cell + gap);
    Dataset test = load_dataset(data().test_images, "");
    double sse = 0;
    for (int64_t k = 0; k < count; ++k)
        for (int64_t y = 0; y < kSide; ++y)
            for (int64_t x = 0; x < kSide; ++x) {
                // top row: the first test images, each pixel a zoom x zoom block
                const int64_t px = gap + k * cell + x * zoom, py = gap + y * zoom;
                const uint8_t want = test.image(k)[y * kSide + x];
                EXPECT_EQ(img.px[size_t(py * img.w + px)], want) << "image " << k << " (" << x << "," << y << ")";
                EXPECT_EQ(img.px[size_t((py + 1) * img.w + px + 1)], want);
                // bottom row: the reconstruction
                const double got = img.px[size_t((py + cell) * img.w + px)];
                sse += (got - want) * (got - want);
            }
    const double rmse = std::sqrt(sse / double(count * kSide * kSide));
    // Predicting the mean image would give about 70 here; a trained model gives about 30.
    EXPECT_LT(rmse, 45.0) << "reconstructions should be close to the originals (0..255 scale)";
}

TEST_F(E2E, CheckpointLoadsBackIntoTheModelExactly) {
    const std::string path = a().dir + "/model.safetensors";
    StFile f = read_safetensors(path);
    EXPECT_EQ(f.metadata["format"], "aepipe-1");
    EXPECT_EQ(f.metadata["epoch"], std::to_string(kEpochs));
    EXPECT_EQ(f.metadata["steps"], std::to_string(kEpochs * kTrain / kBatch));
    ConfigFile cfg = load_config(a().dir + "/config.yaml");
    Model m(ModelSpec::parse(cfg, cfg.root["model"], kSide * kSide));
    ASSERT_EQ(f.tensors.size(), m.named_params().size());
    // torch layout: Linear weights (out, in)
    EXPECT_EQ(f.tensors.at("layers.0.weight").shape, (std::vector<int64_t>{32, kSide * kSide}));
    EXPECT_EQ(f.tensors.at("layers.3.bias").shape, (std::vector<int64_t>{kSide * kSide}));
    std::vector<float> params(size_t(m.num_params()), std::nanf(""));
    from_safetensors(m, f, path, params.data());
    for (float v : params) ASSERT_TRUE(std::isfinite(v)) << "every parameter was filled";
    // Saving what was loaded gives the same bytes: the load is exact.
    EXPECT_EQ(encode_safetensors(to_safetensors(m, params.data(), f.metadata)), read_bytes(path));
    // And it is the trained model, not the initial one.
    std::vector<float> init(params.size());
    m.init_params(init.data(), 7);
    EXPECT_NE(params, init);
}

TEST_F(E2E, SameSeedOnOneThreadGivesIdenticalRuns) {
    ASSERT_EQ(b().result.exit_code, 0) << b().result.err;
    EXPECT_EQ(read_bytes(a().dir + "/model.safetensors"), read_bytes(b().dir + "/model.safetensors"));
    EXPECT_EQ(read_bytes(a().dir + "/recon.png"), read_bytes(b().dir + "/recon.png"));
    auto ra = csv_rows(a()), rb = csv_rows(b());
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t e = 0; e < ra.size(); ++e)  // all but the timing columns
        EXPECT_EQ(std::vector<std::string>(ra[e].begin(), ra[e].begin() + 5),
                  std::vector<std::string>(rb[e].begin(), rb[e].begin() + 5))
            << "epoch " << e + 1;
}

TEST_F(E2E, AnotherSeedGivesAnotherModel) {
    TempDir out("aepipe-e2e-seed");
    RunResult r = run_aepipe({"run", config(), "train.epochs=1", "--seed", "8", "--out", out.path(), "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> dirs = list_dir(out.path());
    ASSERT_EQ(dirs.size(), 1u);
    StFile other = read_safetensors(out / (dirs[0] + "/model.safetensors"));
    StFile mine = read_safetensors(a().dir + "/model.safetensors");
    EXPECT_NE(other.tensors.at("layers.0.weight").data, mine.tensors.at("layers.0.weight").data);
}

// ---- bad data: exit 1, the file and the byte, earlier runs untouched ------------------------------

// Snapshot of every file in a folder (name -> bytes).
std::map<std::string, std::string> snapshot(const std::string &dir) {
    std::map<std::string, std::string> m;
    for (const auto &f : fs::recursive_directory_iterator(dir))
        if (f.is_regular_file()) m[f.path().string()] = read_bytes(f.path().string());
    return m;
}

bool ends_with(const std::string &s, const std::string &tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

class E2EBadData : public E2E {
protected:
    // Runs `config` with --out holding a copy of run a; returns the result and checks that
    // the earlier run folder is byte for byte as it was.
    RunResult run_beside_earlier_run(const std::string &config, const std::vector<std::string> &extra = {}) {
        TempDir out("aepipe-e2e-bad");
        const std::string earlier = out / fs::path(a().dir).filename().string();
        fs::copy(a().dir, earlier, fs::copy_options::recursive);
        auto before = snapshot(out.path());
        std::vector<std::string> args{"run", config, "--out", out.path(), "--threads", "1"};
        args.insert(args.end(), extra.begin(), extra.end());
        RunResult r = run_aepipe(args);
        for (const auto &[path, bytes] : before) EXPECT_EQ(read_bytes(path), bytes) << path << " changed";
        return r;
    }
};

TEST_F(E2EBadData, MissingDataFileExits1NamingTheFileWithAHint) {
    TempDir tmp("aepipe-e2e-missing");
    TinyData d = data();
    d.train_images = tmp / "gone/train-images.idx.gz";
    const std::string config = write_tiny_config(tmp.path(), d, 1);
    RunResult r = run_beside_earlier_run(config);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::vector<std::string> err = lines_of(r.err);
    ASSERT_EQ(err.size(), 2u) << r.err;
    EXPECT_EQ(err[0],
              "error: node 'train_set' (idx_reader, " + config + ":16:7): data file not found: " + d.train_images);
    EXPECT_EQ(err[1].rfind("hint: a relative path in a config file is relative to the file's folder", 0), 0u) << err[1];
    // MNIST's own file names get the hint that fetches them.
    d.train_images = tmp / "gone/train-images-idx3-ubyte.gz";
    r = run_aepipe({"validate", write_tiny_config(tmp.path(), d, 1)});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("\nhint: fetch MNIST with scripts/fetch_mnist.sh"), std::string::npos) << r.err;
}

TEST_F(E2EBadData, TruncatedIdxExits1WithTheByteOffset) {
    TempDir tmp("aepipe-e2e-trunc");
    TinyData d = data();
    d.train_images = tmp / "train.idx";
    write_bytes(d.train_images, idx_bytes({kTrain, kSide, kSide}, std::string(1000, '\x10')));
    const std::string config = write_tiny_config(tmp.path(), d, 1);
    RunResult r = run_beside_earlier_run(config);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::vector<std::string> err = lines_of(r.err);
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_TRUE(ends_with(err[0], d.train_images +
                                      ": byte 16: error: header claims 256x8x8 = 16384 bytes of data, but the file "
                                      "holds 1000 bytes after the header"))
        << err[0];
    // The header is checked while validating, so no run folder was started.
    EXPECT_EQ(r.out, "");
}

TEST_F(E2EBadData, CorruptGzipExits1WithTheFile) {
    TempDir tmp("aepipe-e2e-gz");
    TinyData d = data();
    d.test_images = tmp / "test.idx.gz";
    std::string gz = read_bytes(data().test_images);
    gz[gz.size() - 8] ^= 0x55;  // CRC-32 of the gzip trailer
    write_bytes(d.test_images, gz);
    const std::string config = write_tiny_config(tmp.path(), d, 1);
    RunResult r = run_beside_earlier_run(config);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::vector<std::string> err = lines_of(r.err);
    ASSERT_FALSE(err.empty());
    EXPECT_NE(err[0].find(d.test_images + ": byte "), std::string::npos) << r.err;
    EXPECT_NE(err[0].find(": error: corrupt gzip data (incorrect data check)"), std::string::npos) << r.err;
}

TEST_F(E2EBadData, LabelsOfTheWrongLengthExit1) {
    TempDir tmp("aepipe-e2e-labels");
    TinyData d = data();
    d.train_labels = tmp / "labels.idx";
    write_labels(d.train_labels, std::vector<uint8_t>(kTrain - 1, 0));
    const std::string config = write_tiny_config(tmp.path(), d, 1);
    RunResult r = run_beside_earlier_run(config);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::vector<std::string> err = lines_of(r.err);
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_TRUE(ends_with(err[0], d.train_labels + ": byte 4: error: expected 256 labels (one per image in " +
                                      d.train_images + "), got 255"))
        << err[0];
}

// ---- damaged checkpoints -------------------------------------------------------------------------

std::string read_error(const std::string &path) {
    return error_of<DataError>([&] { read_safetensors(path); });
}

TEST_F(E2E, DamagedCheckpointIsADataErrorWithPathAndOffset) {
    TempDir tmp("aepipe-e2e-ckpt");
    const std::string good = read_bytes(a().dir + "/model.safetensors");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(good[size_t(i)])) << (8 * i);
    ASSERT_LT(n, good.size());

    std::string huge = good;  // header length 2^40
    for (int i = 0; i < 8; ++i) huge[size_t(i)] = char(i == 5 ? 1 : 0);
    write_bytes(tmp / "huge.safetensors", huge);
    EXPECT_EQ(read_error(tmp / "huge.safetensors"),
              tmp / "huge.safetensors" + ": byte 0: error: header length 1099511627776 exceeds the file size");

    write_bytes(tmp / "short.safetensors", good.substr(0, 5));
    EXPECT_EQ(
        read_error(tmp / "short.safetensors"),
        tmp / "short.safetensors" + ": byte 0: error: too short for a safetensors file (no 8-byte header length)");

    std::string json = good;  // the first ':' of the JSON header becomes '#'
    const size_t colon = json.find(':', 8);
    ASSERT_LT(colon, 8 + n);
    json[colon] = '#';
    write_bytes(tmp / "json.safetensors", json);
    std::string msg = read_error(tmp / "json.safetensors");
    EXPECT_EQ(
        msg.rfind(tmp / "json.safetensors" + ": byte " + std::to_string(colon) + ": error: malformed JSON header: ", 0),
        0u)
        << msg;

    // Cut the data short: the last tensor in the file (names sort) points past the end.
    write_bytes(tmp / "cut.safetensors", good.substr(0, good.size() - 4));
    msg = read_error(tmp / "cut.safetensors");
    const uint64_t data_bytes = good.size() - 4 - 8 - n;
    EXPECT_NE(msg.find(": error: tensor 'layers.3.weight': data_offsets ["), std::string::npos) << msg;
    EXPECT_NE(msg.find("] outside the " + std::to_string(data_bytes) + " data bytes"), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind(tmp / "cut.safetensors" + ": byte ", 0), 0u) << msg;
}

TEST_F(E2E, CheckpointOfAnotherModelIsRefusedByName) {
    StFile f = read_safetensors(a().dir + "/model.safetensors");
    ConfigFile cfg = parse_config(read_bytes(a().dir + "/config.yaml"), "other.yaml");
    cfg.root["model"]["layers"][0]["units"] = 24;  // the first layer is 24 wide, not 32
    Model m(ModelSpec::parse(cfg, cfg.root["model"], kSide * kSide));
    std::vector<float> params(size_t(m.num_params()));
    EXPECT_EQ(error_of<DataError>([&] { from_safetensors(m, f, "ckpt.safetensors", params.data()); }),
              "ckpt.safetensors: error: tensor 'layers.0.weight' has shape 32x64, the model needs 24x64 (was it "
              "trained with another config?)");
}

}  // namespace
}  // namespace aepipe::test
