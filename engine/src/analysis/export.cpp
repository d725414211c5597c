#include "taskscope/analysis/export.hpp"

#include "taskscope/trace/event_types.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <ostream>

namespace taskscope::analysis {

using trace::event;
using trace::event_kind;

namespace {

constexpr std::uint32_t reactor_tid = 100'000; // a lane of its own for timers and sockets

std::string quote(std::string_view text) {
    // Names come from files; invalid UTF-8 is replaced rather than refused.
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::uint32_t tid_of(std::uint16_t track) {
    return std::uint32_t{track} + 1;
}

std::uint32_t sort_index(trace::track_kind kind, std::uint32_t index) {
    switch (kind) {
    case trace::track_kind::worker:
        return index;
    case trace::track_kind::driver:
        return 400 + index;
    case trace::track_kind::blocking:
        return 1000 + index;
    case trace::track_kind::external:
        return 2000 + index;
    case trace::track_kind::executor:
        return 200 + index; // beside the workers: it runs tasks too
    }
    return 3000;
}

} // namespace

chrome_trace_writer::chrome_trace_writer(std::ostream& out, const trace::run_info& info)
    : m_out(out) {
    nlohmann::json other = {{"tool", info.tool},
                            {"command", info.command},
                            {"lesson", info.lesson},
                            {"workers", info.workers},
                            {"stealing", info.stealing},
                            {"lifo_slot", info.lifo_slot},
                            {"sleep_mode", info.sleep_mode},
                            {"accept_mode", info.accept_mode}};
    m_out << "{\"displayTimeUnit\":\"ns\",\"otherData\":"
          << other.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          << ",\"traceEvents\":[\n";
    const std::string process =
        "taskscope" + (info.command.empty() ? std::string() : ": " + info.command);
    begin_record();
    m_out << R"({"ph":"M","pid":1,"tid":0,"name":"process_name","args":{"name":)" << quote(process)
          << "}}";
    begin_record();
    m_out << R"({"ph":"M","pid":1,"tid":)" << reactor_tid
          << R"(,"name":"thread_name","args":{"name":"reactor & timers"}})";
    begin_record();
    m_out << R"({"ph":"M","pid":1,"tid":)" << reactor_tid
          << R"(,"name":"thread_sort_index","args":{"sort_index":500}})";
}

void chrome_trace_writer::begin_record() {
    if (m_records != 0) {
        m_out << ",\n";
    }
    ++m_records;
}

void chrome_trace_writer::write_ts(std::uint64_t ns) {
    // Microseconds with three decimals, from integers: exact, and no locale involved.
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ns / 1000);
    *end++ = '.';
    const auto frac = static_cast<unsigned>(ns % 1000);
    *end++ = static_cast<char>('0' + frac / 100);
    *end++ = static_cast<char>('0' + frac / 10 % 10);
    *end++ = static_cast<char>('0' + frac % 10);
    m_out.write(buf, end - buf);
}

const std::string& chrome_trace_writer::quoted_name(trace::name_id id) {
    auto it = m_quoted.find(id);
    if (it == m_quoted.end()) {
        const std::string text =
            m_names != nullptr && id < m_names->size()
                ? (*m_names)[id]
                : (id == 0 ? std::string("task") : "name#" + std::to_string(id));
        it = m_quoted.emplace(id, quote(text)).first;
    }
    return it->second;
}

std::string chrome_trace_writer::task_label(std::uint64_t task) {
    auto it = m_task_names.find(task);
    const std::string& quoted = quoted_name(it == m_task_names.end() ? 0 : it->second);
    // "name" -> "name#7": the quoted name without its closing quote, the id, the quote.
    std::string label(quoted, 0, quoted.size() - 1);
    label += '#';
    label += std::to_string(task);
    label += '"';
    return label;
}

chrome_trace_writer::track& chrome_trace_writer::track_of(std::uint16_t id) {
    if (id >= m_tracks.size()) {
        m_tracks.resize(id + 1u);
    }
    return m_tracks[id];
}

void chrome_trace_writer::name_track(std::uint16_t id, track& t) {
    t.named = true;
    begin_record();
    m_out << R"({"ph":"M","pid":1,"tid":)" << tid_of(id)
          << R"(,"name":"thread_name","args":{"name":)" << quote(track_label(t.kind, t.index))
          << "}}";
    begin_record();
    m_out << R"({"ph":"M","pid":1,"tid":)" << tid_of(id)
          << R"(,"name":"thread_sort_index","args":{"sort_index":)" << sort_index(t.kind, t.index)
          << "}}";
}

void chrome_trace_writer::complete_slice(std::uint32_t tid, std::uint64_t begin_ns,
                                         std::uint64_t end_ns, const std::string& quoted,
                                         const char* category, const std::string& args_json) {
    begin_record();
    m_out << R"({"ph":"X","pid":1,"tid":)" << tid << ",\"ts\":";
    write_ts(begin_ns);
    m_out << ",\"dur\":";
    write_ts(end_ns - begin_ns);
    m_out << ",\"name\":" << quoted << ",\"cat\":\"" << category << '"';
    if (!args_json.empty()) {
        m_out << ",\"args\":" << args_json;
    }
    m_out << '}';
}

void chrome_trace_writer::flow(char phase, std::uint64_t id, std::uint32_t tid, std::uint64_t ns,
                               const char* name) {
    begin_record();
    m_out << R"({"ph":")" << phase << R"(","pid":1,"tid":)" << tid << ",\"ts\":";
    write_ts(ns);
    m_out << ",\"id\":" << id << ",\"name\":\"" << name << "\",\"cat\":\"" << name << '"';
    if (phase == 'f') {
        m_out << R"(,"bp":"e")"; // bind to the slice that encloses the end: the caused poll
    }
    m_out << '}';
}

// ---- resources ---------------------------------------------------------------------------

namespace {
/// Resource tracks sit after every thread's: tid = resource_tid_base + resource id.
constexpr std::uint64_t resource_tid_base = 1'000'000;

std::string json_string(const std::string& text) {
    return nlohmann::json(text).dump();
}
} // namespace

void chrome_trace_writer::set_label(resource_track& r, std::string label) {
    r.label = std::move(label);
    r.depth_name = json_string(r.label + " depth");
    r.waiters_name = json_string(r.label + " waiters");
}

chrome_trace_writer::resource_track& chrome_trace_writer::resource_of(std::uint32_t id) {
    resource_track& r = m_resources[id];
    if (r.label.empty()) {
        set_label(r, "resource #" + std::to_string(id));
    }
    return r;
}

void chrome_trace_writer::on(const event& /*e*/, const trace::resource_created_view& v) {
    resource_track& r = resource_of(v.resource);
    const std::string& quoted = quoted_name(v.name);
    set_label(r, std::string(trace::to_string(v.kind)) + " '" +
                     quoted.substr(1, quoted.size() - 2) + "'");
    if (!r.named) {
        r.named = true;
        begin_record();
        m_out << R"({"ph":"M","pid":1,"tid":)" << resource_tid_base + v.resource
              << R"(,"name":"thread_name","args":{"name":)" << json_string(r.label) << "}}";
    }
}

void chrome_trace_writer::on(const event& e, const trace::resource_wait_view& v) {
    resource_track& r = resource_of(v.resource);
    ++r.waiters;
    counter(r.waiters_name, e.time_ns, r.waiters);
}

void chrome_trace_writer::on(const event& e, const trace::resource_ready_view& v) {
    resource_track& r = resource_of(v.resource);
    r.waiters -= r.waiters > 0 ? 1 : 0;
    counter(r.waiters_name, e.time_ns, r.waiters);
    if (v.op == trace::resource_op::lock || v.op == trace::resource_op::acquire) {
        begin_hold(v.resource, v.task, e.time_ns);
    }
}

void chrome_trace_writer::on(const event& e, const trace::resource_depth_view& v) {
    resource_track& r = resource_of(v.resource);
    counter(r.depth_name, e.time_ns, v.depth);
    if (v.op == trace::resource_op::lock || v.op == trace::resource_op::acquire) {
        begin_hold(v.resource, v.task, e.time_ns);
    }
}

void chrome_trace_writer::begin_hold(std::uint32_t id, std::uint64_t task, std::uint64_t now) {
    resource_of(id).holds.emplace_back(task, now);
}

void chrome_trace_writer::on(const event& e, const trace::resource_released_view& v) {
    resource_track& r = resource_of(v.resource);
    counter(r.depth_name, e.time_ns, v.held_after);
    const auto it = std::find_if(r.holds.begin(), r.holds.end(),
                                 [&](const auto& h) { return h.first == v.task; });
    if (it == r.holds.end()) {
        return; // acquired before the recording began
    }
    const std::uint64_t since = it->second;
    r.holds.erase(it);
    // An async slice: a semaphore's holders overlap.
    for (const char phase : {'b', 'e'}) {
        begin_record();
        m_out << R"({"ph":")" << phase << R"(","pid":1,"tid":)" << resource_tid_base + v.resource
              << ",\"ts\":";
        write_ts(phase == 'b' ? since : std::max(since, e.time_ns));
        m_out << R"(,"cat":"resource hold","id":"r)" << v.resource << 't' << v.task << 's' << since
              << R"(","name":)" << task_label(v.task) << '}';
    }
}

