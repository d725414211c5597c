#include "taskscope/analysis/model.hpp"

#include "taskscope/trace/event_types.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace taskscope::analysis {

using trace::event;
using trace::event_kind;

namespace {

constexpr std::uint32_t none32 = std::numeric_limits<std::uint32_t>::max();

/// A task's requests of one side: client and server requests of one task stay apart.
constexpr std::uint64_t superseded_key(bool client, std::uint64_t task) noexcept {
    return (task << 1) | (client ? 1u : 0u);
}

/// The earliest poll of `task` that began after `after_ns`. Each lane's polls are in time
/// order, so only the polls after `after_ns` at each lane's end are looked at.
poll_ref first_poll_after(const std::vector<lane>& lanes, task_ref task, std::uint64_t after_ns) {
    poll_ref found;
    std::uint64_t found_begin = open_end;
    for (std::size_t li = 0; li < lanes.size(); ++li) {
        const auto& polls = lanes[li].polls;
        // A late wake is at most a drain interval late; a bounded look-back keeps a
        // damaged file (wakes far in the past) from costing quadratic time.
        const std::size_t stop =
            std::max(polls.size() > 256 ? polls.size() - 256 : 0, polls.first_kept());
        for (std::size_t i = polls.size(); i > stop && polls[i - 1].begin_ns > after_ns; --i) {
            if (polls[i - 1].task == task && polls[i - 1].begin_ns < found_begin) {
                found_begin = polls[i - 1].begin_ns;
                found = {static_cast<std::uint32_t>(li), static_cast<std::uint32_t>(i - 1)};
            }
        }
    }
    return found;
}

/// Sorts `values` ascending: an LSD radix sort by bytes that skips the bytes all values
/// share (latencies fit in three or four). Linear
/// where std::sort of 1.5 million latencies took a tenth of a second or more.
void radix_sort(std::vector<std::uint64_t>& values) {
    if (values.size() < 256) {
        std::sort(values.begin(), values.end());
        return;
    }
    constexpr std::size_t digits = sizeof(std::uint64_t);
    std::vector<std::array<std::uint32_t, 256>> counts(digits);
    for (const std::uint64_t v : values) {
        for (std::size_t d = 0; d < digits; ++d) {
            ++counts[d][(v >> (8 * d)) & 0xFF];
        }
    }
    std::vector<std::uint64_t> scratch(values.size());
    for (std::size_t d = 0; d < digits; ++d) {
        auto& count = counts[d];
        if (std::any_of(count.begin(), count.end(),
                        [&](std::uint32_t c) { return c == values.size(); })) {
            continue; // every value has the same byte here
        }
        std::uint32_t offset = 0;
        for (std::uint32_t& c : count) {
            offset += std::exchange(c, offset);
        }
        for (const std::uint64_t v : values) {
            scratch[count[(v >> (8 * d)) & 0xFF]++] = v;
        }
        values.swap(scratch);
    }
}

} // namespace

