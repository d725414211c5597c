#pragma once
// The HTTP server lessons fire requests at. It runs on the executor: an accept loop,
// one task per connection (HTTP/1.1 with keep-alive and pipelining, or HTTP/2 over
// cleartext with prior knowledge on the same port: then each stream is a task of its own),
// and routes that exist to be watched:
//   /              a small fixed body
//   /sleep?ms=N    sleeps in the current sleep mode (`&mode=async|blocking|offload`)
//   /cpu?ms=N      busy computation (`&yield=1` yields between 1 ms slices)
//   /stats         JSON: requests served, in flight, per-route and per-status counts
//
//     net::http_server server({.port = 8080, .sleep = net::sleep_mode::blocking});
//     co_await server.run();            // until server.stop() from any thread
//
// From outside the runtime: auto server = net::http_server::bind(rt, {.port = 8080});

#include "taskscope/net/tcp.hpp"
#include "taskscope/task.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace taskscope {
class runtime;
}

namespace taskscope::net {

/// How /sleep waits.
enum class sleep_mode : std::uint8_t {
    async,    ///< a timer: the worker serves others meanwhile
    blocking, ///< std::this_thread::sleep_for on the worker: the mistake lessons show
    offload,  ///< the sleep runs on the blocking pool
};

/// How the accept loop runs connections (the three versions of the seed material).
enum class accept_mode : std::uint8_t {
    inline_each, ///< "inline": await each connection in the accept loop, one at a time
    concurrent,  ///< every connection on the accepting task's worker (spawn_local)
    spawn,       ///< a task per connection, spread over the pool by stealing
};

[[nodiscard]] std::string_view to_string(sleep_mode m) noexcept;
[[nodiscard]] std::string_view to_string(accept_mode m) noexcept;
/// "async", "blocking", "offload"; nullopt for anything else.
[[nodiscard]] std::optional<sleep_mode> parse_sleep_mode(std::string_view text) noexcept;
/// "inline", "concurrent", "spawn"; nullopt for anything else.
[[nodiscard]] std::optional<accept_mode> parse_accept_mode(std::string_view text) noexcept;

struct http_server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: any free port (see http_server::port)
    sleep_mode sleep = sleep_mode::async;
    accept_mode accept = accept_mode::spawn;
    std::size_t max_connections = 1024;                ///< beyond: answered 503 and closed
    std::size_t max_header_bytes = 8192;               ///< beyond: 431
    std::size_t max_body_bytes = 1 << 20;              ///< beyond: 413
    std::chrono::milliseconds request_timeout{10'000}; ///< a request must arrive within: 408
    std::chrono::milliseconds idle_timeout{30'000};    ///< idle keep-alive connections close
    std::uint32_t max_sleep_ms = 60'000;               ///< /sleep and /cpu refuse longer (400)
    /// HTTP/2: streams running at once per connection (SETTINGS_MAX_CONCURRENT_STREAMS;
    /// beyond, REFUSED_STREAM; a stream the client reset counts until its task ends).
    std::uint32_t http2_max_concurrent_streams = 100;
    /// HTTP/2: new streams a second per connection; beyond, GOAWAY ENHANCE_YOUR_CALM (the
    /// rapid-reset defence, with a cap of 200 client resets a second).
    std::uint32_t http2_max_streams_per_second = 20'000;
    /// Where the server reports trouble (EMFILE, ...). Default: standard error.
    std::function<void(std::string_view)> log = {};
};

struct http_stats {
    std::uint64_t served = 0;            ///< responses written
    std::uint64_t in_flight = 0;         ///< requests being handled now
    std::uint64_t connections = 0;       ///< open connections now
    std::uint64_t accepted = 0;          ///< connections accepted in all
    std::uint64_t http2_connections = 0; ///< of those, HTTP/2
    std::uint64_t accept_errors = 0;
    std::map<std::string, std::uint64_t> routes; ///< "/", "/sleep", "/cpu", "/stats", "other"
    std::map<int, std::uint64_t> statuses;
};

class http_server {
public:
    /// Binds (call from inside a task). Throws std::system_error naming the address.
    explicit http_server(http_server_options options);
    /// Binds from outside the runtime: runs the constructor in a task on `rt`.
    [[nodiscard]] static std::unique_ptr<http_server> bind(runtime& rt,
                                                           http_server_options options);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept;

    /// Serves until stop(); then lets in-flight requests finish within the grace period
    /// given to stop(), and returns.
    task<void> run();

    /// Stops accepting, ends keep-alive, waits up to `grace` for in-flight requests.
    /// Safe from any thread (a signal-handling thread, the GUI).
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) noexcept;

    /// Changes how /sleep waits, effective for the next request.
    void set_sleep_mode(sleep_mode mode) noexcept;
    [[nodiscard]] sleep_mode current_sleep_mode() const noexcept;

    [[nodiscard]] http_stats stats() const;
    /// The /stats document.
    [[nodiscard]] std::string stats_json() const;

    struct state;

private:
    std::shared_ptr<state> m_state;
};

} // namespace taskscope::net
