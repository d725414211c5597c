#pragma once
// mpsc: channels with many senders and one receiver.
//
//     auto [tx, rx] = taskscope::mpsc::channel<job>(1024, "jobs");
//     co_await tx.send(job{...});                   // waits while 1024 are queued
//     while (std::optional<job> j = co_await rx.recv()) { ... }  // empty: closed
//
// The channel closes for the receiver when every sender is gone (after it has received
// what was queued); it closes for senders when the receiver is dropped or calls close()
// (a send then returns false). Waiting senders are let in first come, first served.
// unbounded<T>() gives senders whose send() never waits.
//
// In the trace: each send and receive records the depth after it (resource_depth); a task
// that waits records resource_wait, and the task that ends its wait records resource_ready
// and the wake.

#include "taskscope/detail/block_thread.hpp"
#include "taskscope/poll.hpp"
#include "taskscope/sync/resource.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace taskscope::mpsc {

/// What try_send did.
enum class try_send_result : std::uint8_t {
    sent,   ///< queued
    full,   ///< a bounded channel was full (or senders were waiting): nothing happened
    closed, ///< the receiver is gone or closed the channel: nothing happened
};

namespace detail {

using taskscope::detail::ready_wake;
using taskscope::detail::waiter;

inline constexpr std::uint64_t send_delivered = 1;
inline constexpr std::uint64_t send_refused = 0;

/// A waiting send: the node and the value it will put in the queue.
template <class T>
struct send_waiter : waiter {
    std::optional<T> value;
};

template <class T>
class channel_state {
public:
    channel_state(std::size_t capacity, std::string_view name)
        : m_tag(trace::resource_kind::mpsc, name,
                capacity >= trace::unbounded_capacity ? trace::unbounded_capacity
                                                      : static_cast<std::uint32_t>(capacity))
        , m_capacity(capacity) {}

    /// Sends without waiting: `full` leaves `value` untouched.
    try_send_result try_send(T& value) {
        std::unique_lock lock(m_lock);
        if (m_closed) {
            return try_send_result::closed;
        }
        if (!m_waiting_senders.empty() || m_queue.size() >= m_capacity) {
            return try_send_result::full;
        }
        push(std::move(value), std::move(lock));
        return try_send_result::sent;
    }

    /// The first poll of a send: queues `node`'s value now, or queues `node` to wait.
    /// Returns true when the send finished (node.amount says how).
    bool send_or_wait(send_waiter<T>& node, context& cx) {
        std::unique_lock lock(m_lock);
        if (m_closed) {
            node.amount = send_refused;
            return true;
        }
        if (m_waiting_senders.empty() && m_queue.size() < m_capacity) {
            node.amount = send_delivered;
            push(std::move(*node.value), std::move(lock));
            node.value.reset();
            return true;
        }
        m_waiting_senders.push_back(node);
        taskscope::detail::begin_wait(m_tag, node, cx.waker(), trace::resource_op::send,
                                      m_queue.size());
        return false;
    }

    void abandon_send(send_waiter<T>& node) noexcept {
        std::lock_guard lock(m_lock);
        m_waiting_senders.remove(node);
    }

    /// One receive: a value, or nullopt for closed, or pending (the receiver waits).
    poll_result<std::optional<T>> recv(waiter& node, bool& announced_wait, context& cx) {
        std::unique_lock lock(m_lock);
        if (!m_queue.empty()) {
            std::optional<T> value(std::in_place, std::move(m_queue.front()));
            m_queue.pop_front();
            std::optional<ready_wake> let_in;
            if (waiter* w = m_waiting_senders.pop_front()) {
                auto& sender = static_cast<send_waiter<T>&>(*w);
                m_queue.push_back(std::move(*sender.value));
                sender.amount = send_delivered;
                let_in = taskscope::detail::end_wait(sender, trace::resource_op::send);
            }
            if (m_receiver_waiting == &node) {
                m_receiver_waiting = nullptr;
            }
            const std::size_t depth = m_queue.size();
            lock.unlock();
            m_tag.record(trace::event_kind::resource_depth, 0, depth, trace::resource_op::recv);
            if (let_in) {
                taskscope::detail::deliver(m_tag, *let_in);
            }
            return value;
        }
        if (m_senders == 0 || m_closed) {
            if (m_receiver_waiting == &node) {
                m_receiver_waiting = nullptr;
            }
            return std::optional<T>(std::nullopt);
        }
        m_receiver_waiting = &node;
        if (!announced_wait) {
            announced_wait = true;
            taskscope::detail::begin_wait(m_tag, node, cx.waker(), trace::resource_op::recv);
        } else {
            node.waker = cx.waker(); // end_wait took it
        }
        return pending;
    }

