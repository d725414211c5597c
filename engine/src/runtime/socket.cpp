#include "taskscope/socket.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace taskscope::sys {

#if defined(_WIN32)

// ---------------------------------------------------------------- Windows (Winsock 2)

namespace {
SOCKET native(socket_t s) noexcept {
    return static_cast<SOCKET>(s);
}
bool make_non_blocking(SOCKET s) noexcept {
    u_long on = 1;
    return ::ioctlsocket(s, static_cast<long>(FIONBIO), &on) == 0;
}
} // namespace

int last_error() noexcept {
    return ::WSAGetLastError();
}

error_kind classify(int error) noexcept {
    switch (error) {
    case WSAEWOULDBLOCK:
        return error_kind::would_block;
    case WSAEINTR:
        return error_kind::interrupted;
    case WSAEINPROGRESS:
    case WSAEALREADY:
        return error_kind::in_progress;
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAESHUTDOWN:
        return error_kind::reset;
    case WSAECONNREFUSED:
        return error_kind::refused;
    case WSAEMFILE:
    case WSAENOBUFS:
        return error_kind::too_many_files;
    case WSAETIMEDOUT:
        return error_kind::timed_out;
    case WSAEADDRINUSE:
        return error_kind::address_in_use;
    default:
        return error_kind::other;
    }
}

std::string error_text(int error) {
    return std::system_category().message(error);
}

network_session::network_session() {
    WSADATA data;
    const int rc = ::WSAStartup(MAKEWORD(2, 2), &data);
    if (rc != 0) {
        throw std::system_error(rc, std::system_category(), "WSAStartup");
    }
}

network_session::~network_session() {
    ::WSACleanup();
}

socket_t open_tcp_socket(int family) noexcept {
#if defined(WSA_FLAG_NO_HANDLE_INHERIT)
    constexpr DWORD flags = WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT;
#else
    constexpr DWORD flags = WSA_FLAG_OVERLAPPED;
#endif
    const SOCKET s = ::WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, flags);
    if (s == INVALID_SOCKET) {
        return invalid_socket;
    }
    if (!make_non_blocking(s)) {
        const int error = ::WSAGetLastError();
        ::closesocket(s);
        ::WSASetLastError(error);
        return invalid_socket;
    }
    return static_cast<socket_t>(s);
}

socket_t accept_connection(socket_t listener) noexcept {
    // An accepted socket inherits the listener's non-blocking mode and handle flags.
    const SOCKET s = ::accept(native(listener), nullptr, nullptr);
    return s == INVALID_SOCKET ? invalid_socket : static_cast<socket_t>(s);
}

void close_socket(socket_t s) noexcept {
    if (s != invalid_socket) {
        ::closesocket(native(s));
    }
}

std::ptrdiff_t send_some(socket_t s, const void* data, std::size_t size) noexcept {
    const int chunk = size > 1U << 30 ? 1 << 30 : static_cast<int>(size);
    return ::send(native(s), static_cast<const char*>(data), chunk, 0);
}

std::ptrdiff_t receive_some(socket_t s, void* data, std::size_t size) noexcept {
    const int chunk = size > 1U << 30 ? 1 << 30 : static_cast<int>(size);
    return ::recv(native(s), static_cast<char*>(data), chunk, 0);
}

void shutdown_socket(socket_t s, shutdown_side side) noexcept {
    const int how = side == shutdown_side::read    ? SD_RECEIVE
                    : side == shutdown_side::write ? SD_SEND
                                                   : SD_BOTH;
    ::shutdown(native(s), how);
}

int pending_error(socket_t s) noexcept {
    int error = 0;
    int length = sizeof error;
    if (::getsockopt(native(s), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&error), &length) !=
        0) {
        return ::WSAGetLastError();
    }
    return error;
}

void set_no_delay(socket_t s) noexcept {
    const BOOL on = TRUE;
    ::setsockopt(native(s), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on),
                 sizeof on);
}

void set_send_buffer(socket_t s, int bytes) noexcept {
    ::setsockopt(native(s), SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&bytes),
                 sizeof bytes);
}

void set_reuse_address(socket_t s) noexcept {
    const BOOL on = TRUE;
    ::setsockopt(native(s), SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&on),
                 sizeof on);
}

