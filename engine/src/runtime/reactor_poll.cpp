// The portable backend: poll() on POSIX systems (the BSDs and macOS; Linux runs it too),
// WSAPoll on Windows. It rebuilds its descriptor set on every poll from the registrations
// with a waiting waker, and is woken through a wake_pair (taskscope/socket.hpp).

#include "reactor.hpp"
#include "runtime_core.hpp"

#include <algorithm>
#include <atomic>

#if defined(_WIN32)
#include <winsock2.h>
#else
#include <poll.h>
#endif

namespace taskscope::detail {
namespace {

#if defined(_WIN32)
using poll_entry = WSAPOLLFD;
int poll_system(poll_entry* entries, std::size_t count, int timeout_ms) noexcept {
    return ::WSAPoll(entries, static_cast<ULONG>(count), timeout_ms);
}
SOCKET native(sys::socket_t s) noexcept {
    return static_cast<SOCKET>(s);
}
#else
using poll_entry = pollfd;
int poll_system(poll_entry* entries, std::size_t count, int timeout_ms) noexcept {
    return ::poll(entries, static_cast<nfds_t>(count), timeout_ms);
}
int native(sys::socket_t s) noexcept {
    return s;
}
#endif

class poll_reactor final : public reactor {
public:
    poll_reactor() : m_wake(sys::open_wake_pair()) {}
    ~poll_reactor() override {
        free_removed();
        sys::close_wake_pair(m_wake);
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
        m_fds.push_back(poll_entry{native(m_wake.read_end), POLLIN, 0});
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
                    m_fds.push_back(poll_entry{native(reg->fd), events, 0});
                    m_regs.push_back(reg);
                }
            }
        }
        const int n = poll_system(m_fds.data(), m_fds.size(), timeout_ms(deadline));
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
                sys::drain_wake(m_wake);
                continue;
            }
            const bool readable = (revents & (POLLIN | POLLHUP | POLLERR)) != 0;
            const bool writable = (revents & (POLLOUT | POLLHUP | POLLERR)) != 0;
            dispatch(*m_regs[i], readable, writable, rt);
        }
    }

    void wake() noexcept override { sys::signal_wake(m_wake); }

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
    sys::wake_pair m_wake;
    std::mutex m_mutex; // guards m_watched
    std::vector<io_registration*> m_watched;
    std::atomic<bool> m_polling{false};
    // Used by the polling thread only (one poll at a time: the runtime's driver lock).
    std::vector<poll_entry> m_fds;
    std::vector<io_registration*> m_regs;
};

} // namespace

std::unique_ptr<reactor> make_poll_reactor() {
    return std::make_unique<poll_reactor>();
}

} // namespace taskscope::detail
