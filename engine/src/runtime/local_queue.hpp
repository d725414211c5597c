#pragma once
// A worker's bounded run queue: the owner pushes at the tail and pops at the head (FIFO);
// other workers steal half of it at once.
//
// The design is the one tokio's scheduler uses (Carl Lerche, "Making the Tokio scheduler
// 10x faster", 2019): a ring of 256 slots, a tail only the owner writes, and a head word
// packing two indices, `steal` and `real`. Slots in [steal, real) are being copied by a
// thief and must not be overwritten; [real, tail) are queued. A thief first claims a
// range by advancing `real` (one CAS), copies it, then sets `steal = real` (a second CAS).
// While a steal is in progress (steal != real) no second thief may start, which keeps
// the protocol to a single in-flight copy per queue.

#include <array>
#include <atomic>
#include <cstdint>

namespace taskscope::detail {

template <class T>
class local_queue {
public:
    static constexpr std::uint32_t capacity = 256;

    /// Owner only. Pushes `item`; when the ring is full, hands half of it and `item` to
    /// `overflow(T** items, count)` (the global queue) and returns.
    template <class Overflow>
    void push_back(T* item, Overflow&& overflow) noexcept {
        for (;;) {
            // relaxed: only the owner writes m_tail
            const std::uint32_t tail = m_tail.load(std::memory_order_relaxed);
            // acquire: see the slots a finished thief released
            const std::uint64_t head = m_head.load(std::memory_order_acquire);
            const std::uint32_t steal = steal_of(head);
            const std::uint32_t real = real_of(head);
            if (tail - steal < capacity) {
                m_slots[tail & mask].store(item, std::memory_order_relaxed);
                // release: the slot is written before a thief can see the new tail
                m_tail.store(tail + 1, std::memory_order_release);
                return;
            }
            if (steal != real) {
                // A thief is copying out right now and will free room; don't wait for it.
                T* single[1] = {item};
                overflow(single, 1u);
                return;
            }
            if (push_overflow(item, real, tail, overflow)) {
                return;
            }
            // A thief claimed part of the queue meanwhile: there is room now, try again.
        }
    }

    /// Owner only: the oldest queued item, or nullptr.
    T* pop() noexcept {
        std::uint64_t head = m_head.load(std::memory_order_acquire);
        for (;;) {
            const std::uint32_t steal = steal_of(head);
            const std::uint32_t real = real_of(head);
            const std::uint32_t tail = m_tail.load(std::memory_order_relaxed);
            if (real == tail) {
                return nullptr;
            }
            const std::uint32_t next_real = real + 1;
            // While no steal is in flight both indices move together.
            const std::uint64_t next =
                steal == real ? pack(next_real, next_real) : pack(steal, next_real);
            // acq_rel: claim the slot against thieves; acquire their releases
            if (m_head.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
                return m_slots[real & mask].load(std::memory_order_relaxed);
            }
        }
    }

    /// Thief: moves half of this queue into `dst` (the thief's own, empty-ish queue) and
    /// returns one of the moved items to run now, or nullptr. `moved` gets the count.
    T* steal_into(local_queue& dst, std::uint32_t& moved) noexcept {
        moved = 0;
        // relaxed: dst is the calling thread's own queue
        const std::uint32_t dst_tail = dst.m_tail.load(std::memory_order_relaxed);
        const std::uint32_t dst_steal = steal_of(dst.m_head.load(std::memory_order_acquire));
        if (dst_tail - dst_steal > capacity / 2) {
            return nullptr; // we have plenty of our own work
        }
        std::uint32_t n = steal_into_inner(dst, dst_tail);
        if (n == 0) {
            return nullptr;
        }
        moved = n;
        --n; // the last one copied is returned instead of queued
        T* ret = dst.m_slots[(dst_tail + n) & mask].load(std::memory_order_relaxed);
        if (n > 0) {
            // release: copied slots are visible before the new tail
            dst.m_tail.store(dst_tail + n, std::memory_order_release);
        }
        return ret;
    }

    /// Items queued now (exact for the owner, a snapshot for anyone else).
    [[nodiscard]] std::uint32_t size() const noexcept {
        const std::uint32_t real = real_of(m_head.load(std::memory_order_acquire));
        const std::uint32_t tail = m_tail.load(std::memory_order_acquire);
        return tail - real;
    }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }

private:
    static constexpr std::uint32_t mask = capacity - 1;
    static constexpr std::uint32_t steal_of(std::uint64_t head) noexcept {
        return static_cast<std::uint32_t>(head >> 32);
    }
    static constexpr std::uint32_t real_of(std::uint64_t head) noexcept {
        return static_cast<std::uint32_t>(head);
    }
    static constexpr std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
        return (std::uint64_t{steal} << 32) | real;
    }

    template <class Overflow>
    bool push_overflow(T* item, std::uint32_t real, std::uint32_t tail,
                       Overflow& overflow) noexcept {
        constexpr std::uint32_t half = capacity / 2;
        if (tail - real != capacity) {
            return false;
        }
        std::uint64_t expected = pack(real, real);
        // acq_rel: take the oldest half away from thieves in one step
        if (!m_head.compare_exchange_strong(expected, pack(real + half, real + half),
                                            std::memory_order_acq_rel, std::memory_order_acquire)) {
            return false;
        }
        std::array<T*, half + 1> batch;
        for (std::uint32_t i = 0; i < half; ++i) {
            batch[i] = m_slots[(real + i) & mask].load(std::memory_order_relaxed);
        }
        batch[half] = item;
        overflow(batch.data(), half + 1);
        return true;
    }

    std::uint32_t steal_into_inner(local_queue& dst, std::uint32_t dst_tail) noexcept {
        std::uint64_t prev = m_head.load(std::memory_order_acquire);
        std::uint64_t next = 0;
        std::uint32_t n = 0;
        for (;;) {
            const std::uint32_t src_steal = steal_of(prev);
            const std::uint32_t src_real = real_of(prev);
            if (src_steal != src_real) {
                return 0; // another thief is at work here
            }
            // acquire: see the slots the owner published before this tail
            const std::uint32_t src_tail = m_tail.load(std::memory_order_acquire);
            n = src_tail - src_real;
            n -= n / 2; // half, rounded up
            if (n == 0) {
                return 0;
            }
            next = pack(src_steal, src_real + n);
            // acq_rel: claim [real, real+n) against the owner and other thieves
            if (m_head.compare_exchange_weak(prev, next, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
                break;
            }
        }
        const std::uint32_t first = steal_of(next);
        for (std::uint32_t i = 0; i < n; ++i) {
            T* item = m_slots[(first + i) & mask].load(std::memory_order_relaxed);
            dst.m_slots[(dst_tail + i) & mask].store(item, std::memory_order_relaxed);
        }
        // Copy done: release the claimed slots (steal catches up with real). The owner may
        // have popped meanwhile, moving real on, so retry with what is there.
        prev = next;
        for (;;) {
            const std::uint32_t real = real_of(prev);
            // acq_rel: our slot reads happen before the owner may reuse the slots
            if (m_head.compare_exchange_weak(prev, pack(real, real), std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
                return n;
            }
        }
    }

    // The head is written by the owner and thieves, the tail by the owner only: separate
    // cache lines stop pops and steals from invalidating the owner's pushes.
    alignas(64) std::atomic<std::uint64_t> m_head{0};
    alignas(64) std::atomic<std::uint32_t> m_tail{0};
    // Atomic so a thief's read racing the owner's (bounds-excluded) write is defined.
    alignas(64) std::array<std::atomic<T*>, capacity> m_slots{};
};

} // namespace taskscope::detail
