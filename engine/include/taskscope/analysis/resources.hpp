#pragma once
// Resources: the channels, locks, semaphores and notifies a trace names (schema 4), with
// who held them, who waited and for how long. The model feeds it; the window's Resources
// tab, the timeline's resource rows and the findings read it.

#include "taskscope/analysis/column.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"

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

/// A resource's depth (queued messages, permits held, a broadcast's slowest backlog).
struct resource_depth_point {
    std::uint64_t time_ns = 0;
    std::uint64_t depth = 0;
};

struct resource_info {
    std::uint32_t id = 0;
    trace::resource_kind kind = trace::resource_kind::mpsc;
    trace::name_id name = 0;
    std::uint32_t capacity = trace::unbounded_capacity;
    std::uint64_t creator = 0; ///< task id; 0: outside any task
    bool announced = false;    ///< its resource_created was seen
    bool closed = false;
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
    bool reported_full = false;                  ///< the channel_full finding was made

    column<resource_depth_point> depths;
    column<hold_span> holds;
    column<wait_span> waits;

    /// The task holding it now (a mutex), or 0.
    [[nodiscard]] std::uint64_t holder_now() const noexcept;
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

    /// Findings since the last call (the model moves them into its findings).
    std::vector<resource_finding> take_findings() { return std::exchange(m_findings, {}); }

private:
    resource_info& resource(std::uint32_t id, std::uint64_t seen_ns);
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
    std::unordered_map<std::uint64_t, open_wait> m_open_waits; // by task: one wait at a time
    struct last_ready {
        std::uint64_t task = 0;
        std::uint32_t resource = 0;
    };
    std::vector<last_ready> m_ready_by_track;
    std::vector<resource_finding> m_findings;
};

[[nodiscard]] std::string_view to_string(resource_finding::kind k) noexcept;

} // namespace taskscope::analysis
