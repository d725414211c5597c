#include "runtime_core.hpp"
#include "taskscope/record.hpp"
#include "taskscope/time.hpp"

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

namespace taskscope {
namespace detail {
namespace {

using trace::event_kind;

/// A worker polls at most this many tasks in a row from its LIFO slot before the slot's
/// task goes to the back of the queue, so two tasks waking each other cannot starve the rest.
constexpr int max_lifo_polls = 3;

/// A busy worker polls the reactor and timers (without waiting) every this many ticks.
constexpr std::uint32_t event_interval = 61;

runtime_options normalised(runtime_options options) {
    if (options.single_threaded) {
        options.workers = 1;
    }
    if (options.workers == 0) {
        options.workers = std::max(1u, std::thread::hardware_concurrency());
    }
    if (options.workers > 255) {
        throw std::invalid_argument("taskscope: at most 255 workers (asked for " +
                                    std::to_string(options.workers) + ")");
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

// ---------------------------------------------------------------- worker

worker::worker(runtime_core& rt, std::size_t index)
    : m_runtime(rt)
    , m_index(index)
    , m_rng(0x9e3779b97f4a7c15ull * (index + 1)) {}

void worker::begin_on_this_thread() {
    t_current_worker = this;
    if (m_trace_owner != std::this_thread::get_id()) {
        m_trace = m_runtime.m_hub.register_thread(trace::track_kind::worker,
                                                  static_cast<std::uint32_t>(m_index));
        m_trace_owner = std::this_thread::get_id();
    }
}

void worker::record(trace::event_kind kind, std::uint64_t task, std::uint64_t arg,
                    std::uint32_t arg2, std::uint8_t detail) noexcept {
    if (m_trace != nullptr && m_runtime.m_hub.enabled()) {
        m_trace->record(kind, task, arg, arg2, detail);
    }
}

void worker::run_thread() {
    begin_on_this_thread();
    while (!m_runtime.is_shutdown()) {
        // The reactor or a timer, driven by this worker, may have put a task in the slot.
        task_header* task = std::exchange(m_lifo, nullptr);
        if (task == nullptr) {
            task = next_task();
        }
        if (task == nullptr) {
            task = steal_work();
        }
        if (task == nullptr) {
            park();
            continue;
        }
        if (m_searching) {
            m_searching = false;
            if (m_runtime.m_idle.transition_from_searching()) {
                m_runtime.notify_parked(); // we were the last one looking: hand over
            }
        }
        run_task(*task);
    }
    t_current_worker = nullptr;
}

void worker::run_until(const join_core& done) {
    // acq_rel: the previous driver's writes to this worker's state are visible
    if (m_driving.exchange(true, std::memory_order_acq_rel)) {
        throw std::logic_error("taskscope: block_on on a single-threaded runtime from two threads "
                               "at once; one thread drives it at a time");
    }
    struct restore {
        worker& self;
        worker* outer;
        ~restore() {
            t_current_worker = outer;
            self.m_driving.store(false, std::memory_order_release);
            self.m_driving.notify_all(); // a shutdown() on another thread may wait for us
        }
    } guard{*this, t_current_worker};
    begin_on_this_thread();
    while (!done.is_done() && !m_runtime.is_shutdown()) {
        // A task woken by the reactor or a timer lands in the LIFO slot: run it first.
        task_header* task = std::exchange(m_lifo, nullptr);
        if (task == nullptr) {
            task = next_task();
        }
        if (task != nullptr) {
            run_task(*task);
            continue;
        }
        record(event_kind::worker_park);
        park_once(); // the only worker: it always gets the reactor
        record(event_kind::worker_unpark);
    }
}

void worker::unpark() {
    if (m_parker.unpark()) {
        m_runtime.m_reactor->wake();
    }
}

bool worker::park_once() {
    std::unique_lock driver(m_runtime.m_driver_mutex, std::try_to_lock);
    if (driver.owns_lock()) {
        m_parker.park_driving([this] { m_runtime.drive(true); });
        return true;
    }
    m_parker.park();
    return false;
}

void worker::maintenance() {
    if (m_runtime.m_reactor->watched() == 0 && m_runtime.m_timers.size() == 0) {
        return; // nothing could be ready: spare the system call
    }
    std::unique_lock driver(m_runtime.m_driver_mutex, std::try_to_lock);
    if (driver.owns_lock()) {
        // Nobody sleeps in the reactor (or we could not have locked it): after this poll,
        // a sleeping worker should, so I/O and timers do not wait for our tasks.
        m_runtime.drive(false);
        driver.unlock();
        m_runtime.hand_over_driver();
    }
}

task_header* worker::pop_global() noexcept {
    std::size_t depth = 0;
    task_header* task = m_runtime.m_inject.pop(depth);
    if (task != nullptr) {
        record(event_kind::global_pop, task->m_id, 0, static_cast<std::uint32_t>(depth));
    }
    return task;
}

task_header* worker::next_task() noexcept {
    m_runtime.m_owned.drain(static_cast<std::uint32_t>(m_index));
    // A yield_now promises the rest of the program a turn, I/O and timers included (tokio
    // defers yielded tasks behind a driver poll the same way); otherwise a computation
    // yielding between slices would still starve sockets for `event_interval` slices.
    if (++m_tick % event_interval == 0 || std::exchange(m_yielded, false)) {
        try {
            maintenance();
        } catch (...) {
            // a failing mutex is a broken process; the tasks still run
        }
    }
    // Tasks that yielded go behind what I/O and timers just woke.
    for (task_header* deferred : m_deferred) {
        record(event_kind::queue_depth, deferred->m_id, m_index, queued() + 1);
        push_back(*deferred);
    }
    if (!m_deferred.empty() && !m_runtime.m_options.single_threaded &&
        m_runtime.m_stealing.load(std::memory_order_relaxed)) {
        m_runtime.notify_parked(); // as schedule_local does for a yield: others may take it
    }
    m_deferred.clear();
    if (m_lifo != nullptr) {
        return std::exchange(m_lifo, nullptr); // woken by the driver just now
    }
    // Every `global_queue_interval` polls the global queue goes first, so tasks queued
    // from outside are not starved by a worker that always has local work.
    if (m_tick % m_runtime.m_options.global_queue_interval == 0) {
        std::size_t pinned_left = 0;
        if (task_header* task = m_pinned_queue.pop(pinned_left)) {
            return task;
        }
        if (task_header* task = pop_global()) {
            return task;
        }
    }
    if (task_header* task = m_queue.pop()) {
        return task;
    }
    std::size_t pinned_left = 0;
    if (task_header* task = m_pinned_queue.pop(pinned_left)) {
        return task;
    }
    return pop_global();
}

task_header* worker::steal_work() noexcept {
    if (!m_searching) {
        if (!m_runtime.m_idle.transition_to_searching()) {
            return nullptr; // enough workers are already looking
        }
        m_searching = true;
    }
    const std::size_t n = m_runtime.m_workers.size();
    if (m_runtime.m_stealing.load(std::memory_order_relaxed) && n > 1) {
        // xorshift64: a cheap random start spreads thieves over victims
        m_rng ^= m_rng << 13;
        m_rng ^= m_rng >> 7;
        m_rng ^= m_rng << 17;
        const std::size_t start = m_rng % n;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t victim = (start + i) % n;
            if (victim == m_index) {
                continue;
            }
            std::uint32_t moved = 0;
            if (task_header* task =
                    m_runtime.m_workers[victim]->m_queue.steal_into(m_queue, moved)) {
                record(event_kind::steal, task->m_id, victim, moved);
                record(event_kind::queue_depth, 0, m_index, queued());
                return task;
            }
        }
    }
    return pop_global();
}

void worker::run_task(task_header& task) noexcept {
    poll(task);
    for (int lifo_polls = 0; m_lifo != nullptr;) {
        task_header* next = std::exchange(m_lifo, nullptr);
        if (lifo_polls == max_lifo_polls || m_runtime.is_shutdown()) {
            // Behind the queued tasks, on this worker: no need to wake another (tokio does
            // the same), which keeps a chain of spawns on one worker without futex calls.
            record(event_kind::queue_depth, next->m_id, m_index, queued() + 1);
            push_back(*next);
            break;
        }
        ++lifo_polls;
        poll(*next);
    }
}

void worker::poll(task_header& task) noexcept {
    // acq_rel: a wake that happened before this exchange is visible to the poll; a later
    // one sees `running` and sets `notified`.
    task.m_state.exchange(task_state::running, std::memory_order_acq_rel);
    record(event_kind::poll_begin, task.m_id, 0, queued());
    t_current_task = &task;
    bool resume = true;
    if (task.m_leaf != nullptr) {
        context cx(task);
        resume = task.m_leaf->poll_leaf(cx);
        if (resume) {
            task.m_leaf = nullptr;
        }
    }
    if (resume) {
        task.m_resume_point.resume();
    }
    t_current_task = nullptr;

    if (task.root_done()) {
        const bool threw = task.root_threw();
        task.m_state.exchange(task_state::complete, std::memory_order_acq_rel);
        record(event_kind::poll_end, task.m_id, 0, queued(),
               byte(threw ? trace::poll_result::threw : trace::poll_result::ready));
        task.complete(threw); // may wake a joiner into the LIFO slot, may free `task`
        return;
    }
    record(event_kind::poll_end, task.m_id, 0, queued(), byte(trace::poll_result::pending));
    std::uint32_t expected = task_state::running;
    // acq_rel: publishes the poll's writes to whoever wakes the task next
    if (!task.m_state.compare_exchange_strong(expected, task_state::idle,
                                              std::memory_order_acq_rel)) {
        // Woken while running (yield_now, a self-wake, a fast timer): run it again later,
        // behind the tasks already waiting. A yield also waits for I/O and timers to be
        // polled (see next_task), so what they wake runs first.
        task.m_state.exchange(task_state::scheduled, std::memory_order_acq_rel);
        if (std::exchange(m_yielding, nullptr) == &task) {
            try {
                m_deferred.push_back(&task);
                return;
            } catch (...) {
                // out of memory: queue it now
            }
        }
        schedule_local(task, true);
    }
}

void worker::push_back(task_header& task) noexcept {
    if (task.m_pinned != task_header::not_pinned) {
        task_header* one[1] = {&task};
        m_pinned_queue.push(one, 1); // not stealable
        return;
    }
    m_queue.push_back(&task, [this](task_header** tasks, std::uint32_t count) {
        const std::size_t depth = m_runtime.m_inject.push(tasks, count);
        if (depth != 0) {
            record(event_kind::global_push, tasks[0]->m_id, count,
                   static_cast<std::uint32_t>(depth), 1);
            // Every worker takes from the global queue, stealing or not: wake one.
            if (!m_runtime.m_options.single_threaded) {
                m_runtime.notify_parked();
            }
        }
    });
}

void worker::schedule_local(task_header& task, bool is_yield) noexcept {
    bool notify = true;
    if (is_yield || !m_runtime.m_lifo_slot.load(std::memory_order_relaxed)) {
        push_back(task);
    } else if (task_header* previous = std::exchange(m_lifo, &task)) {
        push_back(*previous);
    } else {
        notify = false; // the LIFO slot is not stealable: nothing for others to take
    }
    // Without stealing nobody else can take a task from this worker's queue: waking a
    // sleeping worker would only make it search and sleep again.
    if (notify && !m_runtime.m_options.single_threaded &&
        m_runtime.m_stealing.load(std::memory_order_relaxed)) {
        m_runtime.notify_parked();
    }
}

void worker::park() {
    if (m_lifo != nullptr || !m_queue.empty() || !m_pinned_queue.empty() || !m_deferred.empty()) {
        return;
    }
    m_runtime.m_owned.drain(static_cast<std::uint32_t>(m_index)); // free what finished elsewhere
    m_runtime.m_idle.transition_to_parked(m_index, m_searching);
    m_searching = false;
    // Every worker re-checks the queues after announcing it sleeps, not only the last
    // searcher: a worker refused a search slot can otherwise sleep past work pushed while
    // the only searcher had just found a (long) task (see idle.hpp).
    m_runtime.notify_if_work_pending();
    record(event_kind::worker_park);
    bool drove = false;
    while (!m_runtime.is_shutdown()) {
        drove = park_once() || drove;
        if (m_lifo != nullptr || !m_queue.empty() || !m_pinned_queue.empty()) {
            // Driving the reactor queued work here: wake ourselves. If a notifier got
            // there first, it counted us as searching.
            m_searching = !m_runtime.m_idle.unpark_self(m_index);
            break;
        }
        if (!m_runtime.m_idle.is_parked(m_index)) {
            m_searching = true; // the notifier counted us as searching
            break;
        }
    }
    if (drove) {
        // We leave the reactor, for whatever reason: a worker still asleep (on its
        // condition variable, having found the reactor taken) must take it over.
        m_runtime.hand_over_driver();
    }
    record(event_kind::worker_unpark);
}

void worker::clear_queues() noexcept {
    m_lifo = nullptr;
    m_deferred.clear();
    m_pinned_queue.close();
    while (m_queue.pop() != nullptr) {
    }
}

// ---------------------------------------------------------------- runtime core

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

void runtime_core::timer_armed(std::chrono::steady_clock::time_point deadline) noexcept {
    if (deadline.time_since_epoch().count() < m_driver_sleep_until.load()) {
        m_reactor->wake();
    }
}

void runtime_core::schedule(task_header& task, bool is_yield) noexcept {
    worker* const here = t_current_worker;
    const bool on_worker = here != nullptr && &here->m_runtime == this;
    if (task.m_pinned != task_header::not_pinned &&
        !(on_worker && here->m_index == task.m_pinned)) {
        // Pinned to another worker: its own queue, then make sure it is awake.
        task_header* one[1] = {&task};
        if (m_workers[task.m_pinned]->m_pinned_queue.push(one, 1) != 0) {
            m_workers[task.m_pinned]->unpark();
        }
        return;
    }
    if (on_worker) {
        here->schedule_local(task, is_yield);
        return;
    }
    task_header* one[1] = {&task};
    const std::size_t depth = m_inject.push(one, 1);
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
    const worker* const here = t_current_worker;
    const bool on_worker = here != nullptr && &here->m_runtime == this;
    const bool pinned = task.m_pinned != task_header::not_pinned;
    if (pinned && !(on_worker && here->m_index == task.m_pinned)) {
        return queue_code(queue_kind::pinned, task.m_pinned, true);
    }
    if (!on_worker) {
        return queue_code(queue_kind::global, 0);
    }
    const auto index = static_cast<std::uint32_t>(here->m_index);
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
        if (m_stealing.load(std::memory_order_relaxed) && !w->m_queue.empty()) {
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
            while (w->m_driving.load(std::memory_order_acquire)) {
                w->m_driving.wait(true, std::memory_order_acquire);
            }
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

// ---------------------------------------------------------------- free functions

void wake_task(task_header& task, trace::wake_source source, std::uint64_t waker_task) noexcept {
    std::uint32_t state = task.m_state.load(std::memory_order_relaxed);
    for (;;) {
        if ((state & task_state::complete) != 0) {
            return;
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
            break;
        }
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
    if (yield && t_current_worker != nullptr && &t_current_worker->m_runtime == &rt) {
        t_current_worker->m_yielded = true;
        t_current_worker->m_yielding = &task;
    }
    if (state == task_state::idle) {
        rt.schedule(task, yield);
    }
}

runtime_core* current_runtime() noexcept {
    if (t_current_worker != nullptr) {
        return &t_current_worker->m_runtime;
    }
    if (t_current_task != nullptr) {
        return t_current_task->m_runtime;
    }
    return nullptr;
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
    // relaxed: ids only need to be unique
    return rt.m_next_task_id.fetch_add(1, std::memory_order_relaxed);
}

void spawn_task(runtime_core& rt, task_header& task) noexcept {
    const task_header* parent = t_current_task;
    const std::uint32_t where = rt.destination(task, false);
    rt.record(
        event_kind::task_spawned, task.m_id, parent ? parent->m_id : 0, task.m_name,
        static_cast<std::uint8_t>(byte(trace::queue_kind_of(where)) |
                                  (trace::queue_pinned(where) ? trace::spawn_pinned_bit : 0u)));
    if (!rt.m_owned.insert(task, rt.worker_here())) {
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
    rt.m_owned.count_finished(rt.worker_here());
}

void release_owned_task(runtime_core& rt, task_header& task) noexcept {
    rt.m_owned.release(task, rt.worker_here());
}

std::uint32_t worker_index_for_spawn_local(runtime_core& rt) {
    const std::uint32_t here = rt.worker_here();
    if (here == owned_tasks::external) {
        throw std::logic_error("taskscope::spawn_local must be called from inside a task (it "
                               "pins the new task to the calling worker)");
    }
    return here;
}

std::uint32_t runtime_core::worker_here() const noexcept {
    const worker* here = t_current_worker;
    return here != nullptr && &here->m_runtime == this ? static_cast<std::uint32_t>(here->m_index)
                                                       : owned_tasks::external;
}

void submit_blocking(runtime_core& rt, blocking_job_base& job) {
    rt.m_blocking.submit(job);
}

trace::name_id name_for(std::string_view name) {
    return name.empty() ? trace::default_task_name : trace::intern(name);
}

void drive_until(runtime_core& rt, const join_core& done) {
    if (rt.m_options.single_threaded) {
        rt.m_workers[0]->run_until(done);
    } else {
        done.wait();
    }
}

void arm_timer(task_header& task, std::chrono::steady_clock::time_point deadline, const waker& w) {
    runtime_core& rt = *task.m_runtime;
    rt.record(event_kind::timer_armed, task.m_id, rt.m_hub.to_trace_ns(deadline));
    rt.m_timers.arm(deadline, w);
    rt.timer_armed(deadline);
}

} // namespace detail

// ---------------------------------------------------------------- runtime

runtime::runtime(runtime_options options)
    : m_core(std::make_unique<detail::runtime_core>(options)) {}

runtime::~runtime() {
    shutdown();
}

void runtime::shutdown() {
    m_core->shutdown();
}

trace::trace_hub& runtime::trace() noexcept {
    return m_core->m_hub;
}

const runtime_options& runtime::options() const noexcept {
    return m_core->m_options;
}

void runtime::set_stealing(bool on) noexcept {
    m_core->m_stealing.store(on, std::memory_order_relaxed);
    if (on && !m_core->m_options.single_threaded) {
        m_core->notify_if_work_pending(); // work queued meanwhile is now for the taking
    }
}

bool runtime::stealing() const noexcept {
    return m_core->m_stealing.load(std::memory_order_relaxed);
}

void runtime::set_lifo_slot(bool on) noexcept {
    m_core->m_lifo_slot.store(on, std::memory_order_relaxed);
}

bool runtime::lifo_slot() const noexcept {
    return m_core->m_lifo_slot.load(std::memory_order_relaxed);
}

std::size_t runtime::worker_count() const noexcept {
    return m_core->m_workers.size();
}

std::size_t runtime::live_tasks() const noexcept {
    return m_core->m_owned.live();
}

reactor_backend runtime::reactor() const noexcept {
    return m_core->m_reactor->backend();
}

std::size_t runtime::blocking_threads() const {
    return m_core->m_blocking.thread_count();
}

void runtime::check_block_on() const {
    if (detail::t_current_task != nullptr || detail::t_current_worker != nullptr) {
        throw std::logic_error("taskscope: block_on was called from inside a task; "
                               "co_await the task or its join_handle instead");
    }
    if (m_core->is_shutdown()) {
        throw std::logic_error("taskscope: block_on on a runtime that was shut down");
    }
}

void blocking_sleep(std::chrono::nanoseconds d, trace::trace_hub& hub) {
    trace::detail::trace_buffer* buffer = hub.this_thread_buffer();
    if (buffer != nullptr) {
        buffer->record(trace::event_kind::block_begin, 0, static_cast<std::uint64_t>(d.count()));
    }
    std::this_thread::sleep_for(d);
    if ((buffer = hub.this_thread_buffer()) != nullptr) {
        buffer->record(trace::event_kind::block_end, 0);
    }
}

void blocking_sleep(std::chrono::nanoseconds d) {
    detail::runtime_core* rt = detail::current_runtime();
    const std::uint64_t task = detail::t_current_task ? detail::t_current_task->m_id : 0;
    if (rt != nullptr) {
        rt->record(trace::event_kind::block_begin, task, static_cast<std::uint64_t>(d.count()));
    }
    std::this_thread::sleep_for(d);
    if (rt != nullptr) {
        rt->record(trace::event_kind::block_end, task);
    }
}

void record_here(trace::event_kind kind, std::uint64_t arg, std::uint32_t arg2,
                 std::uint8_t detail) noexcept {
    if (const detail::task_header* task = detail::t_current_task) {
        task->m_runtime->record(kind, task->m_id, arg, arg2, detail);
    }
}

} // namespace taskscope

namespace taskscope::trace {

run_info run_info_for(runtime& rt, const runtime_options& options, std::string command) {
    run_info info = run_info_for(rt.trace());
    info.command = std::move(command);
    info.workers = static_cast<std::uint32_t>(rt.worker_count());
    info.single_threaded = options.single_threaded;
    info.stealing = options.stealing;
    info.lifo_slot = options.lifo_slot;
    info.reactor = std::string(to_string(rt.reactor()));
    return info;
}

} // namespace taskscope::trace
