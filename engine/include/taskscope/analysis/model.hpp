#pragma once
// The analysis model: the one place that turns the event stream into what people look at.
// The CLI's `stats` and `export`, the window's views and the tests all read it.
//
// Feed it events in the order a trace hub delivers them or a file holds them: ordered by
// time on each track, roughly ordered across tracks. It is single-threaded: one owner
// calls consume() and reads the results (the window does both on its GUI thread).
//
//     taskscope::analysis::model m;
//     m.set_names(reader.names());       // or m.use_process_names() when live
//     while (reader.next(chunk)) { m.consume(chunk); }
//     m.finish();
//     for (const auto& lane : m.lanes()) { ... lane.polls ... }

#include "taskscope/analysis/column.hpp"
#include "taskscope/analysis/resources.hpp"
#include "taskscope/trace/dropped_tally.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"
#include "taskscope/trace/worker_tracks.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace taskscope::analysis {

/// Index of a task in `model::tasks()`.
using task_ref = std::uint32_t;
inline constexpr task_ref no_task = std::numeric_limits<task_ref>::max();
inline constexpr std::uint64_t open_end = std::numeric_limits<std::uint64_t>::max();

/// One poll: a worker resumed a task until it suspended or finished.
struct poll_span {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = open_end; ///< open_end while the poll runs
    task_ref task = no_task;
    std::uint16_t lane = 0;
    trace::poll_result result = trace::poll_result::pending;
    std::uint8_t flags = 0; ///< poll_flags

    [[nodiscard]] std::uint64_t duration_ns(std::uint64_t now_ns) const noexcept {
        return (end_ns == open_end ? now_ns : end_ns) - begin_ns;
    }
};
static_assert(sizeof(poll_span) == 24);

namespace poll_flags {
inline constexpr std::uint8_t blocked = 1;   ///< the task blocked its thread during the poll
inline constexpr std::uint8_t woke_self = 2; ///< the task woke itself during the poll
inline constexpr std::uint8_t end_lost = 4;  ///< its end was not recorded (dropped, or the
                                             ///< recording stopped while it ran)
} // namespace poll_flags

/// A stretch of time with a subject on one lane: blocking, a pool job, a parked worker.
struct span {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = open_end;
    std::uint64_t subject = 0; ///< task id (blocks), job id (pool jobs), 0 (parking)
    std::uint64_t value = 0;   ///< intended ns (blocks), spawning task id (pool jobs)
    trace::name_id name = 0;   ///< pool jobs' names
};

/// Where a poll is: `model::lanes()[lane].polls[index]`.
struct poll_ref {
    std::uint32_t lane = 0;
    std::uint32_t index = std::numeric_limits<std::uint32_t>::max();
    [[nodiscard]] bool valid() const noexcept {
        return index != std::numeric_limits<std::uint32_t>::max();
    }
};

/// A waker call, linked to the poll it caused once that poll begins (for an arrow).
struct wake_link {
    std::uint64_t time_ns = 0;
    task_ref woken = no_task;
    task_ref waker = no_task; ///< no_task: a timer, the reactor, a thread outside
    std::uint16_t from_lane = 0;
    trace::wake_source source = trace::wake_source::task;
    poll_ref caused; ///< invalid until the woken task's next poll begins
};

/// Tasks moved from a victim's queue to a thief's.
struct steal_link {
    std::uint64_t time_ns = 0;
    std::uint16_t thief_lane = 0;
    std::uint16_t victim_lane = 0;
    std::uint32_t count = 0;
    task_ref first_task = no_task;
};

/// One HTTP request, as the server handled it or as the load generator saw it.
struct request_span {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = open_end;
    std::uint64_t request_id = 0;
    std::uint64_t bytes = 0;
    task_ref task = no_task; ///< no_task for a client task of another runtime
    trace::name_id route = 0;
    std::uint16_t status = 0;
    std::uint16_t lane = 0;        ///< where it began
    bool client = false;           ///< recorded by the load generator (latency as a client sees it)
    bool http2 = false;            ///< an HTTP/2 stream (request_id names connection and stream)
    std::uint16_t route_index = 0; ///< its route's place in model::routes()
    [[nodiscard]] bool finished() const noexcept { return end_ns != open_end; }
    /// An HTTP/2 request's connection (numbered by the side that recorded it); 0 for HTTP/1.1.
    [[nodiscard]] std::uint32_t connection() const noexcept {
        return http2 ? trace::http2_connection_of(request_id) : 0;
    }
    /// An HTTP/2 request's stream id; 0 for HTTP/1.1.
    [[nodiscard]] std::uint32_t stream() const noexcept {
        return http2 ? trace::http2_stream_of(request_id) : 0;
    }
    [[nodiscard]] std::uint64_t latency_ns() const noexcept { return end_ns - begin_ns; }
};
static_assert(sizeof(request_span) == 48); // route_index sits in what was padding