void chrome_trace_writer::on(const event& e, const trace::resource_lagged_view& v) {
    begin_record();
    m_out << R"({"ph":"i","s":"t","pid":1,"tid":)" << resource_tid_base + v.resource << ",\"ts\":";
    write_ts(e.time_ns);
    m_out << R"(,"name":"lagged","args":{"receiver":)" << task_label(v.task) << R"(,"missed":)"
          << v.missed << "}}";
}

void chrome_trace_writer::counter(const std::string& quoted, std::uint64_t ns,
                                  std::uint64_t value) {
    begin_record();
    m_out << R"({"ph":"C","pid":1,"tid":0,"ts":)";
    write_ts(ns);
    m_out << ",\"name\":" << quoted << R"(,"args":{"depth":)" << value << "}}";
}

void chrome_trace_writer::end_poll_slice(track& t, std::uint32_t tid, std::uint64_t end_ns,
                                         const std::string& args_json) {
    // A block begun in this poll and still open lost its end (a full buffer): it ends with
    // the poll, so that slices stay nested.
    while (!t.blocks.empty() && t.blocks.back().first >= t.poll.begin_ns) {
        const std::uint64_t begin = t.blocks.back().first;
        t.blocks.pop_back();
        complete_slice(tid, begin, std::max(end_ns, begin), "\"blocked\"", "block",
                       "{\"unfinished\":true}");
    }
    complete_slice(tid, t.poll.begin_ns, std::max(end_ns, t.poll.begin_ns), task_label(t.poll.task),
                   "poll", args_json);
    t.poll.open = false;
}

