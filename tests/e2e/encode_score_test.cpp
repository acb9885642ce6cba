// aepipe encode and aepipe score on a tiny trained model (8x8 bars, 64-32-16-32-64): the codes
// file against an in-process forward pass, the scores against the in-process reconstruction
// error and ROC AUC, the run report's latent picture, and each bad input as a clear error that
// leaves earlier files as they were.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "formats/idx.hpp"
#include "nodes/nn/sample.hpp"
#include "formats/png.hpp"
#include "formats/safetensors.hpp"
#include "nodes/nn/loss.hpp"
#include "nodes/sink/anomaly.hpp"
#include "nodes/sink/model_card.hpp"
#include "support/fixtures.hpp"
#include "support/shared_run.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

// One trained run for the suite: the tiny config with a report node, made once per ctest run
// (support/shared_run.hpp); tests only read it.
SharedRun &shared() {
    static SharedRun s("EncodeScore", [](const std::string &dir) {
        std::string cfg = tiny_config_yaml(write_tiny_data(dir, 256, 64), 3);
        cfg.replace(cfg.find("  edges:\n"), 9, "    - {id: report, type: report}\n  edges:\n");
        cfg += "    - eval -> report\n";
        write_bytes(dir + "/tiny.yaml", cfg);
        RunResult r = run_aepipe({"run", dir + "/tiny.yaml", "--out", dir + "/runs", "--quiet"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
    });
    return s;
}
TEST(SharedRuns, EncodeScore) { shared().make_for_ctest(); }

class EncodeScore : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        data_ = tiny_data_in(shared().dir(), 256, 64);
        run_ = only_run_in(shared().dir() + "/runs");
    }
    void SetUp() override { ASSERT_FALSE(run_.empty()); }
    static std::string ckpt() { return run_ + "/model.safetensors"; }
    static inline TinyData data_;
    static inline std::string run_;
};

// The payload of a .npy file (after its header).
std::string npy_payload(const std::string &path) {
    const std::string b = read_bytes(path);
    const size_t len = uint8_t(b[8]) | size_t(uint8_t(b[9])) << 8;
    return b.substr(10 + len);
}

// The test set through the model in-process: all activations of one whole-set forward pass.
struct Forward {
    TrainedModel t;
    Dataset ds;
    std::vector<float> x;
    std::unique_ptr<Workspace> ws;
};
Forward forward_test_set(const std::string &ckpt, const TinyData &d) {
    Forward f{load_trained_model(ckpt), load_dataset(d.test_images, d.test_labels), {}, nullptr};
    f.x.resize(size_t(f.ds.n * f.ds.dim()));
    f.t.card.norm.apply(f.ds.pixels.data(), f.ds.n * f.ds.dim(), f.x.data());
    f.ws = std::make_unique<Workspace>(*f.t.model, f.ds.n);
    f.ws->prepare(f.ds.n);
    f.ws->forward(f.ds.n, f.x.data(), f.t.params.data());
    return f;
}

