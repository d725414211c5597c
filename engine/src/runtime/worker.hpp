#pragma once
// A worker: one thread polling tasks from its own queues, stealing when they run dry, and
// sleeping (in the reactor when nobody else drives it) when there is nothing at all.
//
// Its state is split by who may touch it, as tokio's multi_thread worker splits Core
// (owner only) from Remote (what other threads use):
//
//   core    only the thread running this worker: the LIFO slot, the tick, the search
//           flag, the yield state, the trace buffer. No synchronisation.
//   remote  other threads too: the local queue's steal side, the pinned queue others push
//           spawn_local tasks into, the parker others unpark, the block_on flag.
//
// A thread other than the owner calls only the members under "Any thread" below.

#include "inject_queue.hpp"
#include "local_queue.hpp"
#include "parker.hpp"
#include "taskscope/detail/task_header.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/trace_buffer.hpp"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace taskscope::detail {

class runtime_core;
class join_core;

class worker {
public:
    worker(runtime_core& rt, std::size_t index);

    [[nodiscard]] std::size_t index() const noexcept { return m_index; }
    [[nodiscard]] runtime_core& runtime() const noexcept { return m_runtime; }

    // ---- The owner thread only ----

    /// Thread main of a worker thread (multi-threaded mode).
    void run_thread();
    /// Single-threaded mode: the calling thread polls every task until `done` finishes.
    void run_until(const join_core& done);
    /// Queues a task woken or spawned on this worker's own thread.
    void schedule_local(task_header& task, bool is_yield) noexcept;
    /// `task` called yield_now in the poll running now: it goes behind what I/O and timers
    /// wake, which are polled before the next task (see next_task).
    void note_yield(task_header& task) noexcept;
    /// Shutdown, after the thread stopped: forget queued tasks (the runtime cancels them).
    void clear_queues() noexcept;

    // ---- Any thread ----

    /// Wakes the worker, whether it sleeps on its parker or inside the reactor.
    void unpark();
    /// A task pinned to this worker, woken elsewhere: into its pinned queue (not stealable).
    /// False after shutdown closed the queue.
    bool push_pinned(task_header& task) noexcept;
    /// Moves about half of this worker's queue to `thief`'s; returns one to run now.
    task_header* steal_into(worker& thief, std::uint32_t& moved) noexcept;
    /// Whether its stealable queue holds tasks (a hint: it may change at once).
    [[nodiscard]] bool has_stealable() const noexcept { return !m_remote.queue.empty(); }
    /// Single-threaded mode: waits until no block_on is running on this worker.
    void wait_until_not_driving() noexcept;

private:
    /// Only the owner thread touches these.
    struct core {
        task_header* lifo = nullptr; ///< the next task to run, not stealable
        bool searching = false;
        std::uint32_t tick = 0;
        std::uint64_t rng;
        bool yielded = false;               ///< a task yielded: poll I/O and timers before the next
        task_header* yielding = nullptr;    ///< the task that yielded in this poll
        std::vector<task_header*> deferred; ///< yielded, queued after that poll
        trace::detail::trace_buffer* trace = nullptr;
        std::thread::id trace_owner;
    };
    /// Other threads touch these too; each is safe for its use (see its type).
    struct remote {
        local_queue<task_header> queue;   ///< the owner pushes and pops, thieves steal
        inject_queue pinned;              ///< spawn_local tasks: anyone pushes, only the owner pops
        detail::parker parker;            ///< anyone unparks
        std::atomic<bool> driving{false}; ///< single-threaded mode: a block_on is running
    };

    task_header* next_task() noexcept;
    task_header* steal_work() noexcept;
    task_header* pop_global() noexcept;
    void run_task(task_header& task) noexcept;
    void poll(task_header& task) noexcept;
    void park();
    /// Sleeps once: inside the reactor if no other thread drives it (returns true), else
    /// on the parker.
    bool park_once();
    /// Every `event_interval` ticks a busy worker polls the reactor and timers without
    /// waiting, so I/O and timers progress while every worker has work.
    void maintenance();
    void push_back(task_header& task) noexcept;
    void begin_on_this_thread();
    [[nodiscard]] std::uint32_t queued() const noexcept {
        return m_remote.queue.size() + (m_core.lifo != nullptr ? 1u : 0u);
    }
    [[nodiscard]] bool has_own_work() const noexcept {
        return m_core.lifo != nullptr || !m_remote.queue.empty() || !m_remote.pinned.empty();
    }
    void record(trace::event_kind kind, std::uint64_t task = 0, std::uint64_t arg = 0,
                std::uint32_t arg2 = 0, std::uint8_t detail = 0) noexcept;

    runtime_core& m_runtime;
    const std::size_t m_index;
    core m_core;
    remote m_remote;
};

/// The worker running on this thread, if any.
inline thread_local worker* t_current_worker = nullptr;

} // namespace taskscope::detail
