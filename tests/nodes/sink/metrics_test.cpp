// The metrics sink on hand-made eval messages (support/report_source.hpp): one CSV row and one
// JSON line per epoch holding exactly the reported figures, the VAE's columns with their unit
// when the model has a sample layer, and `csv: ""` turning the CSV off.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fixtures.hpp"
#include "support/report_source.hpp"

namespace aepipe::test {
namespace {

const char *kAe = "    - {type: dense, units: 3, activation: relu}\n    - {type: dense, units: 16}\n";
// A VAE: 16 -> [mu | logvar] (2 x 2) -> z (2) -> 16 logits, BCE summed per image (nats).
const char *kVae = "    - {type: dense, units: 4}\n    - {type: sample}\n    - {type: dense, units: 16}\n";
const char *kBceSum = "{type: bce, from_logits: true, reduction: sum}";

// Epoch e (0-based) of a run with figures that tell the epochs and the columns apart.
EpochEval epoch(int64_t e) {
    EpochEval r;
    r.epoch.epoch = e, r.epoch.steps = 10 * (e + 1), r.epoch.samples = 40;
    r.epoch.train_loss = 0.5 / double(e + 1), r.epoch.samples_per_s = 1000 + e, r.epoch.seconds = 1.5;
    r.epoch.train_recon = 0.375, r.epoch.train_kl = 0.125;
    r.eval.test_loss = 0.25, r.eval.test_mse_per_px = 0.0625, r.eval.seconds = 0.25;
    r.eval.test_recon = 0.1875, r.eval.test_kl = 0.0625;
    r.epoch.last = e == 1;
    return r;
}

TEST(MetricsSink, OneRowPerEpochInCsvAndJsonl) {
    TempDir run("aepipe-metrics");
    send_next({epoch(0), epoch(1)}, nullptr);
    run_graph(sink_config(kAe, "{id: sink, type: metrics}"), run.path());
    EXPECT_EQ(read_bytes(run / "metrics.csv"),
              "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s\n"
              "1,10,0.5,0.25,0.0625,1000.0,1.5000,0.2500\n"
              "2,20,0.25,0.25,0.0625,1001.0,1.5000,0.2500\n");
    const std::vector<std::string> lines = lines_of(read_bytes(run / "metrics.jsonl"));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(lines[1]),
              nlohmann::json({{"epoch", 2}, {"steps", 20}, {"train_loss", 0.25}, {"test_loss", 0.25},
                              {"test_mse_per_px", 0.0625}, {"train_samples_per_s", 1001.0}, {"epoch_s", 1.5},
                              {"eval_s", 0.25}}));
}

TEST(MetricsSink, AVaeAddsItsLossesWithTheirUnit) {
    TempDir run("aepipe-metrics");
    send_next({epoch(0)}, nullptr);
    run_graph(sink_config(kVae, "{id: sink, type: metrics}", 4, kBceSum), run.path());
    EXPECT_EQ(read_bytes(run / "metrics.csv"),
              "epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,epoch_s,eval_s,"
              "train_nats_per_img,train_recon_nats_per_img,train_kl_nats_per_img,"
              "test_nats_per_img,test_recon_nats_per_img,test_kl_nats_per_img\n"
              "1,10,0.5,0.25,0.0625,1000.0,1.5000,0.2500,0.5,0.375,0.125,0.25,0.1875,0.0625\n");
    const nlohmann::json j = nlohmann::json::parse(lines_of(read_bytes(run / "metrics.jsonl")).at(0));
    EXPECT_EQ(j["train_recon_nats_per_img"], 0.375);
    EXPECT_EQ(j["test_kl_nats_per_img"], 0.0625);
}

TEST(MetricsSink, AnEmptyFileNameTurnsThatFileOff) {
    TempDir run("aepipe-metrics");
    send_next({epoch(0), epoch(1)}, nullptr);
    run_graph(sink_config(kAe, "{id: sink, type: metrics, csv: ''}"), run.path());
    EXPECT_EQ(list_dir(run.path()), std::vector<std::string>{"metrics.jsonl"});
    EXPECT_EQ(lines_of(read_bytes(run / "metrics.jsonl")).size(), 2u);
}

}  // namespace
}  // namespace aepipe::test