TEST_F(EncodeScore, CodesMatchAnInProcessForwardPass) {
    TempDir out;
    RunResult r = run_aepipe({"encode", "--checkpoint", ckpt(), "--out", out / "codes.npy", "--batch", "5"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("(64 x 16, from model.layers[1] (the narrowest layer, 16 numbers))"), std::string::npos)
        << r.out;
    Forward f = forward_test_set(ckpt(), data_);
    const std::string payload = npy_payload(out / "codes.npy");
    ASSERT_EQ(payload.size(), size_t(64 * 16 * 4));
    std::vector<float> codes(64 * 16);
    std::memcpy(codes.data(), payload.data(), payload.size());
    const float *want = f.ws->act(2);  // the output of layers[1]
    for (size_t i = 0; i < codes.size(); ++i) ASSERT_NEAR(codes[i], want[i], 1e-5f * (1 + std::abs(want[i]))) << i;
    const std::string lp = npy_payload(out / "codes-labels.npy");
    ASSERT_EQ(lp.size(), size_t(64 * 8));
    std::vector<int64_t> labels(64);
    std::memcpy(labels.data(), lp.data(), lp.size());
    EXPECT_EQ(labels, std::vector<int64_t>(f.ds.labels.begin(), f.ds.labels.end()));
    EXPECT_NE(read_bytes(out / "codes.svg").find("principal component 1"), std::string::npos);
    EXPECT_NE(r.out.find("PCA projection of the 16-number codes"), std::string::npos) << r.out;
}

// The run report shows the test codes, and the picture is written beside it.
TEST_F(EncodeScore, RunReportHasTheLatentPicture) {
    ASSERT_TRUE(fs::exists(run_ + "/latent.svg"));
    const std::string html = read_bytes(run_ + "/report.html");
    EXPECT_NE(html.find("<h2 id=\"latent\">Latent space</h2>"), std::string::npos);
    EXPECT_NE(html.find("PCA projection of the 16-number codes"), std::string::npos);
}

std::vector<std::vector<std::string>> csv_rows(const std::string &text) {
    std::vector<std::vector<std::string>> rows;
    for (const auto &line : lines_of(text)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
        rows.push_back(cells);
    }
    return rows;
}

// What a bad input must leave behind: the files an earlier call wrote.
void expect_intact(const std::string &path, const std::string &bytes) { EXPECT_EQ(read_bytes(path), bytes) << path; }

// --batch larger than the data (any size a user types) runs the data in one batch: the same
// codes and scores as small batches, not an allocation of --batch rows.
TEST_F(EncodeScore, BatchLargerThanTheData) {
    TempDir out;
    for (const char *batch : {"5", "1000000000000"}) {
        const std::string b = batch;
        RunResult e = run_aepipe({"encode", "--checkpoint", ckpt(), "--batch", b, "--out", out / ("c" + b + ".npy")});
        ASSERT_EQ(e.exit_code, 0) << e.err;
        RunResult s = run_aepipe({"score", "--checkpoint", ckpt(), "--batch", b, "--out", out / ("s" + b)});
        ASSERT_EQ(s.exit_code, 0) << s.err;
    }
    const auto near = [](const std::string &a, const std::string &b) {
        ASSERT_EQ(a.size(), b.size());
        std::vector<float> x(a.size() / 4), y(b.size() / 4);
        std::memcpy(x.data(), a.data(), a.size()), std::memcpy(y.data(), b.data(), b.size());
        for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], 1e-5f * (1 + std::abs(y[i]))) << i;
    };
    near(npy_payload(out / "c5.npy"), npy_payload(out / "c1000000000000.npy"));
    const auto s5 = csv_rows(read_bytes(out / "s5/scores.csv"));
    const auto sbig = csv_rows(read_bytes(out / "s1000000000000/scores.csv"));
    ASSERT_EQ(s5.size(), sbig.size());
    for (size_t i = 1; i < s5.size(); ++i) EXPECT_NEAR(std::stod(s5[i][2]), std::stod(sbig[i][2]), 1e-6) << i;
}

TEST_F(EncodeScore, ScoresAreTheReconstructionErrorAndAurocFollows) {
    TempDir out;
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), data_.test_images, "--normal-classes", "0", "--out",
                              out / "s", "--k", "4", "--threshold-from", data_.train_images, "--percentile", "95"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Forward f = forward_test_set(ckpt(), data_);
    std::vector<float> img(size_t(f.ds.n * f.ds.dim()));
    f.t.model->loss().to_image(f.ds.n * f.ds.dim(), f.ws->output(), img.data());
    const auto rows = csv_rows(read_bytes(out / "s/scores.csv"));
    ASSERT_EQ(rows.size(), 65u);
    EXPECT_EQ(rows[0], (std::vector<std::string>{"index", "label", "error"}));
    std::vector<double> errors;
    std::vector<bool> anomaly;
    for (int64_t i = 0; i < 64; ++i) {
        const auto &row = rows[size_t(i + 1)];
        EXPECT_EQ(row[0], std::to_string(i));
        EXPECT_EQ(row[1], std::to_string(f.ds.labels[size_t(i)]));
        const double want = mse_per_element(f.ds.dim(), img.data() + i * f.ds.dim(), f.x.data() + i * f.ds.dim());
        EXPECT_NEAR(std::stod(row[2]), want, 1e-6 + 1e-4 * want) << i;
        errors.push_back(want), anomaly.push_back(f.ds.labels[size_t(i)] != 0);
    }
    char auroc[64];
    std::snprintf(auroc, sizeof auroc, "auroc: %.4f\n", roc_auc(errors, anomaly));
    EXPECT_NE(r.out.find(auroc), std::string::npos) << r.out;
    // The threshold comes from the training set's normal class only (its labels lie beside it).
    const IdxArray train_labels = read_idx(data_.train_labels);
    const auto zeros = std::count(train_labels.data.begin(), train_labels.data.end(), uint8_t(0));
    EXPECT_NE(r.out.find("(percentile 95 of " + std::to_string(zeros) + " errors of " + data_.train_images),
              std::string::npos)
        << r.out;
    const std::string svg = read_bytes(out / "s/errors.svg");
    EXPECT_NE(svg.find(">normal<"), std::string::npos);
    EXPECT_NE(svg.find(">anomalies<"), std::string::npos);
    EXPECT_NE(r.out.find("precision: "), std::string::npos) << r.out;
    for (const char *f2 : {"worst.png", "best.png", "errors.svg", "summary.txt"})
        EXPECT_TRUE(fs::exists(out / (std::string("s/") + f2))) << f2;
}


