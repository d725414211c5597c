#pragma once
// One thread's event ring: a single-producer single-consumer queue. The owning thread
// records; the hub's drain reads. A full ring drops the event and counts it, so recording
// never waits.

#include "taskscope/trace/clock.hpp"
#include "taskscope/trace/event.hpp"

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>

namespace taskscope::trace::detail {

class trace_buffer {
public:
    trace_buffer(std::size_t capacity, std::uint16_t track)
        : m_slots(new event[std::bit_ceil(capacity < 2 ? 2 : capacity)])
        , m_mask(std::bit_ceil(capacity < 2 ? 2 : capacity) - 1)
        , m_track(track) {}

    /// Owner thread only. `time_ns` is filled with raw clock ticks; the hub converts them.
    void record(event_kind kind, std::uint64_t task = 0, std::uint64_t arg = 0,
                std::uint32_t arg2 = 0, std::uint8_t detail = 0) noexcept {
        record_at(now_ticks(), kind, task, arg, arg2, detail);
    }
    /// record() with the time given (now_ticks() taken earlier): what happened then, recorded
    /// now.
    void record_at(std::uint64_t ticks, event_kind kind, std::uint64_t task = 0,
                   std::uint64_t arg = 0, std::uint32_t arg2 = 0,
                   std::uint8_t detail = 0) noexcept {
        // relaxed: only this thread writes m_written
        const std::uint64_t written = m_written.load(std::memory_order_relaxed);
        if (written - m_consumed_cache > m_mask) {
            // acquire: the reader finished copying the slots it released
            m_consumed_cache = m_consumed.load(std::memory_order_acquire);
            if (written - m_consumed_cache > m_mask) {
                // relaxed: a counter only this thread writes
                m_dropped.store(m_dropped.load(std::memory_order_relaxed) + 1,
                                std::memory_order_relaxed);
                return;
            }
        }
        event& e = m_slots[written & m_mask];
        e.time_ns = ticks;
        e.task = task;
        e.arg = arg;
        e.arg2 = arg2;
        e.track = m_track;
        e.kind = kind;
        e.detail = detail;
        // release: the slot's contents are visible before the reader sees the new count
        m_written.store(written + 1, std::memory_order_release);
    }

    /// Reader only: calls `fn(const event&)` for every event published so far, then frees
    /// their slots. Returns how many were read.
    template <class Fn>
    std::size_t drain(Fn&& fn) {
        const std::uint64_t consumed = m_consumed.load(std::memory_order_relaxed);
        const std::uint64_t written = m_written.load(std::memory_order_acquire);
        for (std::uint64_t i = consumed; i != written; ++i) {
            fn(m_slots[i & m_mask]);
        }
        m_consumed.store(written, std::memory_order_release);
        return static_cast<std::size_t>(written - consumed);
    }

    [[nodiscard]] bool empty() const noexcept {
        return m_written.load(std::memory_order_acquire) ==
               m_consumed.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t dropped() const noexcept {
        return m_dropped.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint16_t track() const noexcept { return m_track; }

private:
    std::unique_ptr<event[]> m_slots;
    const std::uint64_t m_mask;
    const std::uint16_t m_track;
    // Writer and reader fields on separate cache lines so neither invalidates the other's.
    alignas(64) std::atomic<std::uint64_t> m_written{0};
    std::uint64_t m_consumed_cache = 0;
    std::atomic<std::uint64_t> m_dropped{0};
    alignas(64) std::atomic<std::uint64_t> m_consumed{0};
};

} // namespace taskscope::trace::detail
