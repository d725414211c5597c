#pragma once
// What the HTTP server's two protocols share (private to the net part): the server's
// state, and the routes every request runs, whether it came over HTTP/1.1 or as an HTTP/2
// stream.

#include "http_parser.hpp"
#include "taskscope/net/http_server.hpp"
#include "taskscope/net/tcp.hpp"
#include "taskscope/trace/names.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace taskscope::net {

struct http_server::state {
    explicit state(http_server_options o) : options(std::move(o)) {
        if (!options.log) {
            options.log = [](std::string_view line) {
                std::fprintf(stderr, "taskscope http: %.*s\n", static_cast<int>(line.size()),
                             line.data());
            };
        }
    }

    http_server_options options;
    tcp_listener listener;
    io::read_interrupter connection_reads; // ends idle connections' reads at stop()
    std::atomic<sleep_mode> sleep{sleep_mode::async};
    std::atomic<bool> stopping{false};
    std::atomic<std::int64_t> grace_ns{5'000'000'000};
    std::atomic<std::uint64_t> next_request{1};
    std::atomic<std::uint32_t> next_http2_connection{1};

    mutable std::mutex mutex; // guards what follows
    http_stats stats;
    std::set<sys::socket_t> connection_fds;
    bool listening = true; // until the accept loop closes the listener

    void count(std::string_view route, int status) {
        std::lock_guard lock(mutex);
        ++stats.served;
        ++stats.routes[std::string(route)];
        ++stats.statuses[status];
    }
    void add_in_flight(int change) {
        std::lock_guard lock(mutex);
        stats.in_flight =
            static_cast<std::uint64_t>(static_cast<std::int64_t>(stats.in_flight) + change);
    }
};

std::string http_server_stats_json(const http_server::state& st);

namespace detail {

/// What a route answers.
struct http_reply {
    int status = 200;
    std::string body;
    std::string_view content_type = "text/plain; charset=utf-8";
};

/// The index of the route serving `path` (route_count() for none: a 404).
[[nodiscard]] std::size_t route_index(std::string_view path) noexcept;
[[nodiscard]] std::size_t route_count() noexcept;
/// "/", "/sleep", ...; "other" for route_count().
[[nodiscard]] std::string_view route_name(std::size_t index) noexcept;
/// The route's name in the trace, interned once.
[[nodiscard]] trace::name_id route_name_id(std::size_t index);
/// Runs the route (`index` from route_index(request.path())).
task<http_reply> handle_request(http_server::state& st, const http_request& request,
                                std::size_t index);

/// The HTTP/2 connection preface a client sends first (RFC 9113, 3.4), and the part of it
/// that tells HTTP/2 from HTTP/1.1 ("PRI * HTTP/2.0\r\n": no HTTP/1.1 request starts so).
inline constexpr std::string_view http2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr std::size_t http2_preface_sniff = 16;

/// Serves one HTTP/2 connection whose first bytes (`received`, at least the sniffed part of
/// the preface) were read already. Returns when the connection ends.
task<void> serve_http2_connection(std::shared_ptr<http_server::state> shared, tcp_stream& stream,
                                  std::string received);

} // namespace detail

} // namespace taskscope::net
