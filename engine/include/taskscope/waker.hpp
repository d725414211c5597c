#pragma once

#include "taskscope/detail/task_header.hpp"

#include <utility>

namespace taskscope {

/// A handle that re-schedules a suspended task. Copy it freely; call `wake` from any
/// thread, any number of times. Waking a task that is being polled makes it run again
/// once the poll ends; waking a finished task does nothing.
class waker {
public:
    waker() noexcept = default;
    explicit waker(detail::task_header& task) noexcept : m_task(&task) { m_task->ref(); }
    waker(const waker& other) noexcept : m_task(other.m_task) {
        if (m_task) {
            m_task->ref();
        }
    }
    waker(waker&& other) noexcept : m_task(std::exchange(other.m_task, nullptr)) {}
    waker& operator=(waker other) noexcept {
        std::swap(m_task, other.m_task);
        return *this;
    }
    ~waker() {
        if (m_task) {
            m_task->unref();
        }
    }

    /// Wakes the task. The source is what the trace records: `self` when a task wakes
    /// itself, otherwise `task` from inside a task and `external` from other threads,
    /// unless a source is given.
    void wake() const noexcept;
    void wake(trace::wake_source source) const noexcept;
    /// Wakes the task, recording `waker_task` (a task id, 0 = none) as the one that woke it.
    void wake_as(trace::wake_source source, std::uint64_t waker_task) const noexcept {
        if (m_task) {
            detail::wake_task(*m_task, source, waker_task);
        }
    }

    [[nodiscard]] bool valid() const noexcept { return m_task != nullptr; }
    /// The id of the task this waker wakes (0 for an empty waker).
    [[nodiscard]] std::uint64_t task_id() const noexcept { return m_task ? m_task->m_id : 0; }
    [[nodiscard]] bool wakes_same_task(const waker& other) const noexcept {
        return m_task == other.m_task;
    }

private:
    detail::task_header* m_task = nullptr;
};

inline void waker::wake(trace::wake_source source) const noexcept {
    if (m_task) {
        const detail::task_header* current = detail::t_current_task;
        detail::wake_task(*m_task, source, current ? current->m_id : 0);
    }
}

inline void waker::wake() const noexcept {
    if (m_task) {
        const detail::task_header* current = detail::t_current_task;
        const auto source = current == m_task    ? trace::wake_source::self
                            : current != nullptr ? trace::wake_source::task
                                                 : trace::wake_source::external;
        detail::wake_task(*m_task, source, current ? current->m_id : 0);
    }
}

} // namespace taskscope
