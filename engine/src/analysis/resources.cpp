// The resource table (analysis/resources.hpp): holds, waits, depths and findings from the
// resource_* events.

#include "taskscope/analysis/resources.hpp"

#include <algorithm>
#include <limits>

namespace taskscope::analysis {

std::string_view to_string(resource_finding::kind k) noexcept {
    switch (k) {
    case resource_finding::kind::held_across_await:
        return "held_across_await";
    case resource_finding::kind::long_wait:
        return "long_wait";
    case resource_finding::kind::channel_full:
        return "channel_full";
    case resource_finding::kind::lagged_receiver:
        return "lagged_receiver";
    }
    return "unknown";
}

namespace {

std::uint32_t clamp_depth(std::uint64_t depth) noexcept {
    return static_cast<std::uint32_t>(
        std::min<std::uint64_t>(depth, std::numeric_limits<std::uint32_t>::max()));
}

} // namespace

void add_depth_point(column<depth_point>& series, std::uint64_t time_ns, std::uint32_t depth) {
    const auto slot =
        time_order_slot(series, time_ns, [](const depth_point& p) { return p.time_ns; });
    if (!slot) {
        return; // older than the recent past: dropped
    }
    if (*slot == series.size()) {
        if (series.empty() || series.back().depth != depth) {
            series.push_back({time_ns, depth});
        }
        return;
    }
    series.insert(series.begin() + static_cast<std::ptrdiff_t>(*slot), {time_ns, depth});
}

std::uint64_t resource_info::holder_now() const noexcept {
    if (kind != trace::resource_kind::mutex || holds.empty()) {
        return 0;
    }
    const hold_span& last = holds.back();
    return last.end_ns == resource_open_end ? last.task : 0;
}

std::pair<std::size_t, std::size_t> resource_info::waits_beginning_in(std::uint64_t from_ns,
                                                                      std::uint64_t to_ns) const {
    // A wait stored after one that began at T began at T - disorder or later. So every wait
    // before the first found beginning before from - disorder began before from, and every
    // wait after one beginning after to + disorder began after to (model::requests_beginning_in
    // reasons the same way).
    const std::uint64_t slack = wait_disorder_ns;
    const auto first = std::partition_point(waits.begin(), waits.end(), [&](const wait_span& w) {
        return w.begin_ns + slack < from_ns;
    });
    const std::uint64_t until =
        to_ns > resource_open_end - slack ? resource_open_end : to_ns + slack;
    const auto last = std::partition_point(first, waits.end(),
                                           [&](const wait_span& w) { return w.begin_ns <= until; });
    return {first.index(), last.index()};
}

std::pair<std::size_t, std::size_t> resource_info::holds_overlapping(std::uint64_t from_ns,
                                                                     std::uint64_t to_ns) const {
    // Holds are in begin order; one overlapping from_ns began at most the longest finished
    // hold before it, or is still open (a mutex's open hold is its last).
    const std::uint64_t earliest = from_ns > longest_hold_ns ? from_ns - longest_hold_ns : 0;
    auto first = std::partition_point(holds.begin(), holds.end(),
                                      [&](const hold_span& h) { return h.begin_ns < earliest; });
    if (first == holds.end() && !holds.empty() && holds.back().end_ns == resource_open_end) {
        --first;
    }
    const auto last = std::partition_point(first, holds.end(),
                                           [&](const hold_span& h) { return h.begin_ns <= to_ns; });
    return {first.index(), last.index()};
}

std::optional<wait_ref> resource_table::wait_begun_by(std::uint64_t task, std::uint64_t from_ns,
                                                      std::uint64_t to_ns,
                                                      std::size_t max_scanned) const {
    std::optional<wait_ref> best;
    for (const resource_info& r : m_resources) {
        const auto [first, last] = r.waits_beginning_in(from_ns, to_ns);
        for (std::size_t i = first; i < std::min(last, first + max_scanned); ++i) {
            const wait_span& w = r.waits[i];
            if (w.task != task || w.begin_ns < from_ns || w.begin_ns > to_ns) {
                continue;
            }
            if (!best || w.begin_ns < find(best->resource)->waits[best->index].begin_ns) {
                best = wait_ref{r.id, i};
            }
            break; // the first of this resource's
        }
    }
    return best;
}

const resource_info* resource_table::find(std::uint32_t id) const noexcept {
    const auto it = m_index.find(id);
    return it == m_index.end() ? nullptr : &m_resources[it->second];
}

resource_info& resource_table::resource(std::uint32_t id, std::uint64_t seen_ns) {
    const auto [it, added] =
        m_index.try_emplace(id, static_cast<std::uint32_t>(m_resources.size()));
    if (added) {
        resource_info r;
        r.id = id;
        r.first_ns = seen_ns;
        m_resources.push_back(std::move(r));
    }
    return m_resources[it->second];
}

std::uint32_t resource_table::resource_behind_wake(std::uint16_t track,
                                                   std::uint64_t task) const noexcept {
    if (track >= m_ready_by_track.size()) {
        return 0;
    }
    const last_ready& r = m_ready_by_track[track];
    return r.task == task ? r.resource : 0;
}

void resource_table::add_hold(resource_info& r, std::uint64_t at_ns, std::uint64_t task) {
    // A late grant (recorded on another thread, delivered after later ones) goes in its place;
    // one older than the recent past goes as far back as is searched.
    const std::size_t at = time_order_slot(r.holds, at_ns, [](const hold_span& h) {
                               return h.begin_ns;
                           }).value_or(r.holds.size() - std::min(r.holds.kept(), late_window));
    const hold_span h{.begin_ns = at_ns, .task = task};
    if (at == r.holds.size()) {
        r.holds.push_back(h);
    } else {
        r.holds.insert(r.holds.begin() + static_cast<std::ptrdiff_t>(at), h);
        for (open_hold& o : m_open_holds) {
            if (o.resource == r.id && o.hold >= at) {
                ++o.hold;
            }
        }
    }
    m_open_holds.push_back({r.id, static_cast<std::uint32_t>(at), task});
}

void resource_table::count_waiters(resource_info& r, std::uint64_t at_ns) {
    add_depth_point(r.waiters, at_ns, r.waiters_now);
}

void resource_table::forget_ready(std::uint16_t track) noexcept {
    if (track < m_ready_by_track.size()) {
        m_ready_by_track[track] = {};
    }
}

void resource_table::on(const trace::event& e, const trace::resource_created_view& v) {
    resource_info& r = resource(v.resource, e.time_ns);
    r.kind = v.kind;
    r.name = v.name;
    r.capacity = v.capacity;
    r.creator = v.creator;
    r.announced = true;
    r.first_ns = std::min(r.first_ns, e.time_ns);
}

void resource_table::on(const trace::event& e, const trace::resource_wait_view& v) {
    resource_info& r = resource(v.resource, e.time_ns);
    ++r.waiters_now;
    ++r.total_waits;
    count_waiters(r, e.time_ns);
    if (e.time_ns < r.latest_wait_begin_ns) {
        r.wait_disorder_ns = std::max(r.wait_disorder_ns, r.latest_wait_begin_ns - e.time_ns);
    } else {
        r.latest_wait_begin_ns = e.time_ns;
    }
    const auto wait = static_cast<std::uint32_t>(r.waits.size());
    r.waits.push_back({.begin_ns = e.time_ns,
                       .end_ns = resource_open_end,
                       .task = v.task,
                       .holder = r.kind == trace::resource_kind::mutex ? e.arg : 0,
                       .op = v.op});
    m_open_waits[open_wait_key(v.task, e.track)] = {v.resource, wait};
    if (v.op == trace::resource_op::send && r.capacity != trace::unbounded_capacity &&
        r.kind == trace::resource_kind::mpsc) {
        if (!std::exchange(r.reported_full, true)) { // once per channel
            m_findings.push_back({.what = resource_finding::kind::channel_full,
                                  .resource = v.resource,
                                  .task = v.task,
                                  .at_ns = e.time_ns,
                                  .duration_ns = 0});
        }
    }
}

void resource_table::on(const trace::event& e, const trace::resource_ready_view& v) {
    resource_info& r = resource(v.resource, e.time_ns);
    if (e.track >= m_ready_by_track.size()) {
        m_ready_by_track.resize(e.track + 1u);
    }
    m_ready_by_track[e.track] = {v.task, v.resource};
    const auto it = m_open_waits.find(open_wait_key(v.task, e.track));
    std::uint64_t waited = v.waited_ns;
    if (it != m_open_waits.end() && it->second.resource == v.resource) {
        if (wait_span* w = kept_record(r.waits, it->second.wait); w != nullptr) {
            w->end_ns = std::max(e.time_ns, w->begin_ns);
        }
        m_open_waits.erase(it);
        r.waiters_now -= r.waiters_now > 0 ? 1 : 0;
        count_waiters(r, e.time_ns);
    }
    r.total_wait_ns += waited;
    r.longest_wait_ns = std::max(r.longest_wait_ns, waited);
    // A thread outside any task (task 0: an executor loop idling in blocking_recv) waits
    // as long as it likes: nothing is held up.
    if (waited >= m_options.long_wait_ns && v.task != 0) {
        m_findings.push_back({.what = resource_finding::kind::long_wait,
                              .resource = v.resource,
                              .task = v.task,
                              .at_ns = e.time_ns > waited ? e.time_ns - waited : 0,
                              .duration_ns = waited});
    }
    if (v.op == trace::resource_op::lock || v.op == trace::resource_op::acquire) {
        add_hold(r, e.time_ns, v.task); // granted: the waiter holds it from here
    }
}

void resource_table::on(const trace::event& e, const trace::resource_depth_view& v) {
    resource_info& r = resource(v.resource, e.time_ns);
    r.depth = v.depth;
    r.max_depth = std::max(r.max_depth, v.depth);
    add_depth_point(r.depths, e.time_ns, clamp_depth(v.depth));
    if (v.op == trace::resource_op::lock || v.op == trace::resource_op::acquire) {
        add_hold(r, e.time_ns, v.task);
    }
}

void resource_table::on(const trace::event& e, const trace::resource_released_view& v) {
    resource_info& r = resource(v.resource, e.time_ns);
    r.depth = v.held_after;
    add_depth_point(r.depths, e.time_ns, clamp_depth(v.held_after));
    end_hold(r, v.task, e.time_ns);
}

void resource_table::on(const trace::event& e, const trace::resource_lagged_view& v) {
    resource_info& r = resource(v.resource, e.time_ns);
    ++r.lag_events;
    r.messages_missed += v.missed;
    const lag_mark mark{.time_ns = e.time_ns, .task = v.task, .missed = v.missed, .track = e.track};
    if (const auto slot =
            time_order_slot(r.lags, e.time_ns, [](const lag_mark& l) { return l.time_ns; })) {
        r.lags.insert(r.lags.begin() + static_cast<std::ptrdiff_t>(*slot), mark);
    }
    if (std::find(r.lagged_receivers.begin(), r.lagged_receivers.end(), v.task) ==
        r.lagged_receivers.end()) {
        r.lagged_receivers.push_back(v.task);
        m_findings.push_back({.what = resource_finding::kind::lagged_receiver,
                              .resource = v.resource,
                              .task = v.task,
                              .at_ns = e.time_ns,
                              .duration_ns = v.missed});
    }
}

void resource_table::on(const trace::event& e, const trace::resource_closed_view& v) {
    resource_info& r = resource(v.resource, e.time_ns);
    if (!r.closed) {
        r.closed = true;
        r.closed_ns = e.time_ns;
    }
}

void resource_table::end_hold(resource_info& r, std::uint64_t task, std::uint64_t at_ns) {
    const auto it = std::find_if(m_open_holds.begin(), m_open_holds.end(), [&](const open_hold& h) {
        return h.resource == r.id && h.task == task;
    });
    if (it == m_open_holds.end()) {
        return; // acquired before the recording began (or outside it)
    }
    hold_span* h = kept_record(r.holds, it->hold);
    *it = m_open_holds.back();
    m_open_holds.pop_back();
    if (h == nullptr) {
        return; // began before the kept window
    }
    h->end_ns = std::max(at_ns, h->begin_ns);
    r.longest_hold_ns = std::max(r.longest_hold_ns, h->end_ns - h->begin_ns);
    check_hold(r, *h);
}

void resource_table::check_hold(const resource_info& r, const hold_span& h) {
    if (h.across_await && h.end_ns - h.begin_ns >= m_options.long_hold_ns) {
        m_findings.push_back({.what = resource_finding::kind::held_across_await,
                              .resource = r.id,
                              .task = h.task,
                              .at_ns = h.begin_ns,
                              .duration_ns = h.end_ns - h.begin_ns});
    }
}

void resource_table::task_suspended(std::uint64_t task) noexcept {
    for (const open_hold& h : m_open_holds) {
        if (h.task == task) {
            if (hold_span* held = kept_record(m_resources[m_index[h.resource]].holds, h.hold)) {
                held->across_await = true;
            }
        }
    }
}

void resource_table::task_ended(std::uint64_t task, std::uint64_t at_ns) {
    if (const auto it = m_open_waits.find(task); it != m_open_waits.end()) {
        resource_info& r = m_resources[m_index[it->second.resource]];
        if (wait_span* w = kept_record(r.waits, it->second.wait); w != nullptr) {
            w->end_ns = std::max(at_ns, w->begin_ns);
        }
        r.waiters_now -= r.waiters_now > 0 ? 1 : 0;
        count_waiters(r, at_ns);
        m_open_waits.erase(it);
    }
    // A lock still held by a finished task is released by its guard's destructor, which
    // records it; one still open here was lost. It ends with the task.
    for (std::size_t i = 0; i < m_open_holds.size();) {
        if (m_open_holds[i].task == task) {
            resource_info& r = m_resources[m_index[m_open_holds[i].resource]];
            end_hold(r, task, at_ns);
        } else {
            ++i;
        }
    }
}

void resource_table::finish(std::uint64_t end_ns) {
    for (const open_hold& h : m_open_holds) {
        resource_info& r = m_resources[m_index[h.resource]];
        hold_span* held = kept_record(r.holds, h.hold);
        if (held == nullptr) {
            continue;
        }
        held->end_ns = std::max(end_ns, held->begin_ns);
        r.longest_hold_ns = std::max(r.longest_hold_ns, held->end_ns - held->begin_ns);
        check_hold(r, *held);
    }
    m_open_holds.clear();
    for (const auto& [task, w] : m_open_waits) {
        resource_info& r = m_resources[m_index[w.resource]];
        if (wait_span* open = kept_record(r.waits, w.wait); open != nullptr) {
            open->end_ns = std::max(end_ns, open->begin_ns);
        }
        r.waiters_now -= r.waiters_now > 0 ? 1 : 0;
        count_waiters(r, end_ns);
    }
    m_open_waits.clear();
}

void forget_depths_before(column<depth_point>& series, std::uint64_t cut_ns) {
    const std::size_t first =
        first_from(series, cut_ns, [](const depth_point& p) { return p.time_ns; });
    series.forget_before(first > series.first_kept() ? first - 1 : first);
}

void resource_table::forget_before(std::uint64_t cut_ns) {
    for (resource_info& r : m_resources) {
        forget_depths_before(r.depths, cut_ns);
        forget_depths_before(r.waiters, cut_ns);
        r.lags.forget_before(
            first_from(r.lags, cut_ns, [](const lag_mark& l) { return l.time_ns; }));
        // Holds are in the order they began; one that began before the cut and ended after
        // it (or is open) stays with what follows it. Looking back is bounded: a permit
        // held for ever must not keep every hold after it.
        std::size_t hold =
            first_from(r.holds, cut_ns, [](const hold_span& h) { return h.begin_ns; });
        for (std::size_t back = 0; back < late_window && hold > r.holds.first_kept(); ++back) {
            const std::uint64_t end = r.holds[hold - 1].end_ns;
            if (end != resource_open_end && end < cut_ns) {
                break;
            }
            --hold;
        }
        r.holds.forget_before(hold);
        const std::uint64_t slack = r.wait_disorder_ns;
        r.waits.forget_before(first_from(
            r.waits, cut_ns, [slack](const wait_span& w) { return w.begin_ns + slack; }));
    }
}

} // namespace taskscope::analysis
