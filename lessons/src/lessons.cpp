#include "stage.hpp"
#include "taskscope/trace/request_forwarder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace taskscope::lessons {

// In the source file CMake generates from resources/lessons/*.md.
std::string_view explanation_text(std::string_view name) noexcept;

namespace {

struct lesson_entry {
    lesson_info info;
    void (*run)(detail::lesson_context&);
};

const std::vector<lesson_entry>& entries() {
    static const std::vector<lesson_entry> all = [] {
        std::vector<lesson_entry> list{
            {{"three-sleeps",
              "Three sleeps",
              "sleep 2 s three times: in a row, on threads, as tasks with a blocking and an "
              "async sleep",
              {},
              16},
             detail::three_sleeps},
            {{"spawn-vs-await",
              "Spawn or await",
              "a task does nothing until it is awaited or spawned; blocking sleeps serialise "
              "a worker",
              {},
              12},
             detail::spawn_vs_await},
            {{"own-executor",
              "Your own executor",
              "the seed's executor loop on a channel: a sleep that wakes itself on every "
              "poll against one woken by a timer",
              {},
              0.5},
             detail::own_executor},
            {{"blocking-server",
              "A blocking sleep in a server",
              "one slow request with a blocking sleep holds up every other request on its "
              "worker",
              {},
              15},
             detail::blocking_server},
            {{"accept-loop",
              "The accept loop",
              "serving connections inline, concurrently on one worker, or spawned across "
              "workers",
              {},
              7},
             detail::accept_loop},
            {{"work-stealing",
              "Work stealing",
              "1000 short tasks spawned on one worker, with stealing on and off",
              {},
              2},
             detail::work_stealing},
            {{"cpu-heavy",
              "A long computation",
              "a computation that never yields starves requests and timers; yield_now and "
              "spawn_blocking fix it",
              {},
              7},
             detail::cpu_heavy},
            {{"locks-and-channels",
              "Locks and channels",
              "four tasks share an async mutex, held across a sleep or not; a bounded channel "
              "makes a fast producer wait; a std::mutex in a task blocks its worker",
              {},
              5},
             detail::locks_and_channels},
            {{"chat-backpressure",
              "Backpressure in a chat server",
              "a reader that stops reading: a bounded ring drops its messages and tells it; "
              "an unbounded queue keeps them all and the server's memory grows",
              {},
              12},
             detail::chat_backpressure},
            {{"http2-multiplexing",
              "HTTP/2 multiplexing",
              "eleven requests on one connection: HTTP/2 streams answer as their tasks finish, "
              "HTTP/1.1 pipelining answers in order, and a blocking sleep stalls every stream",
              {},
              7},
             detail::http2_multiplexing},
        };
        for (lesson_entry& e : list) {
            e.info.explanation = explanation_text(e.info.name);
        }
        return list;
    }();
    return all;
}

} // namespace

std::span<const lesson_info> catalogue() noexcept {
    static const std::vector<lesson_info> infos = [] {
        std::vector<lesson_info> out;
        for (const lesson_entry& e : entries()) {
            out.push_back(e.info);
        }
        return out;
    }();
    return infos;
}

const lesson_info* find(std::string_view name) noexcept {
    for (const lesson_info& info : catalogue()) {
        if (info.name == name) {
            return &info;
        }
    }
    return nullptr;
}

std::string phase_report::line() const {
    char seconds_text[32];
    std::snprintf(seconds_text, sizeof seconds_text, "%.3f", seconds);
    std::string out = "phase " + name + " " + seconds_text;
    for (const auto& [key, value] : counts) {
        char value_text[32];
        if (value == std::floor(value) && std::abs(value) < 1e15) {
            std::snprintf(value_text, sizeof value_text, "%.0f", value);
        } else {
            std::snprintf(value_text, sizeof value_text, "%.3f", value);
        }
        out += " " + key + "=" + value_text;
    }
    return out;
}

double phase_report::count(std::string_view key, double fallback) const {
    for (const auto& [k, v] : counts) {
        if (k == key) {
            return v;
        }
    }
    return fallback;
}

