#include "runtime_core.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

namespace taskscope::detail {
namespace {

using trace::event_kind;

runtime_options normalised(runtime_options options) {
    if (options.single_threaded) {
        options.workers = 1;
    }
    if (options.workers == 0) {
        options.workers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1,
                                                  runtime_options::max_workers);
    }
    if (options.workers > runtime_options::max_workers) {
        throw std::invalid_argument("taskscope: at most " +
                                    std::to_string(runtime_options::max_workers) +
                                    " workers (asked for " + std::to_string(options.workers) + ")");
    }
    if (options.global_queue_interval == 0) {
        options.global_queue_interval = 1;
    }
    return options;
}

std::uint8_t byte(auto value) noexcept {
    return static_cast<std::uint8_t>(value);
}

} // namespace

runtime_core::runtime_core(const runtime_options& options)
    : m_options(normalised(options))
    , m_hub(m_options.trace)
    , m_idle(m_options.workers)
    , m_reactor(reactor::create(m_options.reactor))
    , m_blocking(m_hub, m_options.max_blocking_threads, m_options.blocking_idle_timeout)
    , m_owned(m_options.workers) {
    for (std::size_t i = 0; i < m_options.workers; ++i) {
        m_workers.push_back(std::make_unique<worker>(*this, i));
    }
    if (m_options.single_threaded) {
        return; // block_on's caller is the worker
    }
    try {
        for (auto& w : m_workers) {
            m_worker_threads.emplace_back([raw = w.get()] { raw->run_thread(); });
        }
    } catch (...) {
        shutdown(); // join what started, then report the failure
        throw;
    }
}

runtime_core::~runtime_core() {
    shutdown();
}

void runtime_core::drive(bool block) {
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (block) {
        // Any timer armed from here on wakes us, until we know how long we will sleep.
        m_driver_sleep_until.store(INT64_MAX);
        deadline = m_timers.next_deadline();
        if (deadline) {
            m_driver_sleep_until.store(deadline->time_since_epoch().count());
        }
    } else {
        deadline = std::chrono::steady_clock::now(); // poll, do not wait
    }
    m_reactor->poll(deadline, *this);
    m_driver_sleep_until.store(INT64_MIN);
    fire_due_timers();
}

void runtime_core::fire_due_timers() {
    m_timers.take_due(std::chrono::steady_clock::now(), m_due_timers);
    for (const waker& w : m_due_timers) {
        record(event_kind::timer_fired, w.task_id());
        w.wake(trace::wake_source::timer);
    }
    m_due_timers.clear();
}

void runtime_core::arm_timer(const task_header& task,
                             std::chrono::steady_clock::time_point deadline, const waker& w) {
    record(event_kind::timer_armed, task.m_id, m_hub.to_trace_ns(deadline));
    m_timers.arm(deadline, w);
    if (deadline.time_since_epoch().count() < m_driver_sleep_until.load()) {
        m_reactor->wake(); // the driver sleeps past it: it recomputes its deadline
    }
}

void runtime_core::schedule(task_header& task, bool is_yield) noexcept {
    worker* const here = worker_on_this_thread();
    if (task.m_pinned != task_header::not_pinned &&
        !(here != nullptr && here->index() == task.m_pinned)) {
        // Pinned to another worker: its own queue, then make sure it is awake.
        if (m_workers[task.m_pinned]->push_pinned(task)) {
            m_workers[task.m_pinned]->unpark();
        }
        return;
    }
    if (here != nullptr) {
        here->schedule_local(task, is_yield);
        return;
    }
    const std::size_t depth = m_inject.push(task);
    if (depth == 0) {
        return; // shut down: the task stays owned and is cancelled
    }
    record(event_kind::global_push, task.m_id, 1, static_cast<std::uint32_t>(depth));
    if (m_options.single_threaded) {
        m_workers[0]->unpark(); // it may sleep in the reactor
    } else {
        notify_parked();
    }
}

