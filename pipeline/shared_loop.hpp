// A loop over iterations [0, n) that several threads may work on at once, each claiming one
// iteration at a time, so every iteration runs exactly once whoever runs it. The test-set
// evaluation between epochs runs its batches this way, one lane per training shard
// (nodes/nn/evaluate.cpp). Results that must not depend on who ran what are written per
// iteration and combined in iteration order after wait().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>

namespace aepipe {

class SharedLoop {
public:
    explicit SharedLoop(int64_t n);
    SharedLoop(const SharedLoop &) = delete;
    SharedLoop &operator=(const SharedLoop &) = delete;

    int64_t size() const { return n_; }
    bool all_claimed() const { return next_.load() >= n_; }
    // Claims and runs iterations until none is left to claim; returns how many this call ran.
    // An iteration that throws counts as done: the first error is kept for wait(), and the
    // iterations not yet claimed are skipped (they count as done, unrun).
    int64_t run(const std::function<void(int64_t)> &body);
    // Blocks until every claimed iteration has finished (whoever runs it) and none is left to
    // claim; rethrows the first error. Returns at once for n = 0.
    void wait();

private:
    const int64_t n_;
    std::atomic<int64_t> next_{0};  // the next iteration to claim
    std::mutex mu_;
    std::condition_variable cv_;
    int64_t left_;  // iterations not yet finished (under mu_)
    std::exception_ptr error_;
};

}  // namespace aepipe
