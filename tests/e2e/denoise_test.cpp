// Denoising end to end through the aepipe binary: the tiny bar-image config with a corrupt
// node between normalize and train.
//   - config mistakes in the corrupt node (and evaluate's choice of it) exit 2, compiler style;
//   - a model that always outputs 0 and never learns shows, by hand computation, that the
//     training loss is taken against the clean images and the PSNR columns are right;
//   - a short real run writes the PSNR columns, gains PSNR, and draws original / corrupted /
//     restored rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nodes/data/corrupt.hpp"
#include "formats/idx.hpp"
#include "nodes/nn/psnr.hpp"
#include "formats/png.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

void replace_once(std::string &text, const std::string &a, const std::string &b) {
    auto at = text.find(a);
    ASSERT_NE(at, std::string::npos) << a;
    text.replace(at, a.size(), b);
}

// The tiny config with `{id: noisy, type: corrupt<keys>}` between scale and model. Node
// indices: 4 noisy, 5 model, 7 eval, 9 recon (image_grid).
std::string denoise_yaml(const TinyData &d, int64_t epochs, const std::string &keys) {
    std::string y = tiny_config_yaml(d, epochs, "dn");
    replace_once(y, "    - {id: model, type: train}\n",
                 "    - {id: noisy, type: corrupt" + keys + "}\n    - {id: model, type: train}\n");
    replace_once(y, "    - scale -> model\n", "    - scale -> noisy\n    - noisy -> model\n");
    return y;
}

// "LINE:COL" of the first `token` on the first line of `text` that contains `anchor` (1-based).
std::string pos_of(const std::string &text, const std::string &anchor, const std::string &token) {
    std::vector<std::string> lines = lines_of(text);
    for (size_t l = 0; l < lines.size(); ++l)
        if (auto a = lines[l].find(anchor); a != std::string::npos)
            return std::to_string(l + 1) + ":" + std::to_string(lines[l].find(token) + 1);
    return "?";
}

std::vector<std::string> split(const std::string &line, char sep) {
    std::vector<std::string> v;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, sep);) v.push_back(f);
    return v;
}

// ---- config errors ----------------------------------------------------------------------------

struct BadCorrupt {
    std::string name, keys;  // the corrupt node's keys
    std::string token;       // where the error points (on the noisy node's line)
    std::string message, hint = {};
};
void PrintTo(const BadCorrupt &c, std::ostream *os) { *os << c.name; }

const std::string kNode = "graph.nodes[4] 'noisy' (corrupt): ";

class CorruptConfigError : public ::testing::TestWithParam<BadCorrupt> {};

