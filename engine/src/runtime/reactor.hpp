#pragma once
// The reactor: turns socket readiness into wakes. One backend is chosen at run time among
// those built for the platform, each in its own file:
//   reactor_epoll.cpp  epoll + eventfd, edge-triggered: Linux only (TASKSCOPE_EPOLL)
//   reactor_poll.cpp   poll() with a self-pipe: every POSIX system (the BSDs, macOS), and
//                      WSAPoll with a loopback socket pair on Windows; run on Linux too
// Socket calls go through taskscope/socket.hpp.
//
// Readiness protocol, per registration (after tokio's ScheduledIo): the reactor bumps a
// `tick` and sets the readable/writable bits on every event and takes the waiting wakers.
// An I/O operation that gets EAGAIN clears its bit and stores its waker under the same
// lock, but only if the tick has not moved since it read the bit — otherwise an event
// arrived in between and it simply tries again. No edge is lost.

#include "taskscope/runtime.hpp"
#include "taskscope/socket.hpp"
#include "taskscope/waker.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace taskscope::detail {

class runtime_core;
struct io_registration;

/// Marks `reg`'s reads interrupted and wakes a waiting reader (io::registration::interrupt).
void interrupt_reads(io_registration& reg) noexcept;

/// A socket the reactor watches. Owned by its tcp object until `reactor::remove`, then
/// by the reactor, which frees it once no poll can still report it.
struct io_registration {
    sys::socket_t fd = sys::invalid_socket;
    std::mutex mutex; // guards everything below
    std::uint64_t tick = 0;
    bool readable = true; // until an operation sees EAGAIN: try the system call first
    bool writable = true;
    bool closed = false;
    // Reads interrupted (interrupt_reads): a waiting read ends. Atomic, so every read can
    // check it without the lock; set under the lock, with the tick.
    std::atomic<bool> interrupted{false};
    waker reader;
    waker writer;
};

/// Readiness bits in `io_ready` events (the `detail` byte).
inline constexpr std::uint8_t io_readable = 1;
inline constexpr std::uint8_t io_writable = 2;

class reactor {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// The backend asked for; `automatic` is epoll where built, else poll, unless the
    /// environment has TASKSCOPE_REACTOR=poll. Throws std::invalid_argument for a backend
    /// this build lacks, std::system_error when the system refuses.
    static std::unique_ptr<reactor> create(reactor_backend backend);
    virtual ~reactor() = default;

    [[nodiscard]] virtual reactor_backend backend() const noexcept = 0;
    /// The backend's part of watch().
    virtual void add(io_registration& reg) = 0;
    /// Stops watching and takes ownership: `reg` is freed after the next poll begins.
    void remove(io_registration* reg) noexcept;
    /// Sockets watched now (lets a busy worker skip the system call when there are none).
    [[nodiscard]] std::size_t watched() const noexcept {
        return m_watched_count.load(std::memory_order_relaxed); // relaxed: a hint
    }
    /// Starts watching `reg.fd`: add() and count it. Throws std::system_error.
    void watch(io_registration& reg);
    /// Ends the reads waiting on `fd` now and later, from any thread (nothing when `fd` is
    /// not watched): see io::read_interrupter.
    void interrupt_reads(sys::socket_t fd) noexcept;
    /// A waker was stored: the poll() backend must add the fd to its set.
    virtual void interest_changed() noexcept {}
    /// Waits for readiness until `deadline` (none: indefinitely) or wake(), and wakes the
    /// tasks waiting on ready sockets (recorded as io_ready on the calling thread).
    virtual void poll(std::optional<time_point> deadline, runtime_core& rt) = 0;
    /// Interrupts a poll() in progress on another thread (or the next one).
    virtual void wake() noexcept = 0;

protected:
    /// Marks readiness and wakes the waiting tasks.
    static void dispatch(io_registration& reg, bool readable, bool writable,
                         runtime_core& rt) noexcept;
    /// Frees the registrations removed before this call.
    void free_removed() noexcept;
    virtual void unwatch(io_registration& reg) noexcept = 0;
    static int timeout_ms(std::optional<time_point> deadline) noexcept;

private:
    std::mutex m_sockets_mutex;                                    // guards m_sockets
    std::unordered_map<sys::socket_t, io_registration*> m_sockets; // watched, by socket
    std::mutex m_removed_mutex;
    std::vector<io_registration*> m_removed;
    std::atomic<std::size_t> m_watched_count{0};
};

#if TASKSCOPE_HAVE_EPOLL
std::unique_ptr<reactor> make_epoll_reactor();
#endif
std::unique_ptr<reactor> make_poll_reactor();

} // namespace taskscope::detail
