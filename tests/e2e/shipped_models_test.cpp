// reconstruct (and, for VAEs, generate) on a model of every shipped config (configs/*.yaml,
// found at run time, so a new config is covered without a new test): each config is trained
// for two steps on tiny 28x28 data, then its data files are deleted, and the commands must
// work from the checkpoint alone. The reconstruction is checked against the model computed
// here from the run's config.yaml and the image shape, and against the same checkpoint
// without its model card (an older checkpoint, described by the config beside it).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "nodes/data/normalize.hpp"
#include "nodes/nn/model.hpp"
#include "nodes/sink/checkpoint.hpp"
#include "formats/png.hpp"
#include "pipeline/config.hpp"
#include "support/fixtures.hpp"
#include "support/model_card.hpp"

namespace aepipe::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> shipped_configs() {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(std::string(AEPIPE_SOURCE_DIR) + "/configs"))
        if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

// The shipped config on tiny data: every reader reads `d`, two steps of batch 16.
std::string tiny_variant(const std::string &name, const TinyData &d, const std::string &dir) {
    const std::string path = shipped_config_on(name, d, dir);
    YAML::Node root = YAML::LoadFile(path);
    root["train"]["epochs"] = 1;
    root["train"]["max_steps"] = 2;
    root["train"]["batch"] = 16;
    YAML::Emitter e;
    e << root;
    write_bytes(path, e.c_str());
    return path;
}

// A light 30x12 bar on a dark 60x40 sheet.
Image bar_picture() {
    Image m{60, 40, 1, std::vector<uint8_t>(60 * 40, 0)};
    for (int64_t y = 5; y < 17; ++y)
        for (int64_t x = 10; x < 40; ++x) m.px[size_t(y * 60 + x)] = 255;
    return m;
}

// What the run's model makes of a 28x28 gray input, computed here from its config.yaml.
std::vector<uint8_t> expected_recon(const std::string &run, const Image &input) {
    ConfigFile cfg = load_config(run + "/config.yaml");
    Normalizer norm;
    for (const auto &n : cfg.root["graph"]["nodes"])
        if (n["type"].as<std::string>() == "normalize")
            norm = {float(n["scale"].as<double>(1.0 / 255)), float(n["shift"].as<double>(0)),
                    float(n["mean"].as<double>(0)), float(n["std"].as<double>(1))};
    Model m(ModelSpec::parse(cfg, cfg.root["model"], Shape{1, 28, 28}));
    std::vector<float> w(size_t(m.num_params())), x(784), y(784);
    from_safetensors(m, read_safetensors(run + "/model.safetensors"), "ckpt", w.data());
    norm.apply(input.px.data(), 784, x.data());
    Workspace ws(m, 1);
    ws.prepare(1);
    m.loss().to_image(784, ws.forward(1, x.data(), w.data()), y.data());
    std::vector<uint8_t> bytes(784);
    for (size_t i = 0; i < 784; ++i) bytes[i] = norm.to_byte(y[i]);
    return bytes;
}

bool is_vae(const std::string &run) {
    ConfigFile cfg = load_config(run + "/config.yaml");
    for (const auto &l : cfg.root["model"]["layers"])
        if (l["type"].as<std::string>() == "sample") return true;
    return false;
}

bool is_denoiser(const std::string &run) {
    ConfigFile cfg = load_config(run + "/config.yaml");
    for (const auto &n : cfg.root["graph"]["nodes"])
        if (n["type"].as<std::string>() == "corrupt") return true;
    return false;
}

