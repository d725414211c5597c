// The seed's own executor, as written: a thread that takes runnable tasks from a channel and
// polls each once, a waker that sends its task back into the channel, and three tasks that
// sleep 3 s and then 2 s while the main thread sleeps 5 s (at a twentieth of that pace). First with
// the sleep future written by hand the first time (not done yet? wake yourself): the loop polls
// thousands of times for nothing. Then with a sleep a timer wakes: three polls a task.

#include "stage.hpp"

#include <atomic>
#include <cstdio>
#include <latch>
#include <optional>
#include <thread>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

// The seed's 3 s, 2 s and 5 s, at a twentieth at scale 1: the self-waking loop polls two
// million times a second, five events a poll, and a 5 s burst (a hundred million events)
// would not fit in any trace buffer or window. `--scale 10` comes close to the seed.
constexpr auto seed_pace = 20;
constexpr auto first_nap = std::chrono::nanoseconds(3s) / seed_pace;
constexpr auto second_nap = std::chrono::nanoseconds(2s) / seed_pace;
constexpr auto main_sleep = std::chrono::nanoseconds(5s) / seed_pace;

/// Not done? Wake yourself and say pending: the waker sends the task straight back into
/// the executor's channel, and the loop polls it again at once.
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
                       std::atomic<std::uint64_t>& polls, std::latch& finished) {
    co_await self_waking_sleep(a, polls);
    co_await self_waking_sleep(b, polls);
    finished.count_down();
}

task<void> napper_timer(std::chrono::nanoseconds a, std::chrono::nanoseconds b,
                        std::atomic<std::uint64_t>& polls, std::latch& finished) {
    co_await counted_timer_sleep(a, polls);
    co_await counted_timer_sleep(b, polls);
    finished.count_down();
}

/// The executor: every runnable the channel hands over is polled once, a failure caught
/// and reported (the seed's catch_unwind). It returns when the channel closes: every task
/// finished and the spawner dropped its sender.
void run_executor(mpsc::receiver<runnable> ready, std::atomic<std::uint64_t>& polls) {
    while (std::optional<runnable> task = ready.blocking_recv()) {
        polls.fetch_add(1, std::memory_order_relaxed);
        try {
            task->poll();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "own-executor: a task failed: %s\n", e.what());
        }
    }
}

struct phase_counts {
    std::uint64_t sleep_polls = 0;    ///< polls of the sleep futures
    std::uint64_t executor_polls = 0; ///< runnables the loop polled
};

/// Three nappers made by `make`, queued into the executor through `spawner`; returns once
/// the main thread slept its 5 s and the three finished.
template <class Make>
phase_counts run_phase(lesson_context& cx, const mpsc::unbounded_sender<runnable>& spawner,
                       const std::atomic<std::uint64_t>& executor_polls, Make make) {
    std::atomic<std::uint64_t> sleep_polls{0};
    const std::uint64_t polls_before = executor_polls.load();
    std::latch finished(3);
    {
        // The waker's side: waking a task sends it back into the channel. Each task keeps
        // a copy of this, and of the sender in it, until it is finished and dropped.
        const auto send_back = [tx = spawner](runnable r) { tx.send(std::move(r)); };
        for (int i = 0; i < 3; ++i) {
            runnable::spawn(cx.rt(), make(sleep_polls, finished), "napper", send_back);
        }
    }
    cx.main_thread_sleep(main_sleep);
    finished.wait(); // the executor polled each napper to its end
    return {sleep_polls.load(), executor_polls.load() - polls_before};
}

} // namespace

void own_executor(lesson_context& cx) {
    // One worker, which polls nothing here: the runtime only lends its timers and its
    // trace. The self-waking loop makes a million polls a second or more: a larger trace
    // buffer per thread keeps the burst whole while it is written out.
    runtime_options options{.workers = 1};
    options.trace.buffer_events = std::size_t{1} << 21;
    cx.start_runtime(options);
    const auto a = cx.scaled(first_nap);
    const auto b = cx.scaled(second_nap);

    // The executor thread, for the whole lesson (one lane on the timeline).
    auto [spawner, ready] = mpsc::unbounded<runnable>("ready queue");
    std::atomic<std::uint64_t> executor_polls{0};
    std::thread executor([&rt = cx.rt(), &executor_polls, rx = std::move(ready)]() mutable {
        executor_lane lane(rt); // this thread's polls get a lane of their own
        run_executor(std::move(rx), executor_polls);
    });
    const auto phase = [&](const char* name, auto make) {
        cx.begin_phase(name);
        const phase_counts counts = run_phase(cx, spawner, executor_polls, make);
        cx.end_phase({{"sleep_polls", static_cast<double>(counts.sleep_polls)},
                      {"executor_polls", static_cast<double>(counts.executor_polls)}});
    };
    phase("self-waking-sleep", [&](std::atomic<std::uint64_t>& polls, std::latch& finished) {
        return napper_busy(a, b, polls, finished);
    });
    if (!cx.stopping()) {
        phase("timer-sleep", [&](std::atomic<std::uint64_t>& polls, std::latch& finished) {
            return napper_timer(a, b, polls, finished);
        });
    }
    { auto done_spawning = std::move(spawner); } // the seed's drop(spawner): the loop ends
    executor.join();
}

} // namespace taskscope::lessons::detail
