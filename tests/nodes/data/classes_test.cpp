// idx_reader's `classes`: the samples kept, in order, and each mistake - an empty list, no
// labels file, a label no sample has - as a config error at the key (`aepipe validate` sees it).
#include <gtest/gtest.h>

#include <algorithm>

#include "formats/idx.hpp"
#include "pipeline/error.hpp"
#include "support/expect_error.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

// The tiny config with `extra` added to the training reader's map.
std::string with_train_keys(const TinyData &d, const std::string &extra) {
    std::string cfg = tiny_config_yaml(d, 1);
    const std::string anchor = "labels: '" + d.train_labels + "'";
    cfg.replace(cfg.find(anchor), anchor.size(), anchor + ", " + extra);
    return cfg;
}

TEST(IdxClasses, KeepsTheListedLabelsInOrder) {
    Shapes s = make_shapes(30, 5, 3);
    Dataset ds;
    ds.path = "x.idx", ds.n = 30, ds.h = ds.w = 5, ds.pixels = s.pixels, ds.labels = s.labels;
    keep_classes(ds, {2, 0}, "l.idx");
    std::vector<uint8_t> want_px, want_l;
    for (int64_t i = 0; i < 30; ++i)
        if (s.labels[size_t(i)] != 1) {
            want_l.push_back(s.labels[size_t(i)]);
            want_px.insert(want_px.end(), s.pixels.begin() + i * 25, s.pixels.begin() + (i + 1) * 25);
        }
    ASSERT_FALSE(want_l.empty());
    EXPECT_EQ(ds.n, int64_t(want_l.size()));
    EXPECT_EQ(ds.labels, want_l);
    EXPECT_EQ(ds.pixels, want_px);
}

TEST(IdxClasses, AbsentLabelIsADataError) {
    Dataset ds;
    ds.path = "x.idx", ds.n = 2, ds.h = ds.w = 1, ds.pixels = {1, 2}, ds.labels = {0, 1};
    const std::string msg = error_of<DataError>([&] { keep_classes(ds, {7}, "l.idx"); });
    EXPECT_NE(msg.find("l.idx"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'classes' names label 7, which no sample has (labels present: 0, 1)"), std::string::npos)
        << msg;
    EXPECT_EQ(ds.n, 2);  // left as it was
}

TEST(IdxClasses, EmptyListIsAConfigErrorAtTheKey) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    const std::string msg = config_error(with_train_keys(d, "classes: []"), "c.yaml");
    EXPECT_NE(msg.find("c.yaml:16:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("graph.nodes[0] 'train_set' (idx_reader): 'classes' is empty"), std::string::npos) << msg;
}

TEST(IdxClasses, NeedsALabelsFile) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    std::string cfg = with_train_keys(d, "classes: [1]");
    const std::string labels = ", labels: '" + d.train_labels + "'";
    cfg.erase(cfg.find(labels), labels.size());
    const std::string msg = config_error(cfg);
    EXPECT_NE(msg.find("'classes' keeps samples by label, but the reader has no 'labels' file"), std::string::npos)
        << msg;
}

TEST(IdxClasses, LabelNoSampleHasIsAConfigError) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 32, 16);
    const std::string msg = config_error(with_train_keys(d, "classes: [1, 7]"));
    EXPECT_NE(msg.find("'classes' names label 7, which no sample of " + d.train_labels + " has"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("hint: labels present: 0, 1, 2"), std::string::npos) << msg;
}

// A run trains on the kept samples only, and `aepipe validate` exits 2 on a bad list.
TEST(IdxClasses, RunReadsOnlyTheKeptClass) {
    TempDir tmp;
    TinyData d = write_tiny_data(tmp.path(), 60, 16);
    write_bytes(tmp / "one.yaml", with_train_keys(d, "classes: [1]"));
    RunResult r = run_aepipe({"run", tmp / "one.yaml", "--out", tmp / "runs"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const IdxArray labels = read_idx(d.train_labels);
    const auto ones = std::count(labels.data.begin(), labels.data.end(), uint8_t(1));
    ASSERT_GT(ones, 0);
    ASSERT_LT(ones, 60);
    EXPECT_NE(r.out.find("data: train_set: " + std::to_string(ones) + " images"), std::string::npos) << r.out;
    write_bytes(tmp / "bad.yaml", with_train_keys(d, "classes: []"));
    RunResult v = run_aepipe({"validate", tmp / "bad.yaml"});
    EXPECT_EQ(v.exit_code, 2);
    EXPECT_NE(v.err.find("'classes' is empty"), std::string::npos) << v.err;
}

}  // namespace
}  // namespace aepipe::test
