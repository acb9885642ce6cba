#include "pipeline/profile.hpp"

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "pipeline/worker.hpp"

namespace aepipe {

Profiler::Profiler() : start_(std::chrono::steady_clock::now()), per_thread_(kSlots) {
    for (auto &v : per_thread_) v.reserve(1 << 12);
}

void Profiler::reset() {
    start_ = std::chrono::steady_clock::now();
    wall_ = 0;
    for (auto &v : per_thread_) v.clear();
    overflow_.clear();
    steps_.clear();
}

void Profiler::record(const ProfileEvent &e) {
    int slot = Worker::on_worker_thread() ? -1 : tbb::this_task_arena::current_thread_index();
    if (slot >= 0 && slot < kSlots) {
        ProfileEvent x = e;
        x.tid = slot;
        per_thread_[size_t(slot)].push_back(x);  // only this thread touches this slot
        return;
    }
    ProfileEvent x = e;
    x.tid = kOtherThreads;
    std::lock_guard<std::mutex> lock(overflow_mu_);
    overflow_.push_back(x);
}

std::vector<ProfileEvent> Profiler::all() const {
    std::vector<ProfileEvent> v;
    for (const auto &t : per_thread_) v.insert(v.end(), t.begin(), t.end());
    std::lock_guard<std::mutex> lock(overflow_mu_);
    v.insert(v.end(), overflow_.begin(), overflow_.end());
    std::sort(v.begin(), v.end(), [](const auto &a, const auto &b) { return a.t0 < b.t0; });
    return v;
}

std::vector<ProbeStats> Profiler::stats(const std::vector<ProbeInfo> &probes) const {
    std::vector<std::vector<ProfileEvent>> by(probes.size());
    for (const auto &e : all()) by[size_t(e.probe)].push_back(e);
    std::vector<ProbeStats> out;
    for (size_t p = 0; p < probes.size(); ++p) {
        ProbeStats s;
        s.name = probes[p].name, s.type = probes[p].type;
        std::vector<double> dur;
        double prev_end = -1;
        for (const auto &e : by[p]) {
            ++s.calls;
            s.items += e.items;
            dur.push_back(e.t1 - e.t0);
            s.busy_s += e.t1 - e.t0;
            if (e.ready >= 0) {
                s.queued_s += std::max(0.0, e.t0 - std::max(e.ready, prev_end));  // input waited for this node
                if (prev_end >= 0) s.wait_input_s += std::max(0.0, std::min(e.ready, e.t0) - prev_end);
            } else if (prev_end >= 0) {
                s.wait_input_s += std::max(0.0, e.t0 - prev_end);
            }
            prev_end = std::max(prev_end, e.t1);
        }
        if (!dur.empty()) {
            std::sort(dur.begin(), dur.end());
            s.mean_us = 1e6 * s.busy_s / double(dur.size());
            s.p95_us = 1e6 * dur[std::min(dur.size() - 1, size_t(0.95 * double(dur.size())))];
        }
        s.share = wall_ > 0 ? s.busy_s / wall_ : 0;
        s.items_per_s = wall_ > 0 ? double(s.items) / wall_ : 0;
        out.push_back(s);
    }
    return out;
}

std::string Profiler::table(const std::vector<ProbeStats> &stats) const {
    std::string t;
    char line[256];
    std::snprintf(line, sizeof line, "%-22s %-11s %7s %10s %9s %9s %6s %11s %10s %11s\n", "node", "type", "calls",
                  "busy_ms", "mean_us", "p95_us", "wall%", "wait_in_ms", "queued_ms", "items/s");
    t += line;
    for (const auto &s : stats) {
        if (!s.calls) continue;
        std::snprintf(line, sizeof line, "%-22s %-11s %7lld %10.1f %9.1f %9.1f %6.1f %11.1f %10.1f %11.0f\n",
                      s.name.c_str(), s.type.c_str(), (long long)s.calls, 1e3 * s.busy_s, s.mean_us, s.p95_us,
                      100 * s.share, 1e3 * s.wait_input_s, 1e3 * s.queued_s, s.items_per_s);
        t += line;
    }
    std::snprintf(line, sizeof line, "wall %.3f s. wait_in: idle between calls with no input ready; queued: input "
                                     "ready but waiting for the node or a free slot.\n", wall_);
    return t + line;
}

double Profiler::training_samples_per_s() const {
    double busy = 0;
    int64_t samples = 0;
    for (size_t i = 1; i < steps_.size(); ++i) busy += steps_[i].t1 - steps_[i].t0, samples += steps_[i].samples;
    return busy > 0 ? double(samples) / busy : 0;
}

std::string Profiler::training_summary() const {
    double busy = 0;
    int64_t samples = 0;
    for (size_t i = 1; i < steps_.size(); ++i) busy += steps_[i].t1 - steps_[i].t0, samples += steps_[i].samples;
    if (busy <= 0) return "";
    char line[256];
    std::snprintf(line, sizeof line,
                  "training: %zu steps, %lld samples in %.3f s of steps (of %.3f s wall): %.0f samples/s, "
                  "the epoch lines' measure (steps only, the first left out)\n",
                  steps_.size() - 1, (long long)samples, busy, wall_, double(samples) / busy);
    return line;
}

std::string Profiler::csv(const std::vector<ProbeStats> &stats) const {
    std::string t = "node,type,calls,items,busy_ms,mean_us,p95_us,wall_share,wait_input_ms,queued_ms,items_per_s\n";
    char line[256];
    for (const auto &s : stats) {
        std::snprintf(line, sizeof line, "%s,%s,%lld,%lld,%.3f,%.2f,%.2f,%.4f,%.3f,%.3f,%.1f\n", s.name.c_str(),
                      s.type.c_str(), (long long)s.calls, (long long)s.items, 1e3 * s.busy_s, s.mean_us, s.p95_us,
                      s.share, 1e3 * s.wait_input_s, 1e3 * s.queued_s, s.items_per_s);
        t += line;
    }
    return t;
}

std::string Profiler::trace_json(const std::vector<ProbeInfo> &probes) const {
    using json = nlohmann::json;
    json ev = json::array();
    std::map<int, bool> tids;
    for (const auto &e : all()) {
        tids[e.tid] = true;
        json args = {{"step", e.step}, {"batch", e.items}};
        ev.push_back({{"name", probes[size_t(e.probe)].name + " (" + probes[size_t(e.probe)].type + ")"},
                      {"cat", probes[size_t(e.probe)].type},
                      {"ph", "X"},
                      {"ts", e.t0 * 1e6},
                      {"dur", (e.t1 - e.t0) * 1e6},
                      {"pid", 1},
                      {"tid", e.tid},
                      {"args", args}});
    }
    for (const auto &[tid, _] : tids)
        ev.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", tid},
                      {"args", {{"name", tid == kOtherThreads ? std::string("other threads (evaluate)")
                                                                : "tbb worker " + std::to_string(tid)}}}});
    ev.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "aepipe"}}}});
    return json{{"traceEvents", ev}, {"displayTimeUnit", "ms"}}.dump();
}

}  // namespace aepipe
