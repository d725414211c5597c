#pragma once
// semaphore and async_mutex<T>: FIFO-fair permits that a task waits for without blocking
// its worker.
//
//     taskscope::async_mutex<std::vector<int>> shared({}, "results");
//     {
//         auto guard = co_await shared.lock(); // waits (the task, not the worker) if held
//         guard->push_back(42);
//     }                                        // unlocked here; the next waiter gets it
//
//     taskscope::semaphore slots(4, "db connections");
//     auto permit = co_await slots.acquire();  // at most 4 tasks past this line at once
//
// Waiters are served first come, first served: a release hands its permits to the oldest
// waiter before anyone else can take them. Acquisition is cancel-safe: a task destroyed
// while it waits leaves the queue and is never granted anything; permits granted to it
// that it never saw are handed on.
//
// In the trace: an uncontended acquisition records resource_depth (permits held after it),
// a release resource_released; a wait records resource_wait (with the mutex's holder) and
// its end resource_ready and a wake.

#include "taskscope/poll.hpp"
#include "taskscope/sync/resource.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

namespace taskscope {

namespace detail {

/// The permit counter behind semaphore and async_mutex. Permits not owed to a waiter sit
/// in an atomic, so an uncontended acquire or release is one compare-exchange; the list of
/// waiters and every hand-over are under a lock.
class permit_core {
public:
    permit_core(std::size_t permits, trace::resource_kind kind, std::string_view name)
        : m_tag(kind, name,
                permits >= trace::unbounded_capacity ? trace::unbounded_capacity - 1
                                                     : static_cast<std::uint32_t>(permits))
        , m_permits(permits)
        , m_max(permits) {}
    permit_core(const permit_core&) = delete;
    permit_core& operator=(const permit_core&) = delete;

