#pragma once
// notify: wakes tasks waiting for "something changed", with tokio's permit semantics.
//
//     taskscope::notify ready("config reloaded");
//     co_await ready.notified();   // in one task
//     ready.notify_one();          // in another, or from any thread
//
// notify_one wakes the oldest waiter; with nobody waiting it stores one permit, so the next
// notified() completes at once (a notify_one before the wait is not lost). notify_waiters
// wakes everyone waiting now and stores nothing. A waiter destroyed after notify_one chose
// it passes the notification on to the next.

#include "taskscope/poll.hpp"
#include "taskscope/sync/resource.hpp"

#include <cstdint>
#include <mutex>
#include <string_view>

namespace taskscope {

class notify {
public:
    explicit notify(std::string_view name = "notify")
        : m_tag(trace::resource_kind::notify, name, trace::unbounded_capacity) {}
    notify(const notify&) = delete;
    notify& operator=(const notify&) = delete;

    class [[nodiscard]] notified_future {
    public:
        explicit notified_future(notify& n) noexcept : m_notify(&n) {}
        notified_future(notified_future&& other) noexcept
            : m_notify(other.m_notify)
            , m_state(other.m_state) {
            other.m_state = state::done; // only a future that has not started may move
        }
        notified_future(const notified_future&) = delete;
        notified_future& operator=(const notified_future&) = delete;
        notified_future& operator=(notified_future&&) = delete;
        ~notified_future() {
            if (m_state == state::waiting) {
                m_notify->abandon(m_node);
            }
        }

        poll_result<void> poll(context& cx) {
            switch (m_state) {
            case state::fresh:
                if (m_notify->take_permit_or_wait(m_node, cx)) {
                    m_state = state::done;
                    return ready();
                }
                m_state = state::waiting;
                return pending;
            case state::waiting:
                // acquire: pairs with end_wait's release
                if (m_node.done.load(std::memory_order_acquire)) {
                    m_state = state::done;
                    return ready();
                }
                return pending;
            case state::done:
                return ready();
            }
            return pending;
        }

    private:
        enum class state : std::uint8_t { fresh, waiting, done };
        notify* m_notify;
        state m_state = state::fresh;
        detail::waiter m_node;
    };

    /// `co_await n.notified()`: completes at the next notification (or at once, taking the
    /// stored permit).
    notified_future notified() noexcept { return notified_future(*this); }

    /// Wakes the oldest waiter, or stores a permit for the next notified().
    void notify_one() noexcept {
        std::unique_lock lock(m_lock);
        if (detail::waiter* w = m_waiters.pop_front()) {
            w->amount = by_notify_one;
            detail::ready_wake r = detail::end_wait(*w, trace::resource_op::notified);
            lock.unlock();
            detail::deliver(m_tag, r);
            return;
        }
        m_permit = true;
    }

    /// Wakes every task waiting now; stores no permit.
    void notify_waiters() noexcept {
        detail::wake_batch batch;
        std::unique_lock lock(m_lock);
        const std::uint64_t generation = ++m_generation;
        // Waiters that came after this call (while the lock was dropped to deliver a full
        // batch) carry the new generation and keep waiting.
        while (m_waiters.front() != nullptr && m_waiters.front()->since_generation < generation) {
            detail::waiter& w = *m_waiters.pop_front();
            w.amount = by_notify_waiters;
            batch.add(detail::end_wait(w, trace::resource_op::notified));
            if (batch.full()) {
                lock.unlock();
                batch.deliver_all(m_tag);
                lock.lock();
            }
        }
        lock.unlock();
        batch.deliver_all(m_tag);
    }

    [[nodiscard]] std::size_t waiting() const {
        std::lock_guard lock(m_lock);
        return m_waiters.size();
    }
    [[nodiscard]] std::uint32_t resource_id() const noexcept { return m_tag.id(); }

private:
    static constexpr std::uint64_t by_notify_one = 1;
    static constexpr std::uint64_t by_notify_waiters = 0;

    bool take_permit_or_wait(detail::waiter& node, context& cx) {
        std::lock_guard lock(m_lock);
        if (m_permit) {
            m_permit = false;
            return true;
        }
        node.since_generation = m_generation;
        m_waiters.push_back(node);
        detail::begin_wait(m_tag, node, cx.waker(), trace::resource_op::notified);
        return false;
    }

    void abandon(detail::waiter& node) noexcept {
        bool pass_on = false;
        {
            std::lock_guard lock(m_lock);
            if (node.linked) {
                m_waiters.remove(node);
            } else {
                pass_on = node.amount == by_notify_one;
            }
        }
        if (pass_on) {
            notify_one(); // the notification it never saw goes to the next waiter
        }
    }

    detail::resource_tag m_tag;
    mutable std::mutex m_lock;
    detail::wait_list m_waiters;
    std::uint64_t m_generation = 0;
    bool m_permit = false;
};

} // namespace taskscope