    void abandon_recv(waiter& node) noexcept {
        std::lock_guard lock(m_lock);
        if (m_receiver_waiting == &node) {
            m_receiver_waiting = nullptr;
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
        std::optional<ready_wake> wake = take_receiver();
        const bool first_close = std::exchange(m_close_recorded, true) == false;
        lock.unlock();
        if (first_close) {
            m_tag.record(trace::event_kind::resource_closed, 0, 0, std::uint8_t{0});
        }
        if (wake) {
            taskscope::detail::deliver(m_tag, *wake);
        }
    }

    /// The receiver closes (or is dropped): no more sends; waiting senders are refused.
    /// Dropping also discards what was queued.
    void close(bool discard_queue) noexcept {
        std::deque<T> discarded;
        taskscope::detail::wake_batch batch;
        std::unique_lock lock(m_lock);
        m_closed = true;
        const bool first_close = std::exchange(m_close_recorded, true) == false;
        while (waiter* w = m_waiting_senders.pop_front()) {
            w->amount = send_refused;
            batch.add(taskscope::detail::end_wait(*w, trace::resource_op::send));
            if (batch.full()) {
                lock.unlock();
                batch.deliver_all(m_tag);
                lock.lock();
            }
        }
        if (discard_queue) {
            discarded.swap(m_queue); // destroyed after unlocking
        }
        lock.unlock();
        if (first_close) {
            m_tag.record(trace::event_kind::resource_closed, 0, 0, std::uint8_t{0});
        }
        batch.deliver_all(m_tag);
    }

    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(m_lock);
        return m_queue.size();
    }
    [[nodiscard]] bool is_closed() const {
        std::lock_guard lock(m_lock);
        return m_closed;
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_capacity; }
    [[nodiscard]] const taskscope::detail::resource_tag& tag() const noexcept { return m_tag; }

private:
    std::optional<ready_wake> take_receiver() noexcept {
        if (m_receiver_waiting == nullptr) {
            return std::nullopt;
        }
        waiter& w = *std::exchange(m_receiver_waiting, nullptr);
        return taskscope::detail::end_wait(w, trace::resource_op::recv);
    }

    /// Queues `value` under `lock`, then records the depth and wakes the receiver unlocked.
    void push(T&& value, std::unique_lock<std::mutex> lock) {
        m_queue.push_back(std::move(value));
        std::optional<ready_wake> wake = take_receiver();
        const std::size_t depth = m_queue.size();
        lock.unlock();
        m_tag.record(trace::event_kind::resource_depth, 0, depth, trace::resource_op::send);
        if (wake) {
            taskscope::detail::deliver(m_tag, *wake);
        }
    }

    taskscope::detail::resource_tag m_tag;
    mutable std::mutex m_lock;
    std::deque<T> m_queue;
    const std::size_t m_capacity;
    taskscope::detail::wait_list m_waiting_senders;
    waiter* m_receiver_waiting = nullptr;
    std::size_t m_senders = 0;
    bool m_closed = false;         // for senders: the receiver closed or is gone
    bool m_close_recorded = false; // resource_closed: once, whichever side closed first
};

/// What senders share: a counted handle on the channel.
template <class T>
class sender_base {
public:
    explicit sender_base(std::shared_ptr<channel_state<T>> state) : m_state(std::move(state)) {
        m_state->add_sender();
    }
    sender_base(const sender_base& other) : m_state(other.m_state) {
        if (m_state) {
            m_state->add_sender();
        }
    }
    sender_base(sender_base&& other) noexcept = default;
    sender_base& operator=(sender_base other) noexcept {
        std::swap(m_state, other.m_state);
        return *this;
    }
    ~sender_base() {
        if (m_state) {
            m_state->drop_sender();
        }
    }

    /// True once the receiver is gone or closed the channel.
    [[nodiscard]] bool is_closed() const { return m_state->is_closed(); }
    [[nodiscard]] std::uint32_t resource_id() const noexcept { return m_state->tag().id(); }

protected:
    std::shared_ptr<channel_state<T>> m_state;
};

} // namespace detail

template <class T>
class receiver;

/// The sending side of a bounded channel. Copy it for more senders.
template <class T>
class sender : public detail::sender_base<T> {
public:
    using detail::sender_base<T>::sender_base;