    /// Takes `n` permits if they are free now and nobody waits. Records the acquisition.
    bool try_take(std::size_t n) noexcept {
        // seq_cst (with release's): either this sees the waiter count a slow acquirer
        // raised, or that acquirer sees the permits this one leaves (see release)
        if (m_waiting.load(std::memory_order_seq_cst) != 0) {
            return false; // first come, first served: queue behind them
        }
        std::size_t now = m_permits.load(std::memory_order_relaxed);
        while (now >= n) {
            // acquire: the previous holder's writes happen before this holder's reads
            if (m_permits.compare_exchange_weak(now, now - n, std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
                took(n, now - n);
                return true;
            }
        }
        return false;
    }

    /// Gives `n` permits back. Without waiters that is one atomic add; with waiters, the
    /// oldest get them first, under the lock.
    void release(std::size_t n) noexcept {
        // seq_cst: the add comes before the waiter count is read. An acquirer raises the
        // count before it looks at the permits, so either it sees these permits, or this
        // sees it waiting and hands them over (hand_over).
        const std::size_t free_after = m_permits.fetch_add(n, std::memory_order_seq_cst) + n;
        if (m_waiting.load(std::memory_order_seq_cst) == 0) {
            m_holder.store(0, std::memory_order_relaxed);
            m_tag.record(trace::event_kind::resource_released, 0, held(free_after),
                         static_cast<std::uint8_t>(std::min<std::size_t>(n, 255)));
            return;
        }
        hand_over(n);
    }

    /// Adds permits that were never taken (a semaphore growing).
    void add_permits(std::size_t n) noexcept {
        // relaxed: a count for the trace
        m_max.fetch_add(n, std::memory_order_relaxed);
        release(n);
    }

    [[nodiscard]] std::size_t available() const noexcept {
        return m_permits.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::size_t waiting() const {
        std::lock_guard lock(m_lock);
        return m_waiters.size();
    }
    [[nodiscard]] const resource_tag& tag() const noexcept { return m_tag; }

    /// The poll-style acquisition of `n` permits; see semaphore::acquire.
    class acquire_op {
    public:
        acquire_op(permit_core& core, std::size_t n) noexcept : m_core(&core), m_wanted(n) {}
        acquire_op(acquire_op&& other) noexcept
            : m_core(other.m_core)
            , m_wanted(other.m_wanted)
            , m_state(other.m_state) {
            // only a future that has not started may move (before its first poll)
            other.m_state = state::moved;
        }
        acquire_op(const acquire_op&) = delete;
        acquire_op& operator=(const acquire_op&) = delete;
        acquire_op& operator=(acquire_op&&) = delete;
        ~acquire_op() {
            if (m_state == state::waiting) {
                m_core->abandon(*m_node, m_wanted);
            }
        }

        /// True once the permits are this operation's.
        bool poll(context& cx) {
            switch (m_state) {
            case state::fresh:
                if (m_core->try_take(m_wanted)) {
                    m_state = state::acquired;
                    return true;
                }
                // the node exists only for an acquisition that may wait
                if (m_core->take_or_wait(m_node.emplace(), m_wanted, cx)) {
                    m_state = state::acquired;
                    return true;
                }
                m_state = state::waiting;
                return false;
            case state::waiting:
                // acquire: pairs with end_wait's release (the grant and the holder's writes)
                if (m_node->done.load(std::memory_order_acquire)) {
                    m_state = state::acquired;
                    return true;
                }
                return false;
            case state::acquired:
            case state::moved:
                return true;
            }
            return false;
        }

    private:
        enum class state : std::uint8_t { fresh, waiting, acquired, moved };
        permit_core* m_core;
        std::size_t m_wanted;
        state m_state = state::fresh;
        std::optional<waiter> m_node;
    };

private:
    [[nodiscard]] trace::resource_op op() const noexcept {
        return m_tag.kind() == trace::resource_kind::mutex ? trace::resource_op::lock
                                                           : trace::resource_op::acquire;
    }
    [[nodiscard]] std::uint64_t held(std::size_t free_now) const noexcept {
        const std::size_t max = m_max.load(std::memory_order_relaxed);
        return max > free_now ? max - free_now : 0;
    }
    void took(std::size_t, std::size_t free_after) noexcept {
        const std::uint64_t me = running_task_id();
        m_holder.store(me, std::memory_order_relaxed);
        m_tag.record(trace::event_kind::resource_depth, me, held(free_after), op());
    }

    /// A release with waiters: under the lock, every free permit goes to the oldest
    /// waiters (a waiter wanting several may be partly served); the rest stays free.
    void hand_over(std::size_t released) noexcept {
        wake_batch batch;
        std::unique_lock lock(m_lock);
        // acquire: the releasers' writes happen before the new holders' reads
        std::size_t left = m_permits.exchange(0, std::memory_order_acquire);
        while (left > 0 && !m_waiters.empty()) {
            waiter& w = *m_waiters.front();
            const std::size_t given = std::min<std::size_t>(left, w.amount);
            w.amount -= given;
            left -= given;
            if (w.amount == 0) {
                m_waiters.pop_front();
                m_waiting.fetch_sub(1, std::memory_order_seq_cst);
                // relaxed: the holder is what resource_wait reports, a hint for people
                m_holder.store(w.task, std::memory_order_relaxed);
                batch.add(end_wait(w, op()));
                if (batch.full()) {
                    lock.unlock();
                    batch.deliver_all(m_tag);
                    lock.lock();
                }
            }
        }
        std::size_t free_after = 0;
        if (left > 0) {
            // release: as in release()
            free_after = m_permits.fetch_add(left, std::memory_order_release) + left;
        }
        lock.unlock();
        m_tag.record(trace::event_kind::resource_released, 0, held(free_after),
                     static_cast<std::uint8_t>(std::min<std::size_t>(released, 255)));
        batch.deliver_all(m_tag);
    }

    /// The slow path of an acquisition: under the lock, raise the waiter count, then take
    /// what is free if nobody is ahead; queue `node` for the rest.
    bool take_or_wait(waiter& node, std::size_t n, context& cx) {
        std::unique_lock lock(m_lock);
        m_waiting.fetch_add(1, std::memory_order_seq_cst); // see release()
        std::size_t taken = 0;
        if (m_waiters.empty()) {
            // acquire: as in try_take
            const std::size_t free_now = m_permits.exchange(0, std::memory_order_acquire);
            taken = std::min(free_now, n);
            if (free_now > taken) {
                m_permits.fetch_add(free_now - taken, std::memory_order_release);
            }
        }
        if (taken == n) {
            m_waiting.fetch_sub(1, std::memory_order_seq_cst);
            lock.unlock();
            took(n, m_permits.load(std::memory_order_relaxed));
            return true;
        }
        node.amount = n - taken;
        m_waiters.push_back(node);
        // relaxed: a hint for resource_wait
        const std::uint64_t holder = m_tag.kind() == trace::resource_kind::mutex
                                         ? m_holder.load(std::memory_order_relaxed)
                                         : 0;
        begin_wait(m_tag, node, cx.waker(), op(), holder);
        return false;
    }

    /// A waiting acquisition is destroyed: leave the queue, and hand on what it was given.
    void abandon(waiter& node, std::size_t wanted) noexcept {
        std::size_t give_back = 0;
        {
            std::lock_guard lock(m_lock);
            if (node.linked) {
                m_waiters.remove(node);
                m_waiting.fetch_sub(1, std::memory_order_seq_cst);
                give_back = wanted - node.amount; // a partial grant
            } else {
                // acquire: the grant is complete
                give_back = node.done.load(std::memory_order_acquire) ? wanted : 0;
            }
        }
        if (give_back > 0) {
            release(give_back);
        }
    }

    resource_tag m_tag;
    mutable std::mutex m_lock;
    wait_list m_waiters;
    std::atomic<std::size_t> m_permits;
    std::atomic<std::size_t> m_waiting{0}; // queued acquirers (and one about to queue)
    std::atomic<std::uint64_t> m_holder{0};
    std::atomic<std::size_t> m_max; // every permit there is, held or free
};

} // namespace detail

class semaphore;

/// Permits taken from a semaphore; gives them back when destroyed.
class [[nodiscard]] semaphore_permit {
public:
    semaphore_permit() noexcept = default;
    semaphore_permit(detail::permit_core& core, std::size_t n) noexcept : m_core(&core), m_n(n) {}
    semaphore_permit(semaphore_permit&& other) noexcept
        : m_core(std::exchange(other.m_core, nullptr))
        , m_n(std::exchange(other.m_n, 0)) {}
    semaphore_permit& operator=(semaphore_permit&& other) noexcept {
        if (this != &other) {
            release();
            m_core = std::exchange(other.m_core, nullptr);
            m_n = std::exchange(other.m_n, 0);
        }
        return *this;
    }
    ~semaphore_permit() { release(); }

