// aepipe reconstruct through the binary, on a tiny 28x28 model trained by the test (with a
// non-default normalize, so the command must apply the run's normalisation): gray, RGB,
// alpha, dark-on-light and large pictures; the outputs checked against the same steps done
// in-process; and one test per error, each leaving no output behind.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "formats/image_prep.hpp"
#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/sink/checkpoint.hpp"
#include "formats/png.hpp"
#include "pipeline/config.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"
#include "support/model_card.hpp"
#include "support/shared_run.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

// A w x h gray picture of `bg` with the rectangle [x0, x0+rw) x [y0, y0+rh) set to `fg`.
Image block(int64_t w, int64_t h, uint8_t bg, uint8_t fg, int64_t x0, int64_t y0, int64_t rw, int64_t rh) {
    Image m{w, h, 1, std::vector<uint8_t>(size_t(w * h), bg)};
    for (int64_t y = y0; y < y0 + rh; ++y)
        for (int64_t x = x0; x < x0 + rw; ++x) m.px[size_t(y * w + x)] = fg;
    return m;
}

const Normalizer kNorm{1.f / 255.f, 0.f, 0.1f, 0.8f};  // the normalize node of the tiny run

// One tiny 28x28 run, made once per ctest run (support/shared_run.hpp); tests only read it.
SharedRun &shared() {
    static SharedRun s("Reconstruct", [](const std::string &dir) {
        std::string cfg = write_tiny_config(dir, write_tiny_data(dir, 64, 16, 28), 2);
        RunResult r = run_aepipe({"run", cfg, "--out", dir + "/runs", "--quiet", "--threads", "1",
                                  "graph.nodes[3].mean=0.1", "graph.nodes[3].std=0.8"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
    });
    return s;
}
TEST(SharedRuns, Reconstruct) { shared().make_for_ctest(); }

class Reconstruct : public ::testing::Test {
protected:
    static const std::string &run() {
        if (run_.empty()) run_ = only_run_in(shared().dir() + "/runs");
        return run_;
    }
    void SetUp() override { ASSERT_FALSE(run().empty()); }
    std::string picture(const std::string &name, const Image &m) const {
        std::string path = pics_.path() + "/" + name;
        write_png(path, m);
        return path;
    }
    RunResult reconstruct(std::vector<std::string> pictures, std::vector<std::string> extra = {}) const {
        std::vector<std::string> args{"reconstruct", "--checkpoint", run() + "/model.safetensors", "--out", out()};
        args.insert(args.end(), pictures.begin(), pictures.end());
        args.insert(args.end(), extra.begin(), extra.end());
        return run_aepipe(args);
    }
    std::string out() const { return pics_.path() + "/out"; }
    // What the model makes of a prepared 28x28 input, computed here from the checkpoint.
    static std::vector<uint8_t> expected_recon(const Image &input) {
        ConfigFile cfg = load_config(run() + "/config.yaml");
        Model m(ModelSpec::parse(cfg, cfg.root["model"], 784));
        std::vector<float> w(size_t(m.num_params())), x(784), y(784);
        from_safetensors(m, read_safetensors(run() + "/model.safetensors"), "ckpt", w.data());
        kNorm.apply(input.px.data(), 784, x.data());
        Workspace ws(m, 1);
        ws.prepare(1);
        m.loss().to_image(784, ws.forward(1, x.data(), w.data()), y.data());
        std::vector<uint8_t> bytes(784);
        for (size_t i = 0; i < 784; ++i) bytes[i] = kNorm.to_byte(y[i]);
        return bytes;
    }
    TempDir pics_{"aepipe-pics"};

private:
    static inline std::string run_;
};

// The MNIST-style input of a light 30x12 bar (what every bar picture below must become).
const Image kBar = mnist_fit(block(60, 40, 0, 255, 10, 5, 30, 12), "bar");

TEST_F(Reconstruct, GrayPictureGivesInputReconstructionAndGrid) {
    RunResult r = reconstruct({picture("bar.png", block(60, 40, 0, 255, 10, 5, 30, 12))});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(list_dir(out()), (std::vector<std::string>{"bar_input.png", "bar_recon.png", "grid.png"}));
    Image in = read_png(out() + "/bar_input.png"), rec = read_png(out() + "/bar_recon.png");
    EXPECT_EQ(in.w, 28);
    EXPECT_EQ(in.c, 1);
    EXPECT_EQ(in.px, kBar.px);
    EXPECT_EQ(rec.w, 28);
    EXPECT_EQ(rec.h, 28);
    EXPECT_EQ(rec.px, expected_recon(kBar)) << "the run's model and normalisation";
    Image grid = read_png(out() + "/grid.png");  // one column, two rows of 28*4 with 2-pixel gaps
    EXPECT_EQ(grid.w, 116);
    EXPECT_EQ(grid.h, 230);
    EXPECT_NE(r.out.find("60x40 gray, fitted 20x20 in 28x28 -> " + out() + "/bar_recon.png"), std::string::npos)
        << r.out;
}

TEST_F(Reconstruct, DarkOnLightPictureIsInverted) {
    RunResult r = reconstruct({picture("ink.png", block(60, 40, 255, 0, 10, 5, 30, 12))});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(out() + "/ink_input.png").px, kBar.px);
    EXPECT_NE(r.out.find("inverted (dark on light)"), std::string::npos) << r.out;
}

TEST_F(Reconstruct, RgbPictureIsMadeGray) {
    Image rgb = to_channels(block(60, 40, 0, 255, 10, 5, 30, 12), 3);
    RunResult r = reconstruct({picture("rgb.png", rgb)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(out() + "/rgb_input.png").px, kBar.px);
    EXPECT_NE(r.out.find("60x40 RGB"), std::string::npos) << r.out;
}

TEST_F(Reconstruct, DarkInkOnTransparentSheet) {
    Image ga{60, 40, 2, std::vector<uint8_t>(60 * 40 * 2, 0)};  // black, alpha 0 outside the bar
    Image bar = block(60, 40, 0, 255, 10, 5, 30, 12);
    for (size_t i = 0; i < bar.px.size(); ++i) ga.px[2 * i + 1] = bar.px[i];
    RunResult r = reconstruct({picture("alpha.png", ga)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(out() + "/alpha_input.png").px, kBar.px);
    EXPECT_NE(r.out.find("gray+alpha, fitted 20x20 in 28x28, inverted"), std::string::npos) << r.out;
}

TEST_F(Reconstruct, LargePictureIsFitted) {
    RunResult r = reconstruct({picture("big.png", block(1500, 1000, 250, 5, 250, 125, 750, 300))});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(out() + "/big_input.png").px, kBar.px);
}

TEST_F(Reconstruct, SeveralPicturesWithOneNameAreToldApartByFolder) {
    fs::create_directories(pics_ / "x");
    std::string a = picture("bar.png", block(60, 40, 0, 255, 10, 5, 30, 12));
    std::string b = picture("x/bar.png", block(60, 40, 255, 0, 10, 5, 30, 12));
    RunResult r = reconstruct({a, b});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string first = fs::path(pics_.path()).filename().string() + "_bar";  // the folders' names
    EXPECT_EQ(list_dir(out()), (std::vector<std::string>{first + "_input.png", first + "_recon.png", "grid.png",
                                                         "x_bar_input.png", "x_bar_recon.png"}));
    EXPECT_EQ(read_png(out() + "/grid.png").w, 2 * 114 + 2);
}

TEST_F(Reconstruct, FitResizeAndInvertNeverArePlain) {
    Image pic = block(56, 56, 255, 0, 10, 10, 20, 20);
    RunResult r = reconstruct({picture("plain.png", pic)}, {"--fit", "resize", "--invert", "never"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(out() + "/plain_input.png").px, resize(pic, 28, 28).px);
    EXPECT_NE(r.out.find("56x56 gray, resized -> "), std::string::npos) << r.out;
}

// --- errors: one per case; none leaves an output folder ---

void expect_error(const RunResult &r, int code, const std::string &msg, const std::string &out) {
    expect_exit(r, code, msg);
    EXPECT_FALSE(fs::exists(out)) << "nothing is written when a picture is bad";
}

TEST_F(Reconstruct, NonImageFileIsNamed) {
    write_bytes(pics_ / "notes.png", "not a picture");
    std::string ok = picture("bar.png", block(60, 40, 0, 255, 10, 5, 30, 12));
    expect_error(reconstruct({ok, pics_ / "notes.png"}), 1,
                 pics_ / "notes.png" + ": byte 0: error: not a PNG file (bad signature)", out());
}

TEST_F(Reconstruct, MissingPicture) {
    expect_error(reconstruct({pics_ / "nope.png"}), 1, pics_ / "nope.png" + ": error: file not found", out());
}

TEST_F(Reconstruct, BlankPicture) {
    expect_error(reconstruct({picture("white.png", block(30, 30, 255, 255, 0, 0, 1, 1))}), 1,
                 "white.png: error: the picture is blank", out());
}

TEST_F(Reconstruct, ModelOfAnotherInputShape) {
    TinyData d8 = write_tiny_data(pics_.path(), 16, 16, 8, false);  // a config whose data are 8x8
    std::string cfg8 = write_tiny_config(pics_.path(), d8, 1, "eight");
    expect_error(reconstruct({picture("bar.png", kBar)}, {"--config", cfg8}), 1,
                 run() + "/model.safetensors: error: its tensors do not match the model that the config " + cfg8 +
                     " describes (input 8x8x1: 64 | dense",
                 out());
    RunResult r = reconstruct({picture("bar.png", kBar)}, {"--config", cfg8});
    EXPECT_NE(r.err.find("tensor 'layers.0.weight' has shape 32x784, the model needs 32x64 (was it trained with "
                         "another config?)"),
              std::string::npos)
        << r.err;
}

// --- a model card (the checkpoint's metadata) that is wrong: one test per case ---

std::string with_card_key(const TempDir &dir, const std::string &ckpt, const std::string &key,
                          const std::string &value) {
    write_with_metadata(ckpt, dir / "m.safetensors", key, value);
    return dir / "m.safetensors";
}

TEST_F(Reconstruct, CardOfAnotherModel) {
    std::string m = with_card_key(pics_, run() + "/model.safetensors", "model",
                                  "{layers: [{type: dense, units: 16}, {type: dense, units: 784}]}");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", m, "--out", out(), picture("bar.png", kBar)}), 1,
                 m + ": error: its tensors do not match the model that its metadata describes (input 28x28x1: 784 | "
                     "dense 784->16",
                 out());
    RunResult r = run_aepipe({"reconstruct", "--checkpoint", m, "--out", out(), picture("bar.png", kBar)});
    EXPECT_NE(r.err.find("): tensor 'layers.0.weight' has shape 32x784, the model needs 16x784"), std::string::npos)
        << r.err;
}

TEST_F(Reconstruct, CardWithFewerLayersThanTensors) {
    StFile f = read_safetensors(run() + "/model.safetensors");
    f.tensors["layers.9.weight"] = StTensor{{2, 2}, {1, 2, 3, 4}};
    write_safetensors(pics_ / "m.safetensors", f);
    expect_error(run_aepipe({"reconstruct", "--checkpoint", pics_ / "m.safetensors", "--out", out(),
                             picture("bar.png", kBar)}),
                 1, "): the file has a tensor 'layers.9.weight' that the model does not have", out());
}

TEST_F(Reconstruct, CardOfAnotherInputShape) {
    std::string m = with_card_key(pics_, run() + "/model.safetensors", "input_shape", "8x8x1");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", m, "--out", out(), picture("bar.png", kBar)}), 1,
                 m + ": error: its __metadata__ does not describe a valid model:", out());
}

TEST_F(Reconstruct, CardWithMalformedInputShape) {
    std::string m = with_card_key(pics_, run() + "/model.safetensors", "input_shape", "28x28");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", m, "--out", out(), picture("bar.png", kBar)}), 1,
                 m + ": error: __metadata__ 'input_shape': '28x28' is not HxWxC (e.g. 28x28x1)", out());
}