void chrome_trace_writer::close_lost_spans(track& t, std::uint32_t tid, std::uint64_t now) {
    // Blocks do not nest: one still open when the next begins lost its end.
    while (!t.blocks.empty()) {
        const std::uint64_t begin = t.blocks.back().first;
        t.blocks.pop_back();
        complete_slice(tid, begin, std::max(now, begin), "\"blocked\"", "block",
                       "{\"unfinished\":true}");
    }
}

void chrome_trace_writer::wake_arrow(const pending_wake& w, std::uint64_t task,
                                     std::uint32_t poll_tid, std::uint64_t poll_begin_ns) {
    const std::uint64_t id = m_next_flow++;
    if (!w.in_poll) {
        // Nothing was running where the wake happened (a timer, a socket, another
        // thread): give the arrow a zero-length slice to start from.
        complete_slice(w.tid, w.time_ns, w.time_ns, "\"wake\"", "wake",
                       "{\"task\":" + std::to_string(task) + "}");
    }
    flow('s', id, w.tid, w.time_ns, "wake");
    flow('f', id, poll_tid, poll_begin_ns, "wake");
}

void chrome_trace_writer::end_request(const open_request& r, std::uint32_t tid,
                                      std::uint64_t end_ns, const std::string& args_json) {
    begin_record();
    m_out << R"({"ph":"e","pid":1,"tid":)" << tid << ",\"ts\":";
    // Never before its begin: the two may be stamped on different cores, whose clocks can
    // disagree by a little (the model clamps the same way).
    write_ts(std::max(end_ns, r.begin_ns));
    m_out << ",\"cat\":\"" << (r.client ? "http client" : "http server") << "\",\"id\":\""
          << (r.client ? 'c' : 's') << r.id << "\",\"name\":" << quoted_name(r.route)
          << ",\"args\":" << args_json << '}';
}