    class [[nodiscard]] send_future {
    public:
        send_future(detail::channel_state<T>& state, T value) : m_state(&state) {
            m_node.value.emplace(std::move(value));
        }
        send_future(send_future&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
            : m_state(other.m_state)
            , m_state_kind(other.m_state_kind) {
            m_node.value = std::move(other.m_node.value); // before the first poll only
            other.m_state_kind = stage::done;
        }
        send_future(const send_future&) = delete;
        send_future& operator=(const send_future&) = delete;
        send_future& operator=(send_future&&) = delete;
        ~send_future() {
            if (m_state_kind == stage::waiting) {
                m_state->abandon_send(m_node);
            }
        }

        /// true: queued; false: the channel is closed (the value is dropped).
        poll_result<bool> poll(context& cx) {
            if (m_state_kind == stage::fresh) {
                if (!m_state->send_or_wait(m_node, cx)) {
                    m_state_kind = stage::waiting;
                    return pending;
                }
            } else if (m_state_kind == stage::waiting) {
                // acquire: pairs with end_wait's release
                if (!m_node.done.load(std::memory_order_acquire)) {
                    return pending;
                }
            }
            m_state_kind = stage::done;
            return m_node.amount == detail::send_delivered;
        }

    private:
        enum class stage : std::uint8_t { fresh, waiting, done };
        detail::channel_state<T>* m_state;
        stage m_state_kind = stage::fresh;
        detail::send_waiter<T> m_node;
    };

    /// `co_await tx.send(v)`: waits while the channel is full. Returns false (dropping the
    /// value) when the receiver is gone or closed the channel.
    send_future send(T value) { return send_future(*this->m_state, std::move(value)); }
    /// Sends without waiting; on `full` or `closed` the value is left as it was.
    try_send_result try_send(T&& value) const { return this->m_state->try_send(value); }
    try_send_result try_send(const T& value) const {
        T copy(value);
        return this->m_state->try_send(copy);
    }
};

/// The sending side of an unbounded channel: send() never waits.
template <class T>
class unbounded_sender : public detail::sender_base<T> {
public:
    using detail::sender_base<T>::sender_base;

    /// Queues `value`; false (dropping it) when the receiver is gone or closed the channel.
    bool send(T value) const { return this->m_state->try_send(value) == try_send_result::sent; }
};

/// The receiving side. Dropping it closes the channel and discards what was queued.
template <class T>
class receiver {
public:
    explicit receiver(std::shared_ptr<detail::channel_state<T>> state)
        : m_state(std::move(state)) {}
    receiver(receiver&&) noexcept = default;
    receiver& operator=(receiver&& other) noexcept {
        if (this != &other) {
            if (m_state) {
                m_state->close(true);
            }
            m_state = std::move(other.m_state);
        }
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver() {
        if (m_state) {
            m_state->close(true);
        }
    }

    /// The next value, or an empty optional once the channel is closed and drained.
    using recv_future =
        taskscope::detail::single_receiver_future<detail::channel_state<T>, std::optional<T>>;

    /// `co_await rx.recv()`: the next value; an empty optional when every sender is gone
    /// (or the channel was closed) and nothing is left.
    recv_future recv() noexcept { return recv_future(*m_state); }
    /// recv() for a plain thread: sleeps until a value is queued or the channel closes. A
    /// task must not block its worker: from inside a task this throws std::logic_error.
    std::optional<T> blocking_recv() {
        if (taskscope::detail::t_current_task != nullptr) {
            throw std::logic_error("taskscope::mpsc::receiver::blocking_recv was called inside "
                                   "a task; use co_await recv()");
        }
        recv_future next = recv();
        return taskscope::detail::block_thread_on(next);
    }
    /// Stops senders (their sends return false); what is queued can still be received.
    void close() noexcept { m_state->close(false); }

    /// Messages queued now.
    [[nodiscard]] std::size_t size() const { return m_state->size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_state->capacity(); }
    [[nodiscard]] std::uint32_t resource_id() const noexcept { return m_state->tag().id(); }

private:
    std::shared_ptr<detail::channel_state<T>> m_state;
};

/// A channel holding at most `capacity` messages (at least 1).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, std::string_view name = "channel") {
    if (capacity == 0) {
        throw std::invalid_argument("taskscope::mpsc::channel: the capacity must be at least 1");
    }
    auto state = std::make_shared<detail::channel_state<T>>(capacity, name);
    return {sender<T>(state), receiver<T>(state)};
}

/// A channel without a bound: senders never wait (memory grows with a slow receiver).
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded(std::string_view name = "channel") {
    auto state = std::make_shared<detail::channel_state<T>>(
        static_cast<std::size_t>(trace::unbounded_capacity), name);
    return {unbounded_sender<T>(state), receiver<T>(state)};
}

} // namespace taskscope::mpsc