TEST_F(Reconstruct, CardWithMalformedModelYaml) {
    std::string m = with_card_key(pics_, run() + "/model.safetensors", "model", "{layers: [");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", m, "--out", out(), picture("bar.png", kBar)}), 1,
                 m + ": error: its __metadata__ does not describe a valid model:", out());
}

TEST_F(Reconstruct, CardWithoutNormalization) {
    std::string m = with_card_key(pics_, run() + "/model.safetensors", "normalize", "{\"scale\": 0.5}");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", m, "--out", out(), picture("bar.png", kBar)}), 1,
                 m + ": error: __metadata__ 'normalize': needs a number 'shift'", out());
}

// The card keeps the run's normalisation: the checkpoint works without the config and the data.
TEST_F(Reconstruct, CheckpointAloneGivesTheSameReconstruction) {
    fs::copy_file(run() + "/model.safetensors", pics_ / "model.safetensors");
    RunResult r = run_aepipe({"reconstruct", "--checkpoint", pics_ / "model.safetensors", "--out", out(),
                              picture("bar.png", block(60, 40, 0, 255, 10, 5, 30, 12))});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(out() + "/bar_recon.png").px, expected_recon(kBar));
}

// --raw: the picture as it is, resized only (noise and background kept for a denoiser).
TEST_F(Reconstruct, RawFeedsThePictureAsItIs) {
    Image noisy = block(28, 28, 40, 200, 4, 10, 20, 6);
    for (size_t i = 0; i < noisy.px.size(); i += 7) noisy.px[i] = uint8_t((i * 37) % 256);  // speckles
    RunResult r = reconstruct({picture("noisy.png", noisy)}, {"--raw"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(out() + "/noisy_input.png").px, noisy.px) << "28x28 already: nothing changed";
    EXPECT_EQ(read_png(out() + "/noisy_recon.png").px, expected_recon(noisy));
    Image big = block(56, 84, 250, 5, 10, 10, 30, 30);
    ASSERT_EQ(reconstruct({picture("big.png", big)}, {"--raw"}).exit_code, 0);
    EXPECT_EQ(read_png(out() + "/big_input.png").px, resize(big, 28, 28).px) << "resized, not inverted or fitted";
}

TEST(ReconstructUsage, RawExcludesFit) {
    TempDir t("aepipe-pics");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", "m", "--raw", "--fit", "mnist", "x.png", "--out",
                             t / "out"}),
                 2, "--raw and --fit exclude each other", t / "out");
}

