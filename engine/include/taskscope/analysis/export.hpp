#pragma once
// Exports for other tools: Chrome Trace Event JSON (Perfetto UI, chrome://tracing) and a
// CSV of requests (spreadsheets, pandas).

#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/dropped_tally.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "taskscope/trace/worker_tracks.hpp"

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace taskscope::analysis {

/// Writes Chrome Trace Event JSON as events stream in, holding only what is open (running
/// polls, pending wakes, live tasks' names), so ten million events need no more memory
/// than ten thousand. One thread track per worker, a "reactor & timers" track, one per
/// blocking-pool thread; poll slices named by task; blocking spans nested in their polls;
/// wake and steal flow arrows; a queue-depth counter per worker and for the global queue;
/// HTTP requests as async slices; markers as instants.
///
///     taskscope::analysis::chrome_trace_writer out(stream, reader.info());
///     while (reader.next(chunk)) { out.consume(chunk, reader.names()); }
///     out.finish();
class chrome_trace_writer {
public:
    chrome_trace_writer(std::ostream& out, const trace::run_info& info);
    /// `names` is the name table valid for these events (it may grow between calls).
    void consume(std::span<const trace::event> events, const std::vector<std::string>& names);
    /// Closes open slices at the last event's time and ends the JSON document.
    void finish();
    [[nodiscard]] std::uint64_t records_written() const noexcept { return m_records; }

private:
    struct open_poll {
        std::uint64_t begin_ns = 0;
        std::uint64_t task = 0;
        bool open = false;
    };
    struct pending_wake {
        std::uint64_t time_ns;
        std::uint32_t tid;
        bool in_poll;
    };
    struct open_request {
        std::uint64_t id;
        trace::name_id route;
        bool client;
        std::uint32_t tid;
        std::uint64_t begin_ns;
        std::uint64_t superseded_ns = 0; ///< when the task's next request began
    };
    struct track {
        trace::track_kind kind = trace::track_kind::external;
        std::uint32_t index = 0;
        bool named = false;
        open_poll poll;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks; // begin ns, intended ns
        std::vector<std::pair<std::uint64_t, std::uint64_t>> jobs;   // begin ns, job name id
        std::int64_t depth = -1;
    };

    struct last_poll {
        std::uint64_t begin_ns;
        std::uint32_t tid;
        bool linked; ///< a wake arrow already ends at it
    };

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
    void on(const trace::event& e, const trace::timer_fired_view& v);
    void on(const trace::event& e, const trace::io_ready_view& v);
    void on(const trace::event& e, const trace::request_begin_view& v);
    void on(const trace::event& e, const trace::request_end_view& v);
    void on(const trace::event& e, const trace::marker_view& v);
    void on(const trace::event& e, const trace::events_dropped_view& v);
    // Resources: a counter track of depth and one of waiters each; holds as slices on a
    // track of their own.
    void on(const trace::event& e, const trace::resource_created_view& v);
    void on(const trace::event& e, const trace::resource_wait_view& v);
    void on(const trace::event& e, const trace::resource_ready_view& v);
    void on(const trace::event& e, const trace::resource_depth_view& v);
    void on(const trace::event& e, const trace::resource_released_view& v);
    void on(const trace::event& e, const trace::resource_lagged_view& v);
    struct resource_track {
        std::string label;      ///< "mutex 'log'" (unquoted)
        std::string depth_name; ///< its counters' names, quoted for JSON
        std::string waiters_name;
        std::uint32_t waiters = 0;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> holds; ///< (task, since)
        bool named = false;
    };
    resource_track& resource_of(std::uint32_t id);
    static void set_label(resource_track& r, std::string label);
    void begin_hold(std::uint32_t id, std::uint64_t task, std::uint64_t now);
    /// A worker's local queue depth as a counter, when it changed.
    void worker_depth(track& t, std::uint64_t now, std::uint32_t depth);
    /// The global queue's depth as a counter, when it changed.
    void global_depth(std::uint64_t now, std::uint32_t depth);
    /// An instant on the reactor's own track.
    void reactor_instant(std::uint64_t now, const char* name, std::uint64_t task);
    void end_poll_slice(track& t, std::uint32_t tid, std::uint64_t end_ns,
                        const std::string& args_json);
    void close_lost_spans(track& t, std::uint32_t tid, std::uint64_t now);
    void wake_arrow(const pending_wake& w, std::uint64_t task, std::uint32_t poll_tid,
                    std::uint64_t poll_begin_ns);
    void end_request(const open_request& r, std::uint32_t tid, std::uint64_t end_ns,
                     const std::string& args_json);
    void forget_task(std::uint64_t task);
    track& track_of(std::uint16_t id);
    void name_track(std::uint16_t id, track& t);
    void begin_record();
    void write_ts(std::uint64_t ns);
    const std::string& quoted_name(trace::name_id id);
    std::string task_label(std::uint64_t task);
    void complete_slice(std::uint32_t tid, std::uint64_t begin_ns, std::uint64_t end_ns,
                        const std::string& quoted_name, const char* category,
                        const std::string& args_json);
    void flow(char phase, std::uint64_t id, std::uint32_t tid, std::uint64_t ns, const char* name);
    void counter(const std::string& quoted_name, std::uint64_t ns, std::uint64_t value);

    std::ostream& m_out;
    const std::vector<std::string>* m_names = nullptr;
    std::unordered_map<trace::name_id, std::string> m_quoted;
    std::vector<track> m_tracks;
    trace::worker_tracks m_workers;
    std::unordered_map<std::uint64_t, trace::name_id> m_task_names;
    std::unordered_map<std::uint64_t, pending_wake> m_pending_wakes;
    std::unordered_map<std::uint64_t, open_request> m_open_requests;
    /// By task: its request that was open when it began the next; the end may arrive
    /// later in the stream but earlier in time (the task moved between workers).
    std::unordered_map<std::uint64_t, open_request> m_superseded_requests;
    std::unordered_map<std::uint64_t, std::deque<open_request>> m_queued_requests; // oldest first
    std::unordered_map<std::uint32_t, resource_track> m_resources;
    std::unordered_map<std::uint64_t, last_poll> m_last_polls; // live tasks' latest poll
    std::int64_t m_global_depth = -1;
    std::uint64_t m_next_flow = 1;
    std::uint64_t m_last_ns = 0;
    std::uint64_t m_records = 0;
    trace::dropped_tally m_dropped;
    bool m_finished = false;
};

/// Writes one row per finished request, in start order:
/// start_ns,latency_ns,route,status,worker,side,bytes,request_id,protocol,connection,stream
/// (start_ns counts from the trace's first event; worker is the lane that began it; an
/// HTTP/1.1 row has protocol http/1.1 and a request id, an HTTP/2 row protocol h2, its
/// connection and its stream instead).
void write_requests_csv(const model& m, std::ostream& out);

} // namespace taskscope::analysis
