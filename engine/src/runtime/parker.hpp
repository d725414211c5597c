#pragma once
// Puts one thread to sleep until another unparks it. An unpark that comes first is kept
// as a token, so no wake-up is lost:
//
//   park():   if state == notified: state = empty, return          (fast path, no lock)
//             lock; empty -> parked; wait until state == notified; state = empty
//   park_driving(drive): empty -> parked_driver; drive() blocks in the reactor; -> empty
//   unpark(): prev = exchange(state, notified)
//             prev == parked:        lock/unlock, notify the condition variable
//             prev == parked_driver: the caller wakes the reactor (returns true)

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace taskscope::detail {

class parker {
public:
    /// Sleeps until unparked, or until `deadline` when one is given.
    void park(std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
        std::uint32_t expected = notified;
        if (m_state.compare_exchange_strong(expected, empty)) {
            return;
        }
        std::unique_lock lock(m_mutex);
        expected = empty;
        if (!m_state.compare_exchange_strong(expected, parked)) {
            m_state.store(empty); // it was `notified`: consume the token
            return;
        }
        for (;;) {
            if (deadline) {
                if (m_cv.wait_until(lock, *deadline) == std::cv_status::timeout) {
                    // Timed out, unless an unpark raced us: either way leave `empty`.
                    m_state.store(empty);
                    return;
                }
            } else {
                m_cv.wait(lock);
            }
            expected = notified;
            if (m_state.compare_exchange_strong(expected, empty)) {
                return;
            }
            // spurious wake-up: still parked
        }
    }

    /// Sleeps inside `drive` (a reactor poll that unpark's caller can interrupt).
    template <class Drive>
    void park_driving(Drive&& drive) {
        std::uint32_t expected = notified;
        if (m_state.compare_exchange_strong(expected, empty)) {
            return;
        }
        expected = empty;
        if (!m_state.compare_exchange_strong(expected, parked_driver)) {
            m_state.store(empty);
            return;
        }
        drive();
        m_state.store(empty); // woken, timed out or events: any token is used up
    }

    /// Returns true when the thread sleeps in the reactor: the caller must wake it.
    bool unpark() {
        const std::uint32_t previous = m_state.exchange(notified);
        if (previous == parked) {
            // Taking the lock orders this notify after the parker's wait began.
            { std::lock_guard lock(m_mutex); }
            m_cv.notify_one();
        }
        return previous == parked_driver;
    }

private:
    static constexpr std::uint32_t empty = 0;
    static constexpr std::uint32_t parked = 1;
    static constexpr std::uint32_t notified = 2;
    static constexpr std::uint32_t parked_driver = 3;

    std::atomic<std::uint32_t> m_state{empty};
    std::mutex m_mutex;
    std::condition_variable m_cv;
};

} // namespace taskscope::detail
