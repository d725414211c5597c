#pragma once
// The scheduler behind `runtime`: the workers, the global queue, the timer driver, the
// reactor and the blocking pool, and the state they share.
//
// Driving I/O and timers. One thread at a time "drives": it holds m_driver_mutex, polls
// the reactor and fires due timers (drive()). Who drives, and when it changes hands:
//
//   1. A worker with nothing to run parks. It tries the driver mutex first: holding it,
//      it sleeps inside the reactor until the next timer deadline, an I/O event, or
//      reactor::wake() (park_driving); otherwise it sleeps on its own parker.
//   2. Arming a timer earlier than the driver's sleep ends wakes the reactor
//      (timer_armed), so the driver recomputes its deadline.
//   3. A busy worker polls the reactor and timers without waiting every `event_interval`
//      ticks and after a yield_now (worker::maintenance), if it can take the mutex.
//   4. A thread that stops driving to run tasks (a wake-up inside the reactor, or
//      maintenance) calls hand_over_driver(): one sleeping worker is unparked, re-parks,
//      and takes the mutex at step 1. Without this, sockets and timers would wait for the
//      previous driver's tasks to finish.
//   5. Single-threaded mode: the block_on caller is the only worker and always drives.
//
// Shutting down (shutdown(), from a thread outside the runtime):
//
//   1. m_shutdown is set (release): workers leave their loops at their next check, and
//      every worker is unparked, so one asleep in the reactor or on its parker sees it.
//   2. Worker threads are joined; in single-threaded mode, a block_on running on another
//      thread is waited for (it leaves after its current poll).
//   3. The global queue is closed (a wake from now on queues nothing) and every worker's
//      queues are forgotten: nothing will poll those tasks again.
//   4. Timers are cleared; their wakers are released here, outside any lock.
//   5. The owned-task list stops accepting: a spawn from now on is cancelled by its
//      spawner. Every task still owned is cancelled (its frame destroyed, recorded as
//      task_cancelled); destroying one may drop wakers and handles of others, which stay
//      owned until their own turn.
//   6. Last, the blocking pool: queued jobs are cancelled, running ones finish, so a job
//      waiting on a task sees it cancelled rather than hanging.
//   7. The trace hub is flushed: every event recorded so far reaches the sinks.

#include "blocking_pool.hpp"
#include "idle.hpp"
#include "inject_queue.hpp"
#include "owned_tasks.hpp"
#include "reactor.hpp"
#include "taskscope/runtime.hpp"
#include "timer_queue.hpp"
#include "worker.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace taskscope::detail {

class runtime_core {
public:
    explicit runtime_core(const runtime_options& options);
    ~runtime_core();

    /// The steps at the top of this file. Throws std::logic_error from inside one of the
    /// runtime's own tasks.
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
    /// Step 4 of driving: someone stopped driving to run tasks.
    void hand_over_driver() noexcept;
    /// Polls the reactor and fires due timers; the caller holds the driver mutex. With
    /// `block`, waits until the next timer, an I/O event, or reactor wake().
    void drive(bool block);
    /// Arms a timer for `task`: `w` is woken at `deadline` (step 2 of driving).
    void arm_timer(const task_header& task, std::chrono::steady_clock::time_point deadline,
                   const waker& w);

    void record(trace::event_kind kind, std::uint64_t task = 0, std::uint64_t arg = 0,
                std::uint32_t arg2 = 0, std::uint8_t detail = 0) noexcept {
        if (trace::detail::trace_buffer* buffer = m_hub.this_thread_buffer()) {
            buffer->record(kind, task, arg, arg2, detail);
        }
    }
    void record_at(std::uint64_t ticks, trace::event_kind kind, std::uint64_t task,
                   std::uint64_t arg, std::uint32_t arg2, std::uint8_t detail) noexcept {
        if (trace::detail::trace_buffer* buffer = m_hub.this_thread_buffer()) {
            buffer->record_at(ticks, kind, task, arg, arg2, detail);
        }
    }