// --blur 1: each score is the mean square of the 3x3 box-blurred residual of that image, which
// differs from the plain MSE (a residual that varies pixel to pixel shrinks under the blur).
TEST_F(EncodeScore, BlurScoresTheBlurredResidual) {
    TempDir out;
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), data_.test_images, "--blur", "1", "--out", out / "s"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("error: MSE per pixel of the residual box-blurred over 3x3"), std::string::npos) << r.out;
    Forward f = forward_test_set(ckpt(), data_);
    const int64_t dim = f.ds.dim(), side = data_.side;
    std::vector<float> img(size_t(f.ds.n * dim));
    f.t.model->loss().to_image(f.ds.n * dim, f.ws->output(), img.data());
    const auto rows = csv_rows(read_bytes(out / "s/scores.csv"));
    ASSERT_EQ(rows.size(), 65u);
    int64_t below_plain = 0;
    for (int64_t i = 0; i < 64; ++i) {
        const float *y = img.data() + i * dim, *x = f.x.data() + i * dim;
        const double want = blurred_mse(side, side, 1, y, x, 1);
        EXPECT_NEAR(std::stod(rows[size_t(i + 1)][2]), want, 1e-6 + 1e-4 * want) << i;
        below_plain += want < mse_per_element(dim, y, x);
    }
    EXPECT_GT(below_plain, 32) << "the blur should average away most images' pixel-level error";
}

TEST_F(EncodeScore, BlurOutOfRangeExit2) {
    TempDir out;
    write_bytes(out / "scores.csv", "earlier\n");
    for (const char *bad : {"-1", "65"}) {
        RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--blur", bad, "--out", out.path()});
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_NE(r.err.find("--blur must be within 0..64"), std::string::npos) << r.err;
    }
    expect_intact(out / "scores.csv", "earlier\n");
}

// --k and --zoom size the grids: out of bounds is a usage error before anything is read (a
// zoom of a million used to run out of memory after scores.csv was written).
TEST_F(EncodeScore, GridSizesOutOfRangeExit2) {
    TempDir out;
    write_bytes(out / "scores.csv", "earlier\n");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--k", "0"}, "--k, --batch and --zoom must be at least 1"},
        {{"--zoom", "0"}, "--k, --batch and --zoom must be at least 1"},
        {{"--k", "1001"}, "--k must be at most 1000"},
        {{"--zoom", "1000000"}, "--zoom must be at most 32"}};
    for (const auto &[opt, msg] : cases) {
        RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), opt[0], opt[1], "--out", out.path()});
        EXPECT_EQ(r.exit_code, 2) << opt[0] << " " << opt[1] << ": " << r.err;
        EXPECT_NE(r.err.find(msg), std::string::npos) << r.err;
    }
    expect_intact(out / "scores.csv", "earlier\n");
}

// --percentile outside 0..100, NaN or without --threshold-from is a usage error.
TEST_F(EncodeScore, BadPercentileExit2) {
    TempDir out;
    write_bytes(out / "scores.csv", "earlier\n");
    for (const char *bad : {"-1", "100.5", "nan", "inf"}) {
        RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--threshold-from", data_.train_images,
                                  "--percentile", bad, "--out", out.path()});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
        EXPECT_NE(r.err.find("--percentile must be within 0..100"), std::string::npos) << r.err;
    }
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--percentile", "99", "--out", out.path()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--percentile sets the threshold from --threshold-from DATA, which is missing"),
              std::string::npos)
        << r.err;
    expect_intact(out / "scores.csv", "earlier\n");
}

