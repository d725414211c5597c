#pragma once
// Async TCP on the runtime's reactor: a listener, streams, connect. Every operation is a
// poll-style future (`co_await stream.read(buffer)`), so a read that must wait costs no
// coroutine frame; results are values (io_result), never exceptions.
//
//     auto listener = net::tcp_listener::bind("127.0.0.1", 0);
//     auto [result, stream] = co_await listener.accept();
//     char buf[4096];
//     io_result r = co_await stream.read(buf);

#include "taskscope/io.hpp"
#include "taskscope/poll.hpp"
#include "taskscope/task.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace taskscope::net {

enum class io_status : std::uint8_t {
    ok,
    closed,             ///< the peer closed its side: a read returned end of stream
    timed_out,          ///< the io_deadline passed
    connection_reset,   ///< ECONNRESET / EPIPE
    connection_refused, ///< nobody listens there
    too_many_files,     ///< EMFILE / ENFILE: out of file descriptors
    not_connected,      ///< the stream is closed or was never opened
    error,              ///< any other system error (see io_result::system_error)
};

[[nodiscard]] constexpr std::string_view to_string(io_status s) noexcept {
    switch (s) {
    case io_status::ok:
        return "ok";
    case io_status::closed:
        return "closed";
    case io_status::timed_out:
        return "timed out";
    case io_status::connection_reset:
        return "connection reset";
    case io_status::connection_refused:
        return "connection refused";
    case io_status::too_many_files:
        return "too many open files";
    case io_status::not_connected:
        return "not connected";
    case io_status::error:
        return "error";
    }
    return "unknown";
}

struct io_result {
    io_status status = io_status::ok;
    std::size_t bytes = 0;
    int system_error = 0; ///< errno (WSAGetLastError() on Windows), when status is `error`
    [[nodiscard]] bool ok() const noexcept { return status == io_status::ok; }
};

/// When an operation gives up with io_status::timed_out. One deadline can serve a whole
/// connection: moving it later arms no new timer until the one already armed fires, so a
/// keep-alive connection costs about one timer per timeout period, not one per request.
class io_deadline {
public:
    using time_point = std::chrono::steady_clock::time_point;
    explicit io_deadline(time_point at) noexcept : m_at(at) {}
    static io_deadline after(std::chrono::steady_clock::duration d) noexcept {
        return io_deadline(std::chrono::steady_clock::now() + d);
    }
    void reset(time_point at) noexcept { m_at = at; }
    [[nodiscard]] time_point at() const noexcept { return m_at; }

    /// Internal: checks the deadline for a waiting operation; arms a timer if none will
    /// wake the task in time. Returns true when it has passed.
    bool expired_or_arm(context& cx);

private:
    time_point m_at;
    time_point m_armed = time_point::min(); // when the armed timer fires (min: none)
};

class tcp_stream;

/// `co_await stream.read(buffer)`: some bytes, or `closed` at end of stream.
class read_future {
public:
    poll_result<io_result> poll(context& cx);
    tcp_stream* m_stream;
    std::span<char> m_buffer;
    io_deadline* m_deadline;
};

/// `co_await stream.write(data)`: writes some of `data` (see write_all).
class write_future {
public:
    poll_result<io_result> poll(context& cx);
    tcp_stream* m_stream;
    std::span<const char> m_data;
    io_deadline* m_deadline;
};

struct connect_result;
/// `co_await tcp_stream::connect(host, port)`.
class connect_future {
public:
    connect_future(std::string host, std::uint16_t port, io_deadline* deadline);
    poll_result<connect_result> poll(context& cx);

private:
    std::string m_host;
    std::uint16_t m_port;
    io_deadline* m_deadline;
    io::registration m_io; // while connecting
};

/// A connected socket. Must not outlive its runtime.
class tcp_stream {
public:
    tcp_stream() noexcept = default;

    [[nodiscard]] read_future read(std::span<char> buffer, io_deadline* deadline = nullptr) {
        return {this, buffer, deadline};
    }
    [[nodiscard]] write_future write(std::span<const char> data, io_deadline* deadline = nullptr) {
        return {this, data, deadline};
    }
    /// Writes every byte of `data` (or stops at the first failure).
    task<io_result> write_all(std::string_view data, io_deadline* deadline = nullptr);

    /// Connects to a numeric IPv4/IPv6 address or "localhost".
    [[nodiscard]] static connect_future connect(std::string host, std::uint16_t port,
                                                io_deadline* deadline = nullptr) {
        return connect_future(std::move(host), port, deadline);
    }

    void shutdown_write() noexcept;
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return m_io.is_open(); }
    [[nodiscard]] sys::socket_t native_handle() const noexcept { return m_io.fd(); }
    /// The peer's address as "ip:port" (for logs).
    [[nodiscard]] std::string peer() const;

    /// Adopts a connected non-blocking socket the runtime's reactor watches.
    explicit tcp_stream(io::registration io) noexcept : m_io(std::move(io)) {}

private:
    friend class read_future;
    friend class write_future;
    io::registration m_io;
};

struct connect_result {
    io_result result;
    tcp_stream stream;
};

struct accept_result {
    io_result result;
    tcp_stream stream;
};

class tcp_listener;
/// `co_await listener.accept()`.
class accept_future {
public:
    poll_result<accept_result> poll(context& cx);
    tcp_listener* m_listener;
    io_deadline* m_deadline;
};

/// A listening socket. Must not outlive its runtime.
class tcp_listener {
public:
    tcp_listener() noexcept = default;

    /// Binds and listens on a numeric address or "localhost" (port 0: any free port).
    /// Call from inside a task. Throws std::system_error naming the address on failure.
    static tcp_listener bind(std::string_view host, std::uint16_t port, int backlog = 1024);

    [[nodiscard]] accept_future accept(io_deadline* deadline = nullptr) { return {this, deadline}; }
    [[nodiscard]] std::uint16_t port() const noexcept { return m_port; }
    void close() noexcept;
    /// Ends a waiting accept (and every later one) with io_status::not_connected, from any
    /// thread: how a server's stop() wakes its accept loop on every platform.
    void interrupt() noexcept {
        if (m_io.is_open()) {
            m_io.interrupt();
        }
    }
    [[nodiscard]] bool is_open() const noexcept { return m_io.is_open(); }
    /// The listening socket (sys::invalid_socket when closed), for shutdown().
    [[nodiscard]] sys::socket_t native_handle() const noexcept { return m_io.fd(); }

private:
    friend class accept_future;
    io::registration m_io;
    std::uint16_t m_port = 0;
};

} // namespace taskscope::net
