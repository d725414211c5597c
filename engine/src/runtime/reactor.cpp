#include "reactor.hpp"

#include "runtime_core.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <string_view>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace taskscope::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// ---------------------------------------------------------------- epoll

class epoll_reactor final : public reactor {
public:
    epoll_reactor() {
        m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
        if (m_epoll < 0) {
            throw_errno("epoll_create1");
        }
        m_event = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (m_event < 0) {
            ::close(m_epoll);
            throw_errno("eventfd");
        }
        epoll_event ev{};
        ev.events = EPOLLIN; // level-triggered: stays ready until drained
        ev.data.ptr = nullptr;
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_event, &ev) != 0) {
            ::close(m_event);
            ::close(m_epoll);
            throw_errno("epoll_ctl(eventfd)");
        }
    }
    ~epoll_reactor() override {
        free_removed();
        ::close(m_event);
        ::close(m_epoll);
    }

    reactor_backend backend() const noexcept override { return reactor_backend::epoll; }

    void add(io_registration& reg) override {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = &reg;
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, reg.fd, &ev) != 0) {
            throw_errno("epoll_ctl(ADD)");
        }
    }

    void poll(std::optional<time_point> deadline, runtime_core& rt) override {
        free_removed();
        std::array<epoll_event, 256> events;
        const int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()),
                                   timeout_ms(deadline));
        for (int i = 0; i < n; ++i) {
            const epoll_event& ev = events[static_cast<std::size_t>(i)];
            if (ev.data.ptr == nullptr) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto r = ::read(m_event, &count, sizeof count);
                continue;
            }
            const bool readable = (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
            const bool writable = (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
            dispatch(*static_cast<io_registration*>(ev.data.ptr), readable, writable, rt);
        }
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto r = ::write(m_event, &one, sizeof one);
    }

protected:
    void unwatch(io_registration& reg) noexcept override {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, reg.fd, nullptr);
    }

private:
    int m_epoll = -1;
    int m_event = -1;
};

// ---------------------------------------------------------------- poll()

class poll_reactor final : public reactor {
public:
    poll_reactor() {
        if (::pipe2(m_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
            throw_errno("pipe2");
        }
    }
    ~poll_reactor() override {
        free_removed();
        ::close(m_pipe[0]);
        ::close(m_pipe[1]);
    }

    reactor_backend backend() const noexcept override { return reactor_backend::poll; }

    void add(io_registration& reg) override {
        std::lock_guard lock(m_mutex);
        m_watched.push_back(&reg);
    }

    void interest_changed() noexcept override {
        // Only a poll already blocked needs telling; the next one builds its set afresh.
        if (m_polling.load(std::memory_order_acquire)) {
            wake();
        }
    }

    void poll(std::optional<time_point> deadline, runtime_core& rt) override {
        free_removed();
        m_fds.clear();
        m_regs.clear();
        m_fds.push_back(pollfd{m_pipe[0], POLLIN, 0});
        m_regs.push_back(nullptr);
        // seq_cst: a waker stored after this store sees m_polling and wakes us; one stored
        // before it is in the set built below
        m_polling.store(true);
        {
            std::lock_guard lock(m_mutex);
            for (io_registration* reg : m_watched) {
                std::lock_guard reg_lock(reg->mutex);
                short events = 0;
                if (reg->reader.valid()) {
                    events |= POLLIN;
                }
                if (reg->writer.valid()) {
                    events |= POLLOUT;
                }
                if (events != 0) {
                    m_fds.push_back(pollfd{reg->fd, events, 0});
                    m_regs.push_back(reg);
                }
            }
        }
        const int n = ::poll(m_fds.data(), m_fds.size(), timeout_ms(deadline));
        m_polling.store(false);
        if (n <= 0) {
            return;
        }
        for (std::size_t i = 0; i < m_fds.size(); ++i) {
            const short revents = m_fds[i].revents;
            if (revents == 0) {
                continue;
            }
            if (m_regs[i] == nullptr) {
                char drain[64];
                while (::read(m_pipe[0], drain, sizeof drain) > 0) {
                }
                continue;
            }
            const bool readable = (revents & (POLLIN | POLLHUP | POLLERR)) != 0;
            const bool writable = (revents & (POLLOUT | POLLHUP | POLLERR)) != 0;
            dispatch(*m_regs[i], readable, writable, rt);
        }
    }

    void wake() noexcept override {
        const char byte = 1;
        [[maybe_unused]] const auto r = ::write(m_pipe[1], &byte, 1); // full pipe: already woken
    }

protected:
    void unwatch(io_registration& reg) noexcept override {
        {
            std::lock_guard lock(m_mutex);
            std::erase(m_watched, &reg);
        }
        // A poll() blocked on this descriptor holds a reference to the socket: closing it
        // would not close the connection (no FIN) until that poll returns. Wake it.
        if (m_polling.load()) {
            wake();
        }
    }

private:
    int m_pipe[2] = {-1, -1};
    std::mutex m_mutex; // guards m_watched
    std::vector<io_registration*> m_watched;
    std::atomic<bool> m_polling{false};
    // Used by the polling thread only (one poll at a time: the runtime's driver lock).
    std::vector<pollfd> m_fds;
    std::vector<io_registration*> m_regs;
};

} // namespace

