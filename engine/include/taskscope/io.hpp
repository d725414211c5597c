#pragma once
// Socket readiness from the runtime's reactor: what a network library on the runtime builds
// its futures on (taskscope::net's TCP does; so can a protocol of your own).
//
//     auto reg = taskscope::io::registration::watch(fd, cx); // on cx's runtime
//     // in a future's poll(cx): try the system call while ready, else wait for readiness
//     return reg.poll(cx, taskscope::io::interest::read, [&]() -> std::optional<int> {
//         const ssize_t n = ::recv(reg.fd(), buf, size, 0);
//         if (n < 0 && errno == EAGAIN) { return std::nullopt; } // would block: wait
//         return static_cast<int>(n);
//     });
//
// Readiness protocol, per registration (after tokio's ScheduledIo): the reactor bumps a
// `tick` and sets the readable/writable bits on every event and takes the waiting wakers.
// An operation that gets EAGAIN clears its bit and stores its waker under the same lock,
// but only if the tick has not moved since it read the bit: otherwise an event arrived in
// between and it simply tries again. No edge is lost.

#include "taskscope/poll.hpp"

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

    /// Watches `fd` on the runtime polling the task of `cx`; with `writable` false a write
    /// waits for the first readiness event (a connect in progress). Takes ownership: `fd`
    /// is closed on failure too. Throws std::system_error.
    static registration watch(int fd, context& cx, bool writable = true);
    /// The same from inside a task without its context (throws std::logic_error naming
    /// `what` outside one).
    static registration watch(int fd, const char* what, bool writable = true);

    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return m_io != nullptr; }
    /// The descriptor, -1 when closed.
    [[nodiscard]] int fd() const noexcept;

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

} // namespace taskscope::io