wake_pair open_wake_pair() {
    // WSAPoll watches sockets only: connect a loopback pair through a listener of our own.
    const auto fail = [](const char* what, SOCKET a, SOCKET b, SOCKET c) {
        const int error = ::WSAGetLastError();
        for (const SOCKET s : {a, b, c}) {
            if (s != INVALID_SOCKET) {
                ::closesocket(s);
            }
        }
        throw std::system_error(error, std::system_category(), what);
    };
    const SOCKET listener = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (listener == INVALID_SOCKET) {
        fail("wake-up socket", INVALID_SOCKET, INVALID_SOCKET, INVALID_SOCKET);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int length = sizeof address;
    if (::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        ::listen(listener, 1) != 0) {
        fail("wake-up listener", listener, INVALID_SOCKET, INVALID_SOCKET);
    }
    const SOCKET writer = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (writer == INVALID_SOCKET ||
        ::connect(writer, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        fail("wake-up connect", listener, writer, INVALID_SOCKET);
    }
    const SOCKET reader = ::accept(listener, nullptr, nullptr);
    if (reader == INVALID_SOCKET) {
        fail("wake-up accept", listener, writer, INVALID_SOCKET);
    }
    ::closesocket(listener);
    if (!make_non_blocking(reader) || !make_non_blocking(writer)) {
        fail("wake-up non-blocking", reader, writer, INVALID_SOCKET);
    }
    set_no_delay(static_cast<socket_t>(writer));
    return {static_cast<socket_t>(reader), static_cast<socket_t>(writer)};
}

void signal_wake(const wake_pair& pair) noexcept {
    const char byte = 1;
    ::send(native(pair.write_end), &byte, 1, 0); // a full buffer: a wake-up is pending
}

void drain_wake(const wake_pair& pair) noexcept {
    char drain[64];
    while (::recv(native(pair.read_end), drain, sizeof drain, 0) > 0) {
    }
}

void close_wake_pair(wake_pair& pair) noexcept {
    close_socket(pair.read_end);
    close_socket(pair.write_end);
    pair = {};
}

#else

// ---------------------------------------------------------------- POSIX

namespace {
bool make_non_blocking(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 &&
           ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

/// Makes `fd` non-blocking, not inherited and SIGPIPE-free, or closes it.
[[maybe_unused]] socket_t prepared(int fd) noexcept { // where one call cannot do it all
#if defined(SO_NOSIGPIPE) // macOS and the BSDs: no MSG_NOSIGNAL on every call
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
    if (!make_non_blocking(fd)) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return invalid_socket;
    }
    return fd;
}

#if defined(MSG_NOSIGNAL)
constexpr int send_flags = MSG_NOSIGNAL;
#else
constexpr int send_flags = 0; // SO_NOSIGPIPE is set on every socket
#endif
} // namespace

int last_error() noexcept {
    return errno;
}

error_kind classify(int error) noexcept {
    if (error == EAGAIN || error == EWOULDBLOCK) {
        return error_kind::would_block;
    }
    switch (error) {
    case EINTR:
        return error_kind::interrupted;
    case EINPROGRESS:
    case EALREADY:
        return error_kind::in_progress;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
        return error_kind::reset;
    case ECONNREFUSED:
        return error_kind::refused;
    case EMFILE:
    case ENFILE:
        return error_kind::too_many_files;
    case ETIMEDOUT:
        return error_kind::timed_out;
    case EADDRINUSE:
        return error_kind::address_in_use;
    default:
        return error_kind::other;
    }
}

std::string error_text(int error) {
    return std::generic_category().message(error);
}

network_session::network_session() = default;
network_session::~network_session() = default;

socket_t open_tcp_socket(int family) noexcept {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC) // Linux and the BSDs: one call
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? invalid_socket : fd;
#else
    const int fd = ::socket(family, SOCK_STREAM, 0);
    return fd < 0 ? invalid_socket : prepared(fd);
#endif
}

socket_t accept_connection(socket_t listener) noexcept {
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd < 0 ? invalid_socket : fd;
#else
    const int fd = ::accept(listener, nullptr, nullptr);
    return fd < 0 ? invalid_socket : prepared(fd);
#endif
}

void close_socket(socket_t s) noexcept {
    if (s != invalid_socket) {
        ::close(s);
    }
}

std::ptrdiff_t send_some(socket_t s, const void* data, std::size_t size) noexcept {
    return ::send(s, data, size, send_flags);
}

std::ptrdiff_t receive_some(socket_t s, void* data, std::size_t size) noexcept {
    return ::recv(s, data, size, 0);
}

void shutdown_socket(socket_t s, shutdown_side side) noexcept {
    const int how = side == shutdown_side::read    ? SHUT_RD
                    : side == shutdown_side::write ? SHUT_WR
                                                   : SHUT_RDWR;
    ::shutdown(s, how);
}

int pending_error(socket_t s) noexcept {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        return errno;
    }
    return error;
}