void chrome_trace_writer::forget_task(std::uint64_t task) {
    m_task_names.erase(task);
    m_pending_wakes.erase(task);
    m_last_polls.erase(task);
}

void chrome_trace_writer::consume(std::span<const event> events,
                                  const std::vector<std::string>& names) {
    m_names = &names;
    for (const event& e : events) {
        on_event(e);
    }
    // `names` need not outlive this call: quote now what finish() may still have to name.
    for (const track& t : m_tracks) {
        if (t.poll.open) {
            const auto it = m_task_names.find(t.poll.task);
            (void)quoted_name(it == m_task_names.end() ? 0 : it->second);
        }
        for (const auto& job : t.jobs) {
            (void)quoted_name(static_cast<trace::name_id>(job.second));
        }
    }
    m_names = nullptr;
}

void chrome_trace_writer::on_event(const event& e) {
    m_last_ns = std::max(m_last_ns, e.time_ns);
    track& t = track_of(e.track);
    if (!t.named && e.kind != event_kind::track_started) {
        name_track(e.track, t); // a trace that starts mid-run still names its threads
    }
    trace::dispatch(e, *this);
}

void chrome_trace_writer::worker_depth(track& t, std::uint64_t now, std::uint32_t depth) {
    if (t.kind == trace::track_kind::worker && t.depth != depth) {
        t.depth = depth;
        counter(quote("queue depth " + track_label(t.kind, t.index)), now, depth);
    }
}

// ---- one handler a kind ----------------------------------------------------------------------

void chrome_trace_writer::on(const event& e, const trace::track_started_view& v) {
    track& t = track_of(e.track);
    t.kind = v.kind;
    t.index = v.index;
    m_workers.note(e);
    if (!t.named) {
        name_track(e.track, t);
    }
}

void chrome_trace_writer::on(const event& /*e*/, const trace::task_spawned_view& v) {
    m_task_names[v.task] = v.name;
}

void chrome_trace_writer::on(const event& e, const trace::poll_begin_view& v) {
    track& t = track_of(e.track);
    const std::uint32_t tid = tid_of(e.track);
    if (t.poll.open) {
        end_poll_slice(t, tid, e.time_ns, "{\"unfinished\":true}"); // its end was lost
    }
    t.poll = {e.time_ns, v.task, true};
    bool linked = false;
    if (auto it = m_pending_wakes.find(v.task); it != m_pending_wakes.end()) {
        const pending_wake w = it->second;
        m_pending_wakes.erase(it);
        wake_arrow(w, v.task, tid, e.time_ns);
        linked = true;
    }
    m_last_polls[v.task] = {e.time_ns, tid, linked};
    worker_depth(t, e.time_ns, v.local_depth);
}

void chrome_trace_writer::on(const event& e, const trace::poll_end_view& v) {
    track& t = track_of(e.track);
    if (t.poll.open && t.poll.task == v.task) {
        end_poll_slice(t, tid_of(e.track), e.time_ns,
                       "{\"task\":" + std::to_string(v.task) + ",\"result\":\"" +
                           std::string(trace::to_string(v.result)) + "\"}");
        if (v.result != trace::poll_result::pending) {
            forget_task(v.task);
        }
    }
    worker_depth(t, e.time_ns, v.local_depth);
}