// --threshold-from data whose labels include none of --normal-classes has no normal errors to
// set a threshold from: exit 1 naming the file, nothing written.
TEST_F(EncodeScore, ThresholdDataWithoutTheNormalClassExit1) {
    TempDir out;
    Dataset ds = load_dataset(data_.train_images, data_.train_labels);
    std::vector<uint8_t> px, labels;
    for (int64_t i = 0; i < ds.n; ++i)
        if (ds.labels[size_t(i)] != 0)
            px.insert(px.end(), ds.image(i), ds.image(i) + ds.dim()), labels.push_back(ds.labels[size_t(i)]);
    write_images(out / "ref-images-idx3-ubyte", int64_t(labels.size()), ds.h, ds.w, px);
    write_labels(out / "ref-labels-idx1-ubyte", labels);
    write_bytes(out / "scores.csv", "earlier\n");
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", "0", "--threshold-from",
                              out / "ref-images-idx3-ubyte", "--out", out.path()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(out / "ref-images-idx3-ubyte" +
                         ": error: --threshold-from: no sample has a label of --normal-classes (labels present: 1, 2)"),
              std::string::npos)
        << r.err;
    expect_intact(out / "scores.csv", "earlier\n");
}

// Images of another size than the model's input are an error naming the file and both shapes.
TEST_F(EncodeScore, ImagesOfAnotherSizeExit1) {
    TempDir out;
    write_images(out / "small-images-idx3-ubyte", 4, 4, 4, std::vector<uint8_t>(64, 7));
    write_bytes(out / "c.npy", "earlier");
    for (const char *cmd : {"encode", "score"}) {
        RunResult r = run_aepipe({cmd, "--checkpoint", ckpt(), out / "small-images-idx3-ubyte", "--out",
                                  std::string(cmd) == "encode" ? out / "c.npy" : out.path()});
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_NE(r.err.find(out / "small-images-idx3-ubyte" + ": error: the images are 4x4x1 but the model takes 8x8x1"),
                  std::string::npos)
            << r.err;
    }
    expect_intact(out / "c.npy", "earlier");
    EXPECT_FALSE(fs::exists(out / "scores.csv"));
}

TEST_F(EncodeScore, NormalClassesTheDataLacksExit2) {
    TempDir out;
    write_bytes(out / "scores.csv", "earlier\n");
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", "0,7", "--out", out.path()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--normal-classes names label 7, which no sample of " + data_.test_images +
                         " has (labels present: 0, 1, 2)"),
              std::string::npos)
        << r.err;
    expect_intact(out / "scores.csv", "earlier\n");
}

// Every label normal leaves no anomaly: AUROC is undefined, a usage error naming the labels.
// (The other side, no normal sample, cannot arise: a normal class the data lacks is the error
// above.)
TEST_F(EncodeScore, AllNormalHasNoAurocExit2) {
    TempDir out;
    write_bytes(out / "scores.csv", "earlier\n");
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", "0-2", "--out", out.path()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--normal-classes covers every label of " + data_.test_images +
                         " (0, 1, 2): there is no anomaly to find"),
              std::string::npos)
        << r.err;
    expect_intact(out / "scores.csv", "earlier\n");
}

TEST_F(EncodeScore, EmptyNormalClassesExit2) {
    TempDir out;
    write_bytes(out / "scores.csv", "earlier\n");
    for (const char *bad : {"", ","}) {
        RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", bad, "--out", out.path()});
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_NE(r.err.find("--normal-classes"), std::string::npos) << r.err;
    }
    expect_intact(out / "scores.csv", "earlier\n");
}

// The 100th percentile of the very errors being scored flags nothing: precision is 0/0, said
// so rather than printed as 0; recall is 0.
TEST_F(EncodeScore, NothingFlaggedHasNoPrecision) {
    TempDir out;
    fs::copy_file(data_.test_images, out / "pics.idx.gz");  // no labels: every sample sets the threshold
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", "0", "--threshold-from",
                              out / "pics.idx.gz", "--percentile", "100", "--out", out / "s"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("flagged: 0 of 64\nprecision: undefined (no sample is above the threshold)\nrecall: 0\n"),
              std::string::npos)
        << r.out;
}

