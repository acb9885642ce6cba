// A tiny VAE end to end through the aepipe binary on generated 8x8 bar images: its test loss
// in nats per image falls, metrics carry the VAE columns (total, reconstruction and KL with
// units), two-shard runs with one seed agree, and `aepipe generate` writes sample,
// interpolation and manifold grids of the right size; and one test per generate error
// (non-VAE checkpoint, bad index, wrong latent size for --manifold, missing checkpoint,
// missing config, malformed --interpolate).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "formats/png.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"
#include "support/model_card.hpp"
#include "support/shared_run.hpp"

namespace aepipe::test {
namespace {

constexpr int64_t kEpochs = 6, kSide = 8, kCell = kSide * 2 + 2;  // zoom 2, 2-pixel gaps

std::string vae_yaml(const TinyData &d, int64_t latent, int64_t epochs) {
    std::ostringstream s;
    s << "name: tiny_vae\n"
         "model:\n"
         "  layers:\n"
         "    - {type: dense, units: 32, activation: relu}\n"
         "    - {type: dense, units: "
      << 2 * latent
      << "}\n"
         "    - {type: sample}\n"
         "    - {type: dense, units: 32, activation: relu}\n"
         "    - {type: dense, units: "
      << d.side * d.side
      << "}\n"
         "  loss: {type: bce, from_logits: true, reduction: sum}\n"
         "train: {optimizer: {type: adam, lr: 0.01}, batch: 16, epochs: "
      << epochs
      << ", seed: 3}\n"
         "graph:\n"
         "  nodes:\n"
         "    - {id: train_set, type: idx_reader, images: '"
      << d.train_images
      << "'}\n"
         "    - {id: shuffle, type: shuffle}\n"
         "    - {id: batches, type: batch}\n"
         "    - {id: scale, type: normalize}\n"
         "    - {id: model, type: train}\n"
         "    - {id: test_set, type: idx_reader, images: '"
      << d.test_images
      << "'}\n"
         "    - {id: eval, type: evaluate}\n"
         "    - {id: metrics, type: metrics}\n"
         "    - {id: ckpt, type: checkpoint}\n"
         "  edges: [train_set -> shuffle, shuffle -> batches, batches -> scale, scale -> model,\n"
         "          model.epoch -> eval.model, test_set -> eval.data, eval -> metrics, model.epoch -> ckpt]\n";
    return s.str();
}

std::vector<std::string> split(const std::string &line) {
    std::vector<std::string> v;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) v.push_back(f);
    return v;
}

// Trains a VAE with this latent size on `d` into dir/<name>; returns its run folder ("" on
// failure, with the error in *err).
std::string train_vae(const std::string &dir, const TinyData &d, int64_t latent, int64_t epochs, std::string *err) {
    const std::string name = "vae" + std::to_string(latent) + "_" + std::to_string(epochs);
    write_bytes(dir + "/" + name + ".yaml", vae_yaml(d, latent, epochs));
    RunResult r = run_aepipe({"run", dir + "/" + name + ".yaml", "--out", dir + "/" + name, "--threads", "1", "-q"});
    *err = r.err;
    std::vector<std::string> dirs = list_dir(dir + "/" + name);
    return r.exit_code == 0 && dirs.size() == 1 ? dir + "/" + name + "/" + dirs[0] : "";
}

// The data and one trained VAE (2-D latent), made once per ctest run (support/shared_run.hpp).
SharedRun &shared() {
    static SharedRun s("Vae", [](const std::string &dir) {
        std::string err;
        EXPECT_NE(train_vae(dir, write_tiny_data(dir, 256, 64, kSide), 2, kEpochs, &err), "") << err;
    });
    return s;
}
TEST(SharedRuns, Vae) { shared().make_for_ctest(); }

// The shared run is only read; what a test writes goes into its own tmp().
class Vae : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        data_ = tiny_data_in(shared().dir(), 256, 64, kSide);
        const std::string runs = shared().dir() + "/vae2_" + std::to_string(kEpochs);
        run_ = list_dir(runs).size() == 1 ? runs + "/" + list_dir(runs)[0] : "";
    }
    void SetUp() override { ASSERT_FALSE(run_.empty()) << "the shared VAE run failed"; }
    static const std::string &run() { return run_; }
    const TempDir &tmp() const { return tmp_; }
    std::string train(int64_t latent, int64_t epochs, std::string *err) const {
        return train_vae(tmp_.path(), data_, latent, epochs, err);
    }
    static RunResult generate(std::vector<std::string> args) {
        args.insert(args.begin(), "generate");
        return run_aepipe(args);
    }
    static std::string checkpoint() { return run() + "/model.safetensors"; }
    // A copy of the checkpoint in tmp(), for a command that writes beside its checkpoint (the
    // shared run is only read).
    std::string own_checkpoint() const {
        std::filesystem::copy_file(checkpoint(), tmp() / "model.safetensors");
        return tmp() / "model.safetensors";
    }
    TempDir tmp_{"aepipe-vae"};
    static inline TinyData data_;
    static inline std::string run_;
};