void chrome_trace_writer::on(const event& /*e*/, const trace::task_cancelled_view& v) {
    forget_task(v.task);
}

void chrome_trace_writer::on(const event& e, const trace::wake_view& v) {
    const std::uint64_t now = e.time_ns;
    const bool in_poll = track_of(e.track).poll.open;
    const pending_wake w{now, in_poll ? tid_of(e.track) : reactor_tid, in_poll};
    if (auto last = m_last_polls.find(v.task);
        last != m_last_polls.end() && last->second.begin_ns > now && !last->second.linked) {
        // Recorded before the task's latest poll began but delivered after it (batches from
        // different threads): that poll is the one this wake caused.
        wake_arrow(w, v.task, last->second.tid, last->second.begin_ns);
        last->second.linked = true;
        return;
    }
    m_pending_wakes.try_emplace(v.task, w); // the first wake since the last poll counts
}

void chrome_trace_writer::on(const event& e, const trace::steal_view& v) {
    const auto victim = m_workers.track_of(v.victim);
    if (!victim.has_value()) {
        return;
    }
    const std::uint64_t now = e.time_ns;
    const std::uint32_t tid = tid_of(e.track);
    const std::uint32_t victim_tid = tid_of(*victim);
    const std::string args = "{\"tasks\":" + std::to_string(v.count) + "}";
    complete_slice(victim_tid, now, now, "\"stolen from\"", "steal", args);
    complete_slice(tid, now, now, "\"steal\"", "steal", args);
    const std::uint64_t id = m_next_flow++;
    flow('s', id, victim_tid, now, "steal");
    flow('f', id, tid, now, "steal");
}

void chrome_trace_writer::global_depth(std::uint64_t now, std::uint32_t depth) {
    if (m_global_depth != depth) {
        m_global_depth = depth;
        counter("\"queue depth global\"", now, depth);
    }
}

void chrome_trace_writer::on(const event& e, const trace::global_push_view& v) {
    global_depth(e.time_ns, v.global_depth);
}

void chrome_trace_writer::on(const event& e, const trace::global_pop_view& v) {
    global_depth(e.time_ns, v.global_depth);
}

void chrome_trace_writer::on(const event& e, const trace::queue_depth_view& v) {
    if (const auto worker = m_workers.track_of(v.worker)) {
        track& w = m_tracks[*worker];
        if (w.depth != v.depth) {
            w.depth = v.depth;
            counter(quote("queue depth " + track_label(w.kind, w.index)), e.time_ns, v.depth);
        }
    }
}

void chrome_trace_writer::on(const event& e, const trace::block_begin_view& v) {
    track& t = track_of(e.track);
    close_lost_spans(t, tid_of(e.track), e.time_ns);
    t.blocks.emplace_back(e.time_ns, v.intended_ns);
}

void chrome_trace_writer::on(const event& e, const trace::block_end_view& /*v*/) {
    track& t = track_of(e.track);
    if (!t.blocks.empty()) {
        const auto [begin, intended] = t.blocks.back();
        t.blocks.pop_back();
        complete_slice(tid_of(e.track), begin, std::max(e.time_ns, begin), "\"blocked\"", "block",
                       "{\"intended_ns\":" + std::to_string(intended) + "}");
    }
}

void chrome_trace_writer::on(const event& e, const trace::blocking_job_begin_view& v) {
    track& t = track_of(e.track);
    const std::uint32_t tid = tid_of(e.track);
    while (!t.jobs.empty()) { // jobs do not nest on a pool thread: this one lost its end
        complete_slice(tid, t.jobs.back().first, std::max(e.time_ns, t.jobs.back().first),
                       quoted_name(static_cast<trace::name_id>(t.jobs.back().second)),
                       "blocking pool", "{\"unfinished\":true}");
        t.jobs.pop_back();
    }
    t.jobs.emplace_back(e.time_ns, v.name);
}