TEST(ReconstructUsage, RawExcludesInvert) {
    TempDir t("aepipe-pics");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", "m", "--invert", "always", "--raw", "x.png", "--out",
                             t / "out"}),
                 2, "--raw and --invert exclude each other", t / "out");
}

TEST_F(Reconstruct, CheckpointThatIsNotAModel) {
    std::string png = picture("bar.png", kBar);
    RunResult r =
        run_aepipe({"reconstruct", "--checkpoint", png, "--config", run() + "/config.yaml", "--out", out(), png});
    expect_error(r, 1, png + ": byte 0: error: header length", out());
}

// An older checkpoint (no model card) needs its run's config beside it or through --config.
TEST_F(Reconstruct, ConfigMissingBesideAnOldCheckpoint) {
    write_old_checkpoint(run() + "/model.safetensors", pics_ / "model.safetensors");
    RunResult r = run_aepipe({"reconstruct", "--checkpoint", pics_ / "model.safetensors", "--out", out(), "x.png"});
    expect_error(r, 1,
                 pics_ / "config.yaml" + ": error: config not found: " + pics_ / "model.safetensors" +
                     " has no model description in its metadata (written by an older aepipe), so the run's "
                     "config.yaml is needed; pass it with --config FILE",
                 out());
    const std::string bar = picture("bar.png", kBar);
    RunResult ok = run_aepipe({"reconstruct", "--checkpoint", pics_ / "model.safetensors", "--config",
                               run() + "/config.yaml", "--out", out(), bar});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(read_png(out() + "/bar_recon.png").px, expected_recon(kBar));
}