    /// How many permits this holds.
    [[nodiscard]] std::size_t count() const noexcept { return m_n; }
    /// Gives the permits back now.
    void release() noexcept {
        if (m_core != nullptr && m_n > 0) {
            std::exchange(m_core, nullptr)->release(std::exchange(m_n, 0));
        }
    }
    /// Keeps the permits out of the semaphore for good.
    void forget() noexcept {
        m_core = nullptr;
        m_n = 0;
    }

private:
    detail::permit_core* m_core = nullptr;
    std::size_t m_n = 0;
};

/// A counting semaphore for tasks. FIFO-fair: the oldest waiter is served first.
class semaphore {
public:
    explicit semaphore(std::size_t permits, std::string_view name = "semaphore")
        : m_core(permits, trace::resource_kind::semaphore, name) {}

    class [[nodiscard]] acquire_future {
    public:
        acquire_future(detail::permit_core& core, std::size_t n) noexcept
            : m_op(core, n)
            , m_core(&core)
            , m_n(n) {}
        poll_result<semaphore_permit> poll(context& cx) {
            if (!m_op.poll(cx)) {
                return pending;
            }
            return semaphore_permit(*m_core, m_n);
        }

    private:
        detail::permit_core::acquire_op m_op;
        detail::permit_core* m_core;
        std::size_t m_n;
    };

