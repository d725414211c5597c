#pragma once
// Puts one thread to sleep until another unparks it. An unpark that comes first is kept
// as a token, so no wake-up is lost:
//
//   park():   if state == notified: state = empty, return          (fast path, no lock)
//             lock; empty -> parked; wait until state == notified; state = empty
//   unpark(): if exchange(state, notified) == parked: lock/unlock, notify

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

    void unpark() {
        if (m_state.exchange(notified) == parked) {
            // Taking the lock orders this notify after the parker's wait began.
            { std::lock_guard lock(m_mutex); }
            m_cv.notify_one();
        }
    }

private:
    static constexpr std::uint32_t empty = 0;
    static constexpr std::uint32_t parked = 1;
    static constexpr std::uint32_t notified = 2;

    std::atomic<std::uint32_t> m_state{empty};
    std::mutex m_mutex;
    std::condition_variable m_cv;
};

} // namespace taskscope::detail