std::uint32_t runtime_core::destination(const task_header& task, bool is_yield) const noexcept {
    using trace::queue_code;
    using trace::queue_kind;
    const worker* const here = worker_on_this_thread();
    const bool pinned = task.m_pinned != task_header::not_pinned;
    if (pinned && !(here != nullptr && here->index() == task.m_pinned)) {
        return queue_code(queue_kind::pinned, task.m_pinned, true);
    }
    if (here == nullptr) {
        return queue_code(queue_kind::global, 0);
    }
    const auto index = static_cast<std::uint32_t>(here->index());
    if (is_yield || !m_lifo_slot.load(std::memory_order_relaxed)) {
        return queue_code(pinned ? queue_kind::pinned : queue_kind::local, index, pinned);
    }
    return queue_code(queue_kind::lifo, index, pinned);
}

void runtime_core::notify_parked() noexcept {
    // seq_cst fence: the push before this call and the idle-state load below are ordered
    // against a parking worker's state change and queue re-check (see idle.hpp).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    try {
        if (auto index = m_idle.worker_to_notify()) {
            m_workers[*index]->unpark();
        }
    } catch (...) {
        // std::mutex::lock failing (EAGAIN/EDEADLK) is a broken process; nothing to add
    }
}

void runtime_core::hand_over_driver() noexcept {
    if (m_options.single_threaded) {
        return;
    }
    try {
        if (auto sleeper = m_idle.any_sleeper()) {
            m_workers[*sleeper]->unpark(); // it stays on the list: it only re-parks, driving
        }
    } catch (...) {
        // a failing mutex is a broken process; the next park retries the reactor
    }
}

void runtime_core::notify_if_work_pending() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Another worker's queue is work for us only if we may steal it; otherwise waking a
    // worker for it makes the parking worker wake itself, search, and park again, forever.
    for (auto& w : m_workers) {
        if (m_stealing.load(std::memory_order_relaxed) && w->has_stealable()) {
            notify_parked();
            return;
        }
    }
    if (!m_inject.empty()) {
        notify_parked();
    }
}

void runtime_core::shutdown() {
    if (current_runtime() == this) {
        throw std::logic_error("taskscope: shutdown was called from inside one of the runtime's "
                               "own tasks; stop the runtime from the thread that owns it");
    }
    std::lock_guard lock(m_shutdown_mutex);
    if (!m_shutdown.exchange(true, std::memory_order_acq_rel)) {
        for (auto& w : m_workers) {
            w->unpark();
        }
        for (auto& t : m_worker_threads) {
            t.join();
        }
        m_worker_threads.clear();
        // Single-threaded mode: a block_on on another thread leaves its loop after the
        // current poll; wait for it, as for a worker thread.
        for (auto& w : m_workers) {
            w->wait_until_not_driving();
        }
        m_inject.close();
        for (auto& w : m_workers) {
            w->clear_queues();
        }
        m_timers.clear(); // the returned wakers are released here, unlocked
        m_owned.stop();   // from here on a spawn is refused and cancelled by the spawner
        cancel_owned_tasks();
        // Last, so that a blocking job waiting on a task sees it cancelled, not hang:
        // queued jobs are cancelled, running ones finish.
        m_blocking.shutdown();
    }
    m_hub.flush();
}

void runtime_core::cancel_owned_tasks() noexcept {
    // Destroying a frame runs destructors that may drop wakers and join handles of other
    // tasks; those stay owned (and alive) until their own turn here.
    while (task_header* task = m_owned.any()) {
        task->m_state.store(task_state::complete, std::memory_order_release);
        record(event_kind::task_cancelled, task->m_id);
        task->cancel(); // leaves m_owned, may free `task`
    }
}

std::uint32_t runtime_core::worker_here() const noexcept {
    const worker* here = worker_on_this_thread();
    return here != nullptr ? static_cast<std::uint32_t>(here->index()) : owned_tasks::external;
}

worker* runtime_core::worker_on_this_thread() const noexcept {
    worker* here = t_current_worker;
    return here != nullptr && &here->runtime() == this ? here : nullptr;
}

void runtime_core::set_stealing(bool on) noexcept {
    m_stealing.store(on, std::memory_order_relaxed);
    if (on && !m_options.single_threaded) {
        notify_if_work_pending(); // work queued meanwhile is now for the taking
    }
}

// ---- what the public headers call (taskscope/runtime.hpp, task.hpp, join_handle.hpp) ----