// A labels rule: ranges A-B name every label from A to B, so 0-1 is 0,1.
TEST_F(EncodeScore, NormalClassRangesAreALabelsRule) {
    TempDir out;
    RunResult a = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", "0,1", "--out", out / "a"});
    RunResult b = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", "0-1", "--out", out / "b"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_EQ(b.exit_code, 0) << b.err;
    const auto auroc = [](const std::string &text) { return text.substr(text.find("auroc: "), 14); };
    EXPECT_EQ(auroc(a.out), auroc(b.out));
    EXPECT_NE(b.out.find("normal classes: 0, 1 ("), std::string::npos) << b.out;
}

// Malformed lists are usage errors before anything is read or written.
TEST_F(EncodeScore, MalformedNormalClassesExit2) {
    TempDir out;
    write_bytes(out / "scores.csv", "earlier\n");
    for (const char *bad : {"0,", "2-1", "-1", "0-", "1e0", "256", "0,,1", " 1"}) {
        RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), "--normal-classes", bad, "--out", out.path()});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
        EXPECT_NE(r.err.find("--normal-classes '" + std::string(bad) + "': expected labels 0..255 or ranges A-B"),
                  std::string::npos)
            << r.err;
    }
    expect_intact(out / "scores.csv", "earlier\n");
}

