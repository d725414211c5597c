#pragma once
// The type-erased part of a spawned task that the scheduler, wakers and queues share.

#include "taskscope/trace/event.hpp"
#include "taskscope/trace/names.hpp"

#include <atomic>
#include <coroutine>
#include <cstdint>

namespace taskscope {
class context;
}

namespace taskscope::detail {

class runtime_core;

/// A suspension point written poll-style: the worker calls `poll_leaf` on every poll of
/// the task until it returns true, then resumes the coroutine that awaits it.
class leaf_poller {
public:
    virtual bool poll_leaf(context& cx) noexcept = 0;

protected:
    ~leaf_poller() = default;
};

/// Task states. A task is in at most one queue, and only while `scheduled`.
///
///   idle ──wake──▶ scheduled ──pop──▶ running ──pending──▶ idle
///                      ▲                 │ wake while running: running|notified
///                      └────notified─────┘ (re-queued at the end of the poll)
///   running ──ready/threw──▶ complete;  shutdown: any ──▶ complete (cancelled)
namespace task_state {
inline constexpr std::uint32_t idle = 0;
inline constexpr std::uint32_t scheduled = 1;
inline constexpr std::uint32_t running = 2;
inline constexpr std::uint32_t notified = 4; // only together with running
inline constexpr std::uint32_t complete = 8;
} // namespace task_state

class task_header {
public:
    task_header(runtime_core& rt, std::uint64_t id, trace::name_id name,
                std::coroutine_handle<> root) noexcept
        : m_runtime(&rt)
        , m_id(id)
        , m_name(name)
        , m_resume_point(root) {}
    /// A header no runtime schedules (see m_wake_hook); `rt` may be null.
    task_header(runtime_core* rt, std::uint64_t id, trace::name_id name,
                std::coroutine_handle<> root) noexcept
        : m_runtime(rt)
        , m_id(id)
        , m_name(name)
        , m_resume_point(root) {}
    task_header(const task_header&) = delete;
    task_header& operator=(const task_header&) = delete;

    void ref() noexcept {
        // relaxed: taking a new reference needs no ordering, only the final release does
        m_refs.fetch_add(1, std::memory_order_relaxed);
    }
    void unref() noexcept {
        // acq_rel: every use by other owners happens before the delete
        if (m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }

    /// The root coroutine finished: keep its result for the join, free the frame.
    virtual void complete(bool threw) noexcept = 0;
    /// Destroy an unfinished task (runtime shutdown); the join sees `task_cancelled`.
    virtual void cancel() noexcept = 0;
    /// Whether the root coroutine finished with an exception.
    [[nodiscard]] virtual bool root_threw() const noexcept = 0;
    [[nodiscard]] virtual bool root_done() const noexcept = 0;

    runtime_core* const m_runtime;
    const std::uint64_t m_id;
    const trace::name_id m_name;
    std::atomic<std::uint32_t> m_state{task_state::scheduled};
    std::atomic<std::uint32_t> m_refs{1};

    // Touched only by the worker that polls the task (handed over through the queues).
    std::coroutine_handle<> m_resume_point;
    leaf_poller* m_leaf = nullptr;

    task_header* m_next_in_queue = nullptr; // inject queue link
    task_header* m_prev_owned = nullptr;    // owned-task list links (see owned_tasks.hpp)
    task_header* m_next_owned = nullptr;
    task_header* m_next_done = nullptr;  // on the owner's remote_done stack
    std::uint32_t m_owner = 0;           // the worker whose list holds the task
    std::uint32_t m_pinned = not_pinned; // spawn_local: the only worker that may poll it

    /// Set for a task the runtime does not schedule: one polled by hand (by_hand.hpp), or a
    /// thread blocked on a future. wake_task hands every wake of it to the hook.
    using wake_hook = void (*)(task_header& task, trace::wake_source source,
                               std::uint64_t waker_task) noexcept;
    wake_hook m_wake_hook = nullptr;

    static constexpr std::uint32_t not_pinned = 0xffffffffu;

protected:
    virtual ~task_header() = default;
};

/// Wakes `task` (see task_state). `waker_task` is the id recorded as the waker (0 = none).
void wake_task(task_header& task, trace::wake_source source, std::uint64_t waker_task) noexcept;

/// The task being polled on this thread, or nullptr.
inline thread_local task_header* t_current_task = nullptr;

} // namespace taskscope::detail