std::uint32_t mark_woken(task_header& task) noexcept {
    std::uint32_t state = task.m_state.load(std::memory_order_relaxed);
    for (;;) {
        if ((state & task_state::complete) != 0) {
            return state;
        }
        std::uint32_t next = state;
        if (state == task_state::idle) {
            next = task_state::scheduled;
        } else if ((state & task_state::running) != 0) {
            next = state | task_state::notified;
        }
        // acq_rel even when unchanged: a successful RMW orders the waker's writes before
        // the exchange that starts the next poll (see worker::poll).
        if (task.m_state.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                               std::memory_order_relaxed)) {
            return state;
        }
    }
}

void wake_task(task_header& task, trace::wake_source source, std::uint64_t waker_task) noexcept {
    if (task.m_wake_hook != nullptr) {
        task.m_wake_hook(task, source, waker_task); // not ours to schedule
        return;
    }
    const std::uint32_t state = mark_woken(task);
    if ((state & task_state::complete) != 0) {
        return;
    }
    runtime_core& rt = *task.m_runtime;
    const bool yield = source == trace::wake_source::yield;
    std::uint32_t where = trace::queue_code(trace::queue_kind::none, 0);
    if (state == task_state::idle) {
        where = rt.destination(task, yield);
    } else if ((state & task_state::running) != 0 && (state & task_state::notified) == 0) {
        where = trace::queue_code(trace::queue_kind::after_poll, 0);
    }
    rt.record(event_kind::wake, task.m_id, waker_task, where, byte(source));
    if (yield) {
        if (worker* here = rt.worker_on_this_thread()) {
            here->note_yield(task);
        }
    }
    if (state == task_state::idle) {
        rt.schedule(task, yield);
    }
}

runtime_core* current_runtime() noexcept {
    if (t_current_worker != nullptr) {
        return &t_current_worker->runtime();
    }
    if (t_current_task != nullptr) {
        return t_current_task->m_runtime;
    }
    return t_executor_runtime; // a thread polling tasks by hand (executor_lane)
}

runtime_core& current_runtime_or_throw(const char* what) {
    if (runtime_core* rt = current_runtime()) {
        return *rt;
    }
    throw std::logic_error(std::string("taskscope::") + what +
                           " was called outside a runtime; call it from inside a task, or use "
                           "the runtime object's member of the same name");
}

std::uint64_t allocate_task_id(runtime_core& rt) noexcept {
    return rt.next_task_id();
}

void spawn_task(runtime_core& rt, task_header& task) noexcept {
    const task_header* parent = t_current_task;
    const std::uint32_t where = rt.destination(task, false);
    rt.record(
        event_kind::task_spawned, task.m_id, parent ? parent->m_id : 0, task.m_name,
        static_cast<std::uint8_t>(byte(trace::queue_kind_of(where)) |
                                  (trace::queue_pinned(where) ? trace::spawn_pinned_bit : 0u)));
    if (!rt.owned().insert(task, rt.worker_here())) {
        // The runtime has shut down: the task never runs. (Had the insert succeeded, the
        // shutdown's own cancel pass would own the task; it is never cancelled twice.)
        task.m_state.store(task_state::complete, std::memory_order_release);
        rt.record(event_kind::task_cancelled, task.m_id);
        task.cancel();
        return;
    }
    rt.schedule(task, false); // after shutdown began: dropped, and cancelled by shutdown
}

void count_finished_task(runtime_core& rt) noexcept {
    rt.owned().count_finished(rt.worker_here());
}

void release_owned_task(runtime_core& rt, task_header& task) noexcept {
    rt.owned().release(task, rt.worker_here());
}

std::uint32_t worker_index_for_spawn_local(runtime_core& rt) {
    const std::uint32_t here = rt.worker_here();
    if (here == owned_tasks::external) {
        throw std::logic_error("taskscope::spawn_local must be called from inside a task (it "
                               "pins the new task to the calling worker)");
    }
    return here;
}

void submit_blocking(runtime_core& rt, blocking_job_base& job) {
    rt.blocking().submit(job);
}

trace::name_id name_for(std::string_view name) {
    return name.empty() ? trace::default_task_name : trace::intern(name);
}

void drive_until(runtime_core& rt, const join_core& done) {
    if (rt.options().single_threaded) {
        rt.worker_at(0).run_until(done);
    } else {
        done.wait();
    }
}

} // namespace taskscope::detail
