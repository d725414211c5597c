#pragma once
// The chat server: groups that clients join and post to, over one JSON object per line.
// Its point is backpressure: a client that reads slowly, or not at all, never slows the
// others, and costs the server at most `capacity` messages a group.
//
//     client → server   {"Join":{"group_name":"g"}}
//                       {"Post":{"group_name":"g","message":"m"}}
//                       {"Stats":null}                 (this server's addition)
//     server → client   {"Message":{"group_name":"g","message":"m"}}
//                       {"Error":"Group 'g' does not exist"}
//                       {"Error":"Dropped 12 messages from g."}
//                       {"Stats":{"queued_bytes":...,...}}   (the answer to Stats)
//
// A Join creates the group if it is new. Each connection is a task; each (connection,
// group) it joined is a subscriber task forwarding from the group's broadcast channel, and
// every line to the socket goes through the connection's async_mutex. With
// `backlog_mode::unbounded` each subscriber gets an unbounded queue instead: the naive
// design whose memory grows with a reader that stalls (the contrast the lesson shows).
//
//     net::chat_server server({.port = 7878, .capacity = 1000});
//     co_await server.run();          // until server.stop() from any thread
//
// From outside the runtime: auto server = net::chat_server::start(rt, {.port = 7878});
//                           ... server->stats().queued_bytes ...; server->stop_and_wait();
//
// In the trace: connection and subscriber tasks ("chat_connection", "subscriber g"); one
// server-side request span (route = the group's name) per delivered message, from its Post
// being read to its line being written to this subscriber (a subscriber that keeps up
// writes everything waiting for it in one write, so several spans end together); the
// group's broadcast
// as a resource named after the group (its depth, and resource_lagged for each lag).

#include "taskscope/net/tcp.hpp"
#include "taskscope/task.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace taskscope {
class runtime;
}

namespace taskscope::net {

/// Where a group keeps messages not yet written to a subscriber.
enum class backlog_mode : std::uint8_t {
    ring,      ///< one broadcast ring a group, `capacity` messages; slow readers lag
    unbounded, ///< a queue per subscriber that never drops: memory grows with a stalled reader
};

[[nodiscard]] std::string_view to_string(backlog_mode m) noexcept;
/// "ring" or "unbounded"; nullopt for anything else.
[[nodiscard]] std::optional<backlog_mode> parse_backlog_mode(std::string_view text) noexcept;

struct chat_server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;      ///< 0: any free port (see chat_server::port)
    std::size_t capacity = 1000; ///< messages a group's ring keeps (ring mode)
    backlog_mode backlog = backlog_mode::ring;
    std::size_t max_line_bytes = 64 * 1024;     ///< a longer line: Error, then close
    std::size_t max_groups_per_connection = 64; ///< beyond: Error (the connection goes on)
    std::size_t max_groups = 10'000;            ///< groups in all; beyond, a Join gets Error
    std::size_t max_connections = 1024;         ///< beyond: Error, then close
    /// SO_SNDBUF of each connection: what the kernel holds for a reader that does not
    /// read, on top of the server's own backlog. Fixed and small by default, so a stalled
    /// reader lags within seconds; 0 leaves the system's autotuning (up to megabytes).
    int send_buffer_bytes = 32 * 1024;
    /// Where the server reports trouble (EMFILE, ...). Default: standard error.
    std::function<void(std::string_view)> log = {};
};

/// A snapshot of the server's counters (chat_server::stats, or the Stats line).
struct chat_stats {
    std::uint64_t connections = 0; ///< open now
    std::uint64_t accepted = 0;    ///< connections accepted in all
    std::uint64_t refused = 0;     ///< turned away over max_connections
    std::uint64_t accept_errors = 0;
    std::uint64_t groups = 0;
    std::uint64_t subscribers = 0; ///< (connection, group) subscriber tasks running now
    std::uint64_t posts = 0;       ///< Post lines accepted
    std::uint64_t deliveries = 0;  ///< Message lines written to subscribers
    std::uint64_t lag_notices = 0; ///< "Dropped N messages" lines sent
    std::uint64_t dropped = 0;     ///< the N of those lines, summed
    std::uint64_t errors = 0;      ///< Error lines sent for bad input
    /// Message bytes held for delivery now: the rings' contents (ring), or every entry of
    /// every subscriber's queue (unbounded). Ring mode keeps it at most groups x capacity
    /// x the longest message.
    std::uint64_t queued_bytes = 0;
    std::uint64_t peak_queued_bytes = 0; ///< the highest queued_bytes so far
};

class chat_server {
public:
    /// Binds (call from inside a task). Throws std::system_error naming the address, and
    /// std::invalid_argument for a capacity of 0.
    explicit chat_server(chat_server_options options);
    /// Binds and spawns run() on `rt`, from outside the runtime (the GUI, a test, the CLI).
    [[nodiscard]] static std::unique_ptr<chat_server> start(runtime& rt,
                                                            chat_server_options options);
    ~chat_server();
    chat_server(const chat_server&) = delete;
    chat_server& operator=(const chat_server&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept;
    [[nodiscard]] const chat_server_options& options() const noexcept;

    /// Serves until stop(); then waits (up to the grace given to stop) for every
    /// connection and subscriber task to end, and returns.
    task<void> run();

    /// Stops accepting and shuts every connection down (their tasks end). Safe from any
    /// thread.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) noexcept;
    /// stop(), then blocks until the run() spawned by start() returned. Call from outside
    /// the runtime, only on a server made by start().
    void stop_and_wait();

    [[nodiscard]] chat_stats stats() const;
    /// The Stats line's document: {"queued_bytes":...,"peak_queued_bytes":...,...}.
    [[nodiscard]] std::string stats_json() const;

    struct state;

private:
    std::shared_ptr<state> m_state;
    struct started;
    std::unique_ptr<started> m_started; // the running run() of start()
};

} // namespace taskscope::net
