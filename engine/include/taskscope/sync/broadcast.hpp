#pragma once
// broadcast: every receiver reads every message sent after it subscribed; senders never
// wait. A receiver that falls more than `capacity` messages behind is told how many it
// missed and goes on from the oldest message still kept.
//
//     auto [tx, rx] = taskscope::broadcast::channel<std::string>(1000, "room");
//     auto rx2 = tx.subscribe();
//     tx.send("hello");                        // to both
//     auto got = co_await rx.recv();
//     if (auto* text = std::get_if<std::string>(&got)) { ... }
//     else if (auto* lag = std::get_if<taskscope::broadcast::lagged>(&got)) { lag->missed }
//     else { /* closed: every sender is gone and everything was read */ }
//
// In the trace: each send records the slowest receiver's backlog (resource_depth); a lag
// records resource_lagged with the receiver and the count.

#include "taskscope/poll.hpp"
#include "taskscope/sync/resource.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace taskscope::broadcast {

/// The receiver fell behind: `missed` messages were overwritten before it read them.
struct lagged {
    std::uint64_t missed = 0;
    bool operator==(const lagged&) const = default;
};
/// Every sender is gone and the receiver has read everything.
struct closed {
    bool operator==(const closed&) const = default;
};

template <class T>
using recv_result = std::variant<T, lagged, closed>;

namespace detail {

template <class T>
class state {
public:
    state(std::size_t capacity, std::string_view name)
        : m_tag(trace::resource_kind::broadcast, name, static_cast<std::uint32_t>(capacity))
        , m_ring(capacity) {}

    /// A receiver's place: the sequence number of the next message it reads.
    struct cursor {
        std::uint64_t next = 0;
        taskscope::detail::waiter* waiting = nullptr; // its recv, while it waits
        bool announced = false;
    };

    cursor* subscribe() {
        std::lock_guard lock(m_lock);
        auto c = std::make_unique<cursor>();
        c->next = m_tail;
        m_cursors.push_back(std::move(c));
        return m_cursors.back().get();
    }
    void unsubscribe(cursor* c) noexcept {
        std::unique_ptr<cursor> gone;
        std::lock_guard lock(m_lock);
        auto it = std::find_if(m_cursors.begin(), m_cursors.end(),
                               [c](const std::unique_ptr<cursor>& p) { return p.get() == c; });
        if (it != m_cursors.end()) {
            gone = std::move(*it);
            *it = std::move(m_cursors.back());
            m_cursors.pop_back();
        }
    }

    /// Sends to every receiver; returns how many there are.
    std::size_t send(const T& value) {
        std::unique_lock lock(m_lock);
        m_ring[m_tail % m_ring.size()] = value;
        ++m_tail;
        std::uint64_t slowest = m_tail;
        for (const auto& c : m_cursors) {
            slowest = std::min(slowest, c->next);
        }
        const std::size_t receivers = m_cursors.size();
        const std::uint64_t backlog = std::min<std::uint64_t>(m_tail - slowest, m_ring.size());
        m_tag.record(trace::event_kind::resource_depth, 0, backlog, trace::resource_op::send);
        wake_waiting(std::move(lock));
        return receivers;
    }

    /// A message, a lag or closed if one is there now; nullopt if the receiver would wait.
    std::optional<recv_result<T>> try_recv(cursor& c) {
        std::unique_lock lock(m_lock);
        const std::uint64_t oldest = m_tail > m_ring.size() ? m_tail - m_ring.size() : 0;
        if (c.next < oldest) {
            const std::uint64_t missed = oldest - c.next;
            c.next = oldest;
            lock.unlock();
            m_tag.record(trace::event_kind::resource_lagged, 0, missed, std::uint8_t{0});
            return recv_result<T>(lagged{missed});
        }
        if (c.next < m_tail) {
            recv_result<T> value(std::in_place_index<0>, *m_ring[c.next % m_ring.size()]);
            ++c.next;
            return value;
        }
        if (m_senders == 0) {
            return recv_result<T>(closed{});
        }
        return std::nullopt;
    }

