#pragma once
// The trace schema: every scheduling decision taskscope records is one `event`.
// Change a field or a kind's meaning only together with `schema_version`.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace taskscope::trace {

inline constexpr std::uint32_t schema_version = 5;
/// The oldest schema this build still reads. Schema 2 lacks the queue a woken or spawned
/// task was put in (`queue_kind`): its traces show everything but run-queue contents.
inline constexpr std::uint32_t oldest_readable_schema = 2;
/// The first schema whose events say which queue a task was put in.
inline constexpr std::uint32_t first_schema_with_queues = 3;
/// The first schema with resources (channels, locks, notify): the resource_* kinds.
inline constexpr std::uint32_t first_schema_with_resources = 4;
/// The first schema whose request events may be HTTP/2 streams (http2_request_flag).
inline constexpr std::uint32_t first_schema_with_http2 = 5;

/// What happened. The comment after each kind says how it fills `task`, `arg`, `arg2`
/// and `detail`; unnamed fields are zero.
enum class event_kind : std::uint8_t {
    track_started = 0,  ///< first event of every thread: detail=track_kind, arg=index in kind
    task_spawned,       ///< task, arg=parent task (0 = from outside), arg2=name id,
                        ///< detail=queue_kind it was put in (the recording worker's queues),
                        ///< | spawn_pinned_bit for a task pinned to its worker
    poll_begin,         ///< task, arg2=depth of this worker's local queue after the pop
    poll_end,           ///< task, detail=poll_result, arg2=local queue depth after the poll
    task_cancelled,     ///< task destroyed without finishing (runtime shutdown)
    wake,               ///< task=woken, arg=waking task (0 = none), detail=wake_source,
                        ///< arg2=queue_code: where the wake put the task
    steal,              ///< arg=victim worker, arg2=tasks moved, detail=0
    global_push,        ///< task (first of the batch), arg=count, arg2=global depth after;
                        ///< detail=1: the recording worker's local queue overflowed, and its
                        ///< oldest count-1 queued tasks plus the one being queued moved
    global_pop,         ///< task, arg2=global depth after
    queue_depth,        ///< arg=worker index, arg2=depth of that worker's local queue;
                        ///< task != 0: that task left the LIFO slot for the queue's back
    block_begin,        ///< task blocks its thread: task, arg=intended duration in ns
    block_end,          ///< task
    blocking_job_begin, ///< blocking-pool job: task=job id, arg=spawning task, arg2=name id
    blocking_job_end,   ///< task=job id
    worker_park,        ///< the recording worker goes to sleep
    worker_unpark,      ///< the recording worker wakes up
    timer_armed,        ///< task, arg=deadline in ns on the trace clock
    timer_fired,        ///< task
    io_ready,           ///< task, arg=file descriptor, detail=readiness bits
    request_begin, ///< HTTP request: task, arg=request id (server: per server; client: unique in
                   ///< the process), arg2=route name id, detail=0 server / 1 client, | 2
                   ///< queued, | 4 an HTTP/2 stream (arg = connection << 32 | stream id)
    request_end, ///< the task's last request_begin ends: arg=response bytes, arg2=status, detail as
                 ///< begin
    marker,      ///< arg2=name id, arg=value
    events_dropped, ///< arg=events lost so far on track arg2 (a running total)
    // Resources (schema 4): channels, locks, semaphores, notify. arg2 is always the
    // resource id (unique in the process); detail is a resource_op unless said otherwise.
    resource_created,  ///< task=creating task (0 = outside), arg=capacity (low 32 bits,
                       ///< unbounded_capacity = none) | name id << 32, detail=resource_kind
    resource_wait,     ///< task starts waiting: task, detail=resource_op
    resource_ready,    ///< a waiter's wait ends (lock granted, message ready, sender let
                       ///< in, notified): task=waiter, arg=ns it waited. Recorded by the
                       ///< task that ended the wait, just before the wake (source channel)
                       ///< it causes, on the same track: that wake is the resource's
    resource_depth,    ///< task=the task that changed it, arg=depth after (queued messages;
                       ///< held permits for a lock or semaphore; the slowest broadcast
                       ///< receiver's backlog), detail=the operation (lock/acquire: an
                       ///< uncontended acquisition, so `task` now holds it)
    resource_released, ///< mutex or semaphore: task=the holder, arg=permits held after
                       ///< (after any hand-over to waiters), detail=permits released
    resource_lagged,   ///< broadcast: task=receiver, arg=messages it missed
    resource_closed,   ///< task=the task that closed it (0 = none, or outside)
};
inline constexpr std::size_t event_kind_count = 30;