TEST_P(CorruptConfigError, ValidateExits2WithTheExactMessage) {
    const BadCorrupt &c = GetParam();
    TempDir tmp("aepipe-denoise-errors");
    TinyData d = write_tiny_data(tmp.path(), 16, 8);
    const std::string yaml = denoise_yaml(d, 1, c.keys);
    write_bytes(tmp / "dn.yaml", yaml);
    RunResult r = run_aepipe({"validate", "dn.yaml"}, tmp.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    std::vector<std::string> want{"dn.yaml:" + pos_of(yaml, "id: noisy", c.token) + ": error: " + kNode + c.message};
    if (!c.hint.empty()) want.push_back("hint: " + c.hint);
    EXPECT_EQ(lines_of(r.err), want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CorruptConfigError,
    ::testing::Values(
        BadCorrupt{"unknown_key", ", noise_sdt: 0.1", "noise_sdt", "unknown key 'noise_sdt'",
                   "did you mean 'noise_std'?"},
        BadCorrupt{"negative_sigma", ", noise_std: -0.1", "-0.1",
                   "'noise_std' must be between 0 and 1000, got '-0.1'"},
        // 1e30 said "must be at least 0" (a check of its own, at most 1000, with the wrong words)
        BadCorrupt{"huge_sigma", ", noise_std: 1e30", "1e30", "'noise_std' must be between 0 and 1000, got '1e30'"},
        BadCorrupt{"rate_above_one", ", salt_pepper: 1.5", "1.5",
                   "'salt_pepper' must be between 0 and 1, got '1.5'"},
        BadCorrupt{"negative_masks", ", masks: -1", "-1", "'masks' must be between 0 and 1024, got '-1'"},
        BadCorrupt{"zero_mask_side", ", masks: 1, mask_min: 0", "0}", "'mask_min' must be between 1 and 65536, got '0'"},
        BadCorrupt{"max_below_min", ", masks: 1, mask_min: 5, mask_max: 3", "3}",
                   "'mask_max' (3) must be at least 'mask_min' (5)"},
        BadCorrupt{"fill_out_of_range", ", masks: 1, mask_value: 2", "2}",
                   "'mask_value' must be between 0 and 1, got '2'"},
        BadCorrupt{"not_a_number", ", noise_std: lots", "lots", "'noise_std' must be a number, got 'lots'"},
        BadCorrupt{"does_nothing", "", "{id: noisy", "the corruption does nothing",
                   "set noise_std, salt_pepper or masks (aepipe list-nodes shows the keys)"}),
    [](const auto &info) { return info.param.name; });

// Runs `aepipe validate` on a hand-edited denoise config; returns its stderr lines.
std::vector<std::string> validate_edited(const std::vector<std::pair<std::string, std::string>> &edits,
                                         std::string *yaml_out = nullptr) {
    TempDir tmp("aepipe-denoise-errors");
    TinyData d = write_tiny_data(tmp.path(), 16, 8);
    std::string yaml = denoise_yaml(d, 1, ", noise_std: 0.1");
    for (const auto &[a, b] : edits) replace_once(yaml, a, b);
    write_bytes(tmp / "dn.yaml", yaml);
    RunResult r = run_aepipe({"validate", "dn.yaml"}, tmp.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    if (yaml_out) *yaml_out = yaml;
    return lines_of(r.err);
}

TEST(CorruptConfig, MustBeFedByANormalizeNode) {
    std::string yaml;
    auto got = validate_edited({{"    - {id: model, type: train}\n",
                                 "    - {id: again, type: corrupt, masks: 1}\n    - {id: model, type: train}\n"},
                                {"    - noisy -> model\n", "    - noisy -> again\n    - again -> model\n"},
                                {"{id: eval, type: evaluate}", "{id: eval, type: evaluate, corrupt: noisy}"}},
                               &yaml);
    EXPECT_EQ(got, (std::vector<std::string>{
                       "dn.yaml:" + pos_of(yaml, "id: again", "{id: again") +
                           ": error: graph.nodes[5] 'again' (corrupt): must be fed by a normalize node, not 'noisy' "
                           "(corrupt)",
                       "hint: for example: batches -> scale -> again -> model"}));
}

TEST(CorruptConfig, EvaluateNamesAnUnknownCorruptNode) {
    std::string yaml;
    auto got = validate_edited({{"{id: eval, type: evaluate}", "{id: eval, type: evaluate, corrupt: noisey}"}}, &yaml);
    EXPECT_EQ(got, (std::vector<std::string>{"dn.yaml:" + pos_of(yaml, "id: eval", "noisey") +
                                                 ": error: graph.nodes[7] 'eval' (evaluate): no corrupt node named "
                                                 "'noisey'",
                                             "hint: did you mean 'noisy'?"}));
}

// A second corrupt node on the same normalize output can only dangle (a corrupt node feeds only
// the train node, and a graph holds one): its work would be lost, so the graph is invalid
// before evaluate has to choose between the two.
TEST(CorruptConfig, ASecondCorruptNodeReachesNoSink) {
    std::string yaml;
    auto got = validate_edited({{"    - {id: model, type: train}\n",
                                 "    - {id: other, type: corrupt, masks: 1}\n    - {id: model, type: train}\n"},
                                {"    - noisy -> model\n", "    - noisy -> model\n    - scale -> other\n"}},
                               &yaml);
    EXPECT_EQ(got, (std::vector<std::string>{"dn.yaml:" + pos_of(yaml, "id: other", "{id: other") +
                                                 ": error: node 'other' (corrupt): its output reaches no sink, so its "
                                                 "work would be lost",
                                             "hint: connect it towards a sink (e.g. 'other -> NODE') or remove it"}));
}

// ---- the loss target is the clean image: a model that outputs 0 and never learns -------------

// mean over all pixels of f(clean, corrupted) in [0, 1], corrupted with (seed 7, epoch).
template <class F>
double mean_over(const std::string &images, int64_t epoch, const Corruption &c, F f) {
    Dataset ds = load_dataset(images, "");
    const Normalizer unit;
    std::vector<float> y(size_t(ds.dim()));
    double s = 0;
    for (int64_t i = 0; i < ds.n; ++i) {
        c.apply(ds.image(i), ds.h, ds.w, ds.c, c.key(epoch, i), unit, y.data());
        for (int64_t j = 0; j < ds.dim(); ++j) s += f(double(ds.image(i)[j]) / 255.0, double(y[size_t(j)]));
    }
    return s / double(ds.n * ds.dim());
}

TEST(Denoise, TrainingLossIsAgainstTheCleanImagesAndPsnrMatchesAHandComputation) {
    TempDir tmp("aepipe-denoise-zero");
    TinyData d = write_tiny_data(tmp.path(), 64, 32);
    std::string yaml = denoise_yaml(d, 1, ", salt_pepper: 0.5");
    // One dense layer with zero weights and bias, identity activation, learning rate 1e-30 (0 is
    // refused): y = 0 to within 1e-29, far below the tolerances below.
    const size_t a = yaml.find("model:\n"), b = yaml.find("train:\n");
    yaml.replace(a, b - a, "model:\n  layers:\n    - {type: dense, units: 64, init: uniform, std: 0}\n  loss: mse\n");
    replace_once(yaml, "{type: adam, lr: 0.01}", "{type: sgd, lr: 1e-30}");
    write_bytes(tmp / "dn.yaml", yaml);
    RunResult r = run_aepipe({"run", tmp / "dn.yaml", "--out", tmp / "runs", "--threads", "1", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> runs = list_dir(tmp / "runs");
    ASSERT_EQ(runs.size(), 1u);
    std::vector<std::string> lines = lines_of(read_bytes(tmp / "runs/" + runs[0] + "/metrics.csv"));
    ASSERT_EQ(lines.size(), 2u);
    std::vector<std::string> row = split(lines[1], ',');
    ASSERT_EQ(row.size(), 10u) << lines[1];

    Corruption c;
    c.salt_pepper = 0.5, c.seed = 7;  // train.seed of the tiny config
    auto sq_clean = [](double clean, double) { return clean * clean; };
    auto sq_corrupt = [](double, double cor) { return cor * cor; };
    auto sq_diff = [](double clean, double cor) { return (cor - clean) * (cor - clean); };
    const double clean_train = mean_over(d.train_images, 0, c, sq_clean),
                 corrupt_train = mean_over(d.train_images, 0, c, sq_corrupt);
    ASSERT_GT(corrupt_train, 2 * clean_train) << "the two candidate targets are far apart";
    // loss = mean((0 - target)^2): the clean image is the target.
    EXPECT_NEAR(std::stod(row[2]), clean_train, 1e-5 * clean_train) << "train_loss";
    const double clean_test = mean_over(d.test_images, Corruption::kTestEpoch, c, sq_clean);
    EXPECT_NEAR(std::stod(row[3]), clean_test, 1e-5 * clean_test) << "test_loss";
    EXPECT_NEAR(std::stod(row[4]), clean_test, 1e-5 * clean_test) << "test_mse_per_px";
    // PSNR: 10 log10(1 / MSE) in [0, 1]; the restoration is the zero image.
    const double mse_corrupt = mean_over(d.test_images, Corruption::kTestEpoch, c, sq_diff);
    EXPECT_NEAR(std::stod(row[8]), 10 * std::log10(1 / mse_corrupt), 1e-3) << "psnr_corrupt_db";
    EXPECT_NEAR(std::stod(row[9]), 10 * std::log10(1 / clean_test), 1e-3) << "psnr_restored_db";
}

// ---- a short real run -------------------------------------------------------------------------

TEST(Denoise, TinyRunWritesPsnrColumnsGainsAndDrawsThreeRows) {
    TempDir tmp("aepipe-denoise-run");
    const int64_t side = 8, epochs = 20;
    TinyData d = write_tiny_data(tmp.path(), 256, 64, side);
    std::string yaml =
        denoise_yaml(d, epochs, ", noise_std: 0.2, salt_pepper: 0.05, masks: 1, mask_min: 2, mask_max: 3");
    replace_once(yaml, "  edges:\n", "    - {id: report, type: report}\n  edges:\n");
    yaml += "    - eval -> report\n";
    write_bytes(tmp / "dn.yaml", yaml);
    RunResult r = run_aepipe({"run", tmp / "dn.yaml", "--out", tmp / "runs", "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> runs = list_dir(tmp / "runs");
    ASSERT_EQ(runs.size(), 1u);
    const std::string dir = tmp / "runs/" + runs[0];
    EXPECT_NE(r.out.find(" dB"), std::string::npos) << "the console line shows the PSNR\n" << r.out;

    std::vector<std::string> lines = lines_of(read_bytes(dir + "/metrics.csv"));
    ASSERT_EQ(int64_t(lines.size()), epochs + 1);
    EXPECT_EQ(lines[0], "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s,"
                        "psnr_corrupt_db,psnr_restored_db");
    std::vector<std::string> jsonl = lines_of(read_bytes(dir + "/metrics.jsonl"));
    ASSERT_EQ(int64_t(jsonl.size()), epochs);
    const std::string corrupt_db = split(lines[1], ',')[8];
    for (int64_t e = 1; e <= epochs; ++e) {
        std::vector<std::string> row = split(lines[size_t(e)], ',');
        ASSERT_EQ(row.size(), 10u);
        EXPECT_EQ(row[8], corrupt_db) << "the test corruption is the same every epoch";
        nlohmann::json j = nlohmann::json::parse(jsonl[size_t(e - 1)]);
        EXPECT_NEAR(j["psnr_corrupt_db"].get<double>(), std::stod(row[8]), 1e-3);
        EXPECT_NEAR(j["psnr_restored_db"].get<double>(), std::stod(row[9]), 1e-3);
    }
    const std::vector<std::string> first = split(lines[1], ','), last = split(lines.back(), ',');
    const double corrupted = std::stod(last[8]), restored = std::stod(last[9]);
    // (Measured: 13.1 dB corrupted, 9.5 dB restored after epoch 1, 16.9 dB after 20 epochs.)
    EXPECT_GT(restored, corrupted + 1.5) << "restoration gains PSNR";
    EXPECT_GT(restored, std::stod(first[9])) << "and more with training";

    // The grid: originals, their fixed test corruption, and restorations closer to the originals.
    Image img = read_png(dir + "/recon.png");
    const int64_t zoom = 2, gap = 2, count = 8, cell = side * zoom + gap, dim = side * side;
    ASSERT_EQ(img.w, count * cell + gap);
    ASSERT_EQ(img.h, 3 * cell + gap) << "three rows";
    Dataset test = load_dataset(d.test_images, "");
    Corruption c;
    c.noise_std = 0.2, c.salt_pepper = 0.05, c.masks = 1, c.mask_min = 2, c.mask_max = 3, c.seed = 7;
    const Normalizer norm;
    std::vector<float> noisy(static_cast<size_t>(dim));
    double sse_noisy = 0, sse_restored = 0;
    for (int64_t k = 0; k < count; ++k) {
        c.apply(test.image(k), side, side, 1, c.key(Corruption::kTestEpoch, k), norm, noisy.data());
        for (int64_t y = 0; y < side; ++y)
            for (int64_t x = 0; x < side; ++x) {
                const int64_t px = gap + k * cell + x * zoom, py = gap + y * zoom;
                const double orig = test.image(k)[y * side + x];
                EXPECT_EQ(img.px[size_t(py * img.w + px)], orig);
                const uint8_t want_noisy = norm.to_byte(noisy[size_t(y * side + x)]);
                EXPECT_EQ(img.px[size_t((py + cell) * img.w + px)], want_noisy) << "image " << k;
                const double restored_px = img.px[size_t((py + 2 * cell) * img.w + px)];
                sse_noisy += (want_noisy - orig) * (want_noisy - orig);
                sse_restored += (restored_px - orig) * (restored_px - orig);
            }
    }
    EXPECT_LT(sse_restored, sse_noisy) << "the bottom row is closer to the originals than the middle row";

    const std::string html = read_bytes(dir + "/report.html");
    EXPECT_NE(html.find("psnr_restored_db"), std::string::npos);
    EXPECT_NE(html.find("Restoration (test PSNR against the originals)"), std::string::npos);
    // `aepipe report` rebuilds the same from metrics.csv.
    std::remove((dir + "/report.html").c_str());
    RunResult rep = run_aepipe({"report", dir});
    ASSERT_EQ(rep.exit_code, 0) << rep.err;
    const std::string rebuilt = read_bytes(dir + "/report.html");
    EXPECT_NE(rebuilt.find("psnr_restored_db"), std::string::npos);
    EXPECT_NE(rebuilt.find("gain " + [&] {
        char b[32];
        std::snprintf(b, sizeof b, "%+.2f", restored - corrupted);
        return std::string(b);
    }() + " dB"),
              std::string::npos);
}

}  // namespace
}  // namespace aepipe::test
