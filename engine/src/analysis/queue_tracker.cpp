#include "taskscope/analysis/queue_tracker.hpp"

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
    *this = queue_tracker{};
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
    return track < m_track_worker.size() ? m_track_worker[track] : nowhere;
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
    const std::uint32_t here = worker_of_track(e.track);
    switch (e.kind) {
    case event_kind::track_started:
        if (static_cast<trace::track_kind>(e.detail) == trace::track_kind::worker &&
            e.arg < max_workers) {
            if (e.track >= m_track_worker.size()) {
                m_track_worker.resize(std::size_t{e.track} + 1, nowhere);
            }
            m_track_worker[e.track] = static_cast<std::uint32_t>(e.arg);
            note_worker(static_cast<std::uint32_t>(e.arg));
        }
        break;
    case event_kind::task_spawned: {
        const auto kind = static_cast<queue_kind>(e.detail & ~trace::spawn_pinned_bit);
        if ((e.detail & trace::spawn_pinned_bit) != 0) {
            m_tasks[e.task].pinned = true;
        }
        if (kind == queue_kind::global) {
            m_knows_queues = true;
            enqueue(e.task, queue_id::global(), e.time_ns);
        } else if (here != nowhere && (kind == queue_kind::local || kind == queue_kind::lifo ||
                                       kind == queue_kind::pinned)) {
            m_knows_queues = true;
            if (kind == queue_kind::lifo) {
                enqueue_lifo(e.task, here, e.time_ns);
            } else {
                enqueue(e.task, {kind, here}, e.time_ns);
            }
        }
        break;
    }
    case event_kind::wake: {
        const queue_kind kind = trace::queue_kind_of(e.arg2);
        const std::uint32_t w = trace::queue_worker_of(e.arg2);
        if (kind != queue_kind::unknown) {
            m_knows_queues = true;
        }
        if (trace::queue_pinned(e.arg2) && kind != queue_kind::none &&
            kind != queue_kind::after_poll) {
            m_tasks[e.task].pinned = true;
        }
        switch (kind) {
        case queue_kind::global:
            enqueue(e.task, queue_id::global(), e.time_ns);
            break;
        case queue_kind::local:
            enqueue(e.task, queue_id::local(w), e.time_ns);
            break;
        case queue_kind::pinned:
            m_tasks[e.task].pinned = true;
            enqueue(e.task, queue_id::pinned(w), e.time_ns);
            break;
        case queue_kind::lifo:
            enqueue_lifo(e.task, w, e.time_ns);
            break;
        case queue_kind::after_poll: {
            task_place& place = m_tasks[e.task];
            if (place.running) {
                place.requeue_after_poll = true;
            } else if (place.queue == nowhere && place.worker != nowhere) {
                // The wake was recorded after the poll's end: the requeue already happened.
                const std::uint32_t last = place.worker;
                enqueue(e.task, place.pinned ? queue_id::pinned(last) : queue_id::local(last),
                        e.time_ns);
            }
            break;
        }
        case queue_kind::unknown:
        case queue_kind::none:
            break;
        }
        break;
    }
    case event_kind::poll_begin: {
        remove(e.task);
        if (here == nowhere) {
            break;
        }
        task_place& place = m_tasks[e.task];
        place.running = true;
        place.worker = here;
        m_running[here] = {e.task, e.time_ns};
        break;
    }
    case event_kind::poll_end: {
        if (here != nowhere && m_running[here].task == e.task) {
            m_running[here] = {};
        }
        if (static_cast<trace::poll_result>(e.detail) != trace::poll_result::pending) {
            forget(e.task);
            break;
        }
        const auto it = m_tasks.find(e.task);
        if (it == m_tasks.end()) {
            break;
        }
        it->second.running = false;
        if (it->second.requeue_after_poll && here != nowhere) {
            it->second.requeue_after_poll = false;
            const bool pinned = it->second.pinned;
            enqueue(e.task, pinned ? queue_id::pinned(here) : queue_id::local(here), e.time_ns);
        }
        break;
    }
    case event_kind::task_cancelled:
        forget(e.task);
        break;
    case event_kind::steal: {
        if (here == nowhere || e.arg >= max_workers) {
            break;
        }
        const std::uint32_t victim =
            queue_index(queue_id::local(static_cast<std::uint32_t>(e.arg)));
        for (const entry& moved : take_oldest(victim, e.arg2)) {
            enqueue(moved.task, queue_id::local(here), moved.since_ns);
        }
        remove(e.task); // the one the thief runs at once
        break;
    }
    case event_kind::global_push: {
        if (here == nowhere || e.arg == 0 || e.detail != 1) {
            break; // not an overflow: the wake or spawn already put it there
        }
        // The worker's queue overflowed: its oldest count-1 tasks and the one being queued
        // (the newest) go to the global queue, in that order.
        const std::uint32_t local = queue_index(queue_id::local(here));
        entry newest{};
        const bool has_newest = take_newest(local, newest);
        for (const entry& moved : take_oldest(local, e.arg - 1)) {
            enqueue(moved.task, queue_id::global(), moved.since_ns);
        }
        if (has_newest) {
            enqueue(newest.task, queue_id::global(), newest.since_ns);
        }
        break;
    }
    case event_kind::global_pop:
        remove(e.task);
        break;
    case event_kind::queue_depth:
        if (e.task != 0 && here != nowhere) {
            // It leaves the LIFO slot for the back of the queue, runnable since it came.
            std::uint64_t since = e.time_ns;
            entry in_slot{};
            if (take_newest(queue_index(queue_id::lifo(here)), in_slot) && in_slot.task != e.task) {
                enqueue(in_slot.task, queue_id::lifo(here), in_slot.since_ns); // not this one
            } else if (in_slot.task == e.task) {
                since = in_slot.since_ns;
            }
            const bool pinned = m_tasks[e.task].pinned;
            enqueue(e.task, pinned ? queue_id::pinned(here) : queue_id::local(here), since);
        }
        break;
    default:
        break;
    }
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