void chrome_trace_writer::on(const event& e, const trace::blocking_job_end_view& v) {
    track& t = track_of(e.track);
    if (!t.jobs.empty()) {
        const auto [begin, name] = t.jobs.back();
        t.jobs.pop_back();
        complete_slice(tid_of(e.track), begin, std::max(e.time_ns, begin),
                       quoted_name(static_cast<trace::name_id>(name)), "blocking pool",
                       "{\"job\":" + std::to_string(v.job) + "}");
    }
}

// Parked time is the empty space between slices: worker_park and worker_unpark, like
// timer_armed, have no handler.

void chrome_trace_writer::reactor_instant(std::uint64_t now, const char* name, std::uint64_t task) {
    begin_record();
    m_out << R"({"ph":"i","s":"t","pid":1,"tid":)" << reactor_tid << ",\"ts\":";
    write_ts(now);
    m_out << ",\"name\":\"" << name << R"(","args":{"task":)" << task << "}}";
}

void chrome_trace_writer::on(const event& e, const trace::timer_fired_view& v) {
    reactor_instant(e.time_ns, "timer fired", v.task);
}

void chrome_trace_writer::on(const event& e, const trace::io_ready_view& v) {
    reactor_instant(e.time_ns, "socket ready", v.task);
}

void chrome_trace_writer::on(const event& e, const trace::request_begin_view& v) {
    const std::uint32_t tid = tid_of(e.track);
    const bool client = v.side == trace::request_side::client;
    if (v.queued) {
        m_queued_requests[v.task].push_back({v.request_id, v.route, client, tid, e.time_ns});
    } else if (auto open = m_open_requests.find(v.task); open != m_open_requests.end()) {
        // Its end is late or lost: kept aside until the end arrives or the trace ends.
        if (auto older = m_superseded_requests.find(v.task); older != m_superseded_requests.end()) {
            end_request(older->second, older->second.tid, older->second.superseded_ns,
                        "{\"unfinished\":true}");
        }
        open_request superseded = open->second;
        superseded.superseded_ns = e.time_ns;
        m_superseded_requests[v.task] = superseded;
    }
    if (!v.queued) {
        m_open_requests[v.task] = {v.request_id, v.route, client, tid, e.time_ns};
    }
    begin_record();
    m_out << R"({"ph":"b","pid":1,"tid":)" << tid << ",\"ts\":";
    write_ts(e.time_ns);
    m_out << ",\"cat\":\"" << (client ? "http client" : "http server") << "\",\"id\":\""
          << (client ? 'c' : 's') << v.request_id << "\",\"name\":" << quoted_name(v.route) << '}';
}

void chrome_trace_writer::on(const event& e, const trace::request_end_view& v) {
    auto it = m_open_requests.find(v.task);
    auto late = m_superseded_requests.find(v.task);
    open_request r{};
    if (v.queued) {
        auto queue = m_queued_requests.find(v.task);
        if (queue == m_queued_requests.end()) {
            return;
        }
        r = queue->second.front();
        queue->second.pop_front();
        if (queue->second.empty()) {
            m_queued_requests.erase(queue);
        }
    } else if (late != m_superseded_requests.end() && late->second.begin_ns <= e.time_ns &&
               (it == m_open_requests.end() || e.time_ns < it->second.begin_ns)) {
        // Earlier than the open request's begin: the end of the one before it.
        r = late->second;
        m_superseded_requests.erase(late);
    } else if (it != m_open_requests.end()) {
        r = it->second;
        m_open_requests.erase(it);
    } else {
        return;
    }
    end_request(r, tid_of(e.track), e.time_ns,
                "{\"status\":" + std::to_string(v.status) +
                    ",\"bytes\":" + std::to_string(v.bytes) + "}");
}

