#pragma once
// Resources: the channels, locks, semaphores and notifies a trace names (schema 4), with
// who held them, who waited and for how long. The model feeds it; the window's Resources
// tab, the timeline's resource rows and the findings read it.

#include "taskscope/analysis/column.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace taskscope::analysis {

inline constexpr std::uint64_t resource_open_end = std::numeric_limits<std::uint64_t>::max();

/// A task holding a mutex or semaphore permits: from its acquisition to its release.
struct hold_span {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = resource_open_end;
    std::uint64_t task = 0;
    bool across_await = false; ///< the holder suspended while holding it
};

/// A task waiting on a resource: from resource_wait to resource_ready (or its end).
struct wait_span {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = resource_open_end;
    std::uint64_t task = 0;
    std::uint64_t holder = 0; ///< a mutex's holder when the wait began (0: unknown)
    trace::resource_op op = trace::resource_op::recv;
};

/// A depth at a moment: a run queue's, a resource's (queued messages, permits held, a
/// broadcast's slowest backlog), the tasks waiting on a resource.
struct depth_point {
    std::uint64_t time_ns;
    std::uint32_t depth;
};

/// How far back a late record (an event from another thread, delivered after later ones) is
/// put in its place in a series kept in time order. Views that summarise a series treat
/// everything before its last `late_window` records as final.
inline constexpr std::size_t late_window = 256;

/// Where a record of time `time_ns` goes in `series`, ordered by `time_of(record)`: after
/// every record of that time or earlier. Only the last late_window records are searched, so
/// a damaged file cannot make appending quadratic; nullopt when the record is older than
/// all of them.
template <typename T, typename TimeOf>
[[nodiscard]] std::optional<std::size_t> time_order_slot(const column<T>& series,
                                                         std::uint64_t time_ns, TimeOf time_of) {
    if (series.empty() || time_of(series.back()) <= time_ns) {
        return series.size();
    }
    const auto window = std::min<std::size_t>(series.kept(), late_window);
    const auto from = series.end() - static_cast<std::ptrdiff_t>(window);
    if (time_of(*from) > time_ns && from != series.begin()) {
        return std::nullopt;
    }
    const auto at = std::upper_bound(from, series.end(), time_ns,
                                     [&](std::uint64_t t, const T& r) { return t < time_of(r); });
    return at.index();
}

/// The first index of `records` (in time order by `time_of`, or nearly) at or after
/// `cut_ns`: where a series that keeps only what happened from `cut_ns` on starts.
template <typename T, typename TimeOf>
[[nodiscard]] std::size_t first_from(const column<T>& records, std::uint64_t cut_ns,
                                     TimeOf time_of) {
    return std::partition_point(records.begin(), records.end(),
                                [&](const T& r) { return time_of(r) < cut_ns; })
        .index();
}

/// The first index of `records` that `gone` says no to (it says yes to a prefix).
template <typename T, typename Gone>
[[nodiscard]] std::size_t first_not(const column<T>& records, Gone gone) {
    return std::partition_point(records.begin(), records.end(), gone).index();
}

/// Lets go of a depth series' points before `cut_ns`, except the last of them: the level
/// where the kept window starts.
void forget_depths_before(column<depth_point>& series, std::uint64_t cut_ns);

/// The record at `index` of `records`, or nullptr when it was let go.
template <typename T>
[[nodiscard]] T* kept_record(column<T>& records, std::size_t index) noexcept {
    return index >= records.first_kept() && index < records.size() ? &records[index] : nullptr;
}

/// Adds a depth to a series kept in time order (see time_order_slot; a point too late is
/// dropped). A point that repeats the last one's depth is not stored: the level holds anyway.
void add_depth_point(column<depth_point>& series, std::uint64_t time_ns, std::uint32_t depth);

