#pragma once
// Socket readiness from the runtime's reactor: what a network library on the runtime builds
// its futures on (taskscope::net's TCP does; so can a protocol of your own).
//
//     auto reg = taskscope::io::registration::watch(fd, cx); // on cx's runtime
//     // in a future's poll(cx): try the system call while ready, else wait for readiness
//     return reg.poll(cx, taskscope::io::interest::read, [&]() -> std::optional<int> {
//         const auto n = taskscope::sys::receive_some(reg.fd(), buf, size);
//         if (n < 0 && taskscope::sys::classify(taskscope::sys::last_error()) ==
//                          taskscope::sys::error_kind::would_block) {
//             return std::nullopt; // would block: wait
//         }
//         return static_cast<int>(n);
//     });
//
// Readiness protocol, per registration (after tokio's ScheduledIo): the reactor bumps a
// `tick` and sets the readable/writable bits on every event and takes the waiting wakers.
// An operation that gets EAGAIN clears its bit and stores its waker under the same lock,
// but only if the tick has not moved since it read the bit: otherwise an event arrived in
// between and it simply tries again. No edge is lost.

#include "taskscope/poll.hpp"
#include "taskscope/socket.hpp"

#include <cstdint>
#include <optional>
#include <utility>

namespace taskscope::detail {
class runtime_core;
struct io_registration;
} // namespace taskscope::detail

namespace taskscope::io {

enum class interest : std::uint8_t { read, write };

/// A descriptor the reactor of one runtime watches. Move-only; close() (or the destructor)
/// stops the watch and closes the descriptor. Must not outlive its runtime.
class registration {
public:
    registration() noexcept = default;
    registration(registration&& other) noexcept;
    registration& operator=(registration&& other) noexcept;
    ~registration();

    /// Watches `fd` (non-blocking: see sys::open_tcp_socket) on the runtime polling the
    /// task of `cx`; with `writable` false a write waits for the first readiness event (a
    /// connect in progress). Takes ownership: `fd` is closed on failure too. Throws
    /// std::system_error.
    static registration watch(sys::socket_t fd, context& cx, bool writable = true);
    /// The same from inside a task without its context (throws std::logic_error naming
    /// `what` outside one).
    static registration watch(sys::socket_t fd, const char* what, bool writable = true);

    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return m_io != nullptr; }
    /// The socket, sys::invalid_socket when closed.
    [[nodiscard]] sys::socket_t fd() const noexcept;

    /// Tries `op` while the descriptor is ready for `side`; when `op` says it would block
    /// (returns an empty optional), waits for the next readiness event with `cx`'s waker
    /// and returns pending. `op` returns std::optional of the result.
    template <class Op>
    auto poll(context& cx, interest side, Op&& op)
        -> poll_result<typename decltype(op())::value_type> {
        for (;;) {
            const readiness seen = ready(side);
            if (seen.ready) {
                if (auto done = op()) {
                    return std::move(*done);
                }
            }
            if (wait(cx, side, seen.tick)) {
                return pending;
            }
            // An event came while we tried: try again.
        }
    }
    /// Marks `side` ready without an event: the next operation tries the system call first
    /// (a stream's first write after its connect completed).
    void assume_ready(interest side) noexcept;
    /// Wakes the read (or accept) waiting on this socket, from any thread, and from then on
    /// wakes at once any that would wait: a future that checks interrupted() first then
    /// ends (a listener's accept, a connection's read when its server stops).
    /// Writes go on. A portable stand-in for shutting down the reading side, which wakes a
    /// blocked poll() on Linux but not a WSAPoll.
    void interrupt() noexcept;
    [[nodiscard]] bool interrupted() const noexcept;

private:
    struct readiness {
        std::uint64_t tick = 0;
        bool ready = false;
    };
    registration(detail::runtime_core* runtime, detail::io_registration* io) noexcept
        : m_runtime(runtime)
        , m_io(io) {}
    [[nodiscard]] readiness ready(interest side) const noexcept;
    /// Would block: unless an event arrived since `seen`, clears the readiness and keeps
    /// the waker for the next event (true); false: try again.
    bool wait(context& cx, interest side, std::uint64_t seen) noexcept;

    detail::runtime_core* m_runtime = nullptr;
    detail::io_registration* m_io = nullptr;
};

/// Interrupts the reads of sockets a runtime watches, by socket, from any thread (see
/// registration::interrupt): how a server's stop() ends its idle connections' reads while
/// their responses still go out. A read then ends as at end of stream (io_status::closed),
/// an accept with io_status::not_connected. A socket not watched (any more) is left alone.
/// Must not outlive its runtime.
class read_interrupter {
public:
    read_interrupter() noexcept = default;
    /// For the runtime polling the calling task; std::logic_error naming `what` outside one.
    static read_interrupter current(const char* what);
    void interrupt(sys::socket_t fd) const noexcept;

private:
    detail::runtime_core* m_runtime = nullptr;
};

} // namespace taskscope::io