/// Something that happened at an instant on a lane: a timer fired, a socket became ready,
/// a marker was set.
struct instant {
    std::uint64_t time_ns = 0;
    std::uint64_t task = 0;  ///< the task woken (timers, I/O); 0 for markers
    std::uint64_t value = 0; ///< file descriptor (I/O), marker value
    trace::name_id name = 0; ///< marker name
    std::uint16_t lane = 0;
    trace::event_kind kind = trace::event_kind::marker;
};

/// "2.0 ms", "1.50 s", "12.3 us": a duration for people, with `decimals` digits.
[[nodiscard]] std::string format_duration(std::uint64_t ns, int decimals = 1);
/// "worker 0", "blocking pool 1", "outside thread 0": how every view names a thread.
[[nodiscard]] std::string track_label(trace::track_kind kind, std::uint32_t index);
/// "request 12", or "HTTP/2 connection 3, stream 5" when `http2` (then `request_id` packs
/// both, as trace::http2_request_id does): how every view names a request.
[[nodiscard]] std::string request_label(std::uint64_t request_id, bool http2);

enum class task_state : std::uint8_t { scheduled, running, idle, done, cancelled };
[[nodiscard]] std::string_view to_string(task_state s) noexcept;

/// A task's life so far. Scheduled = woken (or spawned) and waiting for a worker;
/// idle = pending and waiting for a waker; busy = inside polls.
struct task_info {
    std::uint64_t id = 0;
    std::uint64_t parent = 0;
    trace::name_id name = trace::default_task_name;
    task_state state = task_state::scheduled;
    bool woken_while_running = false;
    bool busy_poll_reported = false;
    std::uint64_t spawned_ns = 0;
    std::uint64_t ended_ns = open_end;
    std::uint64_t state_since_ns = 0;
    std::uint32_t polls = 0;
    std::uint32_t self_wake_polls = 0; ///< polls in which it woke itself (not by yielding)
    std::uint64_t busy_ns = 0;
    std::uint64_t scheduled_ns = 0;
    std::uint64_t idle_ns = 0;
    std::uint64_t longest_poll_ns = 0;
    std::array<std::uint32_t, 8> wakes{}; ///< by wake_source
    poll_ref open_poll;                   ///< the poll running now, if any
    std::uint32_t pending_wake = std::numeric_limits<std::uint32_t>::max(); ///< unlinked wake

    [[nodiscard]] std::uint32_t total_wakes() const noexcept;
    /// busy / scheduled / idle including the current state's time up to `now_ns`.
    [[nodiscard]] std::uint64_t busy_until(std::uint64_t now_ns) const noexcept;
    [[nodiscard]] std::uint64_t scheduled_until(std::uint64_t now_ns) const noexcept;
    [[nodiscard]] std::uint64_t idle_until(std::uint64_t now_ns) const noexcept;
};

/// What a thread was: a worker, a blocking-pool thread, or a thread outside the runtime.
struct lane {
    trace::track_kind kind = trace::track_kind::external;
    std::uint32_t index = 0; ///< index within its kind (worker 0, worker 1, ...)
    bool announced = false;  ///< a track_started event named it
    column<poll_span> polls;
    column<span> blocks;       ///< a task blocking this thread
    column<span> jobs;         ///< blocking-pool jobs run on this thread
    column<span> parked;       ///< the worker slept
    column<depth_point> depth; ///< its local run queue (workers)
    std::uint64_t busy_ns = 0; ///< closed polls' time
    std::uint64_t dropped = 0; ///< events this thread lost to a full buffer
    [[nodiscard]] std::string label() const;
};