class ShippedModel : public ::testing::TestWithParam<std::string> {
protected:
    // Trains the config on tiny data; returns its run folder.
    std::string train() {
        data_ = write_tiny_data(tmp_.path(), 64, 16, 28, false);
        const std::string cfg = tiny_variant(GetParam(), data_, tmp_.path());
        RunResult r = run_aepipe({"run", cfg, "--out", tmp_ / "runs", "--threads", "1", "-q"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto dirs = list_dir(tmp_ / "runs");
        return dirs.size() == 1 ? tmp_ / "runs/" + dirs[0] : "";
    }
    void delete_data() const {
        for (const auto &f : {data_.train_images, data_.train_labels, data_.test_images, data_.test_labels})
            fs::remove(f);
    }
    TempDir tmp_{"aepipe-shipped"};
    TinyData data_;
};

TEST_P(ShippedModel, ReconstructsFromTheCheckpointAloneAndLikeAnOldCheckpoint) {
    const std::string run = train();
    ASSERT_FALSE(run.empty());
    const std::string pic = tmp_ / "bar.png";
    write_png(pic, bar_picture());
    // The same checkpoint as an older aepipe wrote it, with the run's config beside it.
    fs::create_directories(tmp_ / "old");
    write_old_checkpoint(run + "/model.safetensors", tmp_ / "old/model.safetensors");
    fs::copy_file(run + "/config.yaml", tmp_ / "old/config.yaml");
    RunResult old = run_aepipe({"reconstruct", "--checkpoint", tmp_ / "old/model.safetensors", "--out",
                                tmp_ / "out_old", pic});
    ASSERT_EQ(old.exit_code, 0) << old.err;

    delete_data();
    RunResult r = run_aepipe({"reconstruct", "--checkpoint", run + "/model.safetensors", "--out", tmp_ / "out", pic});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Image in = read_png(tmp_ / "out/bar_input.png"), rec = read_png(tmp_ / "out/bar_recon.png");
    ASSERT_EQ(rec.w, 28);
    ASSERT_EQ(rec.h, 28);
    ASSERT_EQ(rec.c, 1);
    EXPECT_EQ(rec.px, expected_recon(run, in)) << "the model of the 28x28x1 images, with the run's normalisation";
    EXPECT_EQ(read_bytes(tmp_ / "out/bar_recon.png"), read_bytes(tmp_ / "out_old/bar_recon.png"))
        << "the model card and the run's config describe the same model";
    // A denoiser's card says so, and reconstruct points at --raw when MNIST's fit removed the noise.
    const bool denoiser = is_denoiser(run);
    EXPECT_EQ(read_safetensors(run + "/model.safetensors").metadata.count("corrupt"), denoiser ? 1u : 0u);
    EXPECT_EQ(r.out.find("trained as a denoiser") != std::string::npos, denoiser) << r.out;
}

TEST_P(ShippedModel, GeneratesFromTheCheckpointAloneWhenItIsAVae) {
    const std::string run = train();
    ASSERT_FALSE(run.empty());
    if (!is_vae(run)) {
        RunResult r = run_aepipe({"generate", "--checkpoint", run + "/model.safetensors", "--n", "4"});
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("has no sample layer: aepipe generate needs a VAE"), std::string::npos) << r.err;
        return;
    }
    delete_data();
    RunResult r =
        run_aepipe({"generate", "--checkpoint", run + "/model.safetensors", "--n", "4", "--out", tmp_ / "s.png"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Image s = read_png(tmp_ / "s.png");
    EXPECT_EQ(s.w, 2 * (28 * 2 + 2) + 2);  // 2 x 2 samples of 28x28, zoom 2, 2-pixel gaps
    EXPECT_EQ(s.h, 2 * (28 * 2 + 2) + 2);
    // Interpolation needs the test images themselves: a clear error naming them.
    RunResult i = run_aepipe({"generate", "--checkpoint", run + "/model.safetensors", "--interpolate", "0,1",
                              "--out", tmp_ / "i.png"});
    EXPECT_EQ(i.exit_code, 1);
    EXPECT_NE(i.err.find(data_.test_images), std::string::npos) << i.err;
    EXPECT_FALSE(fs::exists(tmp_ / "i.png"));
}

INSTANTIATE_TEST_SUITE_P(Configs, ShippedModel, ::testing::ValuesIn(shipped_configs()),
                         [](const auto &info) { return info.param; });

TEST(ShippedConfigs, IncludeDenseConvolutionalAndVaeModels) {
    const auto names = shipped_configs();
    for (const char *n : {"mnist_ae", "mnist_conv_ae", "mnist_denoise", "mnist_vae", "mnist_conv_vae"})
        EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

}  // namespace
}  // namespace aepipe::test
