#pragma once
// Recording from inside a task: what a library on the runtime (the HTTP server, the load
// generator, a protocol of your own) writes into the trace of the runtime running it.
//
//     task<void> handle(request r) {
//         taskscope::record_request_begin(r.id, taskscope::trace::intern("/orders"),
//                                         taskscope::trace::request_side::server);
//         ...
//         taskscope::record_request_end(bytes_sent, 200, taskscope::trace::request_side::server);
//     }
//
// Outside a task, or with tracing off, these record nothing.

#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"

#include <cstdint>

namespace taskscope {

/// Records an event about the running task (its id as the event's task) on its runtime's
/// trace. See trace/event.hpp for what `arg`, `arg2` and `detail` mean for each kind.
void record_here(trace::event_kind kind, std::uint64_t arg = 0, std::uint32_t arg2 = 0,
                 std::uint8_t detail = 0) noexcept;

/// record_here() for something that happened at `ticks` (trace::now_ticks() taken then).
void record_here_at(std::uint64_t ticks, trace::event_kind kind, std::uint64_t arg = 0,
                    std::uint32_t arg2 = 0, std::uint8_t detail = 0) noexcept;

/// An HTTP request begins on the running task (its last one ends with
/// record_request_end).
inline void record_request_begin(std::uint64_t request_id, trace::name_id route,
                                 trace::request_side side) noexcept {
    record_here(trace::event_kind::request_begin, request_id, route,
                static_cast<std::uint8_t>(side));
}

/// An HTTP/2 stream's request begins on the running task: `connection` numbers the
/// connection (per server, or per process for a client), `stream` is its stream id.
inline void record_http2_request_begin(std::uint32_t connection, std::uint32_t stream,
                                       trace::name_id route, trace::request_side side) noexcept {
    record_here(
        trace::event_kind::request_begin, trace::http2_request_id(connection, stream), route,
        static_cast<std::uint8_t>(static_cast<std::uint8_t>(side) | trace::http2_request_flag));
}

/// The running task's HTTP/2 request ends (record_request_end, marked as a stream).
inline void record_http2_request_end(std::uint64_t bytes, std::uint32_t status,
                                     trace::request_side side) noexcept {
    record_here(
        trace::event_kind::request_end, bytes, status,
        static_cast<std::uint8_t>(static_cast<std::uint8_t>(side) | trace::http2_request_flag));
}

/// A queued request: one that began at `began_ticks` (trace::now_ticks() then), before the
/// running task took it up (a message posted to a queue), so its span covers the wait. A
/// task may hold several at once (a batch written in one go); record_queued_request_end
/// closes them oldest first.
inline void record_queued_request_begin(std::uint64_t request_id, trace::name_id route,
                                        trace::request_side side,
                                        std::uint64_t began_ticks) noexcept {
    record_here_at(
        began_ticks, trace::event_kind::request_begin, request_id, route,
        static_cast<std::uint8_t>(static_cast<std::uint8_t>(side) | trace::queued_request_flag));
}

/// The running task's oldest open queued request ends.
inline void record_queued_request_end(std::uint64_t bytes, std::uint32_t status,
                                      trace::request_side side) noexcept {
    record_here(
        trace::event_kind::request_end, bytes, status,
        static_cast<std::uint8_t>(static_cast<std::uint8_t>(side) | trace::queued_request_flag));
}

/// The running task's request ends: `bytes` sent or received, the response `status` (0 when
/// there is none: the connection failed).
inline void record_request_end(std::uint64_t bytes, std::uint32_t status,
                               trace::request_side side) noexcept {
    record_here(trace::event_kind::request_end, bytes, status, static_cast<std::uint8_t>(side));
}

} // namespace taskscope
