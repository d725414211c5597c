#pragma once
// The scheduler behind `runtime`: workers, queues, the timer driver and the blocking pool.

#include "blocking_pool.hpp"
#include "idle.hpp"
#include "inject_queue.hpp"
#include "local_queue.hpp"
#include "owned_tasks.hpp"
#include "parker.hpp"
#include "reactor.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/trace/trace_buffer.hpp"
#include "timer_queue.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace taskscope::detail {

class worker {
public:
    worker(runtime_core& rt, std::size_t index);

    /// Thread main of a worker thread (multi-threaded mode).
    void run_thread();
    /// Single-threaded mode: the calling thread polls every task until `done` finishes.
    void run_until(const join_core& done);

    /// Queues a task woken or spawned on this worker's own thread.
    void schedule_local(task_header& task, bool is_yield) noexcept;
    /// Wakes the worker, whether it sleeps on its parker or inside the reactor.
    void unpark();
    /// Shutdown, after the thread stopped: forget queued tasks (the runtime cancels them).
    void clear_queues() noexcept;

    [[nodiscard]] std::uint32_t queued() const noexcept {
        return m_queue.size() + (m_lifo != nullptr ? 1u : 0u);
    }

    runtime_core& m_runtime;
    const std::size_t m_index;
    local_queue<task_header> m_queue;
    inject_queue m_pinned_queue;        // spawn_local tasks: only this worker pops them
    std::atomic<bool> m_driving{false}; // single-threaded mode: a block_on is running
    bool m_yielded = false; // owner only: a task yielded, poll I/O and timers before the next
    task_header* m_yielding = nullptr;    // owner only: the task that yielded in this poll
    std::vector<task_header*> m_deferred; // owner only: yielded, queued after that poll

private:
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
    void record(trace::event_kind kind, std::uint64_t task = 0, std::uint64_t arg = 0,
                std::uint32_t arg2 = 0, std::uint8_t detail = 0) noexcept;

    task_header* m_lifo = nullptr; // owner-only: the next task to run, not stealable
    bool m_searching = false;
    std::uint32_t m_tick = 0;
    std::uint64_t m_rng;
    trace::detail::trace_buffer* m_trace = nullptr;
    std::thread::id m_trace_owner;
    parker m_parker;
};

class runtime_core {
public:
    explicit runtime_core(const runtime_options& options);
    ~runtime_core();

    void shutdown();
    [[nodiscard]] bool is_shutdown() const noexcept {
        // acquire: pairs with the release in shutdown()
        return m_shutdown.load(std::memory_order_acquire);
    }

    /// Queues a task that just became runnable: on this worker's queue when called from
    /// one of this runtime's workers, else on the global queue.
    void schedule(task_header& task, bool is_yield) noexcept;
    /// Where schedule(task, is_yield) called on this thread will put the task, as a
    /// trace::queue_code for the wake or spawn event recorded just before it.
    [[nodiscard]] std::uint32_t destination(const task_header& task, bool is_yield) const noexcept;
    /// Wakes one sleeping worker if work is waiting and nobody is looking for it.
    void notify_parked() noexcept;
    /// A parking worker's check before it sleeps: any queued work wakes a worker.
    void notify_if_work_pending() noexcept;

    /// Someone just stopped driving the reactor to run tasks: nudge a sleeping worker so
    /// it takes over (it sleeps in the reactor instead of on its condition variable).
    /// Otherwise sockets and timers wait until the driver's tasks are done.
    void hand_over_driver() noexcept;

    /// Polls the reactor and fires due timers; the caller holds m_driver_mutex. With
    /// `block`, waits until the next timer, an I/O event, or reactor wake().
    void drive(bool block);
    /// A timer was armed: wake the driving thread if it sleeps past `deadline`.
    void timer_armed(std::chrono::steady_clock::time_point deadline) noexcept;

    void record(trace::event_kind kind, std::uint64_t task = 0, std::uint64_t arg = 0,
                std::uint32_t arg2 = 0, std::uint8_t detail = 0) noexcept {
        if (trace::detail::trace_buffer* buffer = m_hub.this_thread_buffer()) {
            buffer->record(kind, task, arg, arg2, detail);
        }
    }

    const runtime_options m_options;
    // Switchable while running (runtime::set_stealing, set_lifo_slot). relaxed: a switch
    // takes effect at each worker's next decision; nothing else is ordered by it.
    std::atomic<bool> m_stealing{m_options.stealing};
    std::atomic<bool> m_lifo_slot{m_options.lifo_slot};
    trace::trace_hub m_hub;
    // alignas: every spawn increments it; keep it off the lines the workers read
    alignas(64) std::atomic<std::uint64_t> m_next_task_id{1};
    alignas(64) inject_queue m_inject;
    std::vector<std::unique_ptr<worker>> m_workers;
    idle_set m_idle;
    timer_queue m_timers;
    std::unique_ptr<reactor> m_reactor;
    std::mutex m_driver_mutex; // held by the one thread polling the reactor and timers
    blocking_pool m_blocking;
    owned_tasks m_owned;

    /// The calling thread's worker index in this runtime, or owned_tasks::external.
    [[nodiscard]] std::uint32_t worker_here() const noexcept;

private:
    void cancel_owned_tasks() noexcept;
    void fire_due_timers();

    // steady_clock ns the driving thread sleeps until: INT64_MAX while it computes its
    // deadline or waits with none, INT64_MIN when nobody waits in the reactor.
    std::atomic<std::int64_t> m_driver_sleep_until{INT64_MIN};
    std::vector<waker> m_due_timers; // used under m_driver_mutex

    std::atomic<bool> m_shutdown{false};
    std::mutex m_shutdown_mutex;
    std::vector<std::thread> m_worker_threads;
};

/// The worker running on this thread, if any.
inline thread_local worker* t_current_worker = nullptr;

} // namespace taskscope::detail
