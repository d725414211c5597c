#pragma once
// A plain blocking TCP client socket for tests that play a peer the engine does not
// control (a reader that stalls, a client that resets): the same calls on POSIX systems
// and on Windows (Winsock), so those tests run under wine too.

#include "taskscope/socket.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace taskscope::test {

class blocking_socket {
public:
    /// Connects to 127.0.0.1:`port`; `receive_buffer` > 0 shrinks the receive buffer first
    /// (a reader whose socket fills quickly). Throws std::runtime_error.
    explicit blocking_socket(std::uint16_t port, int receive_buffer = 0) {
        m_socket = ::socket(AF_INET, SOCK_STREAM, 0);
        if (m_socket == invalid) {
            throw std::runtime_error("socket failed");
        }
        if (receive_buffer > 0) {
            ::setsockopt(m_socket, SOL_SOCKET, SO_RCVBUF,
                         reinterpret_cast<const char*>(&receive_buffer), sizeof receive_buffer);
        }
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_socket, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
            close();
            throw std::runtime_error("connect failed");
        }
    }
    blocking_socket(const blocking_socket&) = delete;
    blocking_socket& operator=(const blocking_socket&) = delete;
    ~blocking_socket() { close(); }

    void close() noexcept {
        if (m_socket != invalid) {
            sys::close_socket(static_cast<sys::socket_t>(std::exchange(m_socket, invalid)));
        }
    }
    /// Closes with a reset (SO_LINGER 0): the peer's next write fails at once.
    void reset() noexcept {
        linger l{};
        l.l_onoff = 1;
        l.l_linger = 0;
        ::setsockopt(m_socket, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&l), sizeof l);
        close();
    }
    /// Sends every byte; false when the connection failed.
    bool send_all(std::string_view bytes) noexcept {
        while (!bytes.empty()) {
            const auto n =
                sys::send_some(static_cast<sys::socket_t>(m_socket), bytes.data(), bytes.size());
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    /// Waits up to `limit` for bytes (or the end of the stream) to read.
    bool wait_readable(std::chrono::milliseconds limit) noexcept {
#if defined(_WIN32)
        WSAPOLLFD p{m_socket, POLLIN, 0};
        return ::WSAPoll(&p, 1, static_cast<int>(limit.count())) > 0;
#else
        pollfd p{m_socket, POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(limit.count())) > 0;
#endif
    }
    /// From now on sends and receives return at once instead of waiting (a peer that
    /// polls: sys::wait_ready on handle()).
    void set_nonblocking() noexcept {
#if defined(_WIN32)
        u_long on = 1;
        ::ioctlsocket(m_socket, static_cast<long>(FIONBIO), &on);
#else
        ::fcntl(m_socket, F_SETFL, ::fcntl(m_socket, F_GETFL) | O_NONBLOCK);
#endif
    }
    [[nodiscard]] bool is_open() const noexcept {
        return m_socket != invalid;
    }
    [[nodiscard]] sys::socket_t handle() const noexcept {
        return static_cast<sys::socket_t>(m_socket);
    }
    /// Bytes read, 0 at the end of the stream, negative on failure.
    std::ptrdiff_t receive(char* buffer, std::size_t size) noexcept {
        return sys::receive_some(static_cast<sys::socket_t>(m_socket), buffer, size);
    }

private:
#if defined(_WIN32)
    using native = SOCKET;
    static constexpr native invalid = INVALID_SOCKET;
#else
    using native = int;
    static constexpr native invalid = -1;
#endif
    sys::network_session m_network; // Winsock up while the socket lives
    native m_socket = invalid;
};

} // namespace taskscope::test
