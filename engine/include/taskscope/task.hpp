#pragma once
// task<T>: a lazy coroutine. Nothing runs until the task is awaited (inline, in the
// awaiting task's poll) or spawned onto a runtime.
//
//     taskscope::task<int> answer() { co_return 42; }
//     taskscope::task<int> twice() { co_return co_await answer() * 2; }
//     int v = rt.block_on(twice());

#include "taskscope/detail/task_memory.hpp"
#include "taskscope/poll.hpp"

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace taskscope {

template <class T = void>
class task;

namespace detail {

/// The running task, or a clear error for an await outside any spawned task.
inline task_header& current_task_or_throw() {
    if (t_current_task == nullptr) {
        throw std::logic_error("taskscope: a suspending operation was awaited outside a task; "
                               "run the coroutine with runtime::spawn or runtime::block_on");
    }
    return *t_current_task;
}

/// Adapts a poll-style future to `co_await`: the first poll happens in `await_ready`,
/// later ones are made by the worker through `poll_leaf` (one per poll of the task).
template <class F>
class leaf_awaiter final : public leaf_poller {
public:
    using value_type = poll_value_t<F>;

    explicit leaf_awaiter(F&& future) : m_future(std::forward<F>(future)) {}

    bool await_ready() {
        context cx(current_task_or_throw());
        return try_poll(cx);
    }
    void await_suspend(std::coroutine_handle<> awaiting) noexcept {
        task_header& task = *t_current_task;
        task.m_leaf = this;
        task.m_resume_point = awaiting;
    }
    value_type await_resume() {
        if (m_error) {
            std::rethrow_exception(m_error);
        }
        if constexpr (!std::is_void_v<value_type>) {
            return std::move(*m_value);
        }
    }

    bool poll_leaf(context& cx) noexcept override {
        try {
            return try_poll(cx);
        } catch (...) {
            m_error = std::current_exception();
            return true;
        }
    }

private:
    bool try_poll(context& cx) {
        auto result = m_future.poll(cx);
        if (!result.is_ready()) {
            return false;
        }
        if constexpr (!std::is_void_v<value_type>) {
            m_value.emplace(result.take());
        }
        return true;
    }

    struct no_value {};
    F m_future; // a reference when an lvalue was awaited
    [[no_unique_address]] std::conditional_t<std::is_void_v<value_type>, no_value,
                                             std::optional<value_type>>
        m_value;
    std::exception_ptr m_error;
};

template <class A>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};

class promise_base : public uses_task_memory {
public:
    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> done) const noexcept {
            // Symmetric transfer back to the awaiting coroutine, so a chain of nested
            // awaits runs within one poll without growing the stack.
            std::coroutine_handle<> next = done.promise().m_continuation;
            return next ? next : std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }

    void unhandled_exception() noexcept { m_error = std::current_exception(); }

    template <class A>
    decltype(auto) await_transform(A&& awaitable) {
        if constexpr (poll_future<A>) {
            return leaf_awaiter<A>(std::forward<A>(awaitable));
        } else {
            // Only these suspend correctly: the worker must know where a task stopped and
            // who will wake it, which a foreign awaitable would not tell it.
            static_assert(is_task<std::remove_cvref_t<A>>::value,
                          "co_await in a taskscope::task takes a task<T>, a join_handle<T>, or "
                          "a poll-style future (an object with poll_result<T> poll(context&))");
            return std::forward<A>(awaitable);
        }
    }

    [[nodiscard]] bool threw() const noexcept { return m_error != nullptr; }
    [[nodiscard]] std::exception_ptr error() const noexcept { return m_error; }

    std::coroutine_handle<> m_continuation;

protected:
    std::exception_ptr m_error;
};

template <class T>
class task_promise final : public promise_base {
public:
    task<T> get_return_object() noexcept;
    template <class V>
    requires std::convertible_to<V&&, T>
    void return_value(V&& value) { m_value.emplace(std::forward<V>(value)); }
    T take_result() {
        if (m_error) {
            std::rethrow_exception(m_error);
        }
        return std::move(*m_value);
    }
    std::optional<T>& value() noexcept { return m_value; }

private:
    std::optional<T> m_value;
};

template <>
class task_promise<void> final : public promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take_result() const {
        if (m_error) {
            std::rethrow_exception(m_error);
        }
    }
};

} // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : m_handle(h) {}
    task(task&& other) noexcept : m_handle(std::exchange(other.m_handle, nullptr)) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            m_handle = std::exchange(other.m_handle, nullptr);
        }
        return *this;
    }
    ~task() { destroy(); }

    [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_handle); }

    /// Awaiting a task runs it inline, inside the awaiting task's poll.
    auto operator co_await() && noexcept { return awaiter{m_handle}; }
    auto operator co_await() & noexcept { return awaiter{m_handle}; }

    /// Hands the coroutine over (used by spawn); the task becomes empty.
    std::coroutine_handle<promise_type> release() noexcept {
        return std::exchange(m_handle, nullptr);
    }

private:
    struct awaiter {
        std::coroutine_handle<promise_type> callee;
        bool await_ready() const noexcept { return !callee || callee.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
            callee.promise().m_continuation = caller;
            return callee;
        }
        T await_resume() {
            if (!callee) {
                throw std::logic_error("taskscope: awaited an empty task");
            }
            return callee.promise().take_result();
        }
    };

    void destroy() noexcept {
        if (m_handle) {
            m_handle.destroy();
            m_handle = nullptr;
        }
    }

    std::coroutine_handle<promise_type> m_handle;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
} // namespace detail

} // namespace taskscope
