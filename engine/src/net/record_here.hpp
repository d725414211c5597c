#pragma once

#include "../runtime_core.hpp"

namespace taskscope::net::detail {

/// Records an event about the running task on its runtime's trace (no-op outside tasks).
inline void record_here(trace::event_kind kind, std::uint64_t arg, std::uint32_t arg2,
                        std::uint8_t detail = 0) noexcept {
    if (const taskscope::detail::task_header* task = taskscope::detail::t_current_task) {
        task->m_runtime->record(kind, task->m_id, arg, arg2, detail);
    }
}

/// `detail` of request_begin / request_end: which side of the connection recorded it.
inline constexpr std::uint8_t server_side = 0;
inline constexpr std::uint8_t client_side = 1;

} // namespace taskscope::net::detail
