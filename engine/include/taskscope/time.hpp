#pragma once
// Time in tasks: async sleeps on the runtime's timer, yield_now, and the deliberate
// mistake blocking_sleep that lessons show.

#include "taskscope/poll.hpp"

#include <chrono>

namespace taskscope::trace {
class trace_hub;
}

namespace taskscope {

namespace detail {
void arm_timer(task_header& task, std::chrono::steady_clock::time_point deadline, const waker& w);
}

/// Completes at its deadline; the runtime's timer wakes the task (two polls in all).
class sleep_future {
public:
    explicit sleep_future(std::chrono::steady_clock::time_point deadline) noexcept
        : m_deadline(deadline) {}

    poll_result<void> poll(context& cx) {
        if (std::chrono::steady_clock::now() >= m_deadline) {
            return ready();
        }
        if (!m_armed) {
            detail::arm_timer(cx.task(), m_deadline, cx.waker());
            m_armed = true;
        }
        return pending;
    }

private:
    std::chrono::steady_clock::time_point m_deadline;
    bool m_armed = false;
};

/// `co_await sleep_until(t)`: suspends the task (not the worker) until `t`.
[[nodiscard]] inline sleep_future sleep_until(std::chrono::steady_clock::time_point t) noexcept {
    return sleep_future(t);
}

/// `co_await sleep_for(200ms)`: suspends the task (not the worker) for `d`.
template <class Rep, class Period>
[[nodiscard]] sleep_future sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
    return sleep_future(std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
}

/// Lets other tasks run: re-queues the task at the back of its worker's queue.
class yield_future {
public:
    poll_result<void> poll(context& cx) noexcept {
        if (m_yielded) {
            return ready();
        }
        m_yielded = true;
        detail::wake_task(cx.task(), trace::wake_source::yield, cx.task_id());
        return pending;
    }

private:
    bool m_yielded = false;
};

/// `co_await yield_now()`
[[nodiscard]] inline yield_future yield_now() noexcept {
    return {};
}

/// Busy-waits on the calling thread for `d`: what a computation looks like to the
/// scheduler (the worker is busy, not blocked; nothing is recorded).
void spin_for(std::chrono::nanoseconds d) noexcept;

/// Blocks the calling thread with std::this_thread::sleep_for — inside a task this stalls
/// its worker, which is the mistake lessons show. Recorded as block_begin / block_end.
void blocking_sleep(std::chrono::nanoseconds d);

/// The same on a thread outside any runtime (a program's main thread, a plain std::thread),
/// recorded on that thread's own track of `hub` (an "outside thread" lane).
void blocking_sleep(std::chrono::nanoseconds d, trace::trace_hub& hub);

} // namespace taskscope
