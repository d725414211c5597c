#include "taskscope/net/http_server.hpp"

#include "http_response.hpp"
#include "http_server_state.hpp"
#include "taskscope/record.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/time.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

namespace taskscope::net {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

std::string_view to_string(sleep_mode m) noexcept {
    switch (m) {
    case sleep_mode::async:
        return "async";
    case sleep_mode::blocking:
        return "blocking";
    case sleep_mode::offload:
        return "offload";
    }
    return "unknown";
}

std::string_view to_string(accept_mode m) noexcept {
    switch (m) {
    case accept_mode::inline_each:
        return "inline";
    case accept_mode::concurrent:
        return "concurrent";
    case accept_mode::spawn:
        return "spawn";
    }
    return "unknown";
}

std::optional<sleep_mode> parse_sleep_mode(std::string_view text) noexcept {
    for (auto m : {sleep_mode::async, sleep_mode::blocking, sleep_mode::offload}) {
        if (text == to_string(m)) {
            return m;
        }
    }
    return std::nullopt;
}

std::optional<accept_mode> parse_accept_mode(std::string_view text) noexcept {
    for (auto m : {accept_mode::inline_each, accept_mode::concurrent, accept_mode::spawn}) {
        if (text == to_string(m)) {
            return m;
        }
    }
    return std::nullopt;
}

namespace {

using detail::http_request;
using detail::http_request_parser;
using detail::parse_status;

using response = detail::http_reply;

response plain(int status, std::string body) {
    return {status, std::move(body)};
}

/// Reads `ms=` (required to be 0..max); nullopt with a 400 response when it is not.
std::optional<std::uint32_t> millis(const http_request& request, std::uint32_t max,
                                    response& error) {
    const auto text = detail::query_param(request.query, "ms");
    if (!text || text->empty()) {
        error = plain(400, "missing ms: try ?ms=200\n");
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : *text) {
        if (c < '0' || c > '9' || value > max) {
            error = plain(400, "ms must be a whole number from 0 to " + std::to_string(max) + "\n");
            return std::nullopt;
        }
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value > max) {
        error = plain(400, "ms must be a whole number from 0 to " + std::to_string(max) + "\n");
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(value);
}

task<response> route_sleep(http_server::state& st, const http_request& request) {
    response error;
    const auto ms = millis(request, st.options.max_sleep_ms, error);
    if (!ms) {
        co_return error;
    }
    sleep_mode mode = st.sleep.load(std::memory_order_relaxed);
    if (const auto override_text = detail::query_param(request.query, "mode")) {
        const auto parsed = parse_sleep_mode(*override_text);
        if (!parsed) {
            co_return plain(400, "mode must be async, blocking or offload\n");
        }
        mode = *parsed;
    }
    const auto d = std::chrono::milliseconds(*ms);
    switch (mode) {
    case sleep_mode::async:
        co_await sleep_for(d);
        break;
    case sleep_mode::blocking:
        blocking_sleep(d);
        break;
    case sleep_mode::offload:
        co_await spawn_blocking([d] { std::this_thread::sleep_for(d); }, "sleep (offloaded)");
        break;
    }
    co_return plain(200, "slept " + std::to_string(*ms) + " ms (" + std::string(to_string(mode)) +
                             ")\n");
}

task<response> route_cpu(http_server::state& st, const http_request& request) {
    response error;
    const auto ms = millis(request, st.options.max_sleep_ms, error);
    if (!ms) {
        co_return error;
    }
    const bool yielding = detail::query_param(request.query, "yield").value_or("0") == "1";
    for (std::uint32_t slice = 0; slice < *ms; ++slice) {
        spin_for(1ms);
        if (yielding) {
            co_await yield_now();
        }
    }
    co_return plain(200, "computed " + std::to_string(*ms) + " ms" +
                             (yielding ? " (yielding)" : "") + "\n");
}

task<response> route_hello(http_server::state&, const http_request&) {
    co_return plain(200, "hello from taskscope\n");
}

task<response> route_stats(http_server::state& st, const http_request&) {
    co_return response{200, http_server_stats_json(st), "application/json"};
}

/// The routes: a path and its handler. A request's route names it in the trace and in
/// the counters; any other path is "other" (404).
struct route {
    std::string_view path;
    task<response> (*handle)(http_server::state&, const http_request&);
};
constexpr std::array<route, 4> routes = {
    {{"/", route_hello}, {"/sleep", route_sleep}, {"/cpu", route_cpu}, {"/stats", route_stats}}};
constexpr std::string_view other_route = "other";

} // namespace

namespace detail {

/// The index in `routes` serving `path`; routes.size() for none.
std::size_t route_count() noexcept {
    return routes.size();
}

std::size_t route_index(std::string_view path) noexcept {
    std::size_t i = 0;
    while (i < routes.size() && routes[i].path != path) {
        ++i;
    }
    return i;
}

std::string_view route_name(std::size_t index) noexcept {
    return index < routes.size() ? routes[index].path : other_route;
}

/// The route's name in the trace, interned once (names are kept for good: the route,
/// not the client's path).
trace::name_id route_name_id(std::size_t index) {
    static const auto ids = [] {
        std::array<trace::name_id, routes.size() + 1> interned{};
        for (std::size_t i = 0; i < interned.size(); ++i) {
            interned[i] = trace::intern(route_name(i));
        }
        return interned;
    }();
    return ids[std::min(index, routes.size())];
}

task<http_reply> handle_request(http_server::state& st, const http_request& request,
                                std::size_t route) {
    if (route < routes.size()) {
        co_return co_await routes[route].handle(st, request);
    }
    co_return plain(404, "no route " + std::string(request.path()) +
                             ": try /, /sleep?ms=200, /cpu?ms=50 or /stats\n");
}

} // namespace detail

namespace {

/// Gives back a connection's place (taken by the accept loop when it admitted it, so a
/// burst of accepts cannot pass the limit before the handlers first run).
/// It is a parameter of the connection task, so it is given back even when the task is
/// destroyed before its first poll (runtime shutdown).
class connection_guard {
public:
    connection_guard(std::shared_ptr<http_server::state> st, sys::socket_t fd) noexcept
        : m_state(std::move(st))
        , m_fd(fd) {}
    connection_guard(connection_guard&& other) noexcept
        : m_state(std::move(other.m_state))
        , m_fd(other.m_fd) {}
    connection_guard& operator=(connection_guard&&) = delete;
    ~connection_guard() {
        if (m_state) {
            std::lock_guard lock(m_state->mutex);
            --m_state->stats.connections;
            m_state->connection_fds.erase(m_fd);
        }
    }

private:
    std::shared_ptr<http_server::state> m_state;
    sys::socket_t m_fd;
};

task<void> handle_connection(std::shared_ptr<http_server::state> shared, tcp_stream stream,
                             [[maybe_unused]] connection_guard guard) {
    http_server::state& st = *shared;
    http_request_parser parser(
        detail::http_limits{st.options.max_header_bytes, st.options.max_body_bytes, 64});
    std::string pending_bytes; // received, not yet parsed
    std::vector<char> buffer(16 * 1024);
    io_deadline deadline = io_deadline::after(st.options.request_timeout);
    // HTTP/2 with prior knowledge starts with its preface; anything else is HTTP/1.1.
    while (pending_bytes.size() < detail::http2_preface_sniff &&
           detail::http2_preface.starts_with(pending_bytes)) {
        const io_result r = co_await stream.read(buffer, &deadline);
        if (!r.ok()) {
            co_return; // nothing complete arrived: closed, reset, stopped or timed out
        }
        if (pending_bytes.empty()) { // a request began: it has its whole time to arrive
            deadline.reset(clock_type::now() + st.options.request_timeout);
        }
        pending_bytes.append(buffer.data(), r.bytes);
    }
    if (pending_bytes.starts_with(detail::http2_preface.substr(0, detail::http2_preface_sniff))) {
        co_await detail::serve_http2_connection(std::move(shared), stream,
                                                std::move(pending_bytes));
        co_return;
    }
    bool mid_request = !pending_bytes.empty();
    for (;;) {
        std::size_t consumed = 0;
        const parse_status status = parser.feed(pending_bytes, consumed);
        pending_bytes.erase(0, consumed);
        if (status == parse_status::request_ready) {
            const http_request request = parser.take_request();
            const std::uint64_t id = st.next_request.fetch_add(1, std::memory_order_relaxed);
            st.add_in_flight(1);
            const std::size_t route = detail::route_index(request.path());
            record_request_begin(id, detail::route_name_id(route), trace::request_side::server);
            response r = co_await detail::handle_request(st, request, route);
            const bool keep_alive = request.keep_alive && !st.stopping.load();
            // A handler may have taken longer than the request deadline: the reply gets
            // its own time to go out.
            deadline.reset(clock_type::now() + st.options.request_timeout);
            const std::string bytes =
                detail::format_response(r.status, r.content_type, r.body, keep_alive);
            const io_result written = co_await stream.write_all(bytes, &deadline);
            record_request_end(written.bytes, static_cast<std::uint32_t>(r.status),
                               trace::request_side::server);
            st.add_in_flight(-1);
            st.count(detail::route_name(route), r.status);
            if (!written.ok() || !keep_alive) {
                co_return;
            }
            mid_request = !pending_bytes.empty();
            deadline.reset(clock_type::now() +
                           (mid_request ? st.options.request_timeout : st.options.idle_timeout));
            continue;
        }
        if (status != parse_status::need_more) {
            const int code = detail::response_status_for(status);
            const std::string body =
                std::string(to_string(status)) + ": " + std::string(parser.error_reason()) + "\n";
            auto reply_deadline = io_deadline::after(1s); // a client that never reads
            co_await stream.write_all(
                detail::format_response(code, "text/plain; charset=utf-8", body, false),
                &reply_deadline);
            st.count("error", code);
            co_return;
        }
        const io_result r = co_await stream.read(buffer, &deadline);
        if (r.status == io_status::timed_out) {
            if (mid_request) { // a request started and never finished: tell the client
                auto reply_deadline = io_deadline::after(1s);
                co_await stream.write_all(detail::format_response(408, "text/plain; charset=utf-8",
                                                                  "request timed out\n", false),
                                          &reply_deadline);
                st.count("error", 408);
            }
            co_return;
        }
        if (!r.ok()) {
            co_return; // closed by the peer, reset, or shut down by stop()
        }
        if (!mid_request) {
            mid_request = true;
            deadline.reset(clock_type::now() + st.options.request_timeout);
        }
        pending_bytes.append(buffer.data(), r.bytes);
    }
}

/// Refuses a connection over the limit without reading from it.
task<void> refuse_connection(std::shared_ptr<http_server::state> shared, tcp_stream stream) {
    auto deadline = io_deadline::after(1s);
    co_await stream.write_all(detail::format_response(503, "text/plain; charset=utf-8",
                                                      "too many connections: try again\n", false),
                              &deadline);
    shared->count("refused", 503);
}

} // namespace

std::string http_server_stats_json(const http_server::state& st) {
    nlohmann::json doc;
    std::lock_guard lock(st.mutex);
    doc["served"] = st.stats.served;
    doc["in_flight"] = st.stats.in_flight;
    doc["connections"] = st.stats.connections;
    doc["accepted"] = st.stats.accepted;
    doc["accept_errors"] = st.stats.accept_errors;
    doc["http2_connections"] = st.stats.http2_connections;
    doc["routes"] = nlohmann::json::object();
    for (const auto& [route, n] : st.stats.routes) {
        doc["routes"][route] = n;
    }
    doc["statuses"] = nlohmann::json::object();
    for (const auto& [status, n] : st.stats.statuses) {
        doc["statuses"][std::to_string(status)] = n;
    }
    doc["sleep_mode"] = std::string(to_string(st.sleep.load()));
    doc["accept_mode"] = std::string(to_string(st.options.accept));
    return doc.dump();
}

http_server::http_server(http_server_options options)
    : m_state(std::make_shared<state>(std::move(options))) {
    m_state->sleep.store(m_state->options.sleep);
    m_state->listener = tcp_listener::bind(m_state->options.host, m_state->options.port);
    m_state->connection_reads = io::read_interrupter::current("http_server");
}

std::unique_ptr<http_server> http_server::bind(runtime& rt, http_server_options options) {
    auto construct = [](http_server_options o) -> task<std::unique_ptr<http_server>> {
        co_return std::make_unique<http_server>(std::move(o));
    };
    return rt.block_on(construct(std::move(options)), "bind server");
}

http_server::~http_server() = default;

std::uint16_t http_server::port() const noexcept {
    return m_state->listener.port();
}

void http_server::set_sleep_mode(sleep_mode mode) noexcept {
    m_state->sleep.store(mode);
}

sleep_mode http_server::current_sleep_mode() const noexcept {
    return m_state->sleep.load();
}

http_stats http_server::stats() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->stats;
}

std::string http_server::stats_json() const {
    return http_server_stats_json(*m_state);
}

void http_server::stop(std::chrono::milliseconds grace) noexcept {
    m_state->grace_ns.store(std::chrono::nanoseconds(grace).count());
    if (m_state->stopping.exchange(true)) {
        return;
    }
    std::lock_guard lock(m_state->mutex);
    // Wakes the accept loop (accept fails) and idle connections (reads end); responses
    // still go out, since only the reading side is shut.
    if (m_state->listening) {
        m_state->listener.interrupt();
    }
    for (const sys::socket_t fd : m_state->connection_fds) {
        m_state->connection_reads.interrupt(fd);
    }
}

namespace {

task<void> accept_connections(std::shared_ptr<http_server::state> st);

task<void> serve(std::shared_ptr<http_server::state> st) {
    if (st->options.accept == accept_mode::concurrent) {
        // Concurrent means one worker for the accept loop and all its connections: pin the
        // loop too, or it would move between workers and take new connections with it.
        co_await spawn_local(accept_connections(st), "accept_loop");
    } else {
        co_await accept_connections(st);
    }
}

} // namespace

task<void> http_server::run() {
    // Not a coroutine itself: the state is taken now, while the server surely exists. The
    // task may first run after the server is gone (the window restarting its engine at
    // once destroyed the server before a worker had polled run(): ASan caught it).
    return serve(m_state);
}

namespace {

task<void> accept_connections(std::shared_ptr<http_server::state> st) {
    while (!st->stopping.load()) {
        accept_result accepted = co_await st->listener.accept();
        if (st->stopping.load()) {
            break;
        }
        if (!accepted.result.ok()) {
            {
                std::lock_guard lock(st->mutex);
                ++st->stats.accept_errors;
            }
            st->options.log("accept failed: " + std::string(to_string(accepted.result.status)) +
                            (accepted.result.status == io_status::too_many_files
                                 ? " (out of file descriptors); retrying in 50 ms"
                                 : ""));
            co_await sleep_for(50ms); // let connections close before trying again
            continue;
        }
        bool over_limit = false;
        {
            std::lock_guard lock(st->mutex);
            ++st->stats.accepted;
            over_limit = st->stats.connections >= st->options.max_connections;
            if (!over_limit) { // admitted: counted, and reachable by stop() from now on
                ++st->stats.connections;
                st->connection_fds.insert(accepted.stream.native_handle());
            }
        }
        if (over_limit) {
            spawn(refuse_connection(st, std::move(accepted.stream)), "refuse_connection").detach();
            continue;
        }
        connection_guard guard(st, accepted.stream.native_handle());
        switch (st->options.accept) {
        case accept_mode::inline_each:
            co_await handle_connection(st, std::move(accepted.stream), std::move(guard));
            break;
        case accept_mode::concurrent:
            spawn_local(handle_connection(st, std::move(accepted.stream), std::move(guard)),
                        "handle_connection")
                .detach();
            break;
        case accept_mode::spawn:
            spawn(handle_connection(st, std::move(accepted.stream), std::move(guard)),
                  "handle_connection")
                .detach();
            break;
        }
    }
    {
        // Closed under the lock, so stop() never touches a closed listener.
        std::lock_guard lock(st->mutex);
        st->listening = false;
        st->listener.close();
        for (const sys::socket_t fd : st->connection_fds) { // accepted after stop() began
            st->connection_reads.interrupt(fd);
        }
    }
    const auto give_up = clock_type::now() + std::chrono::nanoseconds(st->grace_ns.load());
    for (;;) {
        {
            std::lock_guard lock(st->mutex);
            if (st->stats.connections == 0) {
                break;
            }
        }
        if (clock_type::now() >= give_up) {
            st->options.log("stopped with connections still open after the grace period");
            break;
        }
        co_await sleep_for(10ms);
    }
}

} // namespace

} // namespace taskscope::net