void set_no_delay(socket_t s) noexcept {
    const int on = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void set_send_buffer(socket_t s, int bytes) noexcept {
    ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

void set_reuse_address(socket_t s) noexcept {
    const int on = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
}

wake_pair open_wake_pair() {
    int ends[2] = {-1, -1};
    if (::pipe(ends) != 0) {
        throw std::system_error(errno, std::generic_category(), "wake-up pipe");
    }
    if (!make_non_blocking(ends[0]) || !make_non_blocking(ends[1])) {
        const int error = errno;
        ::close(ends[0]);
        ::close(ends[1]);
        throw std::system_error(error, std::generic_category(), "wake-up pipe");
    }
    return {ends[0], ends[1]};
}

void signal_wake(const wake_pair& pair) noexcept {
    const char byte = 1;
    [[maybe_unused]] const auto r = ::write(pair.write_end, &byte, 1); // full: already woken
}

void drain_wake(const wake_pair& pair) noexcept {
    char drain[64];
    while (::read(pair.read_end, drain, sizeof drain) > 0) {
    }
}

void close_wake_pair(wake_pair& pair) noexcept {
    close_socket(pair.read_end);
    close_socket(pair.write_end);
    pair = {};
}

#endif

// ---------------------------------------------------------------- both

namespace {
#if defined(_WIN32)
using address_length = int;
using native_socket = SOCKET;
#else
using address_length = socklen_t;
using native_socket = int;
#endif
const sockaddr* as_sockaddr(const socket_address& a) noexcept {
    return reinterpret_cast<const sockaddr*>(a.storage);
}
static_assert(sizeof(socket_address::storage) >= sizeof(sockaddr_storage));
/// Closes `s` after a failed call, leaving that call's `error` for last_error().
void close_keeping_error(socket_t s, int error) noexcept {
    close_socket(s);
#if defined(_WIN32)
    ::WSASetLastError(error);
#else
    errno = error;
#endif
}
} // namespace

std::optional<socket_address> parse_address(std::string_view host, std::uint16_t port) {
    socket_address a;
    std::string name(host);
    if (name.empty() || name == "*") {
        name = "0.0.0.0";
    } else if (name == "localhost") {
        name = "127.0.0.1";
    }
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(a.storage);
    if (::inet_pton(AF_INET, name.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.length = sizeof(sockaddr_in);
        a.family = AF_INET;
        return a;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(a.storage);
    if (::inet_pton(AF_INET6, name.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.length = sizeof(sockaddr_in6);
        a.family = AF_INET6;
        return a;
    }
    return std::nullopt;
}

socket_t listen_at(const socket_address& address, int backlog, std::uint16_t& port) noexcept {
    const socket_t s = open_tcp_socket(address.family);
    if (s == invalid_socket) {
        return invalid_socket;
    }
    set_reuse_address(s);
    sockaddr_storage bound{};
    address_length length = sizeof bound;
    if (::bind(static_cast<native_socket>(s), as_sockaddr(address),
               static_cast<address_length>(address.length)) != 0 ||
        ::listen(static_cast<native_socket>(s), backlog) != 0 ||
        ::getsockname(static_cast<native_socket>(s), reinterpret_cast<sockaddr*>(&bound),
                      &length) != 0) {
        close_keeping_error(s, last_error());
        return invalid_socket;
    }
    port = bound.ss_family == AF_INET
               ? ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port)
               : ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
    return s;
}

socket_t start_connect(const socket_address& address) noexcept {
    const socket_t s = open_tcp_socket(address.family);
    if (s == invalid_socket) {
        return invalid_socket;
    }
    int error = 0;
    while (::connect(static_cast<native_socket>(s), as_sockaddr(address),
                     static_cast<address_length>(address.length)) != 0) {
        error = last_error();
        if (classify(error) != error_kind::interrupted) {
            break;
        }
        error = 0;
    }
    // Windows says a non-blocking connect would block; POSIX says it is in progress.
    if (error != 0 && classify(error) != error_kind::in_progress &&
        classify(error) != error_kind::would_block) {
        close_keeping_error(s, error);
        return invalid_socket;
    }
    return s;
}

int wait_ready(socket_t s, bool for_write, int timeout_ms) noexcept {
#if defined(_WIN32)
    WSAPOLLFD entry{};
    entry.fd = static_cast<SOCKET>(s);
    entry.events = for_write ? POLLWRNORM : POLLRDNORM;
    const int n = ::WSAPoll(&entry, 1, timeout_ms);
#else
    pollfd entry{};
    entry.fd = s;
    entry.events = static_cast<short>(for_write ? POLLOUT : POLLIN);
    int n = 0;
    do {
        n = ::poll(&entry, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
#endif
    return n < 0 ? -1 : (n == 0 ? 0 : 1);
}

} // namespace taskscope::sys
