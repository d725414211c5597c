// The Linux backend: epoll, edge-triggered, woken through an eventfd. Built only where
// TASKSCOPE_EPOLL is on (Linux); reactor_poll.cpp serves everywhere else.

#include "reactor.hpp"
#include "runtime_core.hpp"

#include <array>
#include <cerrno>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace taskscope::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

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

} // namespace

std::unique_ptr<reactor> make_epoll_reactor() {
    return std::make_unique<epoll_reactor>();
}

} // namespace taskscope::detail