    /// `co_await sem.acquire(n)`: waits until `n` permits are this task's.
    acquire_future acquire(std::size_t n = 1) noexcept { return acquire_future(m_core, n); }
    /// Takes `n` permits if they are free now and nobody is owed them.
    std::optional<semaphore_permit> try_acquire(std::size_t n = 1) noexcept {
        if (m_core.try_take(n)) {
            return semaphore_permit(m_core, n);
        }
        return std::nullopt;
    }
    /// Adds `n` new permits.
    void add_permits(std::size_t n) noexcept { m_core.add_permits(n); }

    [[nodiscard]] std::size_t available_permits() const noexcept { return m_core.available(); }
    [[nodiscard]] std::size_t waiting() const { return m_core.waiting(); }
    [[nodiscard]] std::uint32_t resource_id() const noexcept { return m_core.tag().id(); }

private:
    detail::permit_core m_core;
};

template <class T>
class async_mutex;

/// Access to an async_mutex's value; unlocks when destroyed.
template <class T>
class [[nodiscard]] async_mutex_guard {
public:
    async_mutex_guard(detail::permit_core& core, T& value) noexcept
        : m_core(&core)
        , m_value(&value) {}
    async_mutex_guard(async_mutex_guard&& other) noexcept
        : m_core(std::exchange(other.m_core, nullptr))
        , m_value(other.m_value) {}
    async_mutex_guard& operator=(async_mutex_guard&&) = delete;
    async_mutex_guard(const async_mutex_guard&) = delete;
    ~async_mutex_guard() { unlock(); }

    T& operator*() const noexcept { return *m_value; }
    T* operator->() const noexcept { return m_value; }
    /// Unlocks now (the guard is empty afterwards).
    void unlock() noexcept {
        if (m_core != nullptr) {
            std::exchange(m_core, nullptr)->release(1);
        }
    }
    [[nodiscard]] bool owns_lock() const noexcept { return m_core != nullptr; }

private:
    detail::permit_core* m_core;
    T* m_value;
};

/// A mutex for tasks, around the value it protects: a task waiting for it is suspended,
/// not its worker, so it may be held across a co_await (a socket write, a sleep).
template <class T>
class async_mutex {
public:
    explicit async_mutex(T value = T{}, std::string_view name = "mutex")
        : m_core(1, trace::resource_kind::mutex, name)
        , m_value(std::move(value)) {}

    class [[nodiscard]] lock_future {
    public:
        lock_future(async_mutex& m) noexcept : m_mutex(&m), m_op(m.m_core, 1) {}
        poll_result<async_mutex_guard<T>> poll(context& cx) {
            if (!m_op.poll(cx)) {
                return pending;
            }
            return async_mutex_guard<T>(m_mutex->m_core, m_mutex->m_value);
        }

    private:
        async_mutex* m_mutex;
        detail::permit_core::acquire_op m_op;
    };

    /// `auto guard = co_await m.lock();`
    lock_future lock() noexcept { return lock_future(*this); }
    /// Locks if nobody holds it now.
    std::optional<async_mutex_guard<T>> try_lock() noexcept {
        if (m_core.try_take(1)) {
            return async_mutex_guard<T>(m_core, m_value);
        }
        return std::nullopt;
    }
    [[nodiscard]] bool is_locked() const noexcept { return m_core.available() == 0; }
    [[nodiscard]] std::size_t waiting() const { return m_core.waiting(); }
    [[nodiscard]] std::uint32_t resource_id() const noexcept { return m_core.tag().id(); }

private:
    detail::permit_core m_core;
    T m_value;
};

} // namespace taskscope
