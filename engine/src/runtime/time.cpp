// Timers and sleeps (taskscope/time.hpp): arming goes to the runtime's timer driver; a
// blocking sleep is recorded as a block, the deliberate mistake the lessons show.

#include "taskscope/time.hpp"

#include "runtime_core.hpp"

#include <thread>

namespace taskscope {

void detail::arm_timer(task_header& task, std::chrono::steady_clock::time_point deadline,
                       const waker& w) {
    task.m_runtime->arm_timer(task, deadline, w);
}

void spin_for(std::chrono::nanoseconds d) noexcept {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
}

void blocking_sleep(std::chrono::nanoseconds d, trace::trace_hub& hub) {
    trace::detail::trace_buffer* buffer = hub.this_thread_buffer();
    if (buffer != nullptr) {
        buffer->record(trace::event_kind::block_begin, 0, static_cast<std::uint64_t>(d.count()));
    }
    std::this_thread::sleep_for(d);
    if ((buffer = hub.this_thread_buffer()) != nullptr) {
        buffer->record(trace::event_kind::block_end, 0);
    }
}

void blocking_sleep(std::chrono::nanoseconds d) {
    detail::runtime_core* rt = detail::current_runtime();
    const std::uint64_t task = detail::t_current_task ? detail::t_current_task->m_id : 0;
    if (rt != nullptr) {
        rt->record(trace::event_kind::block_begin, task, static_cast<std::uint64_t>(d.count()));
    }
    std::this_thread::sleep_for(d);
    if (rt != nullptr) {
        rt->record(trace::event_kind::block_end, task);
    }
}

} // namespace taskscope