enum class lint_kind : std::uint8_t {
    blocked_worker, ///< a poll that blocked its thread (sleep, lock, I/O) for long
    long_poll,      ///< a task that ran long without yielding (CPU-bound)
    busy_polling,   ///< a task that wakes itself on most polls
    // resources (schema 4)
    lock_held_across_await, ///< a lock held over a suspension for long
    long_resource_wait,     ///< a task waited on a channel, lock or notify for long
    channel_full,           ///< a bounded channel was full with senders waiting
    lagged_receiver,        ///< a broadcast receiver missed messages
};
inline constexpr std::size_t lint_kind_count = 7;
[[nodiscard]] std::string_view to_string(lint_kind k) noexcept;

struct lint {
    lint_kind kind;
    task_ref task = no_task;
    std::uint16_t lane = 0;
    std::uint64_t at_ns = 0;
    std::uint64_t duration_ns = 0; ///< the poll's (or the block's) length; 0 for busy polling;
                                   ///< the hold or wait; messages missed for a lagged receiver
    std::uint32_t resource = 0;    ///< the resource's id, for resource findings
};

struct model_options {
    std::uint64_t long_poll_ns = 10'000'000; ///< polls at least this long are findings
    std::uint32_t busy_poll_min_polls = 100; ///< busy polling needs this many polls ...
    double busy_poll_self_wake_ratio = 0.8;  ///< ... and this share woken by itself
    resource_options resources{};            ///< thresholds of the resource findings
};

/// Latency percentiles of finished requests (nearest rank).
struct latency_summary {
    std::uint64_t count = 0;
    std::uint64_t p50_ns = 0;
    std::uint64_t p90_ns = 0;
    std::uint64_t p99_ns = 0;
    std::uint64_t max_ns = 0;
};

/// Nearest-rank percentile of sorted values (0 for none). `q` in [0, 1].
[[nodiscard]] std::uint64_t percentile(std::span<const std::uint64_t> sorted, double q) noexcept;

class model {
public:
    explicit model(model_options options = {});

    /// Takes the next events (see the file comment for the order they may come in).
    void consume(std::span<const trace::event> events);
    /// Closes what is still open at the last event's time: the end of a file.
    void finish();

    /// Names for name ids: a file's table, or the process's while recording live.
    /// Names only grow: a longer table is taken to extend the one held (only its new
    /// tail is copied), a shorter one replaces it.
    void set_names(const std::vector<std::string>& names);
    void use_process_names();
    [[nodiscard]] std::string name(trace::name_id id) const;
    /// The names held, by id (what set_names() took, or the process's so far).
    [[nodiscard]] const std::vector<std::string>& names() const noexcept { return m_names; }
    /// "handle_connection#7"
    [[nodiscard]] std::string task_label(task_ref t) const;

    /// Keeps only what happened from `cut_ns` on (a live window's retention). Polls, spans,
    /// wakes, steals, requests (by their beginning), depths, reactor events, markers and
    /// findings from before it go, and so do tasks that ended before it; a task still
    /// alive then stays whenever it began. What stays keeps its index, so every reference
    /// between records holds; one to something let go finds nothing (task() is nullptr, a
    /// poll_ref below polls.first_kept()). Counters (event_count(), poll_count(), a task's
    /// totals) go on counting the whole run, and first_ns() stays the run's first event, so
    /// times shown since the start do not move.
    void forget_before(std::uint64_t cut_ns);
    /// Where the kept window starts: 0 until forget_before() let anything go.
    [[nodiscard]] std::uint64_t kept_from_ns() const noexcept { return m_kept_from_ns; }
    /// The largest index handed out in a table that records refer to by 32 bits (tasks,
    /// wakes, requests, a lane's polls). Forgetting does not lower it: a live window that
    /// runs for many hours starts a new model before it nears 2^32.
    [[nodiscard]] std::uint64_t largest_index() const noexcept;

