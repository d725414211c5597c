// Waiting on each other: four tasks sharing an async mutex, first holding it across a
// sleep and then letting go before it; a fast producer and a slow consumer on a bounded
// channel; and a std::mutex locked inside a task, which blocks the worker.

#include "stage.hpp"
#include "taskscope/sync.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr int lockers = 4;
constexpr int messages = 20;
constexpr std::size_t channel_capacity = 4;

/// Takes the shared log, adds a line, and sleeps `nap`: holding the lock meanwhile, or
/// not.
task<void> write_log(async_mutex<std::vector<int>>& log, int who, std::chrono::nanoseconds nap,
                     bool hold_across_sleep, std::atomic<int>& holders, std::atomic<int>& most) {
    auto guard = co_await log.lock();
    const int now = ++holders;
    most = std::max(most.load(), now);
    guard->push_back(who);
    if (!hold_across_sleep) {
        --holders;
        guard.unlock(); // done with the shared state: let the next task in
    }
    co_await sleep_for(nap); // the slow part: a write to disk, a call to another service
    if (hold_across_sleep) {
        --holders;
    }
}

task<int> four_writers(async_mutex<std::vector<int>>& log, std::chrono::nanoseconds nap, bool hold,
                       std::atomic<int>& holders, std::atomic<int>& most) {
    std::vector<join_handle<void>> hs;
    for (int i = 0; i < lockers; ++i) {
        hs.push_back(spawn(write_log(log, i, nap, hold, holders, most), "writer"));
    }
    for (auto& h : hs) {
        co_await h;
    }
    co_return lockers;
}

task<void> produce(mpsc::sender<int> tx, std::atomic<int>& sent) {
    for (int i = 0; i < messages; ++i) {
        if (!co_await tx.send(i)) { // waits while the channel is full
            co_return;
        }
        ++sent;
    }
}

task<int> consume(mpsc::receiver<int> rx, std::chrono::nanoseconds per_message) {
    int received = 0;
    while (co_await rx.recv()) {
        ++received;
        co_await sleep_for(per_message); // a slow consumer
    }
    co_return received;
}

task<int> producer_and_consumer(std::chrono::nanoseconds per_message, std::atomic<int>& sent) {
    auto [tx, rx] = mpsc::channel<int>(channel_capacity, "jobs");
    auto consumer = spawn(consume(std::move(rx), per_message), "consumer");
    co_await spawn(produce(std::move(tx), sent), "producer");
    co_return co_await consumer;
}

/// Holds a std::mutex across an await: the mistake, as a lesson shows it.
task<void> hold_thread_lock(std::mutex& m, std::chrono::nanoseconds nap, std::atomic<bool>& held) {
    auto lock = blocking_lock(m);
    held = true;
    co_await sleep_for(nap);
}

task<void> take_thread_lock(std::mutex& m) {
    auto lock = blocking_lock(m); // blocks this worker until the holder lets go
    co_return;
}

task<int> two_tasks_one_thread_lock(std::mutex& m, std::chrono::nanoseconds nap) {
    std::atomic<bool> held{false};
    auto holder = spawn(hold_thread_lock(m, nap, held), "holder");
    while (!held) {
        co_await yield_now();
    }
    auto taker = spawn(take_thread_lock(m), "taker");
    co_await taker;
    co_await holder;
    co_return 2;
}

} // namespace

void locks_and_channels(lesson_context& cx) {
    runtime& rt = cx.start_runtime({.workers = 2});
    const auto nap = cx.scaled(500ms);
    async_mutex<std::vector<int>> log({}, "log");

    for (const bool hold : {true, false}) {
        cx.begin_phase(hold ? "lock-held-across-await" : "lock-released-before-await");
        std::atomic<int> holders{0};
        std::atomic<int> most{0};
        const int done = rt.block_on(four_writers(log, nap, hold, holders, most), "main");
        cx.end_phase({{"writers", done}, {"most_holders_at_once", most.load()}});
        if (cx.stopping()) {
            return;
        }
    }

    cx.begin_phase("bounded-channel");
    std::atomic<int> sent{0};
    const int received = rt.block_on(producer_and_consumer(cx.scaled(50ms), sent), "main");
    cx.end_phase({{"sent", sent.load()},
                  {"received", received},
                  {"capacity", static_cast<double>(channel_capacity)}});
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("thread-lock-in-a-task");
    std::mutex plain;
    const int tasks = rt.block_on(two_tasks_one_thread_lock(plain, nap), "main");
    cx.end_phase({{"tasks", tasks}});
}

} // namespace taskscope::lessons::detail
