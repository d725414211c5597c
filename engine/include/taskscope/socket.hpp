#pragma once
// The thin layer between the engine and each system's socket calls, so the reactor, TCP and
// the servers read the same on Linux, the BSDs, macOS and Windows. It includes no system
// header: the types are the engine's, the calls are defined in the runtime.
//
//   POSIX                          Windows (Winsock 2)
//   int descriptor, -1             SOCKET, INVALID_SOCKET
//   close()                        closesocket()
//   errno                          WSAGetLastError()
//   fcntl(O_NONBLOCK)              ioctlsocket(FIONBIO)
//   MSG_NOSIGNAL / SO_NOSIGPIPE    (no SIGPIPE)
//   SHUT_RD / SHUT_WR              SD_RECEIVE / SD_SEND
//
// Every call returns a value and leaves the error in last_error(); classify() sorts an
// error into what a caller acts on, so io_result codes are the same on every platform.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskscope::sys {

#if defined(_WIN32)
using socket_t = std::uintptr_t; ///< a Winsock SOCKET
inline constexpr socket_t invalid_socket = ~socket_t{0};
#else
using socket_t = int; ///< a descriptor
inline constexpr socket_t invalid_socket = -1;
#endif

/// What an error from a socket call means to its caller.
enum class error_kind : std::uint8_t {
    would_block, ///< EAGAIN / WSAEWOULDBLOCK: wait for readiness
    interrupted, ///< EINTR: try again
    in_progress, ///< a non-blocking connect has started
    reset,       ///< ECONNRESET, EPIPE, ECONNABORTED
    refused,     ///< ECONNREFUSED
    too_many_files,
    timed_out,
    address_in_use, ///< bind: another socket has the port
    other,
};

/// The error of the last failed socket call on this thread (errno or WSAGetLastError()).
[[nodiscard]] int last_error() noexcept;
[[nodiscard]] error_kind classify(int error) noexcept;
/// The system's words for `error`.
[[nodiscard]] std::string error_text(int error);

/// Starts the socket library for the caller's lifetime (WSAStartup/WSACleanup on Windows,
/// counted by the system; nothing elsewhere). Each runtime holds one.
class network_session {
public:
    network_session();
    ~network_session();
    network_session(const network_session&) = delete;
    network_session& operator=(const network_session&) = delete;
};

/// A TCP socket of `family` (AF_INET or AF_INET6), non-blocking, not inherited by child
/// processes, never raising SIGPIPE. invalid_socket on failure.
[[nodiscard]] socket_t open_tcp_socket(int family) noexcept;
/// Accepts one connection, non-blocking and not inherited like open_tcp_socket's sockets.
[[nodiscard]] socket_t accept_connection(socket_t listener) noexcept;
void close_socket(socket_t s) noexcept;

/// Bytes sent or received, or -1 (see last_error()). Sending never raises SIGPIPE.
[[nodiscard]] std::ptrdiff_t send_some(socket_t s, const void* data, std::size_t size) noexcept;
[[nodiscard]] std::ptrdiff_t receive_some(socket_t s, void* data, std::size_t size) noexcept;

enum class shutdown_side : std::uint8_t { read, write, both };
void shutdown_socket(socket_t s, shutdown_side side) noexcept;

/// The error a finished non-blocking connect left (SO_ERROR): 0 when it succeeded.
[[nodiscard]] int pending_error(socket_t s) noexcept;
void set_no_delay(socket_t s) noexcept;
/// The kernel's send buffer for `s` (SO_SNDBUF), in bytes.
void set_send_buffer(socket_t s, int bytes) noexcept;
/// Lets a server listen again at once on a port its last run left in TIME_WAIT (POSIX
/// SO_REUSEADDR); on Windows, where that option would let another program take the port,
/// asks for the port alone (SO_EXCLUSIVEADDRUSE).
void set_reuse_address(socket_t s) noexcept;

/// Two connected sockets, both non-blocking: a pipe on POSIX, a loopback TCP pair on
/// Windows (where poll() cannot watch a pipe). A reactor wakes its poll by writing a byte
/// to `write_end`. Throws std::system_error.
struct wake_pair {
    socket_t read_end = invalid_socket;
    socket_t write_end = invalid_socket;
};
[[nodiscard]] wake_pair open_wake_pair();
/// Writes one byte (a full pipe means a wake-up is already pending).
void signal_wake(const wake_pair& pair) noexcept;
/// Reads every byte waiting.
void drain_wake(const wake_pair& pair) noexcept;
void close_wake_pair(wake_pair& pair) noexcept;

// ---- addresses, and waiting by hand (threads outside the reactor: the trace stream) ----

/// An address the calls below take: a sockaddr_storage and its length.
struct socket_address {
    alignas(8) unsigned char storage[128]{};
    int length = 0;
    int family = 0;
};

/// A numeric IPv4/IPv6 address (IPv6 may be in brackets), "localhost" (127.0.0.1), or ""
/// and "*" (every address); nullopt for anything else (names are not looked up).
[[nodiscard]] std::optional<socket_address> parse_address(std::string_view host,
                                                          std::uint16_t port);
/// A non-blocking listening socket on `address` and the port it got (port 0: any free
/// one), or invalid_socket (see last_error()).
[[nodiscard]] socket_t listen_at(const socket_address& address, int backlog,
                                 std::uint16_t& port) noexcept;
/// Starts a non-blocking connect to `address`: the socket, or invalid_socket (see
/// last_error()). It is connected once wait_ready(s, true, ...) says so and pending_error()
/// reads 0.
[[nodiscard]] socket_t start_connect(const socket_address& address) noexcept;
/// Waits until `s` can be read (or written, `for_write`) or `timeout_ms` passes: 1 ready,
/// 0 timed out, -1 failed.
[[nodiscard]] int wait_ready(socket_t s, bool for_write, int timeout_ms) noexcept;

} // namespace taskscope::sys
