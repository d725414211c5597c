#pragma once
// Pending timers: a min-heap of (deadline, waker) behind a mutex. The driver thread waits
// for the earliest deadline; arming an earlier timer interrupts that wait.

#include "taskscope/waker.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <vector>

namespace taskscope::detail {

class timer_queue {
public:
    using time_point = std::chrono::steady_clock::time_point;

    void arm(time_point deadline, waker w) {
        bool earliest = false;
        {
            std::lock_guard lock(m_mutex);
            earliest = m_heap.empty() || deadline < m_heap.front().deadline;
            m_heap.push_back({deadline, m_next_seq++, std::move(w)});
            std::push_heap(m_heap.begin(), m_heap.end(), later);
        }
        if (earliest) {
            m_cv.notify_one();
        }
    }

    /// Moves the wakers of every timer due at `now` into `out`.
    void take_due(time_point now, std::vector<waker>& out) {
        std::lock_guard lock(m_mutex);
        while (!m_heap.empty() && m_heap.front().deadline <= now) {
            std::pop_heap(m_heap.begin(), m_heap.end(), later);
            out.push_back(std::move(m_heap.back().w));
            m_heap.pop_back();
        }
    }

    [[nodiscard]] std::optional<time_point> next_deadline() {
        std::lock_guard lock(m_mutex);
        if (m_heap.empty()) {
            return std::nullopt;
        }
        return m_heap.front().deadline;
    }

    /// Driver thread: sleeps until the earliest timer is due or `stop` is requested.
    void wait_until_due(std::stop_token stop) {
        std::unique_lock lock(m_mutex);
        while (!stop.stop_requested()) {
            if (m_heap.empty()) {
                m_cv.wait(lock, stop, [&] { return !m_heap.empty(); });
                continue;
            }
            const time_point next = m_heap.front().deadline;
            if (std::chrono::steady_clock::now() >= next) {
                return;
            }
            m_cv.wait_until(lock, stop, next,
                            [&] { return m_heap.empty() || m_heap.front().deadline < next; });
        }
    }

    /// Drops every timer (shutdown); returns the wakers so they are released unlocked.
    std::vector<waker> clear() {
        std::vector<waker> dropped;
        std::lock_guard lock(m_mutex);
        for (auto& pending_timer : m_heap) {
            dropped.push_back(std::move(pending_timer.w));
        }
        m_heap.clear();
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
    std::condition_variable_any m_cv;
    std::vector<entry> m_heap;
    std::uint64_t m_next_seq = 0;
};

} // namespace taskscope::detail