    /// A message, a lag, closed, or pending (nullopt: the receiver waits).
    poll_result<recv_result<T>> recv(cursor& c, taskscope::detail::waiter& node, context& cx) {
        std::unique_lock lock(m_lock);
        const std::uint64_t oldest = m_tail > m_ring.size() ? m_tail - m_ring.size() : 0;
        if (c.next < oldest) {
            const std::uint64_t missed = oldest - c.next;
            c.next = oldest;
            c.waiting = nullptr;
            lock.unlock();
            m_tag.record(trace::event_kind::resource_lagged, 0, missed, std::uint8_t{0});
            return recv_result<T>(lagged{missed});
        }
        if (c.next < m_tail) {
            recv_result<T> value(std::in_place_index<0>, *m_ring[c.next % m_ring.size()]);
            ++c.next;
            c.waiting = nullptr;
            return value;
        }
        if (m_senders == 0) {
            c.waiting = nullptr;
            return recv_result<T>(closed{});
        }
        c.waiting = &node;
        if (!c.announced) {
            c.announced = true;
            taskscope::detail::begin_wait(m_tag, node, cx.waker(), trace::resource_op::recv);
        } else {
            node.waker = cx.waker();
        }
        return pending;
    }
    /// A recv ended (or was abandoned): the receiver no longer waits.
    void stop_waiting(cursor& c, taskscope::detail::waiter& node, bool finished) noexcept {
        std::lock_guard lock(m_lock);
        if (c.waiting == &node) {
            c.waiting = nullptr;
        }
        if (finished) {
            c.announced = false;
        }
    }

    void add_sender() {
        std::lock_guard lock(m_lock);
        ++m_senders;
    }
    void drop_sender() noexcept {
        std::unique_lock lock(m_lock);
        if (--m_senders != 0) {
            return;
        }
        m_tag.record(trace::event_kind::resource_closed, 0, 0, std::uint8_t{0});
        wake_waiting(std::move(lock)); // they see `closed` once they have read everything
    }

    [[nodiscard]] std::size_t receiver_count() const {
        std::lock_guard lock(m_lock);
        return m_cursors.size();
    }
    [[nodiscard]] std::uint64_t backlog(const cursor& c) const {
        std::lock_guard lock(m_lock);
        return m_tail - c.next;
    }
    [[nodiscard]] const taskscope::detail::resource_tag& tag() const noexcept { return m_tag; }

private:
    /// Ends every receiver's wait, `lock` held on entry; delivers the wakes unlocked, in
    /// batches.
    void wake_waiting(std::unique_lock<std::mutex> lock) noexcept {
        taskscope::detail::wake_batch batch;
        for (;;) {
            for (const auto& c : m_cursors) {
                if (c->waiting != nullptr) {
                    batch.add(taskscope::detail::end_wait(*std::exchange(c->waiting, nullptr),
                                                          trace::resource_op::recv));
                    if (batch.full()) {
                        break;
                    }
                }
            }
            const bool again = batch.full();
            lock.unlock();
            batch.deliver_all(m_tag);
            if (!again) {
                return;
            }
            lock.lock();
        }
    }

    taskscope::detail::resource_tag m_tag;
    mutable std::mutex m_lock;
    std::vector<std::optional<T>> m_ring;
    std::uint64_t m_tail = 0; // sequence number of the next message sent
    std::vector<std::unique_ptr<cursor>> m_cursors;
    std::size_t m_senders = 0;
};

} // namespace detail

template <class T>
class receiver;

/// The sending side; copy it for more senders. send() never waits.
template <class T>
class sender {
public:
    explicit sender(std::shared_ptr<detail::state<T>> s) : m_state(std::move(s)) {
        m_state->add_sender();
    }
    sender(const sender& other) : m_state(other.m_state) {
        if (m_state) {
            m_state->add_sender();
        }
    }
    sender(sender&&) noexcept = default;
    sender& operator=(sender other) noexcept {
        std::swap(m_state, other.m_state);
        return *this;
    }
    ~sender() {
        if (m_state) {
            m_state->drop_sender();
        }
    }

