#pragma once
// Each event kind's fields by name: a maker that builds the record and a view that reads
// it, so what `arg`, `arg2` and `detail` mean for a kind is written once, here, beside the
// schema (as Tracy's TracyQueue.hpp gives each queue item a payload struct). Consumers of
// the event stream (the analysis model, the exporter, the queue tracker) dispatch each
// event to one small handler per kind:
//
//     struct my_consumer {
//         void on(const taskscope::trace::event& e, const taskscope::trace::steal_view& s) {
//             ... s.victim, s.count ...
//         }
//     };
//     for (const auto& e : events) { taskscope::trace::dispatch(e, consumer); }
//
// A kind the consumer writes no `on` for reaches nothing.
//
// and tests build events with the same makers: `make::steal(time, track, victim, count)`.
//
// Adding a kind: the enumerator in event.hpp (and its to_string), a view with `from()` and a
// maker here, one case in dispatch(), and a handler in each consumer that cares.

#include "taskscope/trace/event.hpp"

#include <algorithm>
#include <cstdint>

namespace taskscope::trace {

/// request_begin / request_end `detail`: which side of the connection recorded it.
enum class request_side : std::uint8_t {
    server = 0, ///< the server handling it
    client = 1, ///< the load generator (the latency a user waits)
};

/// global_push `detail`: why tasks went to the global queue.
enum class push_reason : std::uint8_t {
    inject = 0,   ///< from outside a worker, or a worker without a local queue for it
    overflow = 1, ///< the recording worker's local queue was full: its oldest count-1 queued
                  ///< tasks and the one being queued moved
};

/// Where a spawn or a wake put a task (the queue_code of a wake's arg2, or a spawn's
/// detail with the recording worker).
struct queue_place {
    queue_kind kind = queue_kind::unknown;
    std::uint32_t worker = 0; ///< the worker whose queue it is (not for global)
    bool pinned = false;      ///< the task is pinned to that worker (spawn_local)
};

// ---- views: one a kind, reading the record ------------------------------------------------

struct track_started_view {
    track_kind kind;
    std::uint32_t index; ///< index within its kind: worker 0, blocking pool 1, ...
    static track_started_view from(const event& e) noexcept {
        return {static_cast<track_kind>(e.detail), static_cast<std::uint32_t>(e.arg)};
    }
};

struct task_spawned_view {
    std::uint64_t task;
    std::uint64_t parent; ///< 0: spawned from outside any task
    std::uint32_t name;   ///< name id
    queue_kind queue;     ///< the recording worker's queue it was put in
    bool pinned;          ///< pinned to the recording worker (spawn_local)
    static task_spawned_view from(const event& e) noexcept {
        return {e.task, e.arg, e.arg2,
                static_cast<queue_kind>(e.detail & static_cast<std::uint8_t>(~spawn_pinned_bit)),
                (e.detail & spawn_pinned_bit) != 0};
    }
};

struct poll_begin_view {
    std::uint64_t task;
    std::uint32_t local_depth; ///< the worker's local queue after taking the task
    static poll_begin_view from(const event& e) noexcept { return {e.task, e.arg2}; }
};

struct poll_end_view {
    std::uint64_t task;
    poll_result result;
    std::uint32_t local_depth; ///< the worker's local queue after the poll
    static poll_end_view from(const event& e) noexcept {
        return {e.task, static_cast<poll_result>(std::min<std::uint8_t>(e.detail, 2)), e.arg2};
    }
};

struct task_cancelled_view {
    std::uint64_t task;
    static task_cancelled_view from(const event& e) noexcept { return {e.task}; }
};

struct wake_view {
    std::uint64_t task;  ///< the task woken
    std::uint64_t waker; ///< the task that called the waker; 0: none (timer, I/O, a thread)
    wake_source source;
    queue_place queue; ///< where the wake put the task (schema 3 on)
    static wake_view from(const event& e) noexcept {
        return {e.task,
                e.arg,
                static_cast<wake_source>(e.detail & 7),
                {queue_kind_of(e.arg2), queue_worker_of(e.arg2), queue_pinned(e.arg2)}};
    }
};

struct steal_view {
    std::uint64_t first_task; ///< the first (oldest) task moved
    std::uint64_t victim;     ///< the worker stolen from (the thief recorded it)
    std::uint32_t count;      ///< tasks moved
    static steal_view from(const event& e) noexcept { return {e.task, e.arg, e.arg2}; }
};

struct global_push_view {
    std::uint64_t first_task;
    std::uint64_t count;
    std::uint32_t global_depth; ///< after the push
    push_reason reason;
    static global_push_view from(const event& e) noexcept {
        return {e.task, e.arg, e.arg2, e.detail == 1 ? push_reason::overflow : push_reason::inject};
    }
};

struct global_pop_view {
    std::uint64_t task;
    std::uint32_t global_depth; ///< after the pop
    static global_pop_view from(const event& e) noexcept { return {e.task, e.arg2}; }
};

struct queue_depth_view {
    std::uint64_t worker; ///< whose local queue
    std::uint32_t depth;
    std::uint64_t moved_task; ///< != 0: this task left the LIFO slot for the queue's back
    static queue_depth_view from(const event& e) noexcept { return {e.arg, e.arg2, e.task}; }
};

struct block_begin_view {
    std::uint64_t task;
    std::uint64_t intended_ns; ///< how long it meant to block (a sleep's length)
    static block_begin_view from(const event& e) noexcept { return {e.task, e.arg}; }
};

struct block_end_view {
    std::uint64_t task;
    static block_end_view from(const event& e) noexcept { return {e.task}; }
};

struct blocking_job_begin_view {
    std::uint64_t job;
    std::uint64_t spawner; ///< the task that asked for it
    std::uint32_t name;    ///< name id
    static blocking_job_begin_view from(const event& e) noexcept { return {e.task, e.arg, e.arg2}; }
};

struct blocking_job_end_view {
    std::uint64_t job;
    static blocking_job_end_view from(const event& e) noexcept { return {e.task}; }
};

struct worker_park_view {
    static worker_park_view from(const event&) noexcept { return {}; }
};

struct worker_unpark_view {
    static worker_unpark_view from(const event&) noexcept { return {}; }
};

struct timer_armed_view {
    std::uint64_t task;
    std::uint64_t deadline_ns; ///< on the trace clock
    static timer_armed_view from(const event& e) noexcept { return {e.task, e.arg}; }
};

struct timer_fired_view {
    std::uint64_t task;
    static timer_fired_view from(const event& e) noexcept { return {e.task}; }
};

struct io_ready_view {
    std::uint64_t task;
    std::uint64_t fd;
    std::uint8_t readiness; ///< readiness bits
    static io_ready_view from(const event& e) noexcept { return {e.task, e.arg, e.detail}; }
};

/// In a request event's detail, beside its side (bit 0): a queued request.
inline constexpr std::uint8_t queued_request_flag = 2;
/// In a request event's detail (schema 5): the request came as an HTTP/2 stream. Its
/// request id is then http2_request_id(connection, stream).
inline constexpr std::uint8_t http2_request_flag = 4;

/// An HTTP/2 request's id: the connection (numbered by whoever recorded it) in the high
/// half, the stream id (31 bits) in the low.
[[nodiscard]] constexpr std::uint64_t http2_request_id(std::uint32_t connection,
                                                       std::uint32_t stream) noexcept {
    return (std::uint64_t{connection} << 32) | (stream & 0x7fff'ffffU);
}
[[nodiscard]] constexpr std::uint32_t http2_connection_of(std::uint64_t request_id) noexcept {
    return static_cast<std::uint32_t>(request_id >> 32);
}
[[nodiscard]] constexpr std::uint32_t http2_stream_of(std::uint64_t request_id) noexcept {
    return static_cast<std::uint32_t>(request_id & 0x7fff'ffffU);
}

struct request_begin_view {
    std::uint64_t task;
    std::uint64_t request_id; ///< server: per server; client: unique in the process
    std::uint32_t route;      ///< name id
    request_side side;
    /// Began before the recording task took it up (a message that waited in a queue): a task
    /// may hold several such requests at once, and each queued end closes the oldest.
    bool queued;
    /// An HTTP/2 stream: request_id is http2_request_id(connection, stream).
    bool http2;
    static request_begin_view from(const event& e) noexcept {
        return {e.task,
                e.arg,
                e.arg2,
                (e.detail & 1) != 0 ? request_side::client : request_side::server,
                (e.detail & queued_request_flag) != 0,
                (e.detail & http2_request_flag) != 0};
    }
};

struct request_end_view {
    std::uint64_t task; ///< its last request_begin ends
    std::uint64_t bytes;
    std::uint32_t status;
    request_side side;
    bool queued; ///< ends the task's oldest queued request (see request_begin_view)
    static request_end_view from(const event& e) noexcept {
        return {e.task, e.arg, e.arg2,
                (e.detail & 1) != 0 ? request_side::client : request_side::server,
                (e.detail & queued_request_flag) != 0};
    }
};

struct marker_view {
    std::uint32_t name; ///< name id
    std::uint64_t value;
    static marker_view from(const event& e) noexcept { return {e.arg2, e.arg}; }
};

struct events_dropped_view {
    std::uint64_t lost_total; ///< events lost so far on the track (a running total)
    std::uint32_t on_track;   ///< a track number (beyond 16 bits: a damaged file's)
    static events_dropped_view from(const event& e) noexcept { return {e.arg, e.arg2}; }
};

// Resources (schema 4): every view names the resource by its id.

struct resource_created_view {
    std::uint32_t resource;
    resource_kind kind;
    std::uint32_t name;     ///< name id
    std::uint32_t capacity; ///< unbounded_capacity: none
    std::uint64_t creator;  ///< the task that created it; 0: outside any task
    static resource_created_view from(const event& e) noexcept {
        return {e.arg2, static_cast<resource_kind>(e.detail),
                static_cast<std::uint32_t>(e.arg >> 32), static_cast<std::uint32_t>(e.arg), e.task};
    }
};

struct resource_wait_view {
    std::uint64_t task;
    std::uint32_t resource;
    resource_op op;
    static resource_wait_view from(const event& e) noexcept {
        return {e.task, e.arg2, static_cast<resource_op>(e.detail)};
    }
};

struct resource_ready_view {
    std::uint64_t task; ///< the waiter whose wait ended
    std::uint32_t resource;
    resource_op op;
    std::uint64_t waited_ns;
    static resource_ready_view from(const event& e) noexcept {
        return {e.task, e.arg2, static_cast<resource_op>(e.detail), e.arg};
    }
};

struct resource_depth_view {
    std::uint64_t task; ///< the task that changed it (0: outside any task)
    std::uint32_t resource;
    resource_op op;
    std::uint64_t depth; ///< after the operation
    static resource_depth_view from(const event& e) noexcept {
        return {e.task, e.arg2, static_cast<resource_op>(e.detail), e.arg};
    }
};

struct resource_released_view {
    std::uint64_t task; ///< the holder that released
    std::uint32_t resource;
    std::uint32_t permits;    ///< released by this call
    std::uint64_t held_after; ///< permits held after the release and any hand-over
    static resource_released_view from(const event& e) noexcept {
        return {e.task, e.arg2, e.detail, e.arg};
    }
};

struct resource_lagged_view {
    std::uint64_t task; ///< the receiver
    std::uint32_t resource;
    std::uint64_t missed;
    static resource_lagged_view from(const event& e) noexcept { return {e.task, e.arg2, e.arg}; }
};

struct resource_closed_view {
    std::uint64_t task; ///< the task that closed it (0: none)
    std::uint32_t resource;
    static resource_closed_view from(const event& e) noexcept { return {e.task, e.arg2}; }
};

// ---- makers: one a kind, building the record ----------------------------------------------

namespace make {

using time = std::uint64_t;
using track = std::uint16_t;

[[nodiscard]] constexpr event raw(time t, track tr, event_kind kind, std::uint64_t task = 0,
                                  std::uint64_t arg = 0, std::uint32_t arg2 = 0,
                                  std::uint8_t detail = 0) noexcept {
    return event{t, task, arg, arg2, tr, kind, detail};
}
[[nodiscard]] constexpr event track_started(time t, track tr, track_kind kind,
                                            std::uint32_t index) noexcept {
    return raw(t, tr, event_kind::track_started, 0, index, 0, static_cast<std::uint8_t>(kind));
}
[[nodiscard]] constexpr event task_spawned(time t, track tr, std::uint64_t task,
                                           std::uint64_t parent = 0, std::uint32_t name = 0,
                                           queue_kind queue = queue_kind::unknown,
                                           bool pinned = false) noexcept {
    return raw(t, tr, event_kind::task_spawned, task, parent, name,
               static_cast<std::uint8_t>(static_cast<std::uint8_t>(queue) |
                                         (pinned ? spawn_pinned_bit : 0)));
}
[[nodiscard]] constexpr event poll_begin(time t, track tr, std::uint64_t task,
                                         std::uint32_t local_depth = 0) noexcept {
    return raw(t, tr, event_kind::poll_begin, task, 0, local_depth);
}
[[nodiscard]] constexpr event poll_end(time t, track tr, std::uint64_t task,
                                       poll_result result = poll_result::pending,
                                       std::uint32_t local_depth = 0) noexcept {
    return raw(t, tr, event_kind::poll_end, task, 0, local_depth,
               static_cast<std::uint8_t>(result));
}
[[nodiscard]] constexpr event task_cancelled(time t, track tr, std::uint64_t task) noexcept {
    return raw(t, tr, event_kind::task_cancelled, task);
}
[[nodiscard]] constexpr event wake(time t, track tr, std::uint64_t task, std::uint64_t waker,
                                   wake_source source, queue_place queue = {}) noexcept {
    return raw(t, tr, event_kind::wake, task, waker,
               queue_code(queue.kind, queue.worker, queue.pinned),
               static_cast<std::uint8_t>(source));
}
[[nodiscard]] constexpr event steal(time t, track tr, std::uint32_t victim, std::uint32_t count,
                                    std::uint64_t first_task = 0) noexcept {
    return raw(t, tr, event_kind::steal, first_task, victim, count);
}
[[nodiscard]] constexpr event global_push(time t, track tr, std::uint64_t first_task,
                                          std::uint64_t count, std::uint32_t global_depth,
                                          push_reason reason = push_reason::inject) noexcept {
    return raw(t, tr, event_kind::global_push, first_task, count, global_depth,
               static_cast<std::uint8_t>(reason));
}
[[nodiscard]] constexpr event global_pop(time t, track tr, std::uint64_t task,
                                         std::uint32_t global_depth) noexcept {
    return raw(t, tr, event_kind::global_pop, task, 0, global_depth);
}
[[nodiscard]] constexpr event queue_depth(time t, track tr, std::uint32_t worker,
                                          std::uint32_t depth,
                                          std::uint64_t moved_task = 0) noexcept {
    return raw(t, tr, event_kind::queue_depth, moved_task, worker, depth);
}
[[nodiscard]] constexpr event block_begin(time t, track tr, std::uint64_t task,
                                          std::uint64_t intended_ns = 0) noexcept {
    return raw(t, tr, event_kind::block_begin, task, intended_ns);
}
[[nodiscard]] constexpr event block_end(time t, track tr, std::uint64_t task) noexcept {
    return raw(t, tr, event_kind::block_end, task);
}
[[nodiscard]] constexpr event blocking_job_begin(time t, track tr, std::uint64_t job,
                                                 std::uint64_t spawner,
                                                 std::uint32_t name = 0) noexcept {
    return raw(t, tr, event_kind::blocking_job_begin, job, spawner, name);
}
[[nodiscard]] constexpr event blocking_job_end(time t, track tr, std::uint64_t job) noexcept {
    return raw(t, tr, event_kind::blocking_job_end, job);
}
[[nodiscard]] constexpr event worker_park(time t, track tr) noexcept {
    return raw(t, tr, event_kind::worker_park);
}
[[nodiscard]] constexpr event worker_unpark(time t, track tr) noexcept {
    return raw(t, tr, event_kind::worker_unpark);
}
[[nodiscard]] constexpr event timer_armed(time t, track tr, std::uint64_t task,
                                          std::uint64_t deadline_ns) noexcept {
    return raw(t, tr, event_kind::timer_armed, task, deadline_ns);
}
[[nodiscard]] constexpr event timer_fired(time t, track tr, std::uint64_t task) noexcept {
    return raw(t, tr, event_kind::timer_fired, task);
}
[[nodiscard]] constexpr event io_ready(time t, track tr, std::uint64_t task, std::uint64_t fd,
                                       std::uint8_t readiness = 1) noexcept {
    return raw(t, tr, event_kind::io_ready, task, fd, 0, readiness);
}
[[nodiscard]] constexpr event request_begin(time t, track tr, std::uint64_t task,
                                            std::uint64_t request_id, std::uint32_t route,
                                            request_side side = request_side::server) noexcept {
    return raw(t, tr, event_kind::request_begin, task, request_id, route,
               static_cast<std::uint8_t>(side));
}
/// An HTTP/2 stream's request_begin.
[[nodiscard]] constexpr event
http2_request_begin(time t, track tr, std::uint64_t task, std::uint32_t connection,
                    std::uint32_t stream, std::uint32_t route,
                    request_side side = request_side::server) noexcept {
    return raw(t, tr, event_kind::request_begin, task, http2_request_id(connection, stream), route,
               static_cast<std::uint8_t>(static_cast<std::uint8_t>(side) | http2_request_flag));
}
[[nodiscard]] constexpr event request_end(time t, track tr, std::uint64_t task, std::uint64_t bytes,
                                          std::uint32_t status,
                                          request_side side = request_side::server) noexcept {
    return raw(t, tr, event_kind::request_end, task, bytes, status,
               static_cast<std::uint8_t>(side));
}
[[nodiscard]] constexpr event marker(time t, track tr, std::uint32_t name,
                                     std::uint64_t value = 0) noexcept {
    return raw(t, tr, event_kind::marker, 0, value, name);
}
[[nodiscard]] constexpr event events_dropped(time t, track tr, std::uint64_t lost_total,
                                             std::uint32_t on_track) noexcept {
    return raw(t, tr, event_kind::events_dropped, 0, lost_total, on_track);
}
[[nodiscard]] constexpr event resource_created(time t, track tr, std::uint32_t resource,
                                               resource_kind kind, std::uint32_t name = 0,
                                               std::uint32_t capacity = unbounded_capacity,
                                               std::uint64_t creator = 0) noexcept {
    return raw(t, tr, event_kind::resource_created, creator,
               (static_cast<std::uint64_t>(name) << 32) | capacity, resource,
               static_cast<std::uint8_t>(kind));
}
[[nodiscard]] constexpr event resource_wait(time t, track tr, std::uint64_t task,
                                            std::uint32_t resource, resource_op op) noexcept {
    return raw(t, tr, event_kind::resource_wait, task, 0, resource, static_cast<std::uint8_t>(op));
}
[[nodiscard]] constexpr event resource_ready(time t, track tr, std::uint64_t task,
                                             std::uint32_t resource, resource_op op,
                                             std::uint64_t waited_ns) noexcept {
    return raw(t, tr, event_kind::resource_ready, task, waited_ns, resource,
               static_cast<std::uint8_t>(op));
}
[[nodiscard]] constexpr event resource_depth(time t, track tr, std::uint64_t task,
                                             std::uint32_t resource, resource_op op,
                                             std::uint64_t depth) noexcept {
    return raw(t, tr, event_kind::resource_depth, task, depth, resource,
               static_cast<std::uint8_t>(op));
}
[[nodiscard]] constexpr event resource_released(time t, track tr, std::uint64_t task,
                                                std::uint32_t resource, std::uint64_t held_after,
                                                std::uint8_t permits = 1) noexcept {
    return raw(t, tr, event_kind::resource_released, task, held_after, resource, permits);
}
[[nodiscard]] constexpr event resource_lagged(time t, track tr, std::uint64_t task,
                                              std::uint32_t resource,
                                              std::uint64_t missed) noexcept {
    return raw(t, tr, event_kind::resource_lagged, task, missed, resource);
}
[[nodiscard]] constexpr event resource_closed(time t, track tr, std::uint32_t resource,
                                              std::uint64_t task = 0) noexcept {
    return raw(t, tr, event_kind::resource_closed, task, 0, resource);
}

} // namespace make

// ---- dispatch: one handler a kind -----------------------------------------------------------

namespace detail {

template <typename Handler, typename View>
void deliver(Handler& handler, const event& e, const View& view) {
    if constexpr (requires { handler.on(e, view); }) {
        handler.on(e, view);
    }
}

} // namespace detail

/// Calls `handler.on(e, view)` with the view of `e`'s kind, if the handler has an `on` for
/// that view. An unknown kind (a newer schema or a damaged file) reaches no handler;
/// returns false for it.
template <typename Handler>
bool dispatch(const event& e, Handler& handler) {
    switch (e.kind) {
    case event_kind::track_started:
        detail::deliver(handler, e, track_started_view::from(e));
        return true;
    case event_kind::task_spawned:
        detail::deliver(handler, e, task_spawned_view::from(e));
        return true;
    case event_kind::poll_begin:
        detail::deliver(handler, e, poll_begin_view::from(e));
        return true;
    case event_kind::poll_end:
        detail::deliver(handler, e, poll_end_view::from(e));
        return true;
    case event_kind::task_cancelled:
        detail::deliver(handler, e, task_cancelled_view::from(e));
        return true;
    case event_kind::wake:
        detail::deliver(handler, e, wake_view::from(e));
        return true;
    case event_kind::steal:
        detail::deliver(handler, e, steal_view::from(e));
        return true;
    case event_kind::global_push:
        detail::deliver(handler, e, global_push_view::from(e));
        return true;
    case event_kind::global_pop:
        detail::deliver(handler, e, global_pop_view::from(e));
        return true;
    case event_kind::queue_depth:
        detail::deliver(handler, e, queue_depth_view::from(e));
        return true;
    case event_kind::block_begin:
        detail::deliver(handler, e, block_begin_view::from(e));
        return true;
    case event_kind::block_end:
        detail::deliver(handler, e, block_end_view::from(e));
        return true;
    case event_kind::blocking_job_begin:
        detail::deliver(handler, e, blocking_job_begin_view::from(e));
        return true;
    case event_kind::blocking_job_end:
        detail::deliver(handler, e, blocking_job_end_view::from(e));
        return true;
    case event_kind::worker_park:
        detail::deliver(handler, e, worker_park_view::from(e));
        return true;
    case event_kind::worker_unpark:
        detail::deliver(handler, e, worker_unpark_view::from(e));
        return true;
    case event_kind::timer_armed:
        detail::deliver(handler, e, timer_armed_view::from(e));
        return true;
    case event_kind::timer_fired:
        detail::deliver(handler, e, timer_fired_view::from(e));
        return true;
    case event_kind::io_ready:
        detail::deliver(handler, e, io_ready_view::from(e));
        return true;
    case event_kind::request_begin:
        detail::deliver(handler, e, request_begin_view::from(e));
        return true;
    case event_kind::request_end:
        detail::deliver(handler, e, request_end_view::from(e));
        return true;
    case event_kind::marker:
        detail::deliver(handler, e, marker_view::from(e));
        return true;
    case event_kind::events_dropped:
        detail::deliver(handler, e, events_dropped_view::from(e));
        return true;
    case event_kind::resource_created:
        detail::deliver(handler, e, resource_created_view::from(e));
        return true;
    case event_kind::resource_wait:
        detail::deliver(handler, e, resource_wait_view::from(e));
        return true;
    case event_kind::resource_ready:
        detail::deliver(handler, e, resource_ready_view::from(e));
        return true;
    case event_kind::resource_depth:
        detail::deliver(handler, e, resource_depth_view::from(e));
        return true;
    case event_kind::resource_released:
        detail::deliver(handler, e, resource_released_view::from(e));
        return true;
    case event_kind::resource_lagged:
        detail::deliver(handler, e, resource_lagged_view::from(e));
        return true;
    case event_kind::resource_closed:
        detail::deliver(handler, e, resource_closed_view::from(e));
        return true;
    }
    return false;
}

} // namespace taskscope::trace