/// How a poll ended.
enum class poll_result : std::uint8_t { pending = 0, ready = 1, threw = 2 };

/// Who or what called a waker.
enum class wake_source : std::uint8_t {
    task = 0,     ///< another task (join completion, hand-off)
    self = 1,     ///< the task woke itself during its own poll
    yield = 2,    ///< `yield_now`
    timer = 3,    ///< a timer fired
    io = 4,       ///< socket readiness
    channel = 5,  ///< a channel or other primitive
    blocking = 6, ///< a blocking-pool job finished
    external = 7, ///< a thread outside the runtime
};

/// Which run queue a task was put in when it became runnable (schema 3 on).
enum class queue_kind : std::uint8_t {
    unknown = 0,      ///< not recorded (schema 2 traces)
    global = 1,       ///< the global (inject) queue
    local = 2,        ///< the back of a worker's local queue
    lifo = 3,         ///< a worker's LIFO slot; a task already there moves to the queue's back
    pinned = 4,       ///< a worker's queue for tasks pinned to it (spawn_local)
    after_poll = 5,   ///< woken while running: it goes to the back of the local queue of the
                      ///< worker polling it when that poll ends
    none = 6,         ///< already queued (or finished): nothing moved
    own_executor = 7, ///< handed to the loop that polls it by hand (taskscope/by_hand.hpp)
};

/// Set in a queue code (and in task_spawned's detail) when the task is pinned to its worker
/// (spawn_local): wherever it goes next on that worker, it is the pinned queue, not the
/// stealable one.
inline constexpr std::uint32_t queue_pinned_bit = 0x8000u;
inline constexpr std::uint8_t spawn_pinned_bit = 0x80u;

/// A wake's arg2: the queue kind, the worker it belongs to, and whether the task is pinned.
[[nodiscard]] constexpr std::uint32_t queue_code(queue_kind kind, std::uint32_t worker,
                                                 bool pinned = false) noexcept {
    return (static_cast<std::uint32_t>(kind) << 16) | (worker & 0x7FFFu) |
           (pinned ? queue_pinned_bit : 0u);
}
[[nodiscard]] constexpr queue_kind queue_kind_of(std::uint32_t code) noexcept {
    const std::uint32_t kind = code >> 16;
    return kind <= static_cast<std::uint32_t>(queue_kind::own_executor)
               ? static_cast<queue_kind>(kind)
               : queue_kind::unknown;
}
[[nodiscard]] constexpr std::uint32_t queue_worker_of(std::uint32_t code) noexcept {
    return code & 0x7FFFu;
}
[[nodiscard]] constexpr bool queue_pinned(std::uint32_t code) noexcept {
    return (code & queue_pinned_bit) != 0;
}

/// What a resource is (resource_created's detail).
enum class resource_kind : std::uint8_t {
    mutex = 0,
    semaphore = 1,
    mpsc = 2,
    oneshot = 3,
    broadcast = 4,
    notify = 5,
};
inline constexpr std::size_t resource_kind_count = 6;

/// What a task did to a resource (the detail of resource_wait, _ready and _depth).
enum class resource_op : std::uint8_t {
    lock = 0,     ///< async_mutex::lock
    acquire = 1,  ///< semaphore::acquire
    send = 2,     ///< a channel send (waits while a bounded channel is full)
    recv = 3,     ///< a channel receive (waits while it is empty)
    notified = 4, ///< notify::notified
    release = 5,  ///< unlock, or permits given back
};

/// resource_created's capacity for an unbounded channel (and for kinds without one).
inline constexpr std::uint32_t unbounded_capacity = 0xFFFFFFFFu;

/// What kind of thread a track (a timeline lane) belongs to. `executor`: a thread running
/// its own executor loop over tasks it polls by hand (taskscope/by_hand.hpp), drawn like a
/// worker.
enum class track_kind : std::uint8_t {
    worker = 0,
    driver = 1,
    blocking = 2,
    external = 3,
    executor = 4,
};

