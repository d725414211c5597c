#pragma once

#include "taskscope/detail/atomic_wait.hpp"
#include "taskscope/poll.hpp"

#include <atomic>
#include <exception>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

namespace taskscope {

/// Thrown at a join when the task was destroyed unfinished (its runtime shut down).
class task_cancelled : public std::runtime_error {
public:
    task_cancelled() : std::runtime_error("taskscope: the task was cancelled before it finished") {}
};

namespace detail {

/// The completion side of a spawned task or blocking job, shared with its join_handle.
class join_core {
public:
    virtual void join_ref() noexcept = 0;
    virtual void join_unref() noexcept = 0;

    [[nodiscard]] bool is_done() const noexcept {
        // acquire: pairs with the release in finish(), so the result is visible
        return (m_done.load(std::memory_order_acquire) & done_bit) != 0;
    }

    /// Blocks the calling thread until the task finished.
    void wait() const noexcept {
        // Announce a blocked waiter first, so finish() knows to pay for a futex wake.
        std::uint32_t state = m_done.fetch_or(waiter_bit, std::memory_order_acq_rel);
        while ((state & done_bit) == 0) {
            detail::atomic_wait(m_done, state, std::memory_order_acquire);
            state = m_done.load(std::memory_order_acquire);
        }
    }

    /// True when done; otherwise remembers `w` to wake at completion.
    bool poll_join(const waker& w) noexcept {
        lock();
        const bool done = is_done();
        if (!done && !m_joiner.wakes_same_task(w)) {
            m_joiner = w;
        }
        unlock();
        return done;
    }

    /// Publishes the outcome (already stored) and wakes whoever joins.
    void finish(trace::wake_source source, std::uint64_t finisher_id) noexcept {
        lock();
        // release: the stored value or error is visible to whoever sees the done bit
        const std::uint32_t before = m_done.fetch_or(done_bit, std::memory_order_acq_rel);
        waker joiner = std::move(m_joiner);
        unlock();
        if ((before & waiter_bit) != 0) {
            detail::atomic_notify_all(m_done); // a system call: only when a thread blocks in wait()
        }
        joiner.wake_as(source, finisher_id);
    }

protected:
    ~join_core() = default;

    /// Moves the error out, so the thread that rethrows it drops its last reference: the
    /// exception is freed where it is caught, not by a worker that drops the task later
    /// (libstdc++ counts exception references where ThreadSanitizer cannot see them).
    void rethrow_if_failed() {
        if (m_error) {
            std::rethrow_exception(std::exchange(m_error, nullptr));
        }
        if (m_cancelled) {
            throw task_cancelled();
        }
    }

public:
    std::exception_ptr m_error;
    bool m_cancelled = false;

private:
    static constexpr std::uint32_t done_bit = 1;
    static constexpr std::uint32_t waiter_bit = 2;

    // A two-party critical section (completer and joiner) of a few instructions: a spin
    // lock keeps the per-task footprint small where a std::mutex would add 40 bytes.
    void lock() noexcept {
        while (m_lock.test_and_set(std::memory_order_acquire)) {
            std::this_thread::yield();
        }
    }
    void unlock() noexcept { m_lock.clear(std::memory_order_release); }

    std::atomic_flag m_lock;
    mutable std::atomic<std::uint32_t> m_done{0}; // done_bit | waiter_bit
    waker m_joiner;
};

template <class T>
class join_slot : public join_core {
public:
    T take() {
        rethrow_if_failed();
        if (!m_value) {
            throw std::logic_error("taskscope: a join_handle's result was taken twice");
        }
        T value = std::move(*m_value);
        m_value.reset();
        return value;
    }
    std::optional<T> m_value;

protected:
    ~join_slot() = default;
};

template <>
class join_slot<void> : public join_core {
public:
    void take() {
        if (std::exchange(m_taken, true)) {
            throw std::logic_error("taskscope: a join_handle's result was taken twice");
        }
        rethrow_if_failed();
    }

private:
    bool m_taken = false;

protected:
    ~join_slot() = default;
};

} // namespace detail

/// The result side of a spawned task or blocking job. Await it inside a task, or call
/// `get()` from outside the runtime. Dropping it detaches the task, which still runs.
template <class T>
class [[nodiscard]] join_handle {
public:
    join_handle() noexcept = default;
    /// Adopts one join reference of `slot`.
    explicit join_handle(detail::join_slot<T>* slot) noexcept : m_slot(slot) {}
    join_handle(join_handle&& other) noexcept : m_slot(std::exchange(other.m_slot, nullptr)) {}
    join_handle& operator=(join_handle&& other) noexcept {
        if (this != &other) {
            reset();
            m_slot = std::exchange(other.m_slot, nullptr);
        }
        return *this;
    }
    ~join_handle() { reset(); }

    [[nodiscard]] bool valid() const noexcept { return m_slot != nullptr; }
    [[nodiscard]] bool is_finished() const noexcept { return m_slot && m_slot->is_done(); }

    /// Blocks the calling thread until the task finished, then returns its value or
    /// rethrows its exception. Do not call it from inside a task: await the handle.
    T get() {
        check();
        if (detail::t_current_task != nullptr) {
            throw std::logic_error("taskscope: join_handle::get() was called inside a task, where "
                                   "it would block the worker; co_await the handle instead");
        }
        m_slot->wait();
        return m_slot->take();
    }

    /// Poll-style: lets `co_await handle` suspend until the task finished.
    poll_result<T> poll(context& cx) {
        check();
        if (!m_slot->poll_join(cx.waker())) {
            return pending;
        }
        if constexpr (std::is_void_v<T>) {
            m_slot->take();
            return ready();
        } else {
            return m_slot->take();
        }
    }

    /// The completion state, for the runtime's block_on.
    [[nodiscard]] const detail::join_core& completion() const {
        check();
        return *m_slot;
    }

    /// Drops the handle; the task goes on (detached).
    void detach() noexcept { reset(); }

private:
    void check() const {
        if (!m_slot) {
            throw std::logic_error("taskscope: used an empty join_handle");
        }
    }
    void reset() noexcept {
        if (m_slot) {
            std::exchange(m_slot, nullptr)->join_unref();
        }
    }
    detail::join_slot<T>* m_slot = nullptr;
};

} // namespace taskscope
