#pragma once
// Which tasks wait in which run queue, and which task each worker is polling, rebuilt from
// the events alone. Feed it events in trace order; ask at any moment. The window's queue
// strip reads one fed with the live stream; replay feeds one up to the playhead.
//
// The rules follow the scheduler (engine/src/runtime.cpp): a wake or spawn event names the
// queue it put the task in (schema 3); a poll_begin takes the task out of whatever queue it
// is in; a steal moves the victim's oldest tasks to the thief; an overflow on a worker's
// track moves its oldest tasks and the newest to the global queue; a task woken while it
// runs goes to the back of its worker's queue when the poll ends. A trace of schema 2 has
// no queue names: `knows_queues()` stays false and only the polled tasks are known.

#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/worker_tracks.hpp"

#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <vector>

namespace taskscope::analysis {

/// A run queue: the global one, or a worker's local queue, LIFO slot or pinned queue.
struct queue_id {
    trace::queue_kind kind = trace::queue_kind::global;
    std::uint32_t worker = 0; ///< ignored for the global queue

    [[nodiscard]] static queue_id global() noexcept { return {}; }
    [[nodiscard]] static queue_id local(std::uint32_t w) noexcept {
        return {trace::queue_kind::local, w};
    }
    [[nodiscard]] static queue_id lifo(std::uint32_t w) noexcept {
        return {trace::queue_kind::lifo, w};
    }
    [[nodiscard]] static queue_id pinned(std::uint32_t w) noexcept {
        return {trace::queue_kind::pinned, w};
    }
};

/// A task waiting in a queue, and since when it has been runnable.
struct queued_task {
    std::uint64_t task = 0;
    std::uint64_t since_ns = 0;
};

class queue_tracker {
public:
    void apply(const trace::event& e);
    void consume(std::span<const trace::event> events) {
        for (const trace::event& e : events) {
            apply(e);
        }
    }
    /// Forget everything (a new live run); the schema set stays.
    void clear();
    /// The schema of the events to come: from trace::first_schema_with_queues on the
    /// queues are known from the start, before any task has been queued.
    void set_schema(std::uint32_t schema) noexcept;

    /// Whether the events say which queue a task waits in: the schema says so, or an
    /// event named a queue (schema 2 traces never do).
    [[nodiscard]] bool knows_queues() const noexcept { return m_knows_queues; }
    /// Worker indices seen so far are 0..workers()-1.
    [[nodiscard]] std::uint32_t workers() const noexcept {
        return static_cast<std::uint32_t>(m_running.size());
    }
    /// The task worker `w` is polling, 0 when it polls nothing.
    [[nodiscard]] std::uint64_t running(std::uint32_t w) const noexcept {
        return w < m_running.size() ? m_running[w].task : 0;
    }
    /// When that poll began.
    [[nodiscard]] std::uint64_t running_since(std::uint32_t w) const noexcept {
        return w < m_running.size() ? m_running[w].since_ns : 0;
    }
    /// How many tasks wait in `q`.
    [[nodiscard]] std::size_t size(queue_id q) const noexcept;
    /// The first `limit` tasks waiting in `q`, the next to run first.
    [[nodiscard]] std::vector<queued_task> contents(queue_id q, std::size_t limit) const;
    /// The queue `task` waits in; false if it waits in none (running, idle, done).
    [[nodiscard]] bool find(std::uint64_t task, queue_id& where) const;
    /// Tasks waiting in all queues together.
    [[nodiscard]] std::size_t total_queued() const noexcept { return m_total; }

private:
    static constexpr std::uint32_t nowhere = 0xFFFF'FFFFu;

    struct entry {
        std::uint64_t task;
        std::uint64_t since_ns;
        std::uint64_t seq;
    };
    struct queue {
        std::deque<entry> entries; // oldest first; entries whose task moved on are stale
        std::size_t size = 0;      // entries that are not stale
    };
    struct task_place {
        std::uint32_t queue = nowhere;  // index into m_queues
        std::uint64_t seq = 0;          // of its entry there
        std::uint32_t worker = nowhere; // the worker of its current or last poll
        bool running = false;
        bool requeue_after_poll = false;
        bool pinned = false;
    };
    struct running_poll {
        std::uint64_t task = 0;
        std::uint64_t since_ns = 0;
    };

    // One handler a kind (trace::dispatch calls them).
    template <typename Handler, typename View>
    friend void trace::detail::deliver(Handler&, const trace::event&, const View&);
    void on(const trace::event& e, const trace::track_started_view& v);
    void on(const trace::event& e, const trace::task_spawned_view& v);
    void on(const trace::event& e, const trace::wake_view& v);
    void on(const trace::event& e, const trace::poll_begin_view& v);
    void on(const trace::event& e, const trace::poll_end_view& v);
    void on(const trace::event& e, const trace::task_cancelled_view& v);
    void on(const trace::event& e, const trace::steal_view& v);
    void on(const trace::event& e, const trace::global_push_view& v);
    void on(const trace::event& e, const trace::global_pop_view& v);
    void on(const trace::event& e, const trace::queue_depth_view& v);

    [[nodiscard]] std::uint32_t queue_index(queue_id q) const noexcept;
    std::uint32_t queue_index_growing(queue_id q);
    [[nodiscard]] std::uint32_t worker_of_track(std::uint16_t track) const noexcept;
    void note_worker(std::uint32_t w);
    [[nodiscard]] bool is_current(const entry& e, std::uint32_t index) const;
    void enqueue(std::uint64_t task, queue_id q, std::uint64_t since_ns);
    void enqueue_lifo(std::uint64_t task, std::uint32_t w, std::uint64_t now_ns);
    void remove(std::uint64_t task);
    void forget(std::uint64_t task);
    /// Takes up to `n` tasks from the front of queue `from`, oldest first.
    std::vector<entry> take_oldest(std::uint32_t from, std::size_t n);
    /// Takes the newest task of queue `from`, if any.
    bool take_newest(std::uint32_t from, entry& out);
    void drop_stale_front(queue& q, std::uint32_t index);

    std::vector<queue> m_queues; // 0 = global, then 3 a worker: local, lifo, pinned
    std::unordered_map<std::uint64_t, task_place> m_tasks;
    trace::worker_tracks m_workers;
    std::vector<running_poll> m_running;
    std::uint64_t m_next_seq = 1;
    std::size_t m_total = 0;
    bool m_knows_queues = false;
    bool m_schema_names_queues = false;
};

} // namespace taskscope::analysis