const phase_report* lesson_report::phase(std::string_view name) const {
    for (const phase_report& p : phases) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

lesson_report run(std::string_view name, const run_options& options) {
    const auto it = std::find_if(entries().begin(), entries().end(),
                                 [&](const lesson_entry& e) { return e.info.name == name; });
    if (it == entries().end()) {
        std::string known;
        for (const lesson_entry& e : entries()) {
            known += (known.empty() ? "" : ", ") + std::string(e.info.name);
        }
        throw std::invalid_argument("there is no lesson \"" + std::string(name) +
                                    "\"; the lessons are " + known);
    }
    if (!(options.scale >= 0.001 && options.scale <= 10)) {
        throw std::invalid_argument("the scale must be a number from 0.001 to 10 (1 = the "
                                    "lesson's own durations)");
    }
    lesson_report report;
    {
        detail::lesson_context cx(options, report);
        it->run(cx);
        report.stopped = cx.stopping();
    } // the runtime stops here, so every event is drained into the sinks
    return report;
}

namespace detail {

lesson_context::lesson_context(const run_options& options, lesson_report& report)
    : m_options(options)
    , m_report(report) {}

lesson_context::~lesson_context() {
    if (m_runtime) {
        m_runtime->shutdown();
        m_runtime->trace().flush();
    }
}

std::chrono::nanoseconds lesson_context::scaled(std::chrono::nanoseconds d) const {
    const double ns = static_cast<double>(d.count()) * m_options.scale;
    return std::chrono::nanoseconds(std::max<std::int64_t>(1000, std::llround(ns)));
}

std::uint64_t lesson_context::scaled_ms(std::chrono::milliseconds d) const {
    const double ms = static_cast<double>(d.count()) * m_options.scale;
    return static_cast<std::uint64_t>(std::max<long long>(1, std::llround(ms)));
}

runtime& lesson_context::start_runtime(runtime_options options) {
    if (m_runtime) {
        throw std::logic_error("a lesson has one runtime");
    }
    m_runtime = std::make_unique<runtime>(options);
    if (m_options.attach) {
        m_client_sink = m_options.attach(*m_runtime);
    }
    return *m_runtime;
}

void lesson_context::begin_phase(std::string_view name) {
    m_phase = std::string(name);
    if (m_options.on_phase_begin) {
        m_options.on_phase_begin(name);
    }
    if (m_runtime) {
        m_runtime->trace().mark("phase " + m_phase);
    }
    m_phase_start = clock::now();
}

void lesson_context::end_phase(std::initializer_list<std::pair<std::string, double>> counts) {
    phase_report report;
    report.name = m_phase;
    report.seconds = std::chrono::duration<double>(clock::now() - m_phase_start).count();
    report.counts.assign(counts.begin(), counts.end());
    if (m_runtime) {
        m_runtime->trace().mark("end of " + m_phase);
    }
    m_report.phases.push_back(report);
    if (m_options.on_phase) {
        m_options.on_phase(m_report.phases.back());
    }
}

bool lesson_context::stopping() const noexcept {
    return m_options.stop.stop_requested();
}

void lesson_context::main_thread_sleep(std::chrono::nanoseconds d) {
    blocking_sleep(scaled(d), m_runtime->trace());
}

// ---------------------------------------------------------------- http_stage

namespace {

task<net::load_report> load(net::load_options options) {
    co_return co_await net::run_load(std::move(options));
}

} // namespace

http_stage::http_stage(lesson_context& cx, net::http_server_options options)
    : m_cx(cx)
    , m_clients(runtime_options{.workers = 1}) {
    if (cx.client_sink()) {
        m_clients.trace().add_sink(std::make_shared<trace::client_request_forwarder>(
            cx.client_sink(), m_clients.trace(), cx.rt().trace()));
    }
    start(std::move(options));
}

http_stage::~http_stage() {
    stop();
    m_clients.shutdown();
    m_clients.trace().flush();
}

void http_stage::start(net::http_server_options options) {
    options.log = [](std::string_view line) {
        std::fprintf(stderr, "taskscope lesson: %.*s\n", static_cast<int>(line.size()),
                     line.data());
    };
    m_server = net::http_server::bind(m_cx.rt(), std::move(options));
    m_serving = m_cx.rt().spawn(m_server->run(), "http_server.run");
}

void http_stage::stop() {
    if (!m_server) {
        return;
    }
    m_server->stop(std::chrono::milliseconds(200));
    m_cx.rt().block_on(std::move(*m_serving));
    m_serving.reset();
    m_server.reset();
}

void http_stage::restart(net::http_server_options options) {
    stop();
    start(std::move(options));
}

join_handle<net::load_report> http_stage::fire(std::string target, std::size_t count,
                                               std::size_t concurrency) {
    net::load_options options;
    options.target = std::move(target);
    options.requests = count;
    options.concurrency = concurrency;
    return fire(std::move(options));
}

join_handle<net::load_report> http_stage::fire(net::load_options options) {
    options.host = "127.0.0.1";
    options.port = m_server->port();
    options.timeout = std::chrono::milliseconds(120'000);
    return m_clients.spawn(load(std::move(options)), "fire_requests");
}

net::load_report http_stage::wait(join_handle<net::load_report>& pending) {
    return m_clients.block_on(std::move(pending));
}

} // namespace detail
} // namespace taskscope::lessons
