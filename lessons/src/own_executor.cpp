// The sleep future written by hand the first time: it checks the clock and, not done yet,
// wakes itself, so the executor polls it again at once: thousands of polls for nothing.
// Then the same three tasks with a sleep a timer wakes: two polls per sleep.

#include "stage.hpp"

#include <atomic>
#include <vector>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto main_sleep = 5s;
constexpr auto first_nap = 100ms;
constexpr auto second_nap = 50ms;

/// Not done? Wake yourself and say pending: the executor queues the task again at once.
class self_waking_sleep {
public:
    self_waking_sleep(std::chrono::nanoseconds d, std::atomic<std::uint64_t>& polls)
        : m_deadline(clock::now() + d)
        , m_polls(polls) {}

    poll_result<void> poll(context& cx) {
        m_polls.fetch_add(1, std::memory_order_relaxed);
        if (clock::now() >= m_deadline) {
            return ready();
        }
        cx.waker().wake();
        return pending;
    }

private:
    clock::time_point m_deadline;
    std::atomic<std::uint64_t>& m_polls;
};

/// The runtime's timer sleep, counting how often it is polled.
class counted_timer_sleep {
public:
    counted_timer_sleep(std::chrono::nanoseconds d, std::atomic<std::uint64_t>& polls)
        : m_sleep(sleep_for(d))
        , m_polls(polls) {}

    poll_result<void> poll(context& cx) {
        m_polls.fetch_add(1, std::memory_order_relaxed);
        return m_sleep.poll(cx);
    }

private:
    sleep_future m_sleep;
    std::atomic<std::uint64_t>& m_polls;
};

task<void> napper_busy(std::chrono::nanoseconds a, std::chrono::nanoseconds b,
                       std::atomic<std::uint64_t>& polls) {
    co_await self_waking_sleep(a, polls);
    co_await self_waking_sleep(b, polls);
}

task<void> napper_timer(std::chrono::nanoseconds a, std::chrono::nanoseconds b,
                        std::atomic<std::uint64_t>& polls) {
    co_await counted_timer_sleep(a, polls);
    co_await counted_timer_sleep(b, polls);
}

template <class Make>
std::uint64_t run_phase(lesson_context& cx, Make make) {
    std::atomic<std::uint64_t> polls{0};
    std::vector<join_handle<void>> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(cx.rt().spawn(make(polls), "napper"));
    }
    cx.main_thread_sleep(main_sleep);
    for (auto& t : tasks) {
        cx.rt().block_on(std::move(t));
    }
    return polls.load();
}

} // namespace

void own_executor(lesson_context& cx) {
    // One worker: the executor is a single thread pulling runnable tasks from its queue.
    // The self-waking sleep makes millions of polls a second: a larger trace buffer per
    // thread keeps the burst (a fraction of a second) whole while it is written out.
    runtime_options options{.workers = 1};
    options.trace.buffer_events = std::size_t{1} << 20;
    cx.start_runtime(options);
    const auto a = cx.scaled(first_nap);
    const auto b = cx.scaled(second_nap);

    cx.begin_phase("self-waking-sleep");
    const std::uint64_t busy =
        run_phase(cx, [&](std::atomic<std::uint64_t>& polls) { return napper_busy(a, b, polls); });
    cx.end_phase({{"sleep_polls", static_cast<double>(busy)}});
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("timer-sleep");
    const std::uint64_t timed =
        run_phase(cx, [&](std::atomic<std::uint64_t>& polls) { return napper_timer(a, b, polls); });
    cx.end_phase({{"sleep_polls", static_cast<double>(timed)}});
}

} // namespace taskscope::lessons::detail
