#pragma once
// What every synchronization primitive shares: its identity in the trace (a resource) and
// the FIFO list of tasks waiting on it.
//
// A waiting operation is a poll-style future that owns a `waiter` node. The node is linked
// into the primitive's list under the primitive's lock while the task waits; the task that
// ends the wait (a release, a send, a notify) unlinks it, marks it done and wakes its
// waker after unlocking. Destroying the future (the task was cancelled) unlinks the node,
// so a cancelled task is never granted anything; what it was granted but never saw is
// handed on by the future's destructor.

#include "taskscope/poll.hpp"
#include "taskscope/trace/clock.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/names.hpp"
#include "taskscope/waker.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace taskscope::detail {

/// A primitive's identity in the trace. Announced (resource_created) the first time it is
/// used inside a runtime that records, so a primitive made before the runtime still shows.
class resource_tag {
public:
    resource_tag(trace::resource_kind kind, std::string_view name, std::uint32_t capacity);
    resource_tag(const resource_tag&) = delete;
    resource_tag& operator=(const resource_tag&) = delete;

    [[nodiscard]] std::uint32_t id() const noexcept { return m_id; }
    [[nodiscard]] trace::resource_kind kind() const noexcept { return m_kind; }

    /// Records `kind` about `task` on the calling thread's runtime trace (nothing outside a
    /// runtime). `task` 0 means the running task.
    void record(trace::event_kind kind, std::uint64_t task, std::uint64_t arg,
                trace::resource_op op) const noexcept {
        record(kind, task, arg, static_cast<std::uint8_t>(op));
    }
    void record(trace::event_kind kind, std::uint64_t task, std::uint64_t arg,
                std::uint8_t detail) const noexcept;

private:
    void announce() const noexcept;

    const std::uint32_t m_id;
    const trace::name_id m_name;
    const std::uint32_t m_capacity;
    const trace::resource_kind m_kind;
    mutable std::atomic<bool> m_announced{false};
};

/// The id of the task running on this thread (0 outside any task).
[[nodiscard]] inline std::uint64_t running_task_id() noexcept {
    const task_header* task = t_current_task;
    return task != nullptr ? task->m_id : 0;
}

/// One waiting operation, linked into a primitive's wait list while it waits.
struct waiter {
    taskscope::waker waker;
    waiter* prev = nullptr;
    waiter* next = nullptr;
    std::uint64_t task = 0;
    std::uint64_t since_ticks = 0;      ///< trace clock when the wait began
    std::uint64_t amount = 1;           ///< permits still owed (semaphore); how it ended (others)
    std::uint64_t since_generation = 0; ///< notify: the notify_waiters count when it began
    bool linked = false;                ///< in a wait list (guarded by the primitive's lock)
    /// The wait ended (granted, notified, closed). Written under the primitive's lock;
    /// read by the waiting task's poll after it takes the same lock, or, on the fast path,
    /// with acquire.
    std::atomic<bool> done{false};

    /// Nanoseconds since the wait began, for resource_ready.
    [[nodiscard]] std::uint64_t waited_ns() const noexcept;
};

/// An intrusive FIFO of waiters. Not thread-safe: the primitive's lock guards it.
class wait_list {
public:
    [[nodiscard]] bool empty() const noexcept { return m_head == nullptr; }
    [[nodiscard]] waiter* front() const noexcept { return m_head; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }

    void push_back(waiter& w) noexcept {
        w.prev = m_tail;
        w.next = nullptr;
        if (m_tail != nullptr) {
            m_tail->next = &w;
        } else {
            m_head = &w;
        }
        m_tail = &w;
        w.linked = true;
        ++m_size;
    }
    void remove(waiter& w) noexcept {
        if (!w.linked) {
            return;
        }
        (w.prev != nullptr ? w.prev->next : m_head) = w.next;
        (w.next != nullptr ? w.next->prev : m_tail) = w.prev;
        w.prev = w.next = nullptr;
        w.linked = false;
        --m_size;
    }
    waiter* pop_front() noexcept {
        waiter* w = m_head;
        if (w != nullptr) {
            remove(*w);
        }
        return w;
    }

private:
    waiter* m_head = nullptr;
    waiter* m_tail = nullptr;
    std::size_t m_size = 0;
};

/// Begins a wait: fills the node for the running task and records resource_wait.
/// `arg` is recorded with it (the holder of a mutex, the channel's depth).
void begin_wait(const resource_tag& tag, waiter& w, const taskscope::waker& waker,
                trace::resource_op op, std::uint64_t arg = 0) noexcept;

/// A wait ended under the primitive's lock, to be announced once it is released.
struct ready_wake {
    taskscope::waker waker;
    std::uint64_t task = 0;
    std::uint64_t waited_ns = 0;
    trace::resource_op op = trace::resource_op::recv;
};

/// Ends the wait of `w` (already unlinked), under the primitive's lock: takes its waker
/// and marks it done. After this the waiting future may be destroyed at any moment.
[[nodiscard]] inline ready_wake end_wait(waiter& w, trace::resource_op op) noexcept {
    ready_wake r{std::move(w.waker), w.task, w.waited_ns(), op};
    // release: what the ender wrote for the waiter (a value, a grant) is visible to its
    // poll, which loads `done` with acquire
    w.done.store(true, std::memory_order_release);
    return r;
}

/// Announces an ended wait, outside the primitive's lock: records resource_ready, then wakes
/// the task (source channel), so that the wake follows its resource on the same track.
void deliver(const resource_tag& tag, ready_wake& r) noexcept;

/// Ended waits gathered under a lock and delivered after it. Holds up to `capacity`; a
/// primitive that may end more drains it (unlock, deliver, relock) when it is full.
class wake_batch {
public:
    static constexpr std::size_t capacity = 32;
    [[nodiscard]] bool full() const noexcept { return m_count == capacity; }
    [[nodiscard]] bool empty() const noexcept { return m_count == 0; }
    void add(ready_wake r) noexcept { m_wakes[m_count++] = std::move(r); }
    void deliver_all(const resource_tag& tag) noexcept {
        for (std::size_t i = 0; i < m_count; ++i) {
            deliver(tag, m_wakes[i]);
            m_wakes[i] = {};
        }
        m_count = 0;
    }

private:
    std::array<ready_wake, capacity> m_wakes{};
    std::size_t m_count = 0;
};

/// The receive of a channel with one receiver (mpsc, oneshot): polls `State::recv` until it
/// is ready; destroyed while waiting, it tells the state with `State::abandon_recv`.
template <class State, class Value>
class [[nodiscard]] single_receiver_future {
public:
    explicit single_receiver_future(State& state) noexcept : m_state(&state) {}
    single_receiver_future(single_receiver_future&& other) noexcept : m_state(other.m_state) {}
    single_receiver_future(const single_receiver_future&) = delete;
    single_receiver_future& operator=(const single_receiver_future&) = delete;
    single_receiver_future& operator=(single_receiver_future&&) = delete;
    ~single_receiver_future() {
        if (m_waiting) {
            m_state->abandon_recv(m_node);
        }
    }

    poll_result<Value> poll(context& cx) {
        poll_result<Value> got = m_state->recv(m_node, m_announced, cx);
        m_waiting = !got.is_ready();
        return got;
    }

private:
    State* m_state;
    bool m_waiting = false;
    bool m_announced = false; // resource_wait is recorded once per receive
    waiter m_node;
};

} // namespace taskscope::detail
