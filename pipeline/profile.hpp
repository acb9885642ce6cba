// Per-node profiling of a run: every node body execution becomes an event (thread, start,
// end, when its input became ready, step, items). From them: a per-node table (calls, busy,
// mean and p95 per call, share of wall time, waiting for input, input queued, items/s) and a
// Chrome trace-event JSON (one track per worker thread; opens in ui.perfetto.dev).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace aepipe {

struct ProbeInfo {
    std::string name;  // "model/fwd0" or "batches"
    std::string type;  // node type
};

struct ProfileEvent {
    int probe = 0, tid = 0;
    double t0 = 0, t1 = 0, ready = 0;  // seconds since the run started; ready < 0: unknown
    int64_t step = -1, items = 1;
};

struct ProbeStats {
    std::string name, type;
    int64_t calls = 0, items = 0;
    double busy_s = 0, mean_us = 0, p95_us = 0, share = 0, wait_input_s = 0, queued_s = 0, items_per_s = 0;
};

class Profiler {
public:
    // The track of events recorded on threads outside TBB's arena (the evaluate node's Worker).
    static constexpr int kOtherThreads = 256;
    Profiler();
    double now() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    void reset();  // the run starts now; forget earlier events
    void record(const ProfileEvent &e);
    void finish() { wall_ = now(); }
    double wall() const { return wall_; }

    std::vector<ProbeStats> stats(const std::vector<ProbeInfo> &probes) const;
    std::string table(const std::vector<ProbeStats> &stats) const;  // fixed-width text
    std::string csv(const std::vector<ProbeStats> &stats) const;
    std::string trace_json(const std::vector<ProbeInfo> &probes) const;
    // A training step from the training node's own clock (split to the end of its update, no
    // sink work after it); called by that node alone, one step at a time.
    void add_step(double t0, double t1, int64_t samples) { steps_.push_back({t0, t1, samples}); }
    // Training throughput as the epoch lines and aepipe bench define it: samples over the time
    // in training steps, the run's first step (start-up) left out.
    std::string training_summary() const;
    double training_samples_per_s() const;  // that measure alone; 0 before a second step

private:
    std::vector<ProfileEvent> all() const;
    std::chrono::steady_clock::time_point start_;
    double wall_ = 0;
    static constexpr int kSlots = kOtherThreads;
    std::vector<std::vector<ProfileEvent>> per_thread_;  // indexed by TBB thread slot
    mutable std::mutex overflow_mu_;
    std::vector<ProfileEvent> overflow_;
    struct Step {
        double t0, t1;
        int64_t samples;
    };
    std::vector<Step> steps_;
};

}  // namespace aepipe
