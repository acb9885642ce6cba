// A fixed set of reusable float buffers. The number of batches in flight is bounded by a
// limiter, so a pool with that many slots never runs dry; buffers grow only the first time
// they see a larger batch, so the steady state allocates nothing.
#pragma once

#include <mutex>
#include <vector>

#include "pipeline/error.hpp"
#include "pipeline/message.hpp"

namespace aepipe {

class SlotPool {
public:
    explicit SlotPool(int slots) : bufs_(size_t(slots)) {
        for (int i = slots; i-- > 0;) free_.push_back(i);
    }
    // Returns a free slot whose buffer holds at least `floats`.
    int acquire(size_t floats) {
        std::lock_guard<std::mutex> lock(mu_);
        if (free_.empty()) throw RuntimeError("internal: no free batch buffer (more batches in flight than slots)");
        int s = free_.back();
        free_.pop_back();
        if (bufs_[size_t(s)].size() < floats) bufs_[size_t(s)].resize(floats);
        return s;
    }
    float *data(int slot) { return bufs_[size_t(slot)].data(); }
    void release(int slot) {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(slot);
    }

private:
    std::mutex mu_;
    std::vector<std::vector<float>> bufs_;
    std::vector<int> free_;
};

// Returns a tensor message's buffers (input and, when it has one, target) to their pools.
inline void release_buffers(const Msg &m) {
    if (m.pool) m.pool->release(m.slot);
    if (m.target_pool) m.target_pool->release(m.target_slot);
}

}  // namespace aepipe