/// One recorded event: 32 bytes, trivially copyable, written with a few stores.
struct event {
    std::uint64_t time_ns; ///< nanoseconds since the trace's epoch
    std::uint64_t task;    ///< subject task id; 0 = none
    std::uint64_t arg;     ///< kind-specific, see `event_kind`
    std::uint32_t arg2;    ///< kind-specific, see `event_kind`
    std::uint16_t track;   ///< which thread recorded it (see `track_started`)
    event_kind kind;
    std::uint8_t detail; ///< kind-specific small value (poll_result, wake_source, ...)
};

static_assert(sizeof(event) == 32, "the on-disk and in-memory record is 32 bytes");
static_assert(alignof(event) == 8);
static_assert(std::is_trivially_copyable_v<event>);
static_assert(std::is_standard_layout_v<event>);
static_assert(offsetof(event, track) == 28 && offsetof(event, kind) == 30);

[[nodiscard]] constexpr std::string_view to_string(event_kind k) noexcept {
    switch (k) {
    case event_kind::track_started:
        return "track_started";
    case event_kind::task_spawned:
        return "task_spawned";
    case event_kind::poll_begin:
        return "poll_begin";
    case event_kind::poll_end:
        return "poll_end";
    case event_kind::task_cancelled:
        return "task_cancelled";
    case event_kind::wake:
        return "wake";
    case event_kind::steal:
        return "steal";
    case event_kind::global_push:
        return "global_push";
    case event_kind::global_pop:
        return "global_pop";
    case event_kind::queue_depth:
        return "queue_depth";
    case event_kind::block_begin:
        return "block_begin";
    case event_kind::block_end:
        return "block_end";
    case event_kind::blocking_job_begin:
        return "blocking_job_begin";
    case event_kind::blocking_job_end:
        return "blocking_job_end";
    case event_kind::worker_park:
        return "worker_park";
    case event_kind::worker_unpark:
        return "worker_unpark";
    case event_kind::timer_armed:
        return "timer_armed";
    case event_kind::timer_fired:
        return "timer_fired";
    case event_kind::io_ready:
        return "io_ready";
    case event_kind::request_begin:
        return "request_begin";
    case event_kind::request_end:
        return "request_end";
    case event_kind::marker:
        return "marker";
    case event_kind::events_dropped:
        return "events_dropped";
    case event_kind::resource_created:
        return "resource_created";
    case event_kind::resource_wait:
        return "resource_wait";
    case event_kind::resource_ready:
        return "resource_ready";
    case event_kind::resource_depth:
        return "resource_depth";
    case event_kind::resource_released:
        return "resource_released";
    case event_kind::resource_lagged:
        return "resource_lagged";
    case event_kind::resource_closed:
        return "resource_closed";
    }
    return "unknown";
}
static_assert(static_cast<std::size_t>(event_kind::resource_closed) + 1 == event_kind_count);

[[nodiscard]] constexpr std::string_view to_string(resource_kind k) noexcept {
    switch (k) {
    case resource_kind::mutex:
        return "mutex";
    case resource_kind::semaphore:
        return "semaphore";
    case resource_kind::mpsc:
        return "mpsc channel";
    case resource_kind::oneshot:
        return "oneshot";
    case resource_kind::broadcast:
        return "broadcast";
    case resource_kind::notify:
        return "notify";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::string_view to_string(resource_op op) noexcept {
    switch (op) {
    case resource_op::lock:
        return "lock";
    case resource_op::acquire:
        return "acquire";
    case resource_op::send:
        return "send";
    case resource_op::recv:
        return "recv";
    case resource_op::notified:
        return "notified";
    case resource_op::release:
        return "release";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::string_view to_string(poll_result r) noexcept {
    switch (r) {
    case poll_result::pending:
        return "pending";
    case poll_result::ready:
        return "ready";
    case poll_result::threw:
        return "threw";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::string_view to_string(wake_source s) noexcept {
    switch (s) {
    case wake_source::task:
        return "task";
    case wake_source::self:
        return "self";
    case wake_source::yield:
        return "yield";
    case wake_source::timer:
        return "timer";
    case wake_source::io:
        return "io";
    case wake_source::channel:
        return "channel";
    case wake_source::blocking:
        return "blocking";
    case wake_source::external:
        return "external";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::string_view to_string(track_kind k) noexcept {
    switch (k) {
    case track_kind::worker:
        return "worker";
    case track_kind::driver:
        return "driver";
    case track_kind::blocking:
        return "blocking";
    case track_kind::external:
        return "external";
    case track_kind::executor:
        return "executor";
    }
    return "unknown";
}

} // namespace taskscope::trace