TEST_F(Reconstruct, TrainingDataGone) {
    TinyData gone = write_tiny_data(pics_.path(), 16, 16, 28, false);
    std::string cfg = write_tiny_config(pics_.path(), gone, 1, "gone");
    fs::remove(gone.train_images);
    expect_error(reconstruct({picture("bar.png", kBar)}, {"--config", cfg}), 1,
                 gone.train_images + ": error: not found: the model's input shape is read from its training data",
                 out());
}

// A checkpoint, config, data file or picture that exists but is a directory or a FIFO is
// named as what it is: these said "checkpoint not found", "config not found", "data file not
// found" and (a FIFO x.png in a folder) "no .png files in this folder".
TEST_F(Reconstruct, NonRegularInputsAreNamedAsWhatTheyAre) {
    const std::string fifo_tail = " (aepipe reads only regular files: this one could block or never end)";
    const std::string ckpt = run() + "/model.safetensors", bar = picture("bar.png", kBar);
    fs::create_directories(pics_ / "dir.safetensors");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", pics_ / "dir.safetensors", "--out", out(), bar}), 1,
                 pics_ / "dir.safetensors" + ": error: is a folder; --checkpoint takes the model file, a run's model.safetensors",
                 out());
    ASSERT_EQ(::mkfifo((pics_ / "c.yaml").c_str(), 0600), 0);
    expect_error(run_aepipe({"reconstruct", "--checkpoint", ckpt, "--config", pics_ / "c.yaml", "--out", out(), bar}),
                 1, pics_ / "c.yaml" + ": error: is a FIFO (named pipe), expected a YAML config file" + fifo_tail,
                 out());
    RunResult s = run_aepipe({"score", "--checkpoint", ckpt, pics_ / "c.yaml", "--out", out() + "/s.csv"});
    expect_exit(s, 1, pics_ / "c.yaml" + ": error: is a FIFO (named pipe), expected an IDX file" + fifo_tail);
    fs::create_directories(pics_ / "pngs");
    ASSERT_EQ(::mkfifo((pics_ / "pngs/a.png").c_str(), 0600), 0);
    RunResult e = run_aepipe({"encode", "--checkpoint", ckpt, pics_ / "pngs", "--out", out() + "/e.npy"});
    expect_exit(e, 1, pics_ / "pngs/a.png" + ": error: is a FIFO (named pipe), expected a PNG file" + fifo_tail);
}