TEST_F(Vae, MetricsReportNatsPerImageAndTheLossFalls) {
    std::vector<std::string> lines = lines_of(read_bytes(run() + "/metrics.csv"));
    ASSERT_EQ(int64_t(lines.size()), kEpochs + 1);
    EXPECT_EQ(lines[0],
              "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s,"
              "train_nats_per_img,train_recon_nats_per_img,train_kl_nats_per_img,"
              "test_nats_per_img,test_recon_nats_per_img,test_kl_nats_per_img");
    std::vector<std::string> first = split(lines[1]), last = split(lines.back());
    ASSERT_EQ(first.size(), 14u);
    ASSERT_EQ(last.size(), 14u);
    const double test0 = std::stod(first[11]), test_end = std::stod(last[11]);
    EXPECT_LT(test_end, 0.85 * test0) << "test nats per image: epoch 1 " << test0 << ", last " << test_end;
    for (const auto *row : {&first, &last}) {
        const double recon = std::stod((*row)[12]), kl = std::stod((*row)[13]), total = std::stod((*row)[11]);
        EXPECT_GT(kl, 0.0) << "the KL term is positive";
        EXPECT_NEAR(total, recon + kl, 1e-5 * total) << "beta 1: total = recon + KL";
        EXPECT_EQ((*row)[3], (*row)[11]) << "test_loss is the same figure";
        EXPECT_NEAR(std::stod((*row)[8]), std::stod((*row)[9]) + std::stod((*row)[10]), 1e-5 * total);
    }
}