std::string format_duration(std::uint64_t ns, int decimals) {
    char buf[48];
    const double v = static_cast<double>(ns);
    const int d = std::clamp(decimals, 0, 6);
    if (ns >= 1'000'000'000) {
        std::snprintf(buf, sizeof buf, "%.*f s", d, v / 1e9);
    } else if (ns >= 1'000'000) {
        std::snprintf(buf, sizeof buf, "%.*f ms", d, v / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.*f \u00b5s", d, v / 1e3); // UTF-8 micro sign
    }
    return buf;
}

std::string track_label(trace::track_kind kind, std::uint32_t index) {
    switch (kind) {
    case trace::track_kind::worker:
        return "worker " + std::to_string(index);
    case trace::track_kind::driver:
        return "driver " + std::to_string(index);
    case trace::track_kind::blocking:
        return "blocking pool " + std::to_string(index);
    case trace::track_kind::external:
        return "outside thread " + std::to_string(index);
    case trace::track_kind::executor:
        return "own executor " + std::to_string(index);
    }
    return "thread " + std::to_string(index);
}

std::string request_label(std::uint64_t request_id, bool http2) {
    if (!http2) {
        return "request " + std::to_string(request_id);
    }
    return "HTTP/2 connection " + std::to_string(trace::http2_connection_of(request_id)) +
           ", stream " + std::to_string(trace::http2_stream_of(request_id));
}

std::string_view to_string(task_state s) noexcept {
    switch (s) {
    case task_state::scheduled:
        return "scheduled";
    case task_state::running:
        return "running";
    case task_state::idle:
        return "idle";
    case task_state::done:
        return "done";
    case task_state::cancelled:
        return "cancelled";
    }
    return "unknown";
}

std::string_view to_string(lint_kind k) noexcept {
    switch (k) {
    case lint_kind::blocked_worker:
        return "blocked_worker";
    case lint_kind::long_poll:
        return "long_poll";
    case lint_kind::busy_polling:
        return "busy_polling";
    case lint_kind::lock_held_across_await:
        return "lock_held_across_await";
    case lint_kind::long_resource_wait:
        return "long_resource_wait";
    case lint_kind::channel_full:
        return "channel_full";
    case lint_kind::lagged_receiver:
        return "lagged_receiver";
    }
    return "unknown";
}

std::uint64_t percentile(std::span<const std::uint64_t> sorted, double q) noexcept {
    if (sorted.empty()) {
        return 0;
    }
    // Nearest rank: the smallest value with at least q of the values at or below it.
    const double rank = std::ceil(q * static_cast<double>(sorted.size()));
    const std::size_t index =
        rank < 1 ? 0 : std::min(sorted.size() - 1, static_cast<std::size_t>(rank) - 1);
    return sorted[index];
}

std::uint32_t task_info::total_wakes() const noexcept {
    std::uint32_t n = 0;
    for (std::uint32_t w : wakes) {
        n += w;
    }
    return n;
}

std::uint64_t task_info::busy_until(std::uint64_t now_ns) const noexcept {
    return busy_ns +
           (state == task_state::running && now_ns > state_since_ns ? now_ns - state_since_ns : 0);
}
std::uint64_t task_info::scheduled_until(std::uint64_t now_ns) const noexcept {
    return scheduled_ns + (state == task_state::scheduled && now_ns > state_since_ns
                               ? now_ns - state_since_ns
                               : 0);
}
std::uint64_t task_info::idle_until(std::uint64_t now_ns) const noexcept {
    return idle_ns +
           (state == task_state::idle && now_ns > state_since_ns ? now_ns - state_since_ns : 0);
}

std::string lane::label() const {
    return track_label(kind, index);
}
model::model(model_options options) : m_options(options) {}

void model::set_names(const std::vector<std::string>& names) {
    // Name tables only grow (ids are never reused), so only the new tail is copied.
    m_process_names = false;
    if (names.size() < m_names.size()) {
        m_names = names;
        return;
    }
    m_names.insert(m_names.end(), names.begin() + static_cast<std::ptrdiff_t>(m_names.size()),
                   names.end());
}

void model::use_process_names() {
    m_process_names = true;
    m_names = trace::all_names();
}

std::string model::name(trace::name_id id) const {
    if (id < m_names.size()) {
        return m_names[id];
    }
    if (m_process_names) {
        return trace::name_of(id);
    }
    return id == trace::default_task_name ? "task" : "name#" + std::to_string(id);
}

std::string model::task_label(task_ref t) const {
    const task_info* info = task(t);
    if (info == nullptr) {
        return t < m_tasks.size() ? "an earlier task" : "none"; // let go, or never was
    }
    return name(info->name) + '#' + std::to_string(info->id);
}

const task_info* model::task(task_ref t) const noexcept {
    if (t == no_task || t >= m_tasks.size()) {
        return nullptr;
    }
    if (t >= m_tasks.first_kept()) {
        return &m_tasks[t];
    }
    const auto it = std::lower_bound(m_survivor_refs.begin(), m_survivor_refs.end(), t);
    return it != m_survivor_refs.end() && *it == t
               ? &m_survivors[static_cast<std::size_t>(it - m_survivor_refs.begin())]
               : nullptr;
}

std::size_t model::row_of_task(task_ref t) const noexcept {
    if (t == no_task || t >= m_tasks.size()) {
        return task_rows();
    }
    if (t >= m_tasks.first_kept()) {
        return m_survivor_refs.size() + (t - m_tasks.first_kept());
    }
    const auto it = std::lower_bound(m_survivor_refs.begin(), m_survivor_refs.end(), t);
    return it != m_survivor_refs.end() && *it == t
               ? static_cast<std::size_t>(it - m_survivor_refs.begin())
               : task_rows();
}

task_info& model::task_at(task_ref t) noexcept {
    // Every ref the handlers reach is of a task kept: its id still maps to it, or a record
    // of the kept window names it.
    return const_cast<task_info&>(*task(t));
}

task_ref model::find_task(std::uint64_t id) const noexcept {
    return m_task_refs.get(id);
}

task_ref model::task_for(std::uint64_t id, std::uint64_t seen_ns) {
    std::uint32_t& slot = m_task_refs.slot(id);
    if (slot == no_task) {
        slot = static_cast<task_ref>(m_tasks.size());
        task_info& t = m_tasks.emplace_back();
        t.id = id;
        t.spawned_ns = seen_ns;
        t.state_since_ns = seen_ns;
    }
    return slot;
}

std::uint32_t& model::slot_table::slot(std::uint64_t key) {
    if (!m_based) {
        m_based = true;
        m_base = key;
    }
    if (key >= m_base) {
        const std::uint64_t offset = key - m_base;
        if (offset < m_dense.size()) {
            return m_dense[offset];
        }
        // Grows by half or to a near key, up to 16 M slots (64 MB): keys far apart (a
        // damaged or hand-made file) go to the hash map instead of a table of billions.
        constexpr std::size_t max_dense = std::size_t{1} << 24;
        if (offset < 4 * m_dense.size() + 65536 && offset < max_dense) {
            m_dense.resize(std::max<std::size_t>(offset + 1, m_dense.size() * 3 / 2), none);
            return m_dense[offset];
        }
    }
    return m_sparse.try_emplace(key, none).first->second;
}

std::uint32_t* model::slot_table::find(std::uint64_t key) noexcept {
    std::uint32_t* found = nullptr;
    if (m_based && key >= m_base && key - m_base < m_dense.size()) {
        found = &m_dense[key - m_base];
    } else if (auto it = m_sparse.empty() ? m_sparse.end() : m_sparse.find(key);
               it != m_sparse.end()) {
        found = &it->second;
    }
    return found != nullptr && *found != none ? found : nullptr;
}

std::uint32_t model::slot_table::get(std::uint64_t key) const noexcept {
    const std::uint32_t* found = const_cast<slot_table*>(this)->find(key);
    return found != nullptr ? *found : none;
}

template <typename Keep>
void model::slot_table::forget(std::optional<std::uint64_t> first_key, Keep keep) {
    for (auto it = m_sparse.begin(); it != m_sparse.end();) {
        it = it->second != none && keep(it->second) ? std::next(it) : m_sparse.erase(it);
    }
    std::size_t first_kept = m_dense.size();
    for (std::size_t i = 0; i < m_dense.size(); ++i) {
        std::uint32_t& v = m_dense[i];
        v = v != none && keep(v) ? v : none;
        first_kept = v != none ? std::min(first_kept, i) : first_kept;
    }
    // Where the dense table starts from now on: `first_key`, or the first key still held.
    const std::uint64_t key = first_key.value_or(m_base + first_kept);
    if (!m_based || key <= m_base) {
        return;
    }
    const auto below =
        static_cast<std::size_t>(std::min<std::uint64_t>(key - m_base, m_dense.size()));
    for (std::size_t i = first_kept; i < below; ++i) {
        if (m_dense[i] != none) {
            m_sparse.emplace(m_base + i, m_dense[i]);
        }
    }
    m_dense.erase(m_dense.begin(), m_dense.begin() + static_cast<std::ptrdiff_t>(below));
    m_base = key;
}

lane& model::lane_for(std::uint16_t track) {
    if (track >= m_lanes.size()) {
        m_lanes.resize(track + 1u);
    }
    return m_lanes[track];
}

int model::worker_lane(std::uint32_t index) const noexcept {
    const auto track = m_workers.track_of(index);
    return track.has_value() ? *track : -1;
}

void model::leave_state(task_info& t, std::uint64_t now_ns) {
    const std::uint64_t spent = now_ns > t.state_since_ns ? now_ns - t.state_since_ns : 0;
    if (t.state == task_state::scheduled) {
        t.scheduled_ns += spent;
    } else if (t.state == task_state::idle) {
        t.idle_ns += spent;
    }
    t.state_since_ns = now_ns;
}

void model::record_depth(column<depth_point>& series, std::uint64_t time_ns, std::uint32_t depth) {
    m_max_depth = std::max(m_max_depth, depth);
    add_depth_point(series, time_ns, depth);
}

void model::consume(std::span<const event> events) {
    for (const event& e : events) {
        on_event(e);
    }
    if (m_process_names) {
        // New names appear as new tasks and routes are named; pick them up per batch.
        if (!events.empty()) {
            std::vector<std::string> added =
                trace::names_from(static_cast<trace::name_id>(m_names.size()));
            m_names.insert(m_names.end(), std::make_move_iterator(added.begin()),
                           std::make_move_iterator(added.end()));
        }
    }
}

void model::on_event(const event& e) {
    if (m_events == 0 || e.time_ns < m_first_ns) {
        m_first_ns = e.time_ns;
    }
    m_last_ns = std::max(m_last_ns, e.time_ns);
    ++m_events;
    const auto kind_index = static_cast<std::size_t>(e.kind);
    if (kind_index >= trace::event_kind_count) {
        return;
    }
    ++m_kind_counts[kind_index];
    trace::dispatch(e, *this);
}

// ---- one handler a kind ----------------------------------------------------------------------
// Only events about a thread's own activity make a lane for their track (lane_for): requests,
// wakes and markers may come from tracks that are not threads of this runtime (the window's
// load generator).

void model::on(const event& e, const trace::track_started_view& v) {
    lane& l = lane_for(e.track);
    l.kind = v.kind;
    l.index = v.index;
    l.announced = true;
    m_workers.note(e); // a lane is its track: worker_lane() asks it
}

void model::on(const event& e, const trace::task_spawned_view& v) {
    task_info& t = task_at(task_for(v.task, e.time_ns));
    t.parent = v.parent;
    t.name = v.name;
    if (t.polls == 0 && t.total_wakes() == 0) {
        t.spawned_ns = e.time_ns;
        t.state_since_ns = e.time_ns;
    }
}

void model::on(const event& e, const trace::poll_begin_view& v) {
    const std::uint64_t now = e.time_ns;
    lane* l = &lane_for(e.track);
    if (!l->polls.empty() && l->polls.back().end_ns == open_end) {
        // The previous poll's end was lost (a full buffer): it ended by this one.
        l->polls.back().flags |= poll_flags::end_lost;
        // Its length is only a bound (it ended somewhere before this poll): no finding.
        m_end_guessed = true;
        end_poll(*l, e.track, now, trace::poll_result::pending, std::nullopt);
        m_end_guessed = false;
    }
    const task_ref ref = task_for(v.task, now);
    task_info& t = task_at(ref);
    leave_state(t, now);
    t.state = task_state::running;
    t.woken_while_running = false;
    const auto index = static_cast<std::uint32_t>(l->polls.size());
    l->polls.push_back({.begin_ns = now, .task = ref, .lane = e.track});
    t.open_poll = {e.track, index};
    if (t.pending_wake != none32) {
        if (t.pending_wake >= m_wakes.first_kept()) {
            m_wakes[t.pending_wake].caused = t.open_poll;
        }
        t.pending_wake = none32;
    }
    if (l->kind == trace::track_kind::worker) {
        record_depth(l->depth, now, v.local_depth);
    }
    ++m_polls;
}

void model::on(const event& e, const trace::poll_end_view& v) {
    end_poll(lane_for(e.track), e.track, e.time_ns, v.result, v.local_depth);
}

void model::on(const event& e, const trace::task_cancelled_view& v) {
    task_info& t = task_at(task_for(v.task, e.time_ns));
    leave_state(t, e.time_ns);
    t.state = task_state::cancelled;
    t.ended_ns = e.time_ns;
    if (!m_resources.empty()) {
        m_resources.task_ended(v.task, e.time_ns);
        take_resource_findings();
    }
}

void model::take_resource_findings() {
    for (const resource_finding& f : m_resources.take_findings()) {
        lint_kind kind = lint_kind::long_resource_wait;
        switch (f.what) {
        case resource_finding::kind::held_across_await:
            kind = lint_kind::lock_held_across_await;
            break;
        case resource_finding::kind::long_wait:
            kind = lint_kind::long_resource_wait;
            break;
        case resource_finding::kind::channel_full:
            kind = lint_kind::channel_full;
            break;
        case resource_finding::kind::lagged_receiver:
            kind = lint_kind::lagged_receiver;
            break;
        }
        const task_ref ref = find_task(f.task);
        std::uint16_t lane_index = 0;
        if (ref != no_task && task_at(ref).open_poll.valid()) {
            lane_index = static_cast<std::uint16_t>(task_at(ref).open_poll.lane);
        }
        m_lints.push_back({.kind = kind,
                           .task = ref,
                           .lane = lane_index,
                           .at_ns = f.at_ns,
                           .duration_ns = f.duration_ns,
                           .resource = f.resource});
    }
}

std::string model::resource_label(std::uint32_t id) const {
    const resource_info* r = m_resources.find(id);
    if (r == nullptr || !r->announced) {
        return "resource #" + std::to_string(id);
    }
    return std::string(trace::to_string(r->kind)) + " '" + name(r->name) + "'";
}

std::uint32_t model::resource_of_wake(std::size_t wake_index) const noexcept {
    const auto it =
        std::lower_bound(m_wake_resources.begin(), m_wake_resources.end(), wake_index,
                         [](const wake_resource& w, std::size_t index) { return w.wake < index; });
    return it != m_wake_resources.end() && it->wake == wake_index ? it->resource : 0;
}

void model::on(const event& e, const trace::wake_view& v) {
    const std::uint64_t now = e.time_ns;
    const task_ref ref = task_for(v.task, now);
    const auto wake_index = static_cast<std::uint32_t>(m_wakes.size());
    wake_link& link = m_wakes.emplace_back();
    link.time_ns = now;
    link.woken = ref;
    link.waker = v.waker != 0 ? find_task(v.waker) : no_task;
    link.from_lane = e.track;
    link.source = v.source;
    if (v.source == trace::wake_source::channel) {
        if (const std::uint32_t resource = m_resources.resource_behind_wake(e.track, v.task)) {
            m_wake_resources.push_back({wake_index, resource});
        }
    }
    task_info& t = task_at(ref);
    ++t.wakes[static_cast<std::size_t>(v.source)];
    if (t.state == task_state::running) {
        const poll_span& open = m_lanes[t.open_poll.lane].polls[t.open_poll.index];
        if (open.begin_ns > now) {
            // The wake was recorded before this poll began but reached us after it: it is
            // the wake that caused the poll.
            link.caused = t.open_poll;
            return;
        }
        t.woken_while_running = true;
        if (v.source == trace::wake_source::self) {
            m_lanes[t.open_poll.lane].polls[t.open_poll.index].flags |= poll_flags::woke_self;
        }
    } else if (t.polls > 0 && now < t.state_since_ns) {
        // Recorded before the task's last state change but reaching us after it: if a poll
        // of the task began after the wake, the wake caused the first such poll.
        if (const poll_ref caused = first_poll_after(m_lanes, ref, now); caused.valid()) {
            link.caused = caused;
            return;
        }
    }
    if (t.state == task_state::idle) {
        // A wake from during the last poll that arrives late: scheduled from its end.
        leave_state(t, std::max(now, t.state_since_ns));
        t.state = task_state::scheduled;
    }
    if (t.pending_wake == none32 && t.state != task_state::done &&
        t.state != task_state::cancelled) {
        t.pending_wake = wake_index; // the first wake since the last poll causes the next
    }
}

void model::on(const event& e, const trace::steal_view& v) {
    const int victim = worker_lane(static_cast<std::uint32_t>(v.victim));
    m_steals.push_back({.time_ns = e.time_ns,
                        .thief_lane = e.track,
                        .victim_lane = static_cast<std::uint16_t>(victim < 0 ? 0xFFFF : victim),
                        .count = v.count,
                        .first_task = find_task(v.first_task)});
}

void model::on(const event& e, const trace::global_push_view& v) {
    record_depth(m_global_depth, e.time_ns, v.global_depth);
}

void model::on(const event& e, const trace::global_pop_view& v) {
    record_depth(m_global_depth, e.time_ns, v.global_depth);
}

void model::on(const event& e, const trace::queue_depth_view& v) {
    const int worker = worker_lane(static_cast<std::uint32_t>(v.worker));
    if (worker >= 0) {
        record_depth(m_lanes[static_cast<std::size_t>(worker)].depth, e.time_ns, v.depth);
    }
}

void model::on(const event& e, const trace::block_begin_view& v) {
    lane& l = lane_for(e.track);
    close_lost_span(l.blocks, e.time_ns);
    l.blocks.push_back({.begin_ns = e.time_ns, .subject = v.task, .value = v.intended_ns});
    if (!l.polls.empty() && l.polls.back().end_ns == open_end) {
        l.polls.back().flags |= poll_flags::blocked;
    }
}

void model::on(const event& e, const trace::block_end_view& /*v*/) {
    close_open_span(lane_for(e.track).blocks, e.time_ns);
}

void model::on(const event& e, const trace::blocking_job_begin_view& v) {
    lane& l = lane_for(e.track);
    close_lost_span(l.jobs, e.time_ns);
    l.jobs.push_back({.begin_ns = e.time_ns, .subject = v.job, .value = v.spawner, .name = v.name});
}

void model::on(const event& e, const trace::blocking_job_end_view& /*v*/) {
    close_open_span(lane_for(e.track).jobs, e.time_ns);
}

void model::on(const event& e, const trace::worker_park_view& /*v*/) {
    lane& l = lane_for(e.track);
    close_lost_span(l.parked, e.time_ns);
    l.parked.push_back({.begin_ns = e.time_ns});
}

void model::on(const event& e, const trace::worker_unpark_view& /*v*/) {
    close_open_span(lane_for(e.track).parked, e.time_ns);
}

void model::on(const event& e, const trace::timer_fired_view& v) {
    m_reactor.push_back({.time_ns = e.time_ns, .task = v.task, .lane = e.track, .kind = e.kind});
}

void model::on(const event& e, const trace::io_ready_view& v) {
    m_reactor.push_back(
        {.time_ns = e.time_ns, .task = v.task, .value = v.fd, .lane = e.track, .kind = e.kind});
}

void model::on(const event& e, const trace::request_begin_view& v) {
    const std::uint64_t now = e.time_ns;
    // A client request may come from another runtime (the window's load generator): it
    // names a task of that runtime, which is not one of this trace's tasks.
    const bool client = v.side == trace::request_side::client;
    const task_ref ref = client ? find_task(v.task) : task_for(v.task, now);
    m_request_disorder_ns =
        std::max(m_request_disorder_ns,
                 m_latest_request_begin_ns > now ? m_latest_request_begin_ns - now : 0);
    m_latest_request_begin_ns = std::max(m_latest_request_begin_ns, now);
    m_requests.push_back({.begin_ns = now,
                          .request_id = v.request_id,
                          .task = ref,
                          .route = v.route,
                          .lane = e.track,
                          .client = client,
                          .http2 = v.http2,
                          .route_index = route_index_of(v.route)});
    const auto index = static_cast<std::uint32_t>(m_requests.size() - 1);
    if (index % request_block_size == 0) {
        m_request_blocks.push_back({});
    }
    ++m_request_blocks.back().unanswered;
    if (v.queued) {
        m_queued_open[superseded_key(client, v.task)].push_back(index);
    } else if (ref != no_task) {
        std::uint32_t& open = m_open_by_task[client ? 1 : 0].slot(ref);
        if (open != none32) {
            --m_open_requests; // the earlier one's end is late or lost
            m_superseded[superseded_key(client, v.task)] = open;
        }
        open = index;
    } else if (std::uint32_t& open = m_open_foreign.slot(v.task); open == none32) {
        open = index;
    } else {
        --m_open_requests;
        m_superseded[superseded_key(client, v.task)] = open;
        open = index;
    }
    if (client && m_client_requests == 0) {
        // From now on the client side is the one reported: the server's latencies go.
        m_fresh_latencies[0] = {};
        m_sorted_latencies[0] = {};
    }
    m_client_requests += client ? 1 : 0;
    m_http2_requests += v.http2 ? 1 : 0;
    ++m_open_requests;
}

void model::on(const event& e, const trace::request_end_view& v) {
    const bool client = v.side == trace::request_side::client;
    const task_ref ref = find_task(v.task);
    std::uint32_t index = none32;
    if (v.queued) {
        if (auto queue = m_queued_open.find(superseded_key(client, v.task));
            queue != m_queued_open.end()) {
            index = queue->second.front();
            queue->second.pop_front();
            if (queue->second.empty()) {
                m_queued_open.erase(queue);
            }
        }
    } else if (ref != no_task) {
        if (std::uint32_t* open = m_open_by_task[client ? 1 : 0].find(ref); open != nullptr) {
            index = std::exchange(*open, none32);
        }
    } else if (client) {
        if (std::uint32_t* open = m_open_foreign.find(v.task); open != nullptr) {
            index = std::exchange(*open, none32);
        }
    }
    if (index != none32 && !v.queued && e.time_ns < m_requests[index].begin_ns) {
        // Ended before the open one began: it is the end of the task's previous request,
        // which arrived after its successor's begin. The open one stays open.
        if (auto late = m_superseded.find(superseded_key(client, v.task));
            late != m_superseded.end() && m_requests[late->second].begin_ns <= e.time_ns) {
            if (ref != no_task) {
                m_open_by_task[client ? 1 : 0].slot(ref) = index;
            } else {
                m_open_foreign.slot(v.task) = index;
            }
            index = late->second;
            m_superseded.erase(late);
            ++m_open_requests; // the decrement below is for the superseded one's
        }
    }
    if (index == none32) {
        return;
    }
    request_span& r = m_requests[index];
    if (r.finished()) {
        return;
    }
    r.end_ns = std::max(e.time_ns, r.begin_ns);
    r.bytes = v.bytes;
    r.status = static_cast<std::uint16_t>(std::min<std::uint32_t>(v.status, 0xFFFF));
    m_longest_request_ns = std::max(m_longest_request_ns, r.latency_ns());
    // Only the side request_latency() reports: the client's once there is one.
    if (r.client || m_client_requests == 0) {
        m_fresh_latencies[r.client ? 1 : 0].push_back(r.latency_ns());
    }
    request_block& block = m_request_blocks[index / request_block_size];
    --block.unanswered;
    block.last_end_ns = std::max(block.last_end_ns, r.end_ns);
    --m_open_requests;
}

void model::on(const event& e, const trace::marker_view& v) {
    m_markers.push_back(
        {.time_ns = e.time_ns, .value = v.value, .name = v.name, .lane = e.track, .kind = e.kind});
}

void model::on(const event& e, const trace::events_dropped_view& v) {
    if (m_dropped.add(e)) { // only for tracks within 16 bits
        const auto track = static_cast<std::uint16_t>(v.on_track);
        lane_for(track).dropped = m_dropped.of_track(track);
    }
}

void model::close_open_span(column<span>& spans, std::uint64_t now_ns) {
    if (!spans.empty() && spans.back().end_ns == open_end) {
        spans.back().end_ns = now_ns;
    }
}

void model::close_lost_span(column<span>& spans, std::uint64_t now_ns) {
    if (!spans.empty() && spans.back().end_ns == open_end) {
        spans.back().end_ns = std::max(now_ns, spans.back().begin_ns); // its end was lost
    }
}

void model::end_poll(lane& l, std::uint16_t lane_index, std::uint64_t at_ns,
                     trace::poll_result result, std::optional<std::uint32_t> local_depth) {
    if (l.polls.empty() || l.polls.back().end_ns != open_end) {
        return; // its poll_begin was not recorded (tracing switched on mid-poll)
    }
    poll_span& p = l.polls.back();
    const task_ref ref = p.task;
    task_info& t = task_at(ref);
    const std::uint64_t now = std::max(at_ns, p.begin_ns);
    p.end_ns = now;
    p.result = result;
    const std::uint64_t duration = now - p.begin_ns;
    l.busy_ns += duration;
    t.busy_ns += duration;
    t.longest_poll_ns = std::max(t.longest_poll_ns, duration);
    ++t.polls;
    if ((p.flags & poll_flags::woke_self) != 0) {
        ++t.self_wake_polls;
    }
    t.state_since_ns = now;
    t.open_poll = {};
    if (result == trace::poll_result::pending) {
        t.state = t.woken_while_running ? task_state::scheduled : task_state::idle;
    } else {
        t.state = task_state::done;
        t.ended_ns = now;
    }
    if (local_depth.has_value() && l.kind == trace::track_kind::worker) {
        record_depth(l.depth, now, *local_depth);
    }
    if (!m_resources.empty()) {
        if (result == trace::poll_result::pending) {
            m_resources.task_suspended(t.id);
        } else {
            m_resources.task_ended(t.id, now);
            take_resource_findings();
        }
    }
    check_poll(p, lane_index, duration);
}

void model::check_poll(const poll_span& p, std::uint16_t lane_index, std::uint64_t duration) {
    const task_ref ref = p.task;
    task_info& t = task_at(ref);
    const std::uint64_t now = p.end_ns;
    if (duration >= m_options.long_poll_ns && !m_end_guessed) {
        m_lints.push_back({.kind = (p.flags & poll_flags::blocked) != 0 ? lint_kind::blocked_worker
                                                                        : lint_kind::long_poll,
                           .task = ref,
                           .lane = lane_index,
                           .at_ns = p.begin_ns,
                           .duration_ns = duration});
    }
    if (!t.busy_poll_reported && t.polls >= m_options.busy_poll_min_polls &&
        static_cast<double>(t.self_wake_polls) >=
            m_options.busy_poll_self_wake_ratio * static_cast<double>(t.polls)) {
        t.busy_poll_reported = true;
        m_lints.push_back({.kind = lint_kind::busy_polling,
                           .task = ref,
                           .lane = lane_index,
                           .at_ns = now,
                           .duration_ns = 0});
    }
}

void model::finish() {
    const std::uint64_t end = m_last_ns;
    m_resources.finish(end);
    take_resource_findings();
    for (lane& l : m_lanes) {
        if (!l.polls.empty() && l.polls.back().end_ns == open_end) {
            // Still running when the recording stopped: drawn to the end, and a worker
            // stuck there is exactly what the findings must explain.
            poll_span& p = l.polls.back();
            p.end_ns = std::max(end, p.begin_ns);
            p.flags |= poll_flags::end_lost;
            l.busy_ns += p.end_ns - p.begin_ns;
            check_poll(p, static_cast<std::uint16_t>(&l - m_lanes.data()), p.end_ns - p.begin_ns);
        }
        for (auto* spans : {&l.blocks, &l.jobs, &l.parked}) {
            if (!spans->empty() && spans->back().end_ns == open_end) {
                spans->back().end_ns = std::max(end, spans->back().begin_ns);
            }
        }
    }
}

std::string model::describe(const lint& l) const {
    const std::string where = l.lane < m_lanes.size() ? m_lanes[l.lane].label() : "a thread";
    const std::string task = task_label(l.task);
    switch (l.kind) {
    case lint_kind::blocked_worker:
        return where + " blocked for " + format_duration(l.duration_ns) + " in task " + task +
               " (a blocking call inside a task: await an async version or use spawn_blocking)";
    case lint_kind::long_poll:
        return "task " + task + " ran " + format_duration(l.duration_ns) + " on " + where +
               " without yielding (split the work with yield_now or move it to spawn_blocking)";
    case lint_kind::busy_polling: {
        const task_info* t = this->task(l.task);
        return "task " + task + " woke itself on " +
               std::to_string(t != nullptr ? t->self_wake_polls : 0) + " of " +
               std::to_string(t != nullptr ? t->polls : 0) +
               " polls (busy polling: wake it from a timer or the reactor instead)";
    }
    case lint_kind::lock_held_across_await:
        return "task " + task + " held " + resource_label(l.resource) + " for " +
               format_duration(l.duration_ns) +
               " across an await (others wait meanwhile: release it before awaiting)";
    case lint_kind::long_resource_wait:
        return "task " + task + " waited " + format_duration(l.duration_ns) + " on " +
               resource_label(l.resource);
    case lint_kind::channel_full:
        return resource_label(l.resource) + " was full with senders waiting, first by task " +
               task + " (the receiver is slower than the senders)";
    case lint_kind::lagged_receiver:
        return "receiver task " + task + " of " + resource_label(l.resource) + " missed " +
               std::to_string(l.duration_ns) + " messages (it fell behind)";
    }
    return task;
}

std::uint64_t model::tasks_stolen() const noexcept {
    std::uint64_t n = 0;
    for (const steal_link& s : m_steals) {
        n += s.count;
    }
    return n;
}

std::uint64_t model::block_count() const noexcept {
    std::uint64_t n = 0;
    for (const lane& l : m_lanes) {
        n += l.blocks.size();
    }
    return n;
}

std::uint64_t model::dropped() const noexcept {
    return m_dropped.total();
}

std::array<std::uint64_t, 8> model::wakes_by_source() const noexcept {
    std::array<std::uint64_t, 8> by{};
    for (std::size_t row = 0; row < task_rows(); ++row) {
        const task_info& t = *task(task_of_row(row));
        for (std::size_t i = 0; i < by.size(); ++i) {
            by[i] += t.wakes[i];
        }
    }
    return by;
}

std::uint64_t model::blocking_jobs() const noexcept {
    std::uint64_t n = 0;
    for (const lane& l : m_lanes) {
        n += l.jobs.size();
    }
    return n;
}

std::uint64_t model::largest_index() const noexcept {
    std::uint64_t most = std::max({m_tasks.size(), m_wakes.size(), m_requests.size()});
    for (const lane& l : m_lanes) {
        most = std::max<std::uint64_t>(most, l.polls.size());
    }
    return most;
}

void model::forget_before(std::uint64_t cut_ns) {
    if (cut_ns <= m_kept_from_ns) {
        return;
    }
    m_kept_from_ns = cut_ns; // first_ns() stays the run's first event: times count from it
    // Polls and spans on a lane follow each other, so their ends are in order too: those
    // ended before the cut go, an open one stays.
    for (lane& l : m_lanes) {
        l.polls.forget_before(first_not(l.polls, [cut_ns](const poll_span& p) {
            return p.end_ns < cut_ns; // an open poll's end is open_end
        }));
        for (column<span>* spans : {&l.blocks, &l.jobs, &l.parked}) {
            spans->forget_before(
                first_not(*spans, [cut_ns](const span& x) { return x.end_ns < cut_ns; }));
        }
        forget_depths_before(l.depth, cut_ns);
    }
    forget_depths_before(m_global_depth, cut_ns);
    m_wakes.forget_before(
        first_from(m_wakes, cut_ns, [](const wake_link& w) { return w.time_ns; }));
    const std::size_t first_wake = m_wakes.first_kept();
    m_wake_resources.forget_before(
        first_from(m_wake_resources, first_wake,
                   [](const wake_resource& w) { return std::uint64_t{w.wake}; }));
    m_steals.forget_before(
        first_from(m_steals, cut_ns, [](const steal_link& x) { return x.time_ns; }));
    m_reactor.forget_before(
        first_from(m_reactor, cut_ns, [](const instant& x) { return x.time_ns; }));
    m_markers.forget_before(
        first_from(m_markers, cut_ns, [](const instant& x) { return x.time_ns; }));
    // Findings are made when what they report ends: in that order.
    m_lints.forget_before(first_from(m_lints, cut_ns, [](const lint& x) {
        return x.kind == lint_kind::lagged_receiver ? x.at_ns : x.at_ns + x.duration_ns;
    }));
    m_resources.forget_before(cut_ns);
    forget_tasks_before(cut_ns);
    forget_requests_before(cut_ns);
}

void model::forget_tasks_before(std::uint64_t cut_ns) {
    // Tasks are in the order first seen: from the first seen at or after the cut they stay;
    // before it, those still alive at the cut stay as survivors.
    const std::size_t first =
        first_from(m_tasks, cut_ns, [](const task_info& t) { return t.spawned_ns; });
    if (first <= m_tasks.first_kept()) {
        return;
    }
    // A poll still open on a lane keeps its task too (its end may have been lost while the
    // task went on to end elsewhere): the lane's next poll closes it through its task.
    std::vector<task_ref> polling;
    for (const lane& l : m_lanes) {
        if (!l.polls.empty() && l.polls.back().end_ns == open_end) {
            polling.push_back(l.polls.back().task);
        }
    }
    const auto alive_at_cut = [cut_ns, &polling](task_ref ref, const task_info& t) {
        return t.ended_ns == open_end || t.ended_ns >= cut_ns ||
               std::find(polling.begin(), polling.end(), ref) != polling.end();
    };
    std::vector<task_ref> refs;
    std::vector<task_info> infos;
    for (std::size_t i = 0; i < m_survivor_refs.size(); ++i) {
        if (alive_at_cut(m_survivor_refs[i], m_survivors[i])) {
            refs.push_back(m_survivor_refs[i]);
            infos.push_back(m_survivors[i]);
        }
    }
    for (std::size_t r = m_tasks.first_kept(); r < first; ++r) {
        if (alive_at_cut(static_cast<task_ref>(r), m_tasks[r])) {
            refs.push_back(static_cast<task_ref>(r));
            infos.push_back(m_tasks[r]);
        }
    }
    m_survivor_refs = std::move(refs);
    m_survivors = std::move(infos);
    m_tasks.forget_before(first);
    const auto kept = [this, first](std::uint32_t ref) {
        return ref >= first ||
               std::binary_search(m_survivor_refs.begin(), m_survivor_refs.end(), ref);
    };
    m_task_refs.forget(first < m_tasks.size() ? std::optional<std::uint64_t>(m_tasks[first].id)
                                              : std::nullopt,
                       kept);
}

void model::forget_requests_before(std::uint64_t cut_ns) {
    // By their beginning, with the slack of threads interleaving (requests_beginning_in).
    const std::uint64_t slack = m_request_disorder_ns;
    const std::size_t first = first_from(
        m_requests, cut_ns, [slack](const request_span& r) { return r.begin_ns + slack; });
    if (first <= m_requests.first_kept()) {
        return;
    }
    // Their latencies leave the sorted ones (the side reported only).
    const std::size_t side = has_client_requests() ? 1 : 0;
    std::vector<std::uint64_t> gone;
    for (std::size_t i = m_requests.first_kept(); i < first; ++i) {
        const request_span& r = m_requests[i];
        if (r.finished() && (r.client ? 1u : 0u) == side) {
            gone.push_back(r.latency_ns());
        }
    }
    if (!gone.empty()) {
        (void)request_latencies(); // the fresh ones merged in
        radix_sort(gone);
        std::vector<std::uint64_t>& sorted = m_sorted_latencies[side];
        std::size_t out = 0;
        std::size_t g = 0;
        for (const std::uint64_t v : sorted) {
            while (g < gone.size() && gone[g] < v) {
                ++g;
            }
            if (g < gone.size() && gone[g] == v) {
                ++g;
                continue;
            }
            sorted[out++] = v;
        }
        sorted.resize(out);
    }
    // Requests still open then are let go: their ends, if they come, find nothing.
    const auto kept_or_closed = [this, first](std::uint32_t index) {
        if (index >= first) {
            return true;
        }
        --m_open_requests;
        return false;
    };
    m_open_by_task[0].forget(m_tasks.first_kept(), kept_or_closed);
    m_open_by_task[1].forget(m_tasks.first_kept(), kept_or_closed);
    m_open_foreign.forget(std::nullopt, kept_or_closed);
    for (auto it = m_superseded.begin(); it != m_superseded.end();) {
        it = it->second >= first ? std::next(it) : m_superseded.erase(it);
    }
    for (auto it = m_queued_open.begin(); it != m_queued_open.end();) {
        std::deque<std::uint32_t>& queue = it->second;
        while (!queue.empty() && queue.front() < first) {
            queue.pop_front();
            --m_open_requests;
        }
        it = queue.empty() ? m_queued_open.erase(it) : std::next(it);
    }
    m_requests.forget_before(first);
    // The block holding the first kept request counts only kept ones from now on.
    const std::size_t block = first / request_block_size;
    m_request_blocks.forget_before(block);
    if (block < m_request_blocks.size()) {
        request_block& b = m_request_blocks[block];
        b = {};
        for (std::size_t i = first;
             i < std::min(m_requests.size(), (block + 1) * request_block_size); ++i) {
            if (m_requests[i].finished()) {
                b.last_end_ns = std::max(b.last_end_ns, m_requests[i].end_ns);
            } else {
                ++b.unanswered;
            }
        }
    }
}

std::uint16_t model::route_index_of(trace::name_id route) {
    if (!m_routes.empty() && m_routes[m_last_route_index] == route) {
        return m_last_route_index; // the common case: the same route as the last request
    }
    auto [it, added] =
        m_route_index.try_emplace(route, static_cast<std::uint16_t>(m_routes.size()));
    if (added) {
        if (m_routes.size() == max_routes) {
            it->second = max_routes - 1; // the last slot takes every route beyond it
        } else {
            m_routes.push_back(route);
        }
    }
    m_last_route_index = it->second;
    return it->second;
}

std::span<const std::uint64_t> model::request_latencies() const {
    const std::size_t side = has_client_requests() ? 1 : 0;
    std::vector<std::uint64_t>& sorted = m_sorted_latencies[side];
    std::vector<std::uint64_t>& fresh = m_fresh_latencies[side];
    if (!fresh.empty()) {
        radix_sort(fresh);
        // Merged from the back, in place: a live chart asks ten times a second, and
        // std::inplace_merge would allocate (and fault in) a buffer as large as them all.
        std::size_t from = sorted.size();
        std::size_t take = fresh.size();
        sorted.resize(from + take);
        for (std::size_t to = sorted.size(); take > 0;) {
            if (from > 0 && sorted[from - 1] > fresh[take - 1]) {
                sorted[--to] = sorted[--from];
            } else {
                sorted[--to] = fresh[--take];
            }
        }
        fresh.clear();
    }
    return sorted;
}

latency_summary model::request_latency() const {
    const std::span<const std::uint64_t> latencies = request_latencies();
    latency_summary s;
    s.count = latencies.size();
    s.p50_ns = percentile(latencies, 0.50);
    s.p90_ns = percentile(latencies, 0.90);
    s.p99_ns = percentile(latencies, 0.99);
    s.max_ns = latencies.empty() ? 0 : latencies.back();
    return s;
}

std::pair<std::size_t, std::size_t> model::requests_beginning_in(double from_ns,
                                                                 double to_ns) const {
    // A request stored after one that began at T began at T - disorder or later. So every
    // request before the first found beginning before from - disorder began before from,
    // and every request after one beginning after to + disorder began after to.
    const double slack = static_cast<double>(m_request_disorder_ns);
    const auto first =
        std::partition_point(m_requests.begin(), m_requests.end(), [&](const request_span& r) {
            return static_cast<double>(r.begin_ns) < from_ns - slack;
        });
    const auto last = std::partition_point(first, m_requests.end(), [&](const request_span& r) {
        return static_cast<double>(r.begin_ns) <= to_ns + slack;
    });
    return {first.index(), last.index()};
}

} // namespace taskscope::analysis
