// Tasks polled by hand (taskscope/by_hand.hpp): the same task states and trace events as a
// worker's poll (worker.cpp), with the task's own `schedule` function in place of the
// run queues.

#include "taskscope/by_hand.hpp"

#include "runtime_core.hpp"

namespace taskscope::detail {

using trace::event_kind;

namespace {
constexpr std::uint8_t byte(auto v) noexcept {
    return static_cast<std::uint8_t>(v);
}
} // namespace

hand_task::hand_task(runtime_core& rt, trace::name_id name, root_type root,
                     std::function<void(runnable)> schedule) noexcept
    : task_header(&rt, rt.next_task_id(), name, root)
    , m_schedule(std::move(schedule))
    , m_root(root) {
    m_wake_hook = &hand_task::woken;
}

void hand_task::destroy_frame() noexcept {
    if (m_root) {
        m_root.destroy(); // may drop wakers of this task: the caller holds a reference
        m_root = nullptr;
    }
    m_resume_point = nullptr;
    m_leaf = nullptr;
}

void hand_task::complete(bool threw) noexcept {
    if (threw) {
        m_error = m_root.promise().error();
    }
    destroy_frame();
}

void hand_task::woken(task_header& header, trace::wake_source source,
                      std::uint64_t waker_task) noexcept {
    auto& task = static_cast<hand_task&>(header);
    // Only a wake that finds the task idle queues it; one during its poll marks it to be
    // queued again when the poll ends.
    const std::uint32_t state = mark_woken(task);
    if ((state & task_state::complete) != 0) {
        return;
    }
    const bool queue_now = state == task_state::idle;
    const auto where =
        queue_now || ((state & task_state::running) != 0 && (state & task_state::notified) == 0)
            ? trace::queue_kind::own_executor
            : trace::queue_kind::none;
    task.m_runtime->record(event_kind::wake, task.m_id, waker_task, trace::queue_code(where, 0),
                           byte(source));
    if (queue_now) {
        try {
            task.m_schedule(runnable(task));
        } catch (...) {
            // The executor could not take it (out of memory): the task is never polled
            // again, as a future whose waker was lost.
        }
    }
}

bool hand_task::poll() {
    if (root_done()) {
        return true;
    }
    runtime_core& rt = *m_runtime;
    // acq_rel: a wake before this exchange is visible to the poll; a later one sees running
    m_state.exchange(task_state::running, std::memory_order_acq_rel);
    rt.record(event_kind::poll_begin, m_id, 0, 0);
    task_header* const outer = std::exchange(t_current_task, this);
    bool resume = true;
    if (m_leaf != nullptr) {
        context cx(*this);
        resume = m_leaf->poll_leaf(cx);
        if (resume) {
            m_leaf = nullptr;
        }
    }
    if (resume) {
        m_resume_point.resume();
    }
    t_current_task = outer;

    if (m_root.done()) {
        const bool threw = m_root.promise().threw();
        m_state.exchange(task_state::complete, std::memory_order_acq_rel);
        rt.record(event_kind::poll_end, m_id, 0, 0,
                  byte(threw ? trace::poll_result::threw : trace::poll_result::ready));
        complete(threw);
        if (m_error) {
            std::rethrow_exception(std::exchange(m_error, nullptr));
        }
        return true;
    }
    rt.record(event_kind::poll_end, m_id, 0, 0, byte(trace::poll_result::pending));
    std::uint32_t expected = task_state::running;
    // acq_rel: publishes the poll's writes to whoever wakes the task next
    if (!m_state.compare_exchange_strong(expected, task_state::idle, std::memory_order_acq_rel)) {
        // Woken during the poll (a self-wake): queue it again now that the poll is over.
        m_state.exchange(task_state::scheduled, std::memory_order_acq_rel);
        try {
            m_schedule(runnable(*this));
        } catch (...) {
            // as in woken()
        }
    }
    return false;
}

} // namespace taskscope::detail

namespace taskscope {

void runnable::spawn(runtime& rt, task<void> t, std::string_view name, schedule_fn schedule) {
    if (!t.valid()) {
        throw std::invalid_argument("taskscope: spawned an empty task");
    }
    if (!schedule) {
        throw std::invalid_argument("taskscope: runnable::spawn needs a schedule function");
    }
    detail::runtime_core& core = *rt.m_core;
    const trace::name_id id = detail::name_for(name); // may throw: `t` still owns its frame
    auto* task = new detail::hand_task(core, id, t.release(), std::move(schedule));
    runnable first(*task);
    task->unref(); // `first` and the copies it is queued as own it from here
    const detail::task_header* parent = detail::t_current_task;
    core.record(trace::event_kind::task_spawned, task->m_id, parent ? parent->m_id : 0,
                task->m_name, static_cast<std::uint8_t>(trace::queue_kind::own_executor));
    task->m_schedule(std::move(first)); // the first poll; state `scheduled` from the start
}

executor_lane::executor_lane(runtime& rt)
    : m_runtime(rt.m_core.get())
    , m_previous(detail::t_executor_runtime)
    , m_index(m_runtime->next_executor_lane()) {
    trace::trace_hub& hub = m_runtime->hub();
    hub.unregister_thread(); // a thread that recorded before starts a lane of its own
    if (hub.enabled()) {
        hub.register_thread(trace::track_kind::executor, m_index);
    }
    detail::t_executor_runtime = m_runtime;
}

executor_lane::~executor_lane() {
    m_runtime->hub().unregister_thread();
    detail::t_executor_runtime = m_previous;
}

} // namespace taskscope
