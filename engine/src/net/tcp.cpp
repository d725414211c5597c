#include "taskscope/net/tcp.hpp"

#include "taskscope/socket.hpp"
#include "taskscope/time.hpp"

#include <cerrno> // EINVAL for an address we cannot parse
#include <cstring>
#include <optional>
#include <system_error>

#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

namespace taskscope::net {
namespace {

#if defined(_WIN32)
using address_length = int;
#else
using address_length = socklen_t;
#endif

io_status status_for(int err) noexcept {
    switch (sys::classify(err)) {
    case sys::error_kind::reset:
        return io_status::connection_reset;
    case sys::error_kind::refused:
        return io_status::connection_refused;
    case sys::error_kind::too_many_files:
        return io_status::too_many_files;
    case sys::error_kind::timed_out:
        return io_status::timed_out;
    default:
        return io_status::error;
    }
}

io_result failure(int err) noexcept {
    return {status_for(err), 0, err};
}

/// What an operation that failed with `err` does next: wait (nullopt) or report.
std::optional<io_result> wait_or_fail(int err) noexcept {
    if (sys::classify(err) == sys::error_kind::would_block) {
        return std::nullopt;
    }
    return failure(err);
}

/// Tries `op` while the socket is ready for `side`, waiting for readiness when it would
/// block; gives up with timed_out once `deadline` has passed.
template <class Op>
poll_result<io_result> poll_io(context& cx, io::registration& reg, io::interest side,
                               io_deadline* deadline, Op&& op) {
    poll_result<io_result> r = reg.poll(cx, side, std::forward<Op>(op));
    if (!r.is_ready() && deadline != nullptr && deadline->expired_or_arm(cx)) {
        return io_result{io_status::timed_out, 0, ETIMEDOUT};
    }
    return r;
}

} // namespace

bool io_deadline::expired_or_arm(context& cx) {
    const time_point now = std::chrono::steady_clock::now();
    if (now >= m_at) {
        return true;
    }
    // A timer already armed for a moment in (now, m_at] wakes the task in time.
    if (m_armed <= now || m_armed > m_at) {
        detail::arm_timer(cx.task(), m_at, cx.waker());
        m_armed = m_at;
    }
    return false;
}

// ---------------------------------------------------------------- stream

void tcp_stream::close() noexcept {
    m_io.close();
}

void tcp_stream::shutdown_write() noexcept {
    if (m_io.is_open()) {
        sys::shutdown_socket(m_io.fd(), sys::shutdown_side::write);
    }
}

std::string tcp_stream::peer() const {
    if (!m_io.is_open()) {
        return "(closed)";
    }
    sockaddr_storage addr{};
    address_length len = sizeof addr;
    if (::getpeername(m_io.fd(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return "(unknown)";
    }
    char text[INET6_ADDRSTRLEN] = {};
    std::uint16_t port = 0;
    std::string out;
    if (addr.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
        out.append(text);
    } else {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
        out.append("[").append(text).append("]");
    }
    // appended piece by piece: g++ 12 warns falsely (-Wrestrict) on a chain of operator+
    out.append(":").append(std::to_string(port));
    return out;
}

poll_result<io_result> read_future::poll(context& cx) {
    tcp_stream& s = *m_stream;
    if (!s.m_io.is_open()) {
        return io_result{io_status::not_connected, 0, 0};
    }
    if (s.m_io.interrupted()) {
        return io_result{io_status::closed, 0, 0}; // io::read_interrupter: as at end of stream
    }
    const sys::socket_t fd = s.m_io.fd();
    return poll_io(cx, s.m_io, io::interest::read, m_deadline, [&]() -> std::optional<io_result> {
        for (;;) {
            const std::ptrdiff_t n = sys::receive_some(fd, m_buffer.data(), m_buffer.size());
            if (n > 0) {
                return io_result{io_status::ok, static_cast<std::size_t>(n), 0};
            }
            if (n == 0) {
                return io_result{io_status::closed, 0, 0};
            }
            const int err = sys::last_error();
            if (sys::classify(err) == sys::error_kind::interrupted) {
                continue;
            }
            return wait_or_fail(err);
        }
    });
}

poll_result<io_result> write_future::poll(context& cx) {
    tcp_stream& s = *m_stream;
    if (!s.m_io.is_open()) {
        return io_result{io_status::not_connected, 0, 0};
    }
    const sys::socket_t fd = s.m_io.fd();
    return poll_io(cx, s.m_io, io::interest::write, m_deadline, [&]() -> std::optional<io_result> {
        for (;;) {
            const std::ptrdiff_t n = sys::send_some(fd, m_data.data(), m_data.size());
            if (n >= 0) {
                return io_result{io_status::ok, static_cast<std::size_t>(n), 0};
            }
            const int err = sys::last_error();
            if (sys::classify(err) == sys::error_kind::interrupted) {
                continue;
            }
            return wait_or_fail(err);
        }
    });
}

task<io_result> tcp_stream::write_all(std::string_view data, io_deadline* deadline) {
    std::size_t done = 0;
    while (done < data.size()) {
        const io_result r =
            co_await write(std::span<const char>(data.data() + done, data.size() - done), deadline);
        if (!r.ok()) {
            co_return io_result{r.status, done, r.system_error};
        }
        done += r.bytes;
    }
    co_return io_result{io_status::ok, done, 0};
}

// ---------------------------------------------------------------- connect

connect_future::connect_future(std::string host, std::uint16_t port, io_deadline* deadline)
    : m_host(std::move(host))
    , m_port(port)
    , m_deadline(deadline) {}

poll_result<connect_result> connect_future::poll(context& cx) {
    if (!m_io.is_open()) { // first poll: start connecting
        const auto address = sys::parse_address(m_host, m_port);
        if (!address) {
            return connect_result{io_result{io_status::error, 0, EINVAL}, {}};
        }
        const sys::socket_t fd = sys::start_connect(*address);
        if (fd == sys::invalid_socket) {
            return connect_result{failure(sys::last_error()), {}};
        }
        sys::set_no_delay(fd);
        // Not writable until the kernel says the handshake ended: SO_ERROR reads 0 while
        // a connect is still in progress, so trying early would report success.
        m_io = io::registration::watch(fd, cx, false);
    }
    const sys::socket_t fd = m_io.fd();
    // Writable means the connection attempt finished; SO_ERROR says how.
    auto r = poll_io(cx, m_io, io::interest::write, m_deadline, [&]() -> std::optional<io_result> {
        const int err = sys::pending_error(fd);
        if (err != 0 && sys::classify(err) == sys::error_kind::in_progress) {
            return std::nullopt;
        }
        return err == 0 ? io_result{} : failure(err);
    });
    if (!r.is_ready()) {
        return pending;
    }
    io_result result = r.take();
    if (!result.ok()) {
        return connect_result{result, {}};
    }
    m_io.assume_ready(io::interest::write); // the stream's first write just tries
    return connect_result{result, tcp_stream(std::move(m_io))};
}

// ---------------------------------------------------------------- listener

void tcp_listener::close() noexcept {
    m_io.close();
}

tcp_listener tcp_listener::bind(std::string_view host, std::uint16_t port, int backlog) {
    const std::string where = std::string(host) + ":" + std::to_string(port);
    const auto address = sys::parse_address(host, port);
    if (!address) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "cannot listen on " + where +
                                    ": use a numeric IPv4/IPv6 address or localhost");
    }
    tcp_listener listener;
    const sys::socket_t fd = sys::listen_at(*address, backlog, listener.m_port);
    if (fd == sys::invalid_socket) {
        const int err = sys::last_error();
        throw std::system_error(err, std::system_category(), "cannot listen on " + where);
    }
    listener.m_io = io::registration::watch(fd, "net::tcp_listener::bind");
    return listener;
}

poll_result<accept_result> accept_future::poll(context& cx) {
    tcp_listener& l = *m_listener;
    if (!l.m_io.is_open() || l.m_io.interrupted()) {
        return accept_result{io_result{io_status::not_connected, 0, 0}, {}};
    }
    const sys::socket_t listen_fd = l.m_io.fd();
    sys::socket_t accepted = sys::invalid_socket;
    auto r = poll_io(cx, l.m_io, io::interest::read, m_deadline, [&]() -> std::optional<io_result> {
        for (;;) {
            accepted = sys::accept_connection(listen_fd);
            if (accepted != sys::invalid_socket) {
                return io_result{};
            }
            const int err = sys::last_error();
            // a connection reset before we took it: take the next
            if (sys::classify(err) == sys::error_kind::interrupted ||
                sys::classify(err) == sys::error_kind::reset) {
                continue;
            }
            return wait_or_fail(err);
        }
    });
    if (!r.is_ready()) {
        return pending;
    }
    io_result result = r.take();
    if (!result.ok()) {
        return accept_result{result, {}};
    }
    sys::set_no_delay(accepted);
    try {
        return accept_result{result, tcp_stream(io::registration::watch(accepted, cx))};
    } catch (const std::system_error& e) {
        return accept_result{failure(e.code().value()), {}};
    }
}

} // namespace taskscope::net