/// A broadcast receiver found it had missed messages (resource_lagged): when, who, how many,
/// and the thread whose poll found out (a lane of the model).
struct lag_mark {
    std::uint64_t time_ns = 0;
    std::uint64_t task = 0; ///< the receiving task's id
    std::uint64_t missed = 0;
    std::uint16_t track = 0;
};

struct resource_info {
    std::uint32_t id = 0;
    trace::resource_kind kind = trace::resource_kind::mpsc;
    trace::name_id name = 0;
    std::uint32_t capacity = trace::unbounded_capacity;
    std::uint64_t creator = 0; ///< task id; 0: outside any task
    bool announced = false;    ///< its resource_created was seen
    bool closed = false;
    std::uint64_t closed_ns = 0; ///< when it closed (its first resource_closed), if closed
    std::uint64_t first_ns = 0;

    std::uint64_t depth = 0;     ///< now
    std::uint64_t max_depth = 0; ///< the most it reached
    std::uint32_t waiters_now = 0;
    std::uint64_t total_waits = 0;
    std::uint64_t total_wait_ns = 0;   ///< of finished waits
    std::uint64_t longest_wait_ns = 0; ///< of finished waits
    std::uint64_t lag_events = 0;
    std::uint64_t messages_missed = 0;
    std::vector<std::uint64_t> lagged_receivers; ///< task ids, each once
    column<lag_mark> lags;                       ///< each lag, in time order
    bool reported_full = false;                  ///< the channel_full finding was made

    column<depth_point> depths;  ///< in time order
    column<depth_point> waiters; ///< tasks waiting on it, after each change; in time order
    column<hold_span> holds;     ///< in order of their beginning
    /// In the order their events arrived: by begin time, except that one may begin up to
    /// wait_disorder_ns before one stored ahead of it (threads interleave).
    column<wait_span> waits;
    std::uint64_t wait_disorder_ns = 0;
    std::uint64_t latest_wait_begin_ns = 0;

    std::uint64_t longest_hold_ns = 0; ///< of finished holds

    /// The task holding it now (a mutex), or 0.
    [[nodiscard]] std::uint64_t holder_now() const noexcept;
    /// Indices [first, last) of `waits` holding every wait that began in [from_ns, to_ns]
    /// (and perhaps a few that began just outside): a binary search by begin time.
    [[nodiscard]] std::pair<std::size_t, std::size_t> waits_beginning_in(std::uint64_t from_ns,
                                                                         std::uint64_t to_ns) const;
    /// Indices [first, last) of `holds` holding every hold that overlaps [from_ns, to_ns]
    /// (and perhaps a few finished before it).
    [[nodiscard]] std::pair<std::size_t, std::size_t> holds_overlapping(std::uint64_t from_ns,
                                                                        std::uint64_t to_ns) const;
};

/// A wait of the resource table: `find(resource)->waits[index]`.
struct wait_ref {
    std::uint32_t resource = 0;
    std::size_t index = 0;
};

/// What the resource table found worth a finding.
struct resource_finding {
    enum class kind : std::uint8_t {
        held_across_await, ///< a lock held over a suspension for longer than the threshold
        long_wait,         ///< a task waited on a resource longer than the threshold
        channel_full,      ///< a bounded channel was full with senders waiting (first time)
        lagged_receiver,   ///< a broadcast receiver missed messages (first time per receiver)
    };
    kind what;
    std::uint32_t resource = 0;
    std::uint64_t task = 0;
    std::uint64_t at_ns = 0;
    std::uint64_t duration_ns = 0; ///< hold or wait; messages missed for a lag
};

struct resource_options {
    std::uint64_t long_hold_ns = 10'000'000; ///< holds across an await this long are findings
    std::uint64_t long_wait_ns = 50'000'000; ///< waits this long are findings
};

class resource_table {
public:
    explicit resource_table(resource_options options = {}) : m_options(options) {}

