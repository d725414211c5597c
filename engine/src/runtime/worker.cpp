#include "worker.hpp"

#include "runtime_core.hpp"
#include "taskscope/detail/atomic_wait.hpp"

#include <stdexcept>
#include <utility>

namespace taskscope::detail {

namespace {

using trace::event_kind;

/// A worker polls at most this many tasks in a row from its LIFO slot before the slot's
/// task goes to the back of the queue, so two tasks waking each other cannot starve the rest.
constexpr int max_lifo_polls = 3;

/// A busy worker polls the reactor and timers (without waiting) every this many ticks.
constexpr std::uint32_t event_interval = 61;

std::uint8_t byte(auto value) noexcept {
    return static_cast<std::uint8_t>(value);
}

} // namespace

worker::worker(runtime_core& rt, std::size_t index) : m_runtime(rt), m_index(index) {
    m_core.rng = 0x9e3779b97f4a7c15ull * (index + 1); // distinct per worker, never zero
}

void worker::begin_on_this_thread() {
    t_current_worker = this;
    if (m_core.trace_owner != std::this_thread::get_id()) {
        m_core.trace = m_runtime.m_hub.register_thread(trace::track_kind::worker,
                                                       static_cast<std::uint32_t>(m_index));
        m_core.trace_owner = std::this_thread::get_id();
    }
}

void worker::record(trace::event_kind kind, std::uint64_t task, std::uint64_t arg,
                    std::uint32_t arg2, std::uint8_t detail) noexcept {
    if (m_core.trace != nullptr && m_runtime.m_hub.enabled()) {
        m_core.trace->record(kind, task, arg, arg2, detail);
    }
}

void worker::run_thread() {
    begin_on_this_thread();
    while (!m_runtime.is_shutdown()) {
        // The reactor or a timer, driven by this worker, may have put a task in the slot.
        task_header* task = std::exchange(m_core.lifo, nullptr);
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
        if (m_core.searching) {
            m_core.searching = false;
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
    if (m_remote.driving.exchange(true, std::memory_order_acq_rel)) {
        throw std::logic_error("taskscope: block_on on a single-threaded runtime from two threads "
                               "at once; one thread drives it at a time");
    }
    struct restore {
        worker& self;
        worker* outer;
        ~restore() {
            t_current_worker = outer;
            self.m_remote.driving.store(false, std::memory_order_release);
            // a shutdown() on another thread may wait for us
            detail::atomic_notify_all(self.m_remote.driving);
        }
    } guard{*this, t_current_worker};
    begin_on_this_thread();
    while (!done.is_done() && !m_runtime.is_shutdown()) {
        // A task woken by the reactor or a timer lands in the LIFO slot: run it first.
        task_header* task = std::exchange(m_core.lifo, nullptr);
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
    if (m_remote.parker.unpark()) {
        m_runtime.m_reactor->wake();
    }
}

bool worker::park_once() {
    std::unique_lock driver(m_runtime.m_driver_mutex, std::try_to_lock);
    if (driver.owns_lock()) {
        m_remote.parker.park_driving([this] { m_runtime.drive(true); });
        return true;
    }
    m_remote.parker.park();
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
    if (++m_core.tick % event_interval == 0 || std::exchange(m_core.yielded, false)) {
        try {
            maintenance();
        } catch (...) {
            // a failing mutex is a broken process; the tasks still run
        }
    }
    // Tasks that yielded go behind what I/O and timers just woke.
    for (task_header* deferred : m_core.deferred) {
        record(event_kind::queue_depth, deferred->m_id, m_index, queued() + 1);
        push_back(*deferred);
    }
    if (!m_core.deferred.empty() && !m_runtime.m_options.single_threaded &&
        m_runtime.m_stealing.load(std::memory_order_relaxed)) {
        m_runtime.notify_parked(); // as schedule_local does for a yield: others may take it
    }
    m_core.deferred.clear();
    if (m_core.lifo != nullptr) {
        return std::exchange(m_core.lifo, nullptr); // woken by the driver just now
    }
    // Every `global_queue_interval` polls the global queue goes first, so tasks queued
    // from outside are not starved by a worker that always has local work.
    if (m_core.tick % m_runtime.m_options.global_queue_interval == 0) {
        std::size_t pinned_left = 0;
        if (task_header* task = m_remote.pinned.pop(pinned_left)) {
            return task;
        }
        if (task_header* task = pop_global()) {
            return task;
        }
    }
    if (task_header* task = m_remote.queue.pop()) {
        return task;
    }
    std::size_t pinned_left = 0;
    if (task_header* task = m_remote.pinned.pop(pinned_left)) {
        return task;
    }
    return pop_global();
}

task_header* worker::steal_work() noexcept {
    if (!m_core.searching) {
        if (!m_runtime.m_idle.transition_to_searching()) {
            return nullptr; // enough workers are already looking
        }
        m_core.searching = true;
    }
    const std::size_t n = m_runtime.m_workers.size();
    if (m_runtime.m_stealing.load(std::memory_order_relaxed) && n > 1) {
        // xorshift64: a cheap random start spreads thieves over victims
        m_core.rng ^= m_core.rng << 13;
        m_core.rng ^= m_core.rng >> 7;
        m_core.rng ^= m_core.rng << 17;
        const std::size_t start = m_core.rng % n;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t victim = (start + i) % n;
            if (victim == m_index) {
                continue;
            }
            std::uint32_t moved = 0;
            if (task_header* task = m_runtime.m_workers[victim]->steal_into(*this, moved)) {
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
    for (int lifo_polls = 0; m_core.lifo != nullptr;) {
        task_header* next = std::exchange(m_core.lifo, nullptr);
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
        if (std::exchange(m_core.yielding, nullptr) == &task) {
            try {
                m_core.deferred.push_back(&task);
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
        m_remote.pinned.push(task); // not stealable
        return;
    }
    m_remote.queue.push_back(&task, [this](task_header** tasks, std::uint32_t count) {
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
    } else if (task_header* previous = std::exchange(m_core.lifo, &task)) {
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
    if (has_own_work() || !m_core.deferred.empty()) {
        return;
    }
    m_runtime.m_owned.drain(static_cast<std::uint32_t>(m_index)); // free what finished elsewhere
    m_runtime.m_idle.transition_to_parked(m_index, m_core.searching);
    m_core.searching = false;
    // Every worker re-checks the queues after announcing it sleeps, not only the last
    // searcher: a worker refused a search slot can otherwise sleep past work pushed while
    // the only searcher had just found a (long) task (see idle.hpp).
    m_runtime.notify_if_work_pending();
    record(event_kind::worker_park);
    bool drove = false;
    while (!m_runtime.is_shutdown()) {
        drove = park_once() || drove;
        if (has_own_work()) {
            // Driving the reactor queued work here: wake ourselves. If a notifier got
            // there first, it counted us as searching.
            m_core.searching = !m_runtime.m_idle.unpark_self(m_index);
            break;
        }
        if (!m_runtime.m_idle.is_parked(m_index)) {
            m_core.searching = true; // the notifier counted us as searching
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
    m_core.lifo = nullptr;
    m_core.deferred.clear();
    m_remote.pinned.close();
    while (m_remote.queue.pop() != nullptr) {
    }
}

void worker::note_yield(task_header& task) noexcept {
    m_core.yielded = true;
    m_core.yielding = &task;
}

bool worker::push_pinned(task_header& task) noexcept {
    return m_remote.pinned.push(task) != 0;
}

task_header* worker::steal_into(worker& thief, std::uint32_t& moved) noexcept {
    return m_remote.queue.steal_into(thief.m_remote.queue, moved);
}

void worker::wait_until_not_driving() noexcept {
    while (m_remote.driving.load(std::memory_order_acquire)) {
        atomic_wait(m_remote.driving, true, std::memory_order_acquire);
    }
}

} // namespace taskscope::detail