void chrome_trace_writer::on(const event& e, const trace::marker_view& v) {
    begin_record();
    m_out << R"({"ph":"i","s":"g","pid":1,"tid":)" << tid_of(e.track) << ",\"ts\":";
    write_ts(e.time_ns);
    m_out << ",\"name\":" << quoted_name(v.name) << R"(,"args":{"value":)" << v.value << "}}";
}

void chrome_trace_writer::on(const event& e, const trace::events_dropped_view& /*v*/) {
    if (m_dropped.add(e)) {
        begin_record();
        m_out << R"({"ph":"C","pid":1,"tid":0,"ts":)";
        write_ts(e.time_ns);
        m_out << R"(,"name":"events dropped","args":{"events":)" << m_dropped.total() << "}}";
    }
}

void chrome_trace_writer::finish() {
    if (m_finished) {
        return;
    }
    m_finished = true;
    for (std::size_t id = 0; id < m_tracks.size(); ++id) {
        track& t = m_tracks[id];
        const auto tid = tid_of(static_cast<std::uint16_t>(id));
        while (!t.blocks.empty()) {
            complete_slice(tid, t.blocks.back().first, std::max(m_last_ns, t.blocks.back().first),
                           "\"blocked\"", "block", "{\"unfinished\":true}");
            t.blocks.pop_back();
        }
        while (!t.jobs.empty()) {
            complete_slice(tid, t.jobs.back().first, std::max(m_last_ns, t.jobs.back().first),
                           quoted_name(static_cast<trace::name_id>(t.jobs.back().second)),
                           "blocking pool", "{\"unfinished\":true}");
            t.jobs.pop_back();
        }
        if (t.poll.open) {
            end_poll_slice(t, tid, m_last_ns, "{\"unfinished\":true}");
        }
    }
    // Requests still in flight end where the recording ends, marked as such.
    for (const auto& [task, r] : m_open_requests) {
        end_request(r, r.tid, m_last_ns, "{\"unfinished\":true}");
    }
    m_open_requests.clear();
    for (const auto& [task, queue] : m_queued_requests) {
        for (const open_request& r : queue) {
            end_request(r, r.tid, m_last_ns, "{\"unfinished\":true}");
        }
    }
    m_queued_requests.clear();
    // Requests whose end never came close where their task's next request began.
    for (const auto& [task, r] : m_superseded_requests) {
        end_request(r, r.tid, r.superseded_ns, "{\"unfinished\":true}");
    }
    m_superseded_requests.clear();
    m_out << "\n]}\n";
    m_out.flush();
}

void write_requests_csv(const model& m, std::ostream& out) {
    std::vector<const request_span*> rows;
    for (const request_span& r : m.requests()) {
        if (r.finished()) {
            rows.push_back(&r);
        }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const request_span* a, const request_span* b) {
        return a->begin_ns < b->begin_ns;
    });
    const auto csv_field = [](std::string text) {
        if (text.find_first_of(",\"\n\r") == std::string::npos) {
            return text;
        }
        std::string quoted = "\"";
        for (char c : text) {
            quoted += c;
            if (c == '"') {
                quoted += '"';
            }
        }
        return quoted + '"';
    };
    // An HTTP/2 request has no request id of its own: its connection and stream name it.
    out << "start_ns,latency_ns,route,status,worker,side,bytes,request_id,protocol,connection,"
           "stream\n";
    for (const request_span* r : rows) {
        const std::string worker = r->lane < m.lanes().size() ? m.lanes()[r->lane].label()
                                   : r->client                ? std::string("load generator")
                                                              : std::string("?");
        out << r->begin_ns - m.first_ns() << ',' << r->latency_ns() << ','
            << csv_field(m.name(r->route)) << ',' << r->status << ',' << csv_field(worker) << ','
            << (r->client ? "client" : "server") << ',' << r->bytes << ',';
        if (r->http2) {
            out << ",h2," << r->connection() << ',' << r->stream() << '\n';
        } else {
            out << r->request_id << ",http/1.1,,\n";
        }
    }
}

} // namespace taskscope::analysis