// Two row shards on two threads, twice: the noise is a function of (seed, step, row), so
// the losses come out the same whatever thread ran which shard when.
TEST_F(Vae, TwoShardRunsWithOneSeedAgree) {
    write_bytes(tmp() / "shards.yaml", vae_yaml(data_, 2, 2));
    std::vector<std::string> losses;
    for (const char *out : {"s1", "s2"}) {
        RunResult r = run_aepipe({"run", tmp() / "shards.yaml", "--out", tmp() / out, "--threads", "2", "train.shards=2", "-q"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        std::vector<std::string> lines = lines_of(read_bytes(tmp() / out + "/" + list_dir(tmp() / out).at(0) + "/metrics.csv"));
        ASSERT_EQ(lines.size(), 3u);
        std::string l;
        for (const auto &line : {lines[1], lines[2]}) {
            std::vector<std::string> f = split(line);
            l += f[2] + "," + f[3] + "," + f[10] + "," + f[13] + ";";  // train, test, train KL, test KL
        }
        losses.push_back(l);
    }
    EXPECT_EQ(losses[0], losses[1]);
}

// A VAE's noise and its loss parts survive a kill: 256 samples / batch 16 = 16 steps per
// epoch, killed at step 21 (mid epoch 2, checkpoints every 3 steps), resumed: the same
// weights and the same metrics (all but the three timing columns) as a run never killed.
TEST_F(Vae, KilledMidEpochThenResumedMatchesAnUninterruptedRun) {
    write_bytes(tmp() / "resume.yaml", vae_yaml(data_, 2, 3));
    auto args = [&](const std::string &out) {
        return std::vector<std::string>{"run", tmp() / "resume.yaml", "--out", tmp() / out, "--threads", "1", "-q",
                                        "graph.nodes[8].every_steps=3"};
    };
    RunResult ref = run_aepipe(args("r_ref"));
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    std::vector<std::string> kill = args("r_kill");
    kill.insert(kill.end(), {"--test-hook", "raise_at_step=21:9"});
    RunResult killed = run_aepipe(kill);
    ASSERT_EQ(killed.exit_code, 128 + 9) << killed.err;
    const std::string a = tmp() / "r_ref/" + list_dir(tmp() / "r_ref").at(0);
    const std::string b = tmp() / "r_kill/" + list_dir(tmp() / "r_kill").at(0);
    std::vector<std::string> resume_args = args("r_kill");
    resume_args.insert(resume_args.end(), {"--resume", b});
    RunResult resumed = run_aepipe(resume_args);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(read_bytes(a + "/model.safetensors"), read_bytes(b + "/model.safetensors"));
    auto deterministic = [](const std::string &dir) {
        std::vector<std::string> rows;
        for (const auto &line : lines_of(read_bytes(dir + "/metrics.csv"))) {
            std::vector<std::string> f = split(line);
            std::string row;
            for (size_t k = 0; k < f.size(); ++k)
                if (k < 5 || k > 7) row += f[k] + ",";  // skip train_samples_per_s, epoch_s, eval_s
            rows.push_back(row);
        }
        return rows;
    };
    std::vector<std::string> ra = deterministic(a), rb = deterministic(b);
    ASSERT_EQ(ra.size(), 4u);
    EXPECT_EQ(ra, rb);
}

TEST_F(Vae, GenerateWritesASampleGrid) {
    RunResult r = generate({"--checkpoint", own_checkpoint(), "--n", "6", "--seed", "4"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Image img = read_png(tmp() / "samples.png");  // beside the checkpoint
    EXPECT_EQ(img.w, 3 * kCell + 2);  // ceil(sqrt(6)) = 3 columns, 2 rows
    EXPECT_EQ(img.h, 2 * kCell + 2);
    std::string first = read_bytes(tmp() / "samples.png");
    ASSERT_EQ(generate({"--checkpoint", checkpoint(), "--n", "6", "--seed", "4", "--out", tmp() / "again.png"}).exit_code, 0);
    EXPECT_EQ(read_bytes(tmp() / "again.png"), first) << "the same seed decodes the same samples";
    ASSERT_EQ(generate({"--checkpoint", checkpoint(), "--n", "6", "--seed", "5", "--out", tmp() / "other.png"}).exit_code, 0);
    EXPECT_NE(read_bytes(tmp() / "other.png"), first) << "another seed, other samples";
}

TEST_F(Vae, GenerateMakesTheFolderOfOut) {
    RunResult r = generate({"--checkpoint", checkpoint(), "--n", "4", "--out", tmp() / "new/dir/s.png"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_png(tmp() / "new/dir/s.png").w, 2 * kCell + 2);
}

// --steps belongs to the interpolation: alone it would be ignored while samples are drawn.
TEST(GenerateSteps, WithoutInterpolateIsAnError) {
    TempDir t("aepipe-gen-steps");
    RunResult r = run_aepipe({"generate", "--checkpoint", t / "none.safetensors", "--steps", "5", "--out", t / "g.png"});
    expect_exit(r, 2, "--steps needs --interpolate A,B");
    EXPECT_FALSE(std::filesystem::exists(t / "g.png"));
}

TEST_F(Vae, GenerateWritesAnInterpolationRow) {
    RunResult r = generate({"--checkpoint", own_checkpoint(), "--interpolate", "0,3", "--steps", "5"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Image img = read_png(tmp() / "interpolate.png");  // beside the checkpoint
    EXPECT_EQ(img.w, 7 * kCell + 2);  // A, 5 decodings, B
    EXPECT_EQ(img.h, kCell + 2);
}

TEST_F(Vae, GenerateWritesAManifoldGrid) {
    RunResult r = generate({"--checkpoint", checkpoint(), "--manifold", "4", "--out", tmp() / "m.png", "--zoom", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Image img = read_png(tmp() / "m.png");
    EXPECT_EQ(img.w, 4 * (kSide + 2) + 2);
    EXPECT_EQ(img.h, 4 * (kSide + 2) + 2);
}

TEST_F(Vae, GenerateRejectsANonVaeCheckpoint) {
    const std::string cfg = write_tiny_config(tmp().path(), data_, 1, "plain_ae");
    ASSERT_EQ(run_aepipe({"run", cfg, "--out", tmp() / "ae", "--threads", "1", "-q"}).exit_code, 0);
    const std::string ckpt = tmp() / "ae/" + list_dir(tmp() / "ae").at(0) + "/model.safetensors";
    RunResult r = generate({"--checkpoint", ckpt});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(ckpt + ": error: its model"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("has no sample layer: aepipe generate needs a VAE"), std::string::npos) << r.err;
}

TEST_F(Vae, GenerateRejectsAnIndexOutsideTheTestSet) {
    RunResult r = generate({"--checkpoint", checkpoint(), "--interpolate", "2,64", "--out", tmp() / "bad.png"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("index 64 is out of range: the test set " + data_.test_images + " has 64 images (0..63)"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(tmp() / "bad.png"));
}

TEST_F(Vae, GenerateRejectsAMalformedInterpolatePair) {
    RunResult r = generate({"--checkpoint", checkpoint(), "--interpolate", "3"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--interpolate expects two test-set indices A,B (e.g. 3,7), got '3'"), std::string::npos) << r.err;
}

TEST_F(Vae, ManifoldNeedsATwoDimensionalLatent) {
    std::string err;
    const std::string run3 = train(3, 1, &err);
    ASSERT_FALSE(run3.empty()) << err;
    RunResult r = generate({"--checkpoint", run3 + "/model.safetensors", "--manifold", "5"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--manifold needs a 2-D latent code; this model's sample layer gives 3 dimensions"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(run3 + "/manifold.png"));
}

TEST_F(Vae, GenerateNamesAMissingCheckpoint) {
    RunResult r = generate({"--checkpoint", tmp() / "nope/model.safetensors"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(tmp() / "nope/model.safetensors" + ": error: checkpoint not found"), std::string::npos)
        << r.err;
}

// An older checkpoint (no model card) needs its run's config.
TEST_F(Vae, GenerateNamesAMissingConfig) {
    std::filesystem::create_directories(tmp() / "lone");
    write_old_checkpoint(checkpoint(), tmp() / "lone/model.safetensors");
    RunResult r = generate({"--checkpoint", tmp() / "lone/model.safetensors"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(tmp() / "lone/config.yaml: error: config not found"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--config FILE"), std::string::npos) << r.err;
    RunResult ok = generate({"--checkpoint", tmp() / "lone/model.safetensors", "--config", run() + "/config.yaml", "--n", "2"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_TRUE(std::filesystem::exists(tmp() / "lone/samples.png"));
}

// Options of two grids in one call: exit 2 before any checkpoint is read, nothing written.
struct GridPair {
    std::vector<std::string> args;
    std::string first, second;
};

class GenerateExclusive : public ::testing::TestWithParam<GridPair> {};

TEST_P(GenerateExclusive, OptionsOfTwoGridsAreRejected) {
    TempDir t("aepipe-gen");
    std::vector<std::string> args{"generate", "--checkpoint", t / "none.safetensors", "--out", t / "g.png"};
    args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
    RunResult r = run_aepipe(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--" + GetParam().first + " and --" + GetParam().second + " exclude each other"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(t / "g.png"));
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, GenerateExclusive,
    ::testing::Values(GridPair{{"--n", "64", "--interpolate", "0,1"}, "n", "interpolate"},
                      GridPair{{"--manifold", "5", "--n", "9"}, "n", "manifold"},
                      GridPair{{"--interpolate", "0,1", "--manifold", "5"}, "interpolate", "manifold"},
                      GridPair{{"--seed", "3", "--interpolate", "0,1"}, "seed", "interpolate"},
                      GridPair{{"--seed", "3", "--manifold", "5"}, "seed", "manifold"},
                      GridPair{{"--n", "4", "--steps", "5"}, "n", "steps"},
                      GridPair{{"--seed", "1", "--steps", "5"}, "seed", "steps"},
                      GridPair{{"--steps", "5", "--manifold", "5"}, "steps", "manifold"}));

}  // namespace
}  // namespace aepipe::test
