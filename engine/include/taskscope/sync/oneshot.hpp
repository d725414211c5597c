#pragma once
// oneshot: one value, sent once, received once.
//
//     auto [tx, rx] = taskscope::oneshot::channel<int>("reply");
//     tx.send(42);                                    // from a task or any thread
//     std::optional<int> v = co_await rx.recv();      // empty: the sender was dropped

#include "taskscope/poll.hpp"
#include "taskscope/sync/resource.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

namespace taskscope::oneshot {

namespace detail {

template <class T>
class state {
public:
    explicit state(std::string_view name) : m_tag(trace::resource_kind::oneshot, name, 1) {}

    bool send(T&& value) {
        std::unique_lock lock(m_lock);
        if (m_receiver_gone || m_sent) {
            return false;
        }
        m_value.emplace(std::move(value));
        m_sent = true;
        finish(std::move(lock), 1);
        return true;
    }
    void drop_sender() noexcept {
        std::unique_lock lock(m_lock);
        if (m_sent) {
            return;
        }
        m_sent = true; // nothing more will come
        finish(std::move(lock), 0);
        m_tag.record(trace::event_kind::resource_closed, 0, 0, std::uint8_t{0});
    }
    void drop_receiver() noexcept {
        std::optional<T> discarded;
        std::lock_guard lock(m_lock);
        m_receiver_gone = true;
        discarded.swap(m_value);
    }

    /// A value, nullopt for "never coming", or pending.
    poll_result<std::optional<T>> recv(taskscope::detail::waiter& node, bool& announced,
                                       context& cx) {
        std::lock_guard lock(m_lock);
        if (m_sent) {
            m_waiting = nullptr;
            std::optional<T> value = std::move(m_value);
            m_value.reset();
            return poll_result<std::optional<T>>(std::move(value));
        }
        m_waiting = &node;
        if (!announced) {
            announced = true;
            taskscope::detail::begin_wait(m_tag, node, cx.waker(), trace::resource_op::recv);
        } else {
            node.waker = cx.waker();
        }
        return pending;
    }
    void abandon_recv(taskscope::detail::waiter& node) noexcept {
        std::lock_guard lock(m_lock);
        if (m_waiting == &node) {
            m_waiting = nullptr;
        }
    }
    [[nodiscard]] bool has_value() const {
        std::lock_guard lock(m_lock);
        return m_value.has_value();
    }

private:
    void finish(std::unique_lock<std::mutex> lock, std::uint64_t depth) noexcept {
        std::optional<taskscope::detail::ready_wake> wake;
        if (m_waiting != nullptr) {
            wake = taskscope::detail::end_wait(*std::exchange(m_waiting, nullptr),
                                               trace::resource_op::recv);
        }
        lock.unlock();
        m_tag.record(trace::event_kind::resource_depth, 0, depth, trace::resource_op::send);
        if (wake) {
            taskscope::detail::deliver(m_tag, *wake);
        }
    }

    taskscope::detail::resource_tag m_tag;
    mutable std::mutex m_lock;
    std::optional<T> m_value;
    taskscope::detail::waiter* m_waiting = nullptr;
    bool m_sent = false;
    bool m_receiver_gone = false;
};

} // namespace detail

template <class T>
class sender {
public:
    explicit sender(std::shared_ptr<detail::state<T>> s) : m_state(std::move(s)) {}
    sender(sender&&) noexcept = default;
    sender& operator=(sender&&) = delete;
    sender(const sender&) = delete;
    ~sender() {
        if (m_state) {
            m_state->drop_sender();
        }
    }
    /// Sends the value (once; a second send returns false). False when the receiver is gone.
    bool send(T value) { return m_state->send(std::move(value)); }

private:
    std::shared_ptr<detail::state<T>> m_state;
};

template <class T>
class receiver {
public:
    explicit receiver(std::shared_ptr<detail::state<T>> s) : m_state(std::move(s)) {}
    receiver(receiver&&) noexcept = default;
    receiver& operator=(receiver&&) = delete;
    receiver(const receiver&) = delete;
    ~receiver() {
        if (m_state) {
            m_state->drop_receiver();
        }
    }

    using recv_future =
        taskscope::detail::single_receiver_future<detail::state<T>, std::optional<T>>;

    /// `co_await rx.recv()`: the value, or an empty optional if the sender was dropped
    /// without sending (or the value was already received).
    recv_future recv() noexcept { return recv_future(*m_state); }

private:
    std::shared_ptr<detail::state<T>> m_state;
};

template <class T>
std::pair<sender<T>, receiver<T>> channel(std::string_view name = "oneshot") {
    auto s = std::make_shared<detail::state<T>>(name);
    return {sender<T>(s), receiver<T>(s)};
}

} // namespace taskscope::oneshot