// --init-from a file that cannot be loaded is refused before the run folder is made (it was
// refused after the folder was made and the data loaded).
TEST_F(Reconstruct, InitFromABadFileMakesNoRunFolder) {
    fs::create_directories(pics_ / "dir.ckpt");
    write_bytes(pics_ / "junk.safetensors", "junk");
    const std::string cfg = run() + "/config.yaml";
    for (const std::string &from : {pics_ / "dir.ckpt", pics_ / "junk.safetensors"}) {
        RunResult r = run_aepipe({"run", cfg, "--out", pics_ / "runs", "--init-from", from});
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_NE(r.err.find(from + ": "), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(pics_ / "runs")) << from;
    }
    RunResult shape = run_aepipe({"run", cfg, "--out", pics_ / "runs", "--init-from", run() + "/model.safetensors",
                                  "model.layers[1].units=8"});
    EXPECT_EQ(shape.exit_code, 1) << shape.err;
    EXPECT_NE(shape.err.find("the model needs"), std::string::npos) << shape.err;
    EXPECT_FALSE(fs::exists(pics_ / "runs"));
}

// Usage errors need no trained model.
TEST(ReconstructUsage, MissingCheckpoint) {
    TempDir t("aepipe-pics");
    RunResult r = run_aepipe({"reconstruct", "--checkpoint", t / "none.safetensors", "--out", t / "out", "x.png"});
    expect_error(r, 1, t / "none.safetensors" + ": error: checkpoint not found", t / "out");
}

// A run folder given as the checkpoint: the error names the model file inside it.
TEST(ReconstructUsage, RunFolderAsCheckpointNamesTheFileInIt) {
    TempDir t("aepipe-pics");
    fs::create_directories(t / "run");
    RunResult r = run_aepipe({"reconstruct", "--checkpoint", t / "run", "--out", t / "out", "x.png"});
    expect_error(r, 1, t / "run" + ": error: is a folder; --checkpoint takes the model file, a run's model.safetensors",
                 t / "out");
    write_bytes(t / "run/model.safetensors", "x");
    r = run_aepipe({"reconstruct", "--checkpoint", t / "run", "--out", t / "out", "x.png"});
    expect_error(r, 1, t / "run" + ": error: is a folder; --checkpoint takes the model file: " + t / "run/model.safetensors",
                 t / "out");
}

TEST(ReconstructUsage, NoCheckpointOption) {
    TempDir t("aepipe-pics");
    expect_error(run_aepipe({"reconstruct", "x.png", "--out", t / "out"}), 2, "missing --checkpoint FILE", t / "out");
}

TEST(ReconstructUsage, UnknownFit) {
    TempDir t("aepipe-pics");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", "m", "--fit", "stretch", "x.png", "--out", t / "out"}), 2,
                 "--fit 'stretch': expected auto, mnist or resize", t / "out");
}

TEST(ReconstructUsage, UnknownInvert) {
    TempDir t("aepipe-pics");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", "m", "--invert", "yes", "x.png", "--out", t / "out"}), 2,
                 "--invert 'yes': expected auto, always or never", t / "out");
}

TEST(ReconstructUsage, NoPictures) {
    TempDir t("aepipe-pics");
    write_bytes(t / "m.safetensors", "");
    expect_error(run_aepipe({"reconstruct", "--checkpoint", t / "m.safetensors", "--out", t / "out"}), 2,
                 "no IMAGE.png given", t / "out");
}

}  // namespace
}  // namespace aepipe::test
