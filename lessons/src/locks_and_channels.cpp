// Waiting on each other: four tasks sharing an async mutex, first holding it across a
// sleep and then letting go before it; a fast producer and a slow consumer on a bounded
// channel; and a task locking a std::mutex that another thread holds, which blocks its
// worker.

#include "stage.hpp"
#include "taskscope/sync.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
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

task<int> take_thread_lock(std::mutex& m) {
    auto lock = blocking_lock(m); // blocks this worker until the other thread lets go
    co_return 1;
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
    // A background thread (a logger, a cache refresher) holds a plain std::mutex for `nap`;
    // a task locks it. (A task holding one across an await would be worse: it may resume
    // on another worker, and a std::mutex must be unlocked by the thread that locked it.)
    std::mutex plain;
    std::atomic<bool> held{false};
    std::thread background([&plain, &held, nap] {
        std::lock_guard lock(plain);
        held = true;
        std::this_thread::sleep_for(nap);
    });
    while (!held) {
        std::this_thread::yield();
    }
    const int tasks = rt.block_on(take_thread_lock(plain), "taker");
    background.join();
    cx.end_phase({{"tasks", tasks}});
}

} // namespace taskscope::lessons::detail
