// The shared part of the synchronization primitives: resource ids, and recording their
// events on the trace of the runtime the calling thread belongs to.

#include "taskscope/sync.hpp"

#include "runtime_core.hpp"
#include "taskscope/runtime.hpp"

namespace taskscope::detail {

namespace {
std::atomic<std::uint32_t> g_next_resource_id{1};
} // namespace

static runtime_core* runtime_here() noexcept {
    if (const task_header* task = t_current_task) {
        return task->m_runtime;
    }
    return current_runtime();
}

resource_tag::resource_tag(trace::resource_kind kind, std::string_view name, std::uint32_t capacity)
    // relaxed: an id only has to be unique
    : m_id(g_next_resource_id.fetch_add(1, std::memory_order_relaxed))
    , m_name(trace::intern(name))
    , m_capacity(capacity)
    , m_kind(kind) {}

void resource_tag::announce() const noexcept {
    // relaxed: only one thread records the creation; others may record about the resource
    // before the creation reaches the trace (the model adds a resource on first sight)
    if (m_announced.exchange(true, std::memory_order_relaxed)) {
        return;
    }
    if (runtime_core* rt = runtime_here()) {
        rt->record(trace::event_kind::resource_created, running_task_id(),
                   (static_cast<std::uint64_t>(m_name) << 32) | m_capacity, m_id,
                   static_cast<std::uint8_t>(m_kind));
    }
}

void resource_tag::record(trace::event_kind kind, std::uint64_t task, std::uint64_t arg,
                          std::uint8_t detail) const noexcept {
    runtime_core* rt = runtime_here();
    if (rt == nullptr) {
        return;
    }
    // relaxed: see announce()
    if (!m_announced.load(std::memory_order_relaxed)) {
        announce();
    }
    rt->record(kind, task != 0 ? task : running_task_id(), arg, m_id, detail);
}

std::uint64_t waiter::waited_ns() const noexcept {
    const std::uint64_t now = trace::now_ticks();
    if (now <= since_ticks) {
        return 0;
    }
    return static_cast<std::uint64_t>(static_cast<double>(now - since_ticks) /
                                      trace::calibration().ticks_per_ns);
}

void begin_wait(const resource_tag& tag, waiter& w, const taskscope::waker& waker,
                trace::resource_op op, std::uint64_t arg) noexcept {
    w.waker = waker;
    w.task = waker.task_id();
    w.since_ticks = trace::now_ticks();
    tag.record(trace::event_kind::resource_wait, w.task, arg, op);
}

void deliver(const resource_tag& tag, ready_wake& r) noexcept {
    tag.record(trace::event_kind::resource_ready, r.task, r.waited_ns, r.op);
    r.waker.wake(trace::wake_source::channel);
}

} // namespace taskscope::detail

namespace taskscope {

std::unique_lock<std::mutex> blocking_lock(std::mutex& m) {
    std::unique_lock lock(m, std::try_to_lock);
    if (lock.owns_lock()) {
        return lock;
    }
    detail::runtime_core* rt = detail::runtime_here();
    const std::uint64_t task = detail::running_task_id();
    if (rt != nullptr) {
        rt->record(trace::event_kind::block_begin, task, 0);
    }
    lock.lock();
    if (rt != nullptr) {
        rt->record(trace::event_kind::block_end, task);
    }
    return lock;
}

} // namespace taskscope
