// The pooled batch buffers (pipeline/slot_pool.hpp): a PooledBuffer owns its slot, copies
// share it, and it goes back to the pool when the last handle drops, whatever the order; a
// pool grows a slot rather than fail when all are held; a returned buffer keeps its memory.
#include <gtest/gtest.h>

#include <thread>

#include "pipeline/slot_pool.hpp"

namespace aepipe {
namespace {

TEST(SlotPool, TheLastHandleToDropReturnsTheSlot) {
    SlotPool pool(2);
    PooledBuffer a = pool.acquire(10);
    EXPECT_EQ(pool.free_slots(), 1u);
    {
        PooledBuffer b = a, c = b;  // copies share the slot
        EXPECT_EQ(b.data(), a.data());
        a.reset();
        EXPECT_FALSE(a);
        EXPECT_EQ(pool.free_slots(), 1u) << "b and c still hold it";
        c = PooledBuffer();
        EXPECT_EQ(pool.free_slots(), 1u) << "b still holds it";
    }
    EXPECT_EQ(pool.free_slots(), 2u);
    EXPECT_EQ(pool.slots(), 2u);
}

TEST(SlotPool, AMoveTransfersOwnershipWithoutReleasing) {
    SlotPool pool(1);
    PooledBuffer a = pool.acquire(4);
    float *p = a.data();
    PooledBuffer b = std::move(a);
    EXPECT_FALSE(a);
    EXPECT_EQ(b.data(), p);
    EXPECT_EQ(pool.free_slots(), 0u);
    a = std::move(b);
    EXPECT_EQ(pool.free_slots(), 0u);
    a.reset();
    EXPECT_EQ(pool.free_slots(), 1u);
}

TEST(SlotPool, GrowsWhenEverySlotIsHeldAndReusesBuffers) {
    SlotPool pool(1);
    PooledBuffer a = pool.acquire(100), b = pool.acquire(100);  // the second one grows the pool
    EXPECT_NE(a.data(), b.data());
    EXPECT_EQ(pool.slots(), 2u);
    const float *first = a.data();
    a.reset();
    PooledBuffer c = pool.acquire(50);  // fits: the returned buffer, no new memory
    EXPECT_EQ(c.data(), first);
    EXPECT_EQ(pool.slots(), 2u);
}

TEST(SlotPool, HandlesDroppedOnManyThreadsReturnEachSlotOnce) {
    SlotPool pool(4);
    for (int round = 0; round < 50; ++round) {
        std::vector<PooledBuffer> held;
        for (int i = 0; i < 4; ++i) held.push_back(pool.acquire(8));
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([copy = held] { (void)copy; });  // each thread drops copies of all four
        held.clear();
        for (auto &t : threads) t.join();
        ASSERT_EQ(pool.free_slots(), 4u) << "round " << round;
    }
    EXPECT_EQ(pool.slots(), 4u);
}

}  // namespace
}  // namespace aepipe
