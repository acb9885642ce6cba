// Reusable float buffers for the batches in flight, and the handle that owns one.
//
// A pool hands out PooledBuffers: reference-counted handles (no allocation: the count lives in
// the slot) that give the slot back when the last copy is dropped, so a buffer can be neither
// leaked nor released twice, whichever node or cancelled queue drops the message last.
// The batches in flight are bounded by a limiter, so the number of live slots is bounded too;
// but a step's credit may admit the next batch a moment before the message of the step just
// done is dropped, so a pool grows a slot when none is free instead of failing. It only ever
// grows to the graph's real concurrency (in_flight + 1 or 2), in the first steps; buffers
// grow only the first time they see a larger batch: the steady state allocates nothing.
// A pool must outlive every message holding its buffers: Pipeline::pool() keeps them.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "pipeline/aligned.hpp"

namespace aepipe {

class SlotPool;

class PooledBuffer {
public:
    PooledBuffer() = default;
    PooledBuffer(const PooledBuffer &o) : pool_(o.pool_), slot_(o.slot_) { retain(); }
    PooledBuffer(PooledBuffer &&o) noexcept : pool_(o.pool_), slot_(o.slot_) { o.pool_ = nullptr, o.slot_ = nullptr; }
    PooledBuffer &operator=(PooledBuffer o) noexcept {
        std::swap(pool_, o.pool_), std::swap(slot_, o.slot_);
        return *this;
    }
    ~PooledBuffer() { reset(); }

    float *data() const;
    explicit operator bool() const { return slot_ != nullptr; }
    void reset();  // drops this handle (the slot returns once no other holds it)

private:
    friend class SlotPool;
    struct Slot {
        Floats buf;  // 64-byte aligned
        std::atomic<int> refs{0};
    };
    PooledBuffer(SlotPool *pool, Slot *slot) : pool_(pool), slot_(slot) { retain(); }
    void retain() {
        if (slot_) slot_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    SlotPool *pool_ = nullptr;
    Slot *slot_ = nullptr;
};

class SlotPool {
public:
    explicit SlotPool(int slots) {
        for (int i = 0; i < slots; ++i) add_slot();
    }
    // A buffer of at least `floats` floats, owned by the handle returned.
    PooledBuffer acquire(size_t floats) {
        std::lock_guard<std::mutex> lock(mu_);
        if (free_.empty()) add_slot();
        PooledBuffer::Slot *s = free_.back();
        free_.pop_back();
        if (s->buf.size() < floats) s->buf.resize(floats);
        return PooledBuffer(this, s);
    }
    size_t slots() const {
        std::lock_guard<std::mutex> lock(mu_);
        return all_.size();
    }
    size_t free_slots() const {
        std::lock_guard<std::mutex> lock(mu_);
        return free_.size();
    }

private:
    friend class PooledBuffer;
    void add_slot() {
        all_.push_back(std::make_unique<PooledBuffer::Slot>());
        free_.push_back(all_.back().get());
    }
    void release(PooledBuffer::Slot *s) {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(s);
    }
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<PooledBuffer::Slot>> all_;
    std::vector<PooledBuffer::Slot *> free_;
};

inline float *PooledBuffer::data() const { return slot_ ? slot_->buf.data() : nullptr; }

inline void PooledBuffer::reset() {
    // acq_rel: the last holder's writes to the buffer happen before the next acquirer's.
    if (slot_ && slot_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) pool_->release(slot_);
    pool_ = nullptr, slot_ = nullptr;
}

}  // namespace aepipe