    /// The resources in the order they were first seen.
    [[nodiscard]] const std::vector<resource_info>& all() const noexcept { return m_resources; }
    [[nodiscard]] const resource_info* find(std::uint32_t id) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return m_resources.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_resources.empty(); }

    /// The resource whose resource_ready was the last event on `track` for `task`: the
    /// resource behind a channel wake that follows it. 0: none.
    [[nodiscard]] std::uint32_t resource_behind_wake(std::uint16_t track,
                                                     std::uint64_t task) const noexcept;
    /// The first wait of task `task` (an id) that began in [from_ns, to_ns], on any
    /// resource: what a poll that ended pending went on to wait for. Bounded: a binary
    /// search a resource, then at most `max_scanned` of its waits.
    [[nodiscard]] std::optional<wait_ref> wait_begun_by(std::uint64_t task, std::uint64_t from_ns,
                                                        std::uint64_t to_ns,
                                                        std::size_t max_scanned = 4096) const;

    void on(const trace::event& e, const trace::resource_created_view& v);
    void on(const trace::event& e, const trace::resource_wait_view& v);
    void on(const trace::event& e, const trace::resource_ready_view& v);
    void on(const trace::event& e, const trace::resource_depth_view& v);
    void on(const trace::event& e, const trace::resource_released_view& v);
    void on(const trace::event& e, const trace::resource_lagged_view& v);
    void on(const trace::event& e, const trace::resource_closed_view& v);
    /// Any other event on `track`: a later wake there is no longer the resource's.
    void forget_ready(std::uint16_t track) noexcept;
    /// The task suspended (a pending poll end): its locks are now held across an await.
    void task_suspended(std::uint64_t task) noexcept;
    /// The task is gone (finished or cancelled): its waits and holds end now.
    void task_ended(std::uint64_t task, std::uint64_t at_ns);
    /// Closes what is still open at `end_ns` (the end of a file).
    void finish(std::uint64_t end_ns);
    /// Keeps only what happened from `cut_ns` on (model::forget_before): depths, lags,
    /// holds and waits from before it go. A wait or hold still open then stays open (its
    /// end is still counted) though its record is gone.
    void forget_before(std::uint64_t cut_ns);

    /// Findings since the last call (the model moves them into its findings).
    std::vector<resource_finding> take_findings() { return std::exchange(m_findings, {}); }

private:
    resource_info& resource(std::uint32_t id, std::uint64_t seen_ns);
    /// Stores a hold in begin order; an open hold's index moves up with a late insert.
    void add_hold(resource_info& r, std::uint64_t at_ns, std::uint64_t task);
    void count_waiters(resource_info& r, std::uint64_t at_ns);
    void end_hold(resource_info& r, std::uint64_t task, std::uint64_t at_ns);
    void check_hold(const resource_info& r, const hold_span& h);

    resource_options m_options;
    std::vector<resource_info> m_resources;
    std::unordered_map<std::uint32_t, std::uint32_t> m_index; // id -> place in m_resources
    struct open_hold {
        std::uint32_t resource;
        std::uint32_t hold;
        std::uint64_t task;
    };
    std::vector<open_hold> m_open_holds; // few at a time: every lock held now
    struct open_wait {
        std::uint32_t resource;
        std::uint32_t wait;
    };
    // One wait at a time per task; threads outside any task (task 0) by their track.
    std::unordered_map<std::uint64_t, open_wait> m_open_waits;
    [[nodiscard]] static std::uint64_t open_wait_key(std::uint64_t task,
                                                     std::uint16_t track) noexcept {
        return task != 0 ? task : (std::uint64_t{1} << 63) | track;
    }
    struct last_ready {
        std::uint64_t task = 0;
        std::uint32_t resource = 0;
    };
    std::vector<last_ready> m_ready_by_track;
    std::vector<resource_finding> m_findings;
};

[[nodiscard]] std::string_view to_string(resource_finding::kind k) noexcept;

} // namespace taskscope::analysis
