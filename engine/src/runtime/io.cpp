#include "taskscope/io.hpp"

#include "reactor.hpp"
#include "runtime_core.hpp"
#include "taskscope/socket.hpp"

namespace taskscope::io {

namespace {

/// Starts watching `fd` on `rt`'s reactor, taking ownership of it (closed on failure).
detail::io_registration* watch_on(detail::runtime_core& rt, sys::socket_t fd, bool writable) {
    auto* reg = new detail::io_registration;
    reg->fd = fd;
    reg->writable = writable;
    try {
        rt.io_driver().watch(*reg);
    } catch (...) {
        delete reg;
        sys::close_socket(fd);
        throw;
    }
    return reg;
}

} // namespace

registration::registration(registration&& other) noexcept
    : m_runtime(other.m_runtime)
    , m_io(std::exchange(other.m_io, nullptr)) {}

registration& registration::operator=(registration&& other) noexcept {
    if (this != &other) {
        close();
        m_runtime = other.m_runtime;
        m_io = std::exchange(other.m_io, nullptr);
    }
    return *this;
}

registration::~registration() {
    close();
}

registration registration::watch(sys::socket_t fd, context& cx, bool writable) {
    detail::runtime_core& rt = *cx.task().m_runtime;
    return {&rt, watch_on(rt, fd, writable)};
}

registration registration::watch(sys::socket_t fd, const char* what, bool writable) {
    detail::runtime_core* rt = nullptr;
    try {
        rt = &detail::current_runtime_or_throw(what);
    } catch (...) {
        sys::close_socket(fd);
        throw;
    }
    return {rt, watch_on(*rt, fd, writable)};
}

void registration::close() noexcept {
    if (m_io == nullptr) {
        return;
    }
    const sys::socket_t fd = m_io->fd;
    m_runtime->io_driver().remove(m_io); // first: no event may name a reused descriptor
    sys::close_socket(fd);
    m_io = nullptr;
}

sys::socket_t registration::fd() const noexcept {
    return m_io != nullptr ? m_io->fd : sys::invalid_socket;
}

registration::readiness registration::ready(interest side) const noexcept {
    std::lock_guard lock(m_io->mutex);
    return {m_io->tick, side == interest::read ? m_io->readable : m_io->writable};
}

bool registration::wait(context& cx, interest side, std::uint64_t seen) noexcept {
    {
        std::lock_guard lock(m_io->mutex);
        if (side == interest::read && m_io->interrupted.load(std::memory_order_relaxed)) {
            cx.waker().wake(); // pending, polled again at once: the future sees interrupted()
            return true;
        }
        if (m_io->tick != seen) {
            return false; // readiness changed while the operation tried: try again
        }
        if (side == interest::read) {
            m_io->readable = false;
            m_io->reader = cx.waker();
        } else {
            m_io->writable = false;
            m_io->writer = cx.waker();
        }
    }
    m_runtime->io_driver().interest_changed();
    return true;
}

void registration::assume_ready(interest side) noexcept {
    std::lock_guard lock(m_io->mutex);
    (side == interest::read ? m_io->readable : m_io->writable) = true;
}

void registration::interrupt() noexcept {
    detail::interrupt_reads(*m_io);
}

bool registration::interrupted() const noexcept {
    // No lock: every read asks. acquire: pairs with interrupt_reads' release
    return m_io->interrupted.load(std::memory_order_acquire);
}

read_interrupter read_interrupter::current(const char* what) {
    read_interrupter r;
    r.m_runtime = &detail::current_runtime_or_throw(what);
    return r;
}

void read_interrupter::interrupt(sys::socket_t fd) const noexcept {
    if (m_runtime != nullptr) {
        m_runtime->io_driver().interrupt_reads(fd);
    }
}

} // namespace taskscope::io
