#pragma once
// Poll-style leaf futures: a leaf operation written as `poll(context&)` that returns
// ready or pending, as Rust futures are. `co_await` on such an object inside a task
// polls it once per poll of the task until it is ready.
//
//     struct busy_sleep {                   // the classic self-waking sleep
//         std::chrono::steady_clock::time_point deadline;
//         taskscope::poll_result<void> poll(taskscope::context& cx) {
//             if (std::chrono::steady_clock::now() >= deadline) return taskscope::ready();
//             cx.waker().wake();            // "poll me again", straight away
//             return taskscope::pending;
//         }
//     };
//     co_await busy_sleep{deadline};

#include "taskscope/waker.hpp"

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>

namespace taskscope {

struct pending_t {
    explicit constexpr pending_t(int) {}
};
/// Returned by a `poll` that cannot finish yet (after arranging for a wake-up).
inline constexpr pending_t pending{0};

struct ready_t {};
/// `return taskscope::ready();` from a `poll_result<void>` poll.
[[nodiscard]] constexpr ready_t ready() noexcept {
    return {};
}

template <class T>
class [[nodiscard]] poll_result {
public:
    using value_type = T;
    poll_result(pending_t) noexcept {}
    poll_result(T value) : m_value(std::move(value)) {}
    [[nodiscard]] bool is_ready() const noexcept { return m_value.has_value(); }
    [[nodiscard]] T take() { return std::move(*m_value); }

private:
    std::optional<T> m_value;
};

template <>
class [[nodiscard]] poll_result<void> {
public:
    using value_type = void;
    poll_result(pending_t) noexcept {}
    poll_result(ready_t) noexcept : m_ready(true) {}
    [[nodiscard]] bool is_ready() const noexcept { return m_ready; }
    void take() const noexcept {}

private:
    bool m_ready = false;
};

/// What a leaf's `poll` may use: the running task's waker and identity.
class context {
public:
    explicit context(detail::task_header& task) noexcept : m_task(&task) {}
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    /// The running task's waker; copy it to keep it past this poll.
    [[nodiscard]] const taskscope::waker& waker() {
        if (!m_waker.valid()) {
            m_waker = taskscope::waker(*m_task);
        }
        return m_waker;
    }
    [[nodiscard]] std::uint64_t task_id() const noexcept { return m_task->m_id; }
    [[nodiscard]] detail::task_header& task() const noexcept { return *m_task; }

private:
    detail::task_header* m_task;
    taskscope::waker m_waker;
};

namespace detail {
template <class R>
struct is_poll_result : std::false_type {};
template <class T>
struct is_poll_result<poll_result<T>> : std::true_type {};
} // namespace detail

/// An object with `poll_result<T> poll(context&)`.
template <class F>
concept poll_future = requires(std::remove_reference_t<F>& f, context& cx) {
    {f.poll(cx)};
    requires detail::is_poll_result<decltype(f.poll(cx))>::value;
};

template <poll_future F>
using poll_value_t = typename decltype(std::declval<std::remove_reference_t<F>&>().poll(
    std::declval<context&>()))::value_type;

} // namespace taskscope
