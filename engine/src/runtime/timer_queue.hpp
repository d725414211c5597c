#pragma once
// Pending timers: a min-heap of (deadline, waker) behind a mutex. Whichever thread drives
// the reactor sleeps until the earliest deadline; arming an earlier one wakes it.

#include "taskscope/waker.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

namespace taskscope::detail {

class timer_queue {
public:
    using time_point = std::chrono::steady_clock::time_point;

    void arm(time_point deadline, waker w) {
        std::lock_guard lock(m_mutex);
        m_heap.push_back({deadline, m_next_seq++, std::move(w)});
        std::push_heap(m_heap.begin(), m_heap.end(), later);
        m_size.store(m_heap.size(), std::memory_order_relaxed);
    }

    /// Timers pending (a hint read without the lock).
    [[nodiscard]] std::size_t size() const noexcept {
        return m_size.load(std::memory_order_relaxed); // relaxed: a hint
    }

    /// Moves the wakers of every timer due at `now` into `out`.
    void take_due(time_point now, std::vector<waker>& out) {
        std::lock_guard lock(m_mutex);
        while (!m_heap.empty() && m_heap.front().deadline <= now) {
            std::pop_heap(m_heap.begin(), m_heap.end(), later);
            out.push_back(std::move(m_heap.back().w));
            m_heap.pop_back();
        }
        m_size.store(m_heap.size(), std::memory_order_relaxed);
    }

    [[nodiscard]] std::optional<time_point> next_deadline() {
        std::lock_guard lock(m_mutex);
        if (m_heap.empty()) {
            return std::nullopt;
        }
        return m_heap.front().deadline;
    }

    /// Drops every timer (shutdown); returns the wakers so they are released unlocked.
    std::vector<waker> clear() {
        std::vector<waker> dropped;
        std::lock_guard lock(m_mutex);
        for (auto& pending_timer : m_heap) {
            dropped.push_back(std::move(pending_timer.w));
        }
        m_heap.clear();
        m_size.store(0, std::memory_order_relaxed);
        return dropped;
    }

private:
    struct entry {
        time_point deadline;
        std::uint64_t seq; // equal deadlines fire in arming order
        waker w;
    };
    static bool later(const entry& a, const entry& b) noexcept {
        return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }

    std::mutex m_mutex;
    std::vector<entry> m_heap;
    std::atomic<std::size_t> m_size{0};
    std::uint64_t m_next_seq = 0;
};

} // namespace taskscope::detail
