// Tiny runs with a report node, for the tests of reports, graphs and the browser check.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fixtures.hpp"

namespace aepipe::test {

// The fixtures' tiny config plus a report node fed by eval (`keys`: ", log_scale: true").
inline std::string tiny_report_config(const TinyData &d, int64_t epochs, const std::string &name,
                                      const std::string &keys = "") {
    std::string yaml = tiny_config_yaml(d, epochs, name);
    yaml.insert(yaml.find("  edges:\n"), "    - {id: report, type: report" + keys + "}\n");
    return yaml + "    - eval -> report\n";
}

// The tiny config as a VAE: 64 -32- [mu | logvar] (2 x 4) -> z (4) -32- 64 logits, BCE summed per
// image + KL (nats per image).
inline std::string tiny_vae_yaml(const std::string &yaml) {
    size_t a = yaml.find("model:\n"), b = yaml.find("train:\n");
    return yaml.substr(0, a) +
           "model:\n  layers:\n    - {type: dense, units: 32, activation: relu}\n    - {type: dense, units: 8}\n"
           "    - {type: sample}\n    - {type: dense, units: 32, activation: relu}\n    - {type: dense, units: 64}\n"
           "  loss: {type: bce, from_logits: true, reduction: sum}\n" +
           yaml.substr(b);
}

// Trains `epochs` epochs of a tiny config in tmp and returns the run folder. `command` is
// run or profile; `extra` are more arguments (overrides). Fails the test on a non-zero exit.
// `vae`: the model of tiny_vae_yaml.
inline std::string tiny_run(const TempDir &tmp, int64_t epochs, const std::string &name = "tiny",
                            const std::vector<std::string> &extra = {}, const std::string &command = "run",
                            bool vae = false) {
    TinyData d = write_tiny_data(tmp.path(), 128, 32);
    std::string cfg = tmp / (name + ".yaml");
    std::string yaml = tiny_report_config(d, epochs, name);
    write_bytes(cfg, vae ? tiny_vae_yaml(yaml) : yaml);
    std::string out = tmp / ("runs-" + name);
    // every=1: periodic image grids too, so the report must pick the newest.
    std::vector<std::string> args{command, cfg, "--out", out, "--quiet", "--threads", "1", "graph.nodes[8].snapshot_every_epochs=1"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = run_aepipe(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto runs = list_dir(out);
    EXPECT_EQ(runs.size(), 1u);
    return runs.empty() ? "" : out + "/" + runs[0];
}

// Occurrences of `needle` in `s` between `from` and the first `until` after it.
inline int count_between(const std::string &s, const std::string &from, const std::string &until,
                         const std::string &needle) {
    size_t a = s.find(from);
    if (a == std::string::npos) return -1;
    size_t b = s.find(until, a);
    int n = 0;
    for (size_t at = s.find(needle, a); at != std::string::npos && at < b; at = s.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace aepipe::test
