// Float buffers aligned to a cache line (64 bytes). oneDNN's AVX-512 kernels and our SIMD
// loops read whole 64-byte vectors: from malloc's 16-byte alignment every other vector load
// splits two cache lines. Which offset a buffer got depended on what was allocated before it,
// so the same training step ran 20-35% slower in one graph than in another (measured: a
// graph with an evaluate node vs one without, same model, same thread count).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace aepipe {

template <class T, std::size_t Align = 64>
struct AlignedAllocator {
    using value_type = T;
    template <class U>
    struct rebind {
        using other = AlignedAllocator<U, Align>;
    };
    AlignedAllocator() = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U, Align> &) noexcept {}
    T *allocate(std::size_t n) { return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(Align))); }
    void deallocate(T *p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(Align)); }
    template <class U>
    bool operator==(const AlignedAllocator<U, Align> &) const noexcept {
        return true;
    }
};

// A std::vector<T> whose data() is 64-byte aligned.
template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;
using Floats = AlignedVector<float>;

}  // namespace aepipe