std::unique_ptr<reactor> reactor::create(reactor_backend backend) {
    if (backend == reactor_backend::automatic) {
        // Lets a whole test suite (or a user) run on the portable backend unchanged.
        const char* chosen = std::getenv("TASKSCOPE_REACTOR");
        if (chosen != nullptr && std::string_view(chosen) == "poll") {
            backend = reactor_backend::poll;
        }
    }
    switch (backend) {
    case reactor_backend::poll:
        return std::make_unique<poll_reactor>();
    case reactor_backend::epoll:
    case reactor_backend::automatic:
        return std::make_unique<epoll_reactor>();
    }
    return std::make_unique<epoll_reactor>();
}

void reactor::remove(io_registration* reg) noexcept {
    unwatch(*reg);
    m_watched_count.fetch_sub(1, std::memory_order_relaxed);
    waker reader, writer;
    {
        std::lock_guard lock(reg->mutex);
        reg->closed = true;
        reader = std::move(reg->reader);
        writer = std::move(reg->writer);
    }
    try {
        std::lock_guard lock(m_removed_mutex);
        m_removed.push_back(reg);
    } catch (...) {
        // Out of memory: leak the registration rather than free one a poll may report.
    }
}

void reactor::free_removed() noexcept {
    std::vector<io_registration*> removed;
    {
        std::lock_guard lock(m_removed_mutex);
        removed.swap(m_removed);
    }
    for (io_registration* reg : removed) {
        delete reg;
    }
}

int reactor::timeout_ms(std::optional<time_point> deadline) noexcept {
    if (!deadline) {
        return -1;
    }
    const auto left = *deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) {
        return 0;
    }
    // Round up: waking early would only poll again.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return static_cast<int>(std::min<long long>(ms, 24 * 3600 * 1000));
}

void reactor::dispatch(io_registration& reg, bool readable, bool writable,
                       runtime_core& rt) noexcept {
    waker reader, writer;
    {
        std::lock_guard lock(reg.mutex);
        if (reg.closed) {
            return;
        }
        ++reg.tick;
        if (readable) {
            reg.readable = true;
            reader = std::move(reg.reader);
        }
        if (writable) {
            reg.writable = true;
            writer = std::move(reg.writer);
        }
    }
    const auto bits =
        static_cast<std::uint8_t>((readable ? io_readable : 0) | (writable ? io_writable : 0));
    if (reader.valid()) {
        rt.record(trace::event_kind::io_ready, reader.task_id(), static_cast<std::uint64_t>(reg.fd),
                  0, bits);
        reader.wake(trace::wake_source::io);
    }
    if (writer.valid() && !writer.wakes_same_task(reader)) {
        rt.record(trace::event_kind::io_ready, writer.task_id(), static_cast<std::uint64_t>(reg.fd),
                  0, bits);
        writer.wake(trace::wake_source::io);
    }
}

} // namespace taskscope::detail