    /// The calling thread's worker index in this runtime, or owned_tasks::external.
    [[nodiscard]] std::uint32_t worker_here() const noexcept;
    /// This runtime's worker running on the calling thread, if any.
    [[nodiscard]] worker* worker_on_this_thread() const noexcept;

    // What the runtime's facade and the detail functions reach.
    [[nodiscard]] const runtime_options& options() const noexcept { return m_options; }
    [[nodiscard]] trace::trace_hub& hub() noexcept { return m_hub; }
    [[nodiscard]] reactor& io_driver() noexcept { return *m_reactor; }
    [[nodiscard]] blocking_pool& blocking() noexcept { return m_blocking; }
    [[nodiscard]] owned_tasks& owned() noexcept { return m_owned; }
    [[nodiscard]] std::size_t worker_count() const noexcept { return m_workers.size(); }
    [[nodiscard]] worker& worker_at(std::size_t index) noexcept { return *m_workers[index]; }
    /// A fresh task id (relaxed: ids only need to be unique).
    [[nodiscard]] std::uint64_t next_task_id() noexcept {
        return m_next_task_id.fetch_add(1, std::memory_order_relaxed);
    }
    /// N for the next "own executor N" lane (executor_lane, by_hand.hpp).
    [[nodiscard]] std::uint32_t next_executor_lane() noexcept {
        return m_next_executor_lane.fetch_add(1, std::memory_order_relaxed);
    }
    void set_stealing(bool on) noexcept;
    [[nodiscard]] bool stealing() const noexcept {
        return m_stealing.load(std::memory_order_relaxed);
    }
    void set_lifo_slot(bool on) noexcept { m_lifo_slot.store(on, std::memory_order_relaxed); }
    [[nodiscard]] bool lifo_slot() const noexcept {
        return m_lifo_slot.load(std::memory_order_relaxed);
    }

private:
    friend class worker; // the scheduler's two halves: a worker reaches the shared state

    void cancel_owned_tasks() noexcept;
    void fire_due_timers();

    const runtime_options m_options;
    // Switchable while running (runtime::set_stealing, set_lifo_slot). relaxed: a switch
    // takes effect at each worker's next decision; nothing else is ordered by it.
    std::atomic<bool> m_stealing{m_options.stealing};
    std::atomic<bool> m_lifo_slot{m_options.lifo_slot};
    trace::trace_hub m_hub;
    // alignas: every spawn increments it; keep it off the lines the workers read
    alignas(64) std::atomic<std::uint64_t> m_next_task_id{1};
    std::atomic<std::uint32_t> m_next_executor_lane{0};
    alignas(64) inject_queue m_inject;
    std::vector<std::unique_ptr<worker>> m_workers;
    idle_set m_idle;
    timer_queue m_timers;
    sys::network_session m_network; // Winsock up before the reactor, down after it
    std::unique_ptr<reactor> m_reactor;
    std::mutex m_driver_mutex; // held by the one thread driving the reactor and timers
    blocking_pool m_blocking;
    owned_tasks m_owned;

    // steady_clock ns the driving thread sleeps until: INT64_MAX while it computes its
    // deadline or waits with none, INT64_MIN when nobody waits in the reactor.
    std::atomic<std::int64_t> m_driver_sleep_until{INT64_MIN};
    std::vector<waker> m_due_timers; // used under m_driver_mutex

    std::atomic<bool> m_shutdown{false};
    std::mutex m_shutdown_mutex;
    std::vector<std::thread> m_worker_threads;
};

/// A wake's state change (task_header.hpp): idle becomes scheduled, running gains notified.
/// Returns the state it found; one with `complete` set was left alone.
std::uint32_t mark_woken(task_header& task) noexcept;

/// The runtime of the executor_lane living on this thread (by_hand.hpp), if any: where a
/// thread that polls tasks by hand records what it does outside those polls.
inline thread_local runtime_core* t_executor_runtime = nullptr;

} // namespace taskscope::detail
