#pragma once
// Polling tasks by hand: what it takes to write your own executor, the way the seed's first
// chapter does. An executor is a loop that takes a task that is ready to make progress from
// a queue and polls it once; a task's waker puts it back into that queue.
//
//     auto [ready_tx, ready_rx] = taskscope::mpsc::unbounded<taskscope::runnable>("ready");
//     // The waker's side: the task's only sender lives in its schedule function.
//     taskscope::runnable::spawn(rt, napper(), "napper",        // queued for a first poll
//                                [tx = std::move(ready_tx)](taskscope::runnable r) {
//                                    tx.send(std::move(r));
//                                });
//     std::thread executor([&rt, rx = std::move(ready_rx)]() mutable {
//         taskscope::executor_lane lane(rt); // the timeline draws this thread's polls
//         while (std::optional<taskscope::runnable> r = rx.blocking_recv()) {
//             try {
//                 r->poll();
//             } catch (const std::exception& e) { // the seed's catch_unwind
//                 std::fprintf(stderr, "a task failed: %s\n", e.what());
//             }
//         }                                       // closed: every task and sender is gone
//     });
//
// The tasks use the runtime `rt` for their timers, I/O, channels and trace, but its workers
// never poll them. Each one keeps its `schedule` function (and the sender it captured) until
// it finishes and the last runnable and waker of it are dropped, so the ready queue closes
// once every task is done and the spawner dropped its own sender: the seed's way to end the
// loop. (A copy of the sender kept anywhere else keeps the loop waiting.) Finish or drop
// every runnable before the runtime shuts down.

#include "taskscope/detail/task_memory.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/task.hpp"

#include <exception>
#include <functional>
#include <string_view>
#include <utility>

namespace taskscope {

class runnable;

namespace detail {

/// A task polled by hand: the header its wakers share, its coroutine, and how it is queued.
class hand_task final : public task_header, public uses_task_memory {
public:
    using root_type = std::coroutine_handle<task_promise<void>>;

    hand_task(runtime_core& rt, trace::name_id name, root_type root,
              std::function<void(runnable)> schedule) noexcept;

    bool root_done() const noexcept override { return !m_root || m_root.done(); }
    bool root_threw() const noexcept override { return m_root && m_root.promise().threw(); }
    void complete(bool threw) noexcept override;
    void cancel() noexcept override { destroy_frame(); }

    /// One poll on the calling thread, recorded on its track: true once the task finished.
    bool poll();

    std::function<void(runnable)> m_schedule;

private:
    ~hand_task() override { destroy_frame(); }
    void destroy_frame() noexcept;
    static void woken(task_header& task, trace::wake_source source,
                      std::uint64_t waker_task) noexcept;

    root_type m_root;
    std::exception_ptr m_error; ///< what the task threw, rethrown by the poll that ended it
};

} // namespace detail

/// A task polled by hand. Copies share the task; the waker of the task calls its `schedule`
/// function with a copy whenever it should be polled again.
class runnable {
public:
    using schedule_fn = std::function<void(runnable)>;

    /// Makes `t` a task of `rt` that its workers never poll, and calls `schedule` with it
    /// for its first poll. `schedule` is called again, from whatever thread wakes the task,
    /// each time it becomes ready to make progress: once per wake-up, never while the
    /// runnable it was given last is still waiting to be polled.
    static void spawn(runtime& rt, task<void> t, std::string_view name, schedule_fn schedule);

    runnable(const runnable& other) noexcept : m_task(other.m_task) { m_task->ref(); }
    runnable(runnable&& other) noexcept : m_task(std::exchange(other.m_task, nullptr)) {}
    runnable& operator=(runnable other) noexcept {
        std::swap(m_task, other.m_task);
        return *this;
    }
    ~runnable() {
        if (m_task != nullptr) {
            m_task->unref();
        }
    }

    /// Polls the task once on this thread: runs it until it next waits or finishes. True
    /// when it finished; if it threw, this poll rethrows what it threw. Polling a finished
    /// task does nothing and returns true.
    bool poll() { return m_task->poll(); }
    [[nodiscard]] bool done() const noexcept { return m_task->root_done(); }
    /// The task's id in the trace.
    [[nodiscard]] std::uint64_t id() const noexcept { return m_task->m_id; }

private:
    friend class detail::hand_task;
    explicit runnable(detail::hand_task& task) noexcept : m_task(&task) { m_task->ref(); }

    detail::hand_task* m_task;
};

/// Makes the calling thread an executor of `rt`'s trace while it lives: what the thread
/// polls by hand is drawn on a lane of its own ("own executor N"), like a worker's.
class executor_lane {
public:
    explicit executor_lane(runtime& rt);
    ~executor_lane();
    executor_lane(const executor_lane&) = delete;
    executor_lane& operator=(const executor_lane&) = delete;

    /// N in "own executor N".
    [[nodiscard]] std::uint32_t index() const noexcept { return m_index; }

private:
    detail::runtime_core* m_runtime;
    detail::runtime_core* m_previous;
    std::uint32_t m_index;
};

} // namespace taskscope