TEST_F(EncodeScore, AurocWithoutLabelsExit1) {
    TempDir out;
    fs::copy_file(data_.test_images, out / "pics.idx.gz");  // no labels file beside it
    write_bytes(out / "scores.csv", "earlier\n");
    RunResult r = run_aepipe({"score", "--checkpoint", ckpt(), out / "pics.idx.gz", "--normal-classes", "0", "--out",
                              out.path()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(out / "pics.idx.gz" + ": error: --normal-classes needs the data's labels"), std::string::npos)
        << r.err;
    expect_intact(out / "scores.csv", "earlier\n");
}

// A VAE's score is its negative ELBO per image (BCE summed over the pixels plus KL, z drawn as
// an evaluation pass draws it), and its code is mu.
// A tiny VAE (64-32-6 [mu | logvar] -> sample -> 32-64, BCE from logits) trained on d into tmp;
// returns its checkpoint.
std::string train_tiny_vae(const TempDir &tmp, const TinyData &d) {
    std::string cfg = tiny_config_yaml(d, 2);
    const size_t a = cfg.find("    - {type: dense, units: 16"), b = cfg.find("  loss: mse\n");
    cfg.replace(
        a, b + 12 - a,
        "    - {type: dense, units: 6}\n    - {type: sample}\n    - {type: dense, units: 32, activation: relu}\n"
        "    - {type: dense, units: 64}\n  loss: {type: bce, from_logits: true, reduction: sum}\n");
    write_bytes(tmp / "vae.yaml", cfg);
    RunResult run = run_aepipe({"run", tmp / "vae.yaml", "--out", tmp / "runs", "--quiet"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return tmp / ("runs/" + list_dir(tmp / "runs").at(0) + "/model.safetensors");
}

TEST(EncodeVae, ScoreIsTheNegativeElboAndTheCodeIsMu) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 64, 16);
    const std::string ck = train_tiny_vae(tmp, d);
    RunResult s = run_aepipe({"score", "--checkpoint", ck, "--out", tmp / "s"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_NE(s.out.find("error: negative ELBO, nats_per_img"), std::string::npos) << s.out;
    RunResult e = run_aepipe({"encode", "--checkpoint", ck, "--out", tmp / "c.npy"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    EXPECT_NE(e.out.find("(16 x 3, from model.layers[1] (the VAE's mu"), std::string::npos) << e.out;

    Forward f = forward_test_set(ck, d);
    const float *ml = f.ws->act(2), *y = f.ws->output();  // [mu | logvar] (N, 6); logits (N, 64)
    const auto rows = csv_rows(read_bytes(tmp / "s/scores.csv"));
    ASSERT_EQ(rows.size(), 17u);
    std::vector<float> codes(16 * 3);
    std::memcpy(codes.data(), npy_payload(tmp / "c.npy").data(), codes.size() * 4);
    for (int64_t i = 0; i < 16; ++i) {
        const double want = f.t.model->loss().value(1, 64, y + i * 64, f.x.data() + i * 64) +
                            SampleLayer::kl_row(3, ml + i * 6, ml + i * 6 + 3);
        EXPECT_NEAR(std::stod(rows[size_t(i + 1)][2]), want, 1e-4 * want) << i;
        for (int64_t j = 0; j < 3; ++j) EXPECT_NEAR(codes[size_t(i * 3 + j)], ml[i * 6 + j], 1e-5) << i;
    }
}

// A VAE's score is its negative ELBO, not a residual: --blur has nothing to blur.
TEST(EncodeVae, BlurOnAVaeExit2) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 64, 16);
    const std::string ck = train_tiny_vae(tmp, d);
    fs::create_directories(tmp / "s");
    write_bytes(tmp / "s/scores.csv", "earlier\n");
    RunResult r = run_aepipe({"score", "--checkpoint", ck, "--blur", "1", "--out", tmp / "s"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--blur applies to reconstruction errors; a VAE is scored by its negative ELBO"),
              std::string::npos)
        << r.err;
    expect_intact(tmp / "s/scores.csv", "earlier\n");
}

// A model whose outputs overflow (weights near FLT_MAX, so logits are inf - inf) gives errors
// that are not finite: score says so and writes nothing. (A NaN score used to spin the ROC AUC
// tie loop forever.)
TEST(EncodeVae, ScoresThatAreNotFiniteExit1) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 64, 16);
    const std::string ck = train_tiny_vae(tmp, d);
    StFile f = read_safetensors(ck);
    std::vector<float> &w = f.tensors.at("layers.4.weight").data;
    for (size_t i = 0; i < w.size(); ++i) w[i] = i % 2 ? -3e38f : 3e38f;
    write_safetensors(tmp / "overflow.safetensors", f);
    fs::create_directories(tmp / "s");
    write_bytes(tmp / "s/scores.csv", "earlier\n");
    RunResult r = run_aepipe({"score", "--checkpoint", tmp / "overflow.safetensors", "--normal-classes", "0", "--out",
                              tmp / "s"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(tmp / "overflow.safetensors" + ": the reconstruction error of "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(" of 16 samples of " + d.test_images + " is not finite (the first: sample "),
              std::string::npos)
        << r.err;
    expect_intact(tmp / "s/scores.csv", "earlier\n");
}

// `code: true` travels in the checkpoint's model card: encode takes that layer, not the narrowest.
TEST(EncodeMarked, MarkedLayerFromTheCheckpointAlone) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    std::string cfg = tiny_config_yaml(d, 1);
    const std::string first = "units: 32, activation: relu, init: he}";
    cfg.replace(cfg.find(first), first.size(), "units: 32, activation: relu, init: he, code: true}");
    write_bytes(tmp / "marked.yaml", cfg);
    RunResult run = run_aepipe({"run", tmp / "marked.yaml", "--out", tmp / "runs", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string r = tmp / ("runs/" + list_dir(tmp / "runs").at(0));
    fs::remove(r + "/config.yaml");  // the checkpoint alone describes the model
    RunResult e = run_aepipe({"encode", "--checkpoint", r + "/model.safetensors", "--out", tmp / "c.npy"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    EXPECT_NE(e.out.find("(16 x 32, from model.layers[0] (marked code: true))"), std::string::npos) << e.out;
}

// With DATA omitted, the run's own test set is the one its test reader read: its labels file
// (named nothing like the images, so not guessed) and its `classes` filter travel in the card,
// for encode, score and the report's latent picture alike.
TEST(EncodeTestSet, TheTestReadersLabelsAndClasses) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 64, 48);
    fs::copy_file(d.test_labels, tmp / "answers.idx.gz");
    fs::remove(d.test_labels);
    std::string cfg = tiny_config_yaml(d, 1);
    const std::string labels = "labels: '" + d.test_labels + "'";
    cfg.replace(cfg.find(labels), labels.size(), "labels: '" + tmp / "answers.idx.gz" + "', classes: [1, 2]");
    cfg.replace(cfg.find("  edges:\n"), 9, "    - {id: report, type: report}\n  edges:\n");
    write_bytes(tmp / "filtered.yaml", cfg + "    - eval -> report\n");
    RunResult run = run_aepipe({"run", tmp / "filtered.yaml", "--out", tmp / "runs", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string r = tmp / ("runs/" + list_dir(tmp / "runs").at(0));
    const IdxArray all = read_idx(tmp / "answers.idx.gz");
    std::vector<int64_t> kept;
    for (uint8_t l : all.data)
        if (l == 1 || l == 2) kept.push_back(l);
    ASSERT_GT(kept.size(), 0u);
    ASSERT_LT(kept.size(), all.data.size());
    const std::string n = std::to_string(kept.size());

    RunResult e = run_aepipe({"encode", "--checkpoint", r + "/model.safetensors", "--out", tmp / "c.npy"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    EXPECT_NE(e.out.find("(" + n + " x 16, "), std::string::npos) << e.out;
    const std::string lp = npy_payload(tmp / "c-labels.npy");
    ASSERT_EQ(lp.size(), kept.size() * 8);
    std::vector<int64_t> got(kept.size());
    std::memcpy(got.data(), lp.data(), lp.size());
    EXPECT_EQ(got, kept);
    RunResult s = run_aepipe({"score", "--checkpoint", r + "/model.safetensors", "--normal-classes", "1", "--out",
                              tmp / "s"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_EQ(csv_rows(read_bytes(tmp / "s/scores.csv")).size(), kept.size() + 1);
    EXPECT_NE(read_bytes(r + "/latent.txt").find(n + " of " + n + " samples, coloured by label"), std::string::npos)
        << read_bytes(r + "/latent.txt");
}

// A folder of PNGs is encoded in name order, without labels.
TEST_F(EncodeScore, FolderOfPngs) {
    TempDir out;
    fs::create_directories(out / "pics");
    Dataset ds = load_dataset(data_.test_images, "");
    for (int i = 0; i < 3; ++i)
        write_png(out / ("pics/" + std::to_string(i) + ".png"),
                  Image{8, 8, 1, std::vector<uint8_t>(ds.image(i), ds.image(i) + 64)});
    RunResult r = run_aepipe({"encode", "--checkpoint", ckpt(), out / "pics", "--out", out / "c.npy"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(npy_payload(out / "c.npy").size(), size_t(3 * 16 * 4));
    EXPECT_FALSE(fs::exists(out / "c-labels.npy"));
}

// A 28x28 gray model gets MNIST's recipe for pictures by default (the ink refitted and
// centred); --raw feeds already-prepared PNGs as they are, so they encode and score exactly as
// the IDX images they were written from. --raw with --fit is a usage error.
TEST(EncodePngs, RawFeedsPreparedPicturesAsTheyAre) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 8, 28);
    RunResult run = run_aepipe({"run", write_tiny_config(tmp.path(), d, 1), "--out", tmp / "runs", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string ck = tmp / ("runs/" + list_dir(tmp / "runs").at(0) + "/model.safetensors");
    fs::create_directories(tmp / "pics");
    Dataset ds = load_dataset(d.test_images, "");
    for (int i = 0; i < 8; ++i)
        write_png(tmp / ("pics/" + std::to_string(i) + ".png"),
                  Image{28, 28, 1, std::vector<uint8_t>(ds.image(i), ds.image(i) + 784)});
    for (const char *cmd : {"encode", "score"}) {
        const bool enc = std::string(cmd) == "encode";
        auto out = [&](const std::string &name) { return tmp / (name + (enc ? ".npy" : "")); };
        const std::string file = enc ? "" : "/scores.csv";
        ASSERT_EQ(run_aepipe({cmd, "--checkpoint", ck, d.test_images, "--out", out("idx")}).exit_code, 0);
        RunResult raw = run_aepipe({cmd, "--checkpoint", ck, tmp / "pics", "--raw", "--out", out("raw")});
        ASSERT_EQ(raw.exit_code, 0) << raw.err;
        RunResult fit = run_aepipe({cmd, "--checkpoint", ck, tmp / "pics", "--out", out("fit")});
        ASSERT_EQ(fit.exit_code, 0) << fit.err;
        if (enc) {
            EXPECT_EQ(npy_payload(out("raw")), npy_payload(out("idx"))) << cmd;
            EXPECT_NE(npy_payload(out("fit")), npy_payload(out("idx"))) << cmd;
        } else {  // the same errors; the IDX file has labels, the folder none
            const auto errors = [](const std::string &csv) {
                std::vector<std::string> e;
                for (const auto &row : csv_rows(csv)) e.push_back(row.back());
                return e;
            };
            EXPECT_EQ(errors(read_bytes(out("raw") + file)), errors(read_bytes(out("idx") + file)));
        }
        RunResult both = run_aepipe({cmd, "--checkpoint", ck, tmp / "pics", "--raw", "--fit", "mnist"});
        EXPECT_EQ(both.exit_code, 2) << both.err;
        EXPECT_NE(both.err.find("--raw and --fit exclude each other"), std::string::npos) << both.err;
    }
}

// Every destination is checked before the first write: a folder where an output file goes, or a
// file where its folder goes, is an error that leaves the earlier outputs as they were.
TEST_F(EncodeScore, OutputsInTheWayExit1) {
    TempDir out;
    write_bytes(out / "codes.npy", "earlier");
    fs::create_directories(out / "codes.svg");
    RunResult e = run_aepipe({"encode", "--checkpoint", ckpt(), "--out", out / "codes.npy"});
    EXPECT_EQ(e.exit_code, 1) << e.err;
    EXPECT_NE(e.err.find(out / "codes.svg" + ": error: is a folder, but this output is a file"), std::string::npos)
        << e.err;
    expect_intact(out / "codes.npy", "earlier");
    EXPECT_FALSE(fs::exists(out / "codes-labels.npy"));

    write_bytes(out / "plain", "a file");
    RunResult under = run_aepipe({"encode", "--checkpoint", ckpt(), "--out", out / "plain/sub/c.npy"});
    EXPECT_EQ(under.exit_code, 1) << under.err;
    EXPECT_NE(under.err.find(out / "plain" + ": error: is a file, but the output " + out / "plain/sub/c.npy" +
                             " needs a folder here"),
              std::string::npos)
        << under.err;

    fs::create_directories(out / "s/worst.png");
    write_bytes(out / "s/scores.csv", "earlier\n");
    RunResult s = run_aepipe({"score", "--checkpoint", ckpt(), "--out", out / "s"});
    EXPECT_EQ(s.exit_code, 1) << s.err;
    EXPECT_NE(s.err.find(out / "s/worst.png" + ": error: is a folder"), std::string::npos) << s.err;
    expect_intact(out / "s/scores.csv", "earlier\n");
}

// Codes of data without labels replace an earlier call's codes: its labels file goes too, or it
// would pass for theirs.
TEST_F(EncodeScore, StaleLabelsBesideNewCodesAreRemoved) {
    TempDir out;
    ASSERT_EQ(run_aepipe({"encode", "--checkpoint", ckpt(), "--out", out / "c.npy"}).exit_code, 0);
    ASSERT_TRUE(fs::exists(out / "c-labels.npy"));
    fs::copy_file(data_.test_images, out / "pics.idx.gz");  // no labels file beside it
    RunResult r = run_aepipe({"encode", "--checkpoint", ckpt(), out / "pics.idx.gz", "--out", out / "c.npy"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(out / "c-labels.npy"));
    EXPECT_NE(r.out.find("removed " + out / "c-labels.npy"), std::string::npos) << r.out;
}

// A model with no layer narrower than its input and none marked `code: true` has no code.
TEST(EncodeErrors, CheckpointWithoutACodeLayerExit1) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    std::string cfg = tiny_config_yaml(d, 1);
    const size_t a = cfg.find("    - {type: dense, units: 32"), b = cfg.find("    - {type: dense, units: 64");
    ASSERT_NE(a, std::string::npos);
    ASSERT_NE(b, std::string::npos);
    cfg.replace(a, b - a, "    - {type: dense, units: 64, activation: relu}\n");  // 64 -> 64 -> 64
    write_bytes(tmp / "wide.yaml", cfg);
    RunResult run = run_aepipe({"run", tmp / "wide.yaml", "--out", tmp / "runs", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string ck = tmp / ("runs/" + list_dir(tmp / "runs").at(0) + "/model.safetensors");
    write_bytes(tmp / "codes.npy", "earlier");
    RunResult r = run_aepipe({"encode", "--checkpoint", ck, "--out", tmp / "codes.npy"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(ck + ": the model has no code layer: no layer is marked 'code: true' and none is narrower "
                              "than the input (64 values)"),
              std::string::npos)
        << r.err;
    expect_intact(tmp / "codes.npy", "earlier");
    EXPECT_FALSE(fs::exists(tmp / "codes-labels.npy"));
}

}  // namespace
}  // namespace aepipe::test