    [[nodiscard]] const std::vector<lane>& lanes() const noexcept { return m_lanes; }
    /// Tasks first seen in the kept window, by task_ref from tasks().first_kept(); tasks
    /// from before it that were still alive then are task_rows()' first rows.
    [[nodiscard]] const column<task_info>& tasks() const noexcept { return m_tasks; }
    /// The task, or nullptr when it was let go (or never was).
    [[nodiscard]] const task_info* task(task_ref t) const noexcept;
    /// Every task kept, for a table: those from before the kept window still alive in it,
    /// then tasks() from its first kept one.
    [[nodiscard]] std::size_t task_rows() const noexcept {
        return m_survivor_refs.size() + m_tasks.kept();
    }
    [[nodiscard]] task_ref task_of_row(std::size_t row) const noexcept {
        return row < m_survivor_refs.size()
                   ? m_survivor_refs[row]
                   : static_cast<task_ref>(m_tasks.first_kept() + row - m_survivor_refs.size());
    }
    /// The row of task_rows() that is `t`, or task_rows() when it was let go.
    [[nodiscard]] std::size_t row_of_task(task_ref t) const noexcept;
    [[nodiscard]] task_ref find_task(std::uint64_t id) const noexcept;
    [[nodiscard]] const column<wake_link>& wakes() const noexcept { return m_wakes; }
    [[nodiscard]] const column<steal_link>& steals() const noexcept { return m_steals; }
    [[nodiscard]] const column<request_span>& requests() const noexcept { return m_requests; }
    /// The routes of the requests, in the order they first occurred (request_span's
    /// route_index counts in this list; the last slot also takes any routes beyond it).
    [[nodiscard]] const std::vector<trace::name_id>& routes() const noexcept { return m_routes; }
    [[nodiscard]] const column<depth_point>& global_depth() const noexcept {
        return m_global_depth;
    }
    [[nodiscard]] const column<lint>& lints() const noexcept { return m_lints; }
    /// Channels, locks, semaphores and notifies (schema 4 traces), with holds and waits.
    [[nodiscard]] const resource_table& resources() const noexcept { return m_resources; }
    /// "mutex 'log'": how every view names a resource.
    [[nodiscard]] std::string resource_label(std::uint32_t id) const;
    /// The resource behind wake `wake_index` (a channel-source wake), or 0.
    [[nodiscard]] std::uint32_t resource_of_wake(std::size_t wake_index) const noexcept;
    /// The deepest any run queue was (every worker's and the global one).
    [[nodiscard]] std::uint32_t max_depth() const noexcept { return m_max_depth; }
    /// timer_fired and io_ready: what the reactor and the timers did, in time order.
    [[nodiscard]] const column<instant>& reactor_events() const noexcept { return m_reactor; }
    [[nodiscard]] const column<instant>& markers() const noexcept { return m_markers; }
    /// "worker 0 blocked for 2.0 s in task handle_connection#7"
    [[nodiscard]] std::string describe(const lint& l) const;
    /// The lane of worker `index`, or -1 if no such worker was seen.
    [[nodiscard]] int worker_lane(std::uint32_t index) const noexcept;

