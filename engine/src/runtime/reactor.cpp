#include "reactor.hpp"

#include "runtime_core.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace taskscope::detail {

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
        return make_poll_reactor();
    case reactor_backend::epoll:
#if TASKSCOPE_HAVE_EPOLL
        return make_epoll_reactor();
#else
        throw std::invalid_argument(
            "the epoll reactor is not built on this platform: use poll or automatic");
#endif
    case reactor_backend::automatic:
        break;
    }
#if TASKSCOPE_HAVE_EPOLL
    return make_epoll_reactor();
#else
    return make_poll_reactor();
#endif
}

void interrupt_reads(io_registration& reg) noexcept {
    waker reader;
    {
        std::lock_guard lock(reg.mutex);
        reg.interrupted.store(true, std::memory_order_release);
        ++reg.tick; // a read between its try and its wait tries again, and sees it
        reader = std::move(reg.reader);
    }
    if (reader.valid()) {
        reader.wake();
    }
}

void reactor::watch(io_registration& reg) {
    {
        std::lock_guard lock(m_sockets_mutex);
        m_sockets[reg.fd] = &reg;
    }
    try {
        add(reg);
    } catch (...) {
        std::lock_guard lock(m_sockets_mutex);
        m_sockets.erase(reg.fd);
        throw;
    }
    m_watched_count.fetch_add(1, std::memory_order_relaxed);
}

void reactor::interrupt_reads(sys::socket_t fd) noexcept {
    // Under the lock: remove() takes the registration out of the map before it can be freed.
    std::lock_guard lock(m_sockets_mutex);
    const auto found = m_sockets.find(fd);
    if (found != m_sockets.end()) {
        detail::interrupt_reads(*found->second);
    }
}

void reactor::remove(io_registration* reg) noexcept {
    {
        std::lock_guard lock(m_sockets_mutex);
        const auto found = m_sockets.find(reg->fd);
        if (found != m_sockets.end() && found->second == reg) {
            m_sockets.erase(found);
        }
    }
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
