#include "taskscope/analysis/queue_tracker.hpp"

#include "taskscope/trace/event_types.hpp"

#include <algorithm>
#include <array>

namespace taskscope::analysis {

using trace::event_kind;
using trace::queue_kind;

namespace {

/// Worker indices beyond this are damage, not a runtime (runtimes have at most 255).
constexpr std::uint32_t max_workers = 256;

} // namespace

void queue_tracker::clear() {
    const bool names_queues = m_schema_names_queues;
    *this = queue_tracker{};
    m_schema_names_queues = names_queues;
    m_knows_queues = names_queues;
}

void queue_tracker::set_schema(std::uint32_t schema) noexcept {
    m_schema_names_queues = schema >= trace::first_schema_with_queues;
    m_knows_queues = m_knows_queues || m_schema_names_queues;
}

std::uint32_t queue_tracker::queue_index(queue_id q) const noexcept {
    std::uint32_t slot = 0;
    switch (q.kind) {
    case queue_kind::global:
        return 0;
    case queue_kind::local:
        slot = 1;
        break;
    case queue_kind::lifo:
        slot = 2;
        break;
    case queue_kind::pinned:
        slot = 3;
        break;
    default:
        return nowhere;
    }
    if (q.worker >= max_workers) {
        return nowhere;
    }
    return q.worker * 3 + slot;
}

std::uint32_t queue_tracker::queue_index_growing(queue_id q) {
    const std::uint32_t index = queue_index(q);
    if (index == nowhere) {
        return nowhere;
    }
    if (index >= m_queues.size()) {
        m_queues.resize(index + 1);
    }
    if (q.kind != queue_kind::global) {
        note_worker(q.worker);
    }
    return index;
}

void queue_tracker::note_worker(std::uint32_t w) {
    if (w < max_workers && w >= m_running.size()) {
        m_running.resize(w + 1);
    }
}

std::uint32_t queue_tracker::worker_of_track(std::uint16_t track) const noexcept {
    const auto worker = m_workers.worker_of(track);
    return worker.has_value() && *worker < max_workers ? *worker : nowhere;
}

bool queue_tracker::is_current(const entry& e, std::uint32_t index) const {
    const auto it = m_tasks.find(e.task);
    return it != m_tasks.end() && it->second.queue == index && it->second.seq == e.seq;
}

void queue_tracker::drop_stale_front(queue& q, std::uint32_t index) {
    while (!q.entries.empty() && !is_current(q.entries.front(), index)) {
        q.entries.pop_front();
    }
    while (!q.entries.empty() && !is_current(q.entries.back(), index)) {
        q.entries.pop_back();
    }
    // Stale entries in the middle (tasks polled out of order) are compacted once they
    // outnumber the live ones, so a queue's memory follows its size.
    if (q.entries.size() > 2 * q.size + 64) {
        std::erase_if(q.entries, [&](const entry& e) { return !is_current(e, index); });
    }
}

void queue_tracker::remove(std::uint64_t task) {
    const auto it = m_tasks.find(task);
    if (it == m_tasks.end() || it->second.queue == nowhere) {
        return;
    }
    const std::uint32_t index = it->second.queue;
    it->second.queue = nowhere;
    queue& q = m_queues[index];
    --q.size;
    --m_total;
    drop_stale_front(q, index);
}

void queue_tracker::forget(std::uint64_t task) {
    remove(task);
    m_tasks.erase(task);
}

void queue_tracker::enqueue(std::uint64_t task, queue_id q, std::uint64_t since_ns) {
    const std::uint32_t index = queue_index_growing(q);
    if (index == nowhere) {
        return;
    }
    remove(task); // a task waits in one queue at a time
    task_place& place = m_tasks[task];
    place.queue = index;
    place.seq = m_next_seq++;
    m_queues[index].entries.push_back({task, since_ns, place.seq});
    ++m_queues[index].size;
    ++m_total;
}

void queue_tracker::enqueue_lifo(std::uint64_t task, std::uint32_t w, std::uint64_t now_ns) {
    const std::uint32_t slot = queue_index_growing(queue_id::lifo(w));
    if (slot == nowhere) {
        return;
    }
    // The task already in the slot moves to the back of the queue.
    entry previous{};
    if (take_newest(slot, previous) && previous.task != task) {
        const bool pinned = m_tasks[previous.task].pinned;
        enqueue(previous.task, pinned ? queue_id::pinned(w) : queue_id::local(w),
                previous.since_ns);
    }
    enqueue(task, queue_id::lifo(w), now_ns);
}

std::vector<queue_tracker::entry> queue_tracker::take_oldest(std::uint32_t from, std::size_t n) {
    std::vector<entry> taken;
    if (from >= m_queues.size()) {
        return taken;
    }
    queue& q = m_queues[from];
    while (taken.size() < n && !q.entries.empty()) {
        const entry e = q.entries.front();
        q.entries.pop_front();
        if (is_current(e, from)) {
            m_tasks[e.task].queue = nowhere;
            --q.size;
            --m_total;
            taken.push_back(e);
        }
    }
    drop_stale_front(q, from);
    return taken;
}

bool queue_tracker::take_newest(std::uint32_t from, entry& out) {
    if (from >= m_queues.size()) {
        return false;
    }
    queue& q = m_queues[from];
    drop_stale_front(q, from);
    if (q.entries.empty()) {
        return false;
    }
    out = q.entries.back();
    q.entries.pop_back();
    m_tasks[out.task].queue = nowhere;
    --q.size;
    --m_total;
    drop_stale_front(q, from);
    return true;
}

void queue_tracker::apply(const trace::event& e) {
    trace::dispatch(e, *this);
}

// ---- one handler a kind ----------------------------------------------------------------------

void queue_tracker::on(const trace::event& e, const trace::track_started_view& /*v*/) {
    m_workers.note(e);
    if (const std::uint32_t w = worker_of_track(e.track); w != nowhere) {
        note_worker(w);
    }
}

void queue_tracker::on(const trace::event& e, const trace::task_spawned_view& v) {
    const std::uint32_t here = worker_of_track(e.track);
    if (v.pinned) {
        m_tasks[v.task].pinned = true;
    }
    if (v.queue == queue_kind::global) {
        m_knows_queues = true;
        enqueue(v.task, queue_id::global(), e.time_ns);
    } else if (here != nowhere && (v.queue == queue_kind::local || v.queue == queue_kind::lifo ||
                                   v.queue == queue_kind::pinned)) {
        m_knows_queues = true;
        if (v.queue == queue_kind::lifo) {
            enqueue_lifo(v.task, here, e.time_ns);
        } else {
            enqueue(v.task, {v.queue, here}, e.time_ns);
        }
    }
}

void queue_tracker::on(const trace::event& e, const trace::wake_view& v) {
    const queue_kind kind = v.queue.kind;
    const std::uint32_t w = v.queue.worker;
    if (kind != queue_kind::unknown) {
        m_knows_queues = true;
    }
    if (v.queue.pinned && kind != queue_kind::none && kind != queue_kind::after_poll) {
        m_tasks[v.task].pinned = true;
    }
    switch (kind) {
    case queue_kind::global:
        enqueue(v.task, queue_id::global(), e.time_ns);
        break;
    case queue_kind::local:
        enqueue(v.task, queue_id::local(w), e.time_ns);
        break;
    case queue_kind::pinned:
        m_tasks[v.task].pinned = true;
        enqueue(v.task, queue_id::pinned(w), e.time_ns);
        break;
    case queue_kind::lifo:
        enqueue_lifo(v.task, w, e.time_ns);
        break;
    case queue_kind::after_poll: {
        task_place& place = m_tasks[v.task];
        if (place.running) {
            place.requeue_after_poll = true;
        } else if (place.queue == nowhere && place.worker != nowhere) {
            // The wake was recorded after the poll's end: the requeue already happened.
            const std::uint32_t last = place.worker;
            enqueue(v.task, place.pinned ? queue_id::pinned(last) : queue_id::local(last),
                    e.time_ns);
        }
        break;
    }
    case queue_kind::unknown:
    case queue_kind::none:
    case queue_kind::own_executor: // not one of the runtime's queues
        break;
    }
}

void queue_tracker::on(const trace::event& e, const trace::poll_begin_view& v) {
    remove(v.task);
    const std::uint32_t here = worker_of_track(e.track);
    if (here == nowhere) {
        return;
    }
    task_place& place = m_tasks[v.task];
    place.running = true;
    place.worker = here;
    m_running[here] = {v.task, e.time_ns};
}

void queue_tracker::on(const trace::event& e, const trace::poll_end_view& v) {
    const std::uint32_t here = worker_of_track(e.track);
    if (here != nowhere && m_running[here].task == v.task) {
        m_running[here] = {};
    }
    if (v.result != trace::poll_result::pending) {
        forget(v.task);
        return;
    }
    const auto it = m_tasks.find(v.task);
    if (it == m_tasks.end()) {
        return;
    }
    it->second.running = false;
    if (it->second.requeue_after_poll && here != nowhere) {
        it->second.requeue_after_poll = false;
        const bool pinned = it->second.pinned;
        enqueue(v.task, pinned ? queue_id::pinned(here) : queue_id::local(here), e.time_ns);
    }
}

void queue_tracker::on(const trace::event& /*e*/, const trace::task_cancelled_view& v) {
    forget(v.task);
}

void queue_tracker::on(const trace::event& e, const trace::steal_view& v) {
    const std::uint32_t here = worker_of_track(e.track);
    if (here == nowhere || v.victim >= max_workers) {
        return;
    }
    const std::uint32_t victim = queue_index(queue_id::local(static_cast<std::uint32_t>(v.victim)));
    for (const entry& moved : take_oldest(victim, v.count)) {
        enqueue(moved.task, queue_id::local(here), moved.since_ns);
    }
    remove(v.first_task); // the one the thief runs at once: shown running from the steal
    if (v.first_task != 0) {
        m_running[here] = {v.first_task, e.time_ns};
    }
}

void queue_tracker::on(const trace::event& e, const trace::global_push_view& v) {
    const std::uint32_t here = worker_of_track(e.track);
    if (here == nowhere || v.count == 0 || v.reason != trace::push_reason::overflow) {
        return; // not an overflow: the wake or spawn already put it there
    }
    // The worker's queue overflowed: its oldest count-1 tasks and the one being queued (the
    // newest) go to the global queue, in that order.
    const std::uint32_t local = queue_index(queue_id::local(here));
    entry newest{};
    const bool has_newest = take_newest(local, newest);
    for (const entry& moved : take_oldest(local, v.count - 1)) {
        enqueue(moved.task, queue_id::global(), moved.since_ns);
    }
    if (has_newest) {
        enqueue(newest.task, queue_id::global(), newest.since_ns);
    }
}

void queue_tracker::on(const trace::event& /*e*/, const trace::global_pop_view& v) {
    remove(v.task);
}

void queue_tracker::on(const trace::event& e, const trace::queue_depth_view& v) {
    const std::uint32_t here = worker_of_track(e.track);
    if (v.moved_task == 0 || here == nowhere) {
        return;
    }
    // It leaves the LIFO slot for the back of the queue, runnable since it came.
    std::uint64_t since = e.time_ns;
    entry in_slot{};
    if (take_newest(queue_index(queue_id::lifo(here)), in_slot) && in_slot.task != v.moved_task) {
        enqueue(in_slot.task, queue_id::lifo(here), in_slot.since_ns); // not this one
    } else if (in_slot.task == v.moved_task) {
        since = in_slot.since_ns;
    }
    const bool pinned = m_tasks[v.moved_task].pinned;
    enqueue(v.moved_task, pinned ? queue_id::pinned(here) : queue_id::local(here), since);
}

std::size_t queue_tracker::size(queue_id q) const noexcept {
    const std::uint32_t index = queue_index(q);
    return index < m_queues.size() ? m_queues[index].size : 0;
}

bool queue_tracker::find(std::uint64_t task, queue_id& where) const {
    const auto it = m_tasks.find(task);
    if (it == m_tasks.end() || it->second.queue == nowhere) {
        return false;
    }
    const std::uint32_t index = it->second.queue;
    if (index == 0) {
        where = queue_id::global();
        return true;
    }
    static constexpr std::array kinds{queue_kind::local, queue_kind::lifo, queue_kind::pinned};
    where = {kinds[(index - 1) % 3], (index - 1) / 3};
    return true;
}

std::vector<queued_task> queue_tracker::contents(queue_id q, std::size_t limit) const {
    std::vector<queued_task> out;
    const std::uint32_t index = queue_index(q);
    if (index >= m_queues.size()) {
        return out;
    }
    for (const entry& e : m_queues[index].entries) {
        if (out.size() == limit) {
            break;
        }
        if (is_current(e, index)) {
            out.push_back({e.task, e.since_ns});
        }
    }
    return out;
}

} // namespace taskscope::analysis