    [[nodiscard]] std::uint64_t event_count() const noexcept { return m_events; }
    [[nodiscard]] std::uint64_t events_of(trace::event_kind k) const noexcept {
        return m_kind_counts[static_cast<std::size_t>(k)];
    }
    [[nodiscard]] std::uint64_t dropped() const noexcept;
    [[nodiscard]] std::uint64_t tasks_stolen() const noexcept;
    [[nodiscard]] std::uint64_t block_count() const noexcept;
    [[nodiscard]] std::uint64_t first_ns() const noexcept { return m_events ? m_first_ns : 0; }
    [[nodiscard]] std::uint64_t last_ns() const noexcept { return m_last_ns; }
    [[nodiscard]] std::uint64_t duration_ns() const noexcept { return last_ns() - first_ns(); }
    [[nodiscard]] std::uint64_t poll_count() const noexcept { return m_polls; }
    [[nodiscard]] std::array<std::uint64_t, 8> wakes_by_source() const noexcept;
    [[nodiscard]] std::uint64_t blocking_jobs() const noexcept;
    /// Latencies of finished requests: the client side's when the trace has any (what a
    /// user waited), otherwise the server's.
    [[nodiscard]] latency_summary request_latency() const;
    /// The latencies request_latency() summarises, ascending: one per finished request of
    /// the side it reports. Requests finished since the last call are merged in first
    /// (cost: sorting those, then one merge).
    [[nodiscard]] std::span<const std::uint64_t> request_latencies() const;
    /// Which side request_latency() reports: the client's once the trace has a client
    /// request.
    [[nodiscard]] bool has_client_requests() const noexcept { return m_client_requests > 0; }
    /// Whether any request came as an HTTP/2 stream (request_span::http2).
    [[nodiscard]] bool has_http2_requests() const noexcept { return m_http2_requests > 0; }
    /// Requests by index in blocks of this many, for views that skip what they have drawn.
    static constexpr std::size_t request_block_size = 32;
    /// When the last request of block `block` (requests [block * request_block_size, ...))
    /// ended; open_end while any of them is unanswered.
    [[nodiscard]] std::uint64_t request_block_end(std::size_t block) const noexcept {
        const request_block& b = m_request_blocks[block];
        return b.unanswered != 0 ? open_end : b.last_end_ns;
    }
    /// Indices [first, last) of requests() holding every request that began in
    /// [from_ns, to_ns]. Requests are kept in the order they began on each thread; threads
    /// interleave, so the range may also hold a few that began just outside.
    [[nodiscard]] std::pair<std::size_t, std::size_t> requests_beginning_in(double from_ns,
                                                                            double to_ns) const;
    /// The longest finished request so far (how far back a request in view may begin).
    [[nodiscard]] std::uint64_t longest_request_ns() const noexcept { return m_longest_request_ns; }
    /// Requests begun and not (yet) ended.
    [[nodiscard]] std::size_t open_request_count() const noexcept { return m_open_requests; }

private:
    void on_event(const trace::event& e);
    // One handler a kind (trace::dispatch calls them).
    template <typename Handler, typename View>
    friend void trace::detail::deliver(Handler&, const trace::event&, const View&);
    void on(const trace::event& e, const trace::track_started_view& v);
    void on(const trace::event& e, const trace::task_spawned_view& v);
    void on(const trace::event& e, const trace::poll_begin_view& v);
    void on(const trace::event& e, const trace::poll_end_view& v);
    void on(const trace::event& e, const trace::task_cancelled_view& v);
    void on(const trace::event& e, const trace::wake_view& v);
    void on(const trace::event& e, const trace::steal_view& v);
    void on(const trace::event& e, const trace::global_push_view& v);
    void on(const trace::event& e, const trace::global_pop_view& v);
    void on(const trace::event& e, const trace::queue_depth_view& v);
    void on(const trace::event& e, const trace::block_begin_view& v);
    void on(const trace::event& e, const trace::block_end_view& v);
    void on(const trace::event& e, const trace::blocking_job_begin_view& v);
    void on(const trace::event& e, const trace::blocking_job_end_view& v);
    void on(const trace::event& e, const trace::worker_park_view& v);
    void on(const trace::event& e, const trace::worker_unpark_view& v);
    void on(const trace::event& e, const trace::timer_fired_view& v);
    void on(const trace::event& e, const trace::io_ready_view& v);
    void on(const trace::event& e, const trace::request_begin_view& v);
    void on(const trace::event& e, const trace::request_end_view& v);
    void on(const trace::event& e, const trace::marker_view& v);
    void on(const trace::event& e, const trace::events_dropped_view& v);
    template <typename ResourceView>
    void on(const trace::event& e, const ResourceView& v) requires requires(resource_table& r) {
        r.on(e, v);
    }
    {
        m_resources.on(e, v);
        take_resource_findings();
    }
    void take_resource_findings();
    lane& lane_for(std::uint16_t track);
    task_ref task_for(std::uint64_t id, std::uint64_t seen_ns);
    task_info& task_at(task_ref t) noexcept;
    void forget_tasks_before(std::uint64_t cut_ns);
    void forget_requests_before(std::uint64_t cut_ns);
    void leave_state(task_info& t, std::uint64_t now_ns);
    /// Ends the lane's open poll at `at_ns`; `local_depth`, when the event said it.
    void end_poll(lane& l, std::uint16_t lane_index, std::uint64_t at_ns, trace::poll_result result,
                  std::optional<std::uint32_t> local_depth);
    void check_poll(const poll_span& p, std::uint16_t lane_index, std::uint64_t duration);
    /// The last span still open, whose end was lost, ends where the next one begins.
    static void close_lost_span(column<span>& spans, std::uint64_t now_ns);
    /// The last span, if still open, ends at `now_ns`.
    static void close_open_span(column<span>& spans, std::uint64_t now_ns);
    /// Adds a run-queue depth (add_depth_point) and notes the deepest.
    void record_depth(column<depth_point>& series, std::uint64_t time_ns, std::uint32_t depth);
    std::uint16_t route_index_of(trace::name_id route);
    static constexpr std::size_t max_routes = 0xFFFF;

