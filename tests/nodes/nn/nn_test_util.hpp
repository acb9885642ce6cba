// Small helpers shared by the tests of nodes/nn: registered products built from inline YAML,
// and seeded random tensors.
#pragma once

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/config.hpp"
#include "pipeline/schema.hpp"

namespace aepipe::test {

// Builds a loss, optimizer or layer from a YAML map such as "{type: bce, from_logits: true}"
// through its registry entry and schema, as a config would; extra args go to the factory.
template <class R, class... Args>
auto make_from_yaml(const std::string &yaml, Args &&...args) {
    ConfigFile cfg = parse_config(yaml, "inline.yaml");
    const auto *e = R::get().find(cfg.root["type"].Scalar());
    if (!e) throw std::runtime_error("not registered: " + yaml);
    Diags diags;
    Params p = check_params(e->spec, cfg, cfg.root, "test", diags, {"type"});
    diags.throw_if_any();
    // The factories read every key while constructing, so cfg may go out of scope after.
    return e->make(p, std::forward<Args>(args)...);
}

inline std::vector<float> uniform(size_t count, double lo, double hi, std::mt19937_64 &rng) {
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<float> v(count);
    for (auto &e : v) e = float(u(rng));
    return v;
}

inline std::vector<double> to_double(const std::vector<float> &v) { return {v.begin(), v.end()}; }

}  // namespace aepipe::test