    /// Sends a copy of `value` to every receiver; returns how many receivers there are
    /// (0: nobody hears it).
    std::size_t send(const T& value) { return m_state->send(value); }
    /// A new receiver that reads what is sent from now on.
    receiver<T> subscribe() { return receiver<T>(m_state); }
    [[nodiscard]] std::size_t receiver_count() const { return m_state->receiver_count(); }
    [[nodiscard]] std::uint32_t resource_id() const noexcept { return m_state->tag().id(); }

private:
    std::shared_ptr<detail::state<T>> m_state;
};

template <class T>
class receiver {
public:
    explicit receiver(std::shared_ptr<detail::state<T>> s)
        : m_state(std::move(s))
        , m_cursor(m_state->subscribe()) {}
    receiver(receiver&& other) noexcept
        : m_state(std::move(other.m_state))
        , m_cursor(std::exchange(other.m_cursor, nullptr)) {}
    receiver& operator=(receiver&&) = delete;
    receiver(const receiver&) = delete;
    ~receiver() {
        if (m_state) {
            m_state->unsubscribe(m_cursor);
        }
    }

    class [[nodiscard]] recv_future {
    public:
        recv_future(detail::state<T>& s, typename detail::state<T>::cursor& c) noexcept
            : m_state(&s)
            , m_cursor(&c) {}
        recv_future(recv_future&& other) noexcept
            : m_state(other.m_state)
            , m_cursor(other.m_cursor) {}
        recv_future(const recv_future&) = delete;
        recv_future& operator=(const recv_future&) = delete;
        recv_future& operator=(recv_future&&) = delete;
        ~recv_future() {
            if (m_waiting) {
                m_state->stop_waiting(*m_cursor, m_node, true);
            }
        }
        poll_result<recv_result<T>> poll(context& cx) {
            poll_result<recv_result<T>> got = m_state->recv(*m_cursor, m_node, cx);
            if (!got.is_ready()) {
                m_waiting = true;
                return pending;
            }
            if (m_waiting) {
                m_waiting = false;
                m_state->stop_waiting(*m_cursor, m_node, true);
            }
            return got;
        }

    private:
        detail::state<T>* m_state;
        typename detail::state<T>::cursor* m_cursor;
        bool m_waiting = false;
        taskscope::detail::waiter m_node;
    };

    /// `co_await rx.recv()`: the next message, `lagged{n}`, or `closed{}`.
    recv_future recv() noexcept { return recv_future(*m_state, *m_cursor); }
    /// What recv() would give at once, without waiting: nullopt when it would wait (a
    /// receiver draining what is there in one go, say to write it in one system call).
    [[nodiscard]] std::optional<recv_result<T>> try_recv() { return m_state->try_recv(*m_cursor); }
    /// Messages sent that this receiver has not read yet (more than the capacity: lagged).
    [[nodiscard]] std::uint64_t backlog() const { return m_state->backlog(*m_cursor); }
    [[nodiscard]] std::uint32_t resource_id() const noexcept { return m_state->tag().id(); }

private:
    std::shared_ptr<detail::state<T>> m_state;
    typename detail::state<T>::cursor* m_cursor;
};

/// A broadcast channel keeping the last `capacity` messages (at least 1).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity,
                                          std::string_view name = "broadcast") {
    if (capacity == 0 || capacity >= trace::unbounded_capacity) {
        throw std::invalid_argument(
            "taskscope::broadcast::channel: the capacity must be between 1 and 2^32-2");
    }
    auto s = std::make_shared<detail::state<T>>(capacity, name);
    sender<T> tx(s);
    receiver<T> rx(s);
    return {std::move(tx), std::move(rx)};
}

} // namespace taskscope::broadcast