    model_options m_options;
    std::vector<std::string> m_names;
    bool m_process_names = false;
    std::vector<lane> m_lanes;
    trace::worker_tracks m_workers; // worker index <-> track (a lane's index is its track)
    /// A value per key (task ids, task refs): keys from one counter fill a dense table from
    /// the first key seen; keys far outside it (a hand-made or damaged trace) go to a hash
    /// map. A million requests of a load generator in the same process cost no node
    /// allocated and freed per request.
    class slot_table {
    public:
        static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
        /// The slot of `key`, made (holding none) if it had none.
        std::uint32_t& slot(std::uint64_t key);
        /// The slot of `key` if it holds a value, else nullptr.
        [[nodiscard]] std::uint32_t* find(std::uint64_t key) noexcept;
        [[nodiscard]] std::uint32_t get(std::uint64_t key) const noexcept;
        /// Calls keep(value) once for every value held and drops those it says no to; the
        /// dense table then starts at `first_key` (earlier keys kept go to the hash map),
        /// or without one at the first key it still holds.
        template <typename Keep>
        void forget(std::optional<std::uint64_t> first_key, Keep keep);

    private:
        bool m_based = false;
        std::uint64_t m_base = 0;
        std::vector<std::uint32_t> m_dense;
        std::unordered_map<std::uint64_t, std::uint32_t> m_sparse;
    };
    column<task_info> m_tasks;
    // Tasks from before the kept window still alive in it, by ascending task_ref.
    std::vector<task_ref> m_survivor_refs;
    std::vector<task_info> m_survivors;
    slot_table m_task_refs; // task id -> task_ref
    std::uint64_t m_kept_from_ns = 0;
    column<wake_link> m_wakes;
    column<steal_link> m_steals;
    column<request_span> m_requests;
    struct request_block {
        std::uint64_t last_end_ns = 0;
        std::uint32_t unanswered = 0;
    };
    column<request_block> m_request_blocks;
    std::vector<trace::name_id> m_routes;
    std::unordered_map<trace::name_id, std::uint16_t> m_route_index;
    std::uint16_t m_last_route_index = 0;
    // The open request of each task (server side, client side), by task ref; client tasks
    // of another runtime (not in this trace) by their id.
    std::array<slot_table, 2> m_open_by_task;
    slot_table m_open_foreign;
    /// A task's request that was still open when the task began its next one, by
    /// superseded_key(): its end may yet arrive, later in the stream but earlier in time
    /// (the task moved to a worker whose buffer drained first).
    std::unordered_map<std::uint64_t, std::uint32_t> m_superseded;
    /// A task's open queued requests (request_begin_view::queued), oldest first, by
    /// superseded_key(): a queued end closes the front one.
    std::unordered_map<std::uint64_t, std::deque<std::uint32_t>> m_queued_open;
    std::size_t m_open_requests = 0;
    column<depth_point> m_global_depth;
    std::uint32_t m_max_depth = 0;
    column<lint> m_lints;
    resource_table m_resources;
    struct wake_resource {
        std::uint32_t wake;
        std::uint32_t resource;
    };
    column<wake_resource> m_wake_resources; // by wake index, ascending
    trace::dropped_tally m_dropped;
    column<instant> m_reactor;
    column<instant> m_markers;
    bool m_end_guessed = false; // closing a poll whose end was lost, at the next poll
    std::array<std::uint64_t, trace::event_kind_count> m_kind_counts{};
    std::uint64_t m_events = 0;
    std::uint64_t m_first_ns = 0;
    std::uint64_t m_last_ns = 0;
    std::uint64_t m_polls = 0;
    std::uint64_t m_client_requests = 0;
    std::uint64_t m_http2_requests = 0;
    std::uint64_t m_longest_request_ns = 0;
    // How far a request began before one stored ahead of it (threads interleave): the
    // slack that makes a binary search by begin time safe.
    std::uint64_t m_latest_request_begin_ns = 0;
    std::uint64_t m_request_disorder_ns = 0;
    // Finished requests' latencies by side (server, client): sorted, and those finished
    // since request_latencies() last merged them in.
    mutable std::array<std::vector<std::uint64_t>, 2> m_sorted_latencies;
    mutable std::array<std::vector<std::uint64_t>, 2> m_fresh_latencies;
};

} // namespace taskscope::analysis
