// Tasks polled by hand (taskscope/by_hand.hpp): the seed's home-made executor, a thread
// that pulls runnables from a channel and polls each once, on the runtime's timers and
// channels; wakes from other threads; failures; the lane the executor's polls are drawn on.

#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/event_types.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;
using trace::event_kind;

namespace {

/// The seed's loop: polls what the channel hands it until every sender is gone. Returns
/// how many polls it made and what failed.
struct executor_run {
    std::uint64_t polls = 0;
    std::vector<std::string> failures;
    std::uint32_t lane = 0;
};

executor_run run_executor(runtime& rt, mpsc::receiver<runnable> ready) {
    executor_run out;
    executor_lane lane(rt);
    out.lane = lane.index();
    while (std::optional<runnable> r = ready.blocking_recv()) {
        ++out.polls;
        try {
            r->poll();
        } catch (const std::exception& e) {
            out.failures.emplace_back(e.what());
        }
    }
    return out;
}

/// run_executor on a thread of its own, to its end (every sender already dropped).
executor_run run_executor_thread(runtime& rt, mpsc::receiver<runnable> ready) {
    executor_run run;
    std::thread executor(
        [&, in = std::move(ready)]() mutable { run = run_executor(rt, std::move(in)); });
    executor.join();
    return run;
}

runnable::schedule_fn queue_into(const mpsc::unbounded_sender<runnable>& tx) {
    return [tx](runnable r) { tx.send(std::move(r)); };
}

task<void> nap_twice(std::chrono::milliseconds a, std::chrono::milliseconds b) {
    co_await sleep_for(a);
    co_await sleep_for(b);
}

/// The classic sleep written by hand: not done yet, it wakes itself.
struct self_waking_sleep {
    std::chrono::steady_clock::time_point deadline;
    poll_result<void> poll(context& cx) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return ready();
        }
        cx.waker().wake();
        return pending;
    }
};

task<void> busy_nap(std::chrono::milliseconds d) {
    co_await self_waking_sleep{std::chrono::steady_clock::now() + d};
}

/// The tracks the executor recorded on (kind executor), from track_started events.
std::vector<std::uint16_t> executor_tracks(const std::vector<trace::event>& events) {
    std::vector<std::uint16_t> out;
    for (const auto& e : events) {
        if (e.kind == event_kind::track_started &&
            static_cast<trace::track_kind>(e.detail) == trace::track_kind::executor) {
            out.push_back(e.track);
        }
    }
    return out;
}

} // namespace

TEST_CASE("by hand: the seed's executor runs three sleeping tasks on its own thread and "
          "ends when the tasks and the spawner are gone",
          "[by_hand]") {
    testing::traced_runtime t({.workers = 1});
    auto [tx, rx] = mpsc::unbounded<runnable>("ready queue");
    for (int i = 0; i < 3; ++i) {
        runnable::spawn(t.rt, nap_twice(30ms, 20ms), "napper", queue_into(tx));
    }
    executor_run run;
    std::thread executor(
        [&, ready = std::move(rx)]() mutable { run = run_executor(t.rt, std::move(ready)); });
    { auto drop = std::move(tx); } // the spawner is done: only the tasks hold senders now
    executor.join();               // returns only once the channel closed
    const auto events = t.finish();

    // A timer sleep is polled once to start and once when its timer fires: three polls a
    // task, nine in all, every one of them on the executor's thread.
    CHECK(run.polls == 9);
    CHECK(run.failures.empty());
    const auto tracks = executor_tracks(events);
    REQUIRE(tracks.size() == 1);
    const auto begins = testing::of_kind(events, event_kind::poll_begin);
    REQUIRE(begins.size() == 9);
    CHECK(std::all_of(begins.begin(), begins.end(),
                      [&](const trace::event& e) { return e.track == tracks[0]; }));
    const auto ends = testing::of_kind(events, event_kind::poll_end);
    const auto finished = std::count_if(ends.begin(), ends.end(), [](const trace::event& e) {
        return trace::poll_end_view::from(e).result == trace::poll_result::ready;
    });
    CHECK(finished == 3);
    // The timers' wakes say the task went to its own executor, not a run queue.
    for (const auto& w : testing::of_kind(events, event_kind::wake)) {
        CHECK(trace::wake_view::from(w).queue.kind == trace::queue_kind::own_executor);
    }
}

TEST_CASE("by hand: a self-waking sleep is polled again and again, a timer sleep twice",
          "[by_hand]") {
    // Counts polls in the trace: a buffer that holds the whole burst, and a check below that
    // nothing was dropped (a busy loop on a fast machine makes a few hundred thousand
    // events in 5 ms).
    runtime_options options{.workers = 1};
    options.trace.buffer_events = std::size_t{1} << 22;
    testing::traced_runtime t(options);
    auto [tx, rx] = mpsc::unbounded<runnable>("ready queue");
    runnable::spawn(t.rt, busy_nap(5ms), "busy", queue_into(tx));
    runnable::spawn(t.rt, nap_twice(5ms, 1ms), "timer", queue_into(tx));
    { auto drop = std::move(tx); }
    const executor_run run = run_executor_thread(t.rt, std::move(rx));
    const auto events = t.finish();
    REQUIRE(t.rt.trace().dropped() == 0);
    const std::uint64_t busy = testing::task_named(events, "busy");
    const std::uint64_t timer = testing::task_named(events, "timer");
    // Independent of the machine's speed: a busy wait of 5 ms re-polled at least once, and
    // every one of its polls but the last ended pending after a self-wake.
    const auto busy_polls = testing::of_task(events, event_kind::poll_begin, busy).size();
    CHECK(busy_polls >= 2);
    CHECK(testing::of_task(events, event_kind::poll_begin, timer).size() == 3);
    std::size_t self_wakes = 0;
    for (const auto& w : testing::of_task(events, event_kind::wake, busy)) {
        self_wakes += trace::wake_view::from(w).source == trace::wake_source::self ? 1u : 0u;
    }
    CHECK(self_wakes == busy_polls - 1);
    CHECK(run.polls == busy_polls + 3);
}

TEST_CASE("by hand: a task woken by a runtime task is queued once per wake", "[by_hand]") {
    testing::traced_runtime t({.workers = 2});
    auto [ready_tx, ready_rx] = mpsc::unbounded<runnable>("ready queue");
    auto [tx, rx] = mpsc::channel<int>(4, "numbers");
    std::atomic<int> scheduled{0};
    std::vector<int> got; // written by the hand-polled task, read after the join
    auto consume = [](mpsc::receiver<int> in, std::vector<int>& out) -> task<void> {
        while (std::optional<int> v = co_await in.recv()) {
            out.push_back(*v);
        }
    };
    runnable::spawn(t.rt, consume(std::move(rx), got), "consumer",
                    [&scheduled, q = ready_tx](runnable r) {
                        scheduled.fetch_add(1);
                        q.send(std::move(r));
                    });
    { auto drop = std::move(ready_tx); }
    executor_run run;
    std::thread executor(
        [&, ready = std::move(ready_rx)]() mutable { run = run_executor(t.rt, std::move(ready)); });
    auto producer = [](mpsc::sender<int> out) -> task<void> {
        for (int i = 0; i < 200; ++i) {
            co_await out.send(i);
            if (i % 16 == 0) {
                co_await sleep_for(1ms); // let the consumer wait sometimes
            }
        }
    };
    t.rt.block_on(producer(std::move(tx)), "producer");
    executor.join();
    t.finish();
    REQUIRE(got.size() == 200);
    for (int i = 0; i < 200; ++i) {
        CHECK(got[static_cast<std::size_t>(i)] == i);
    }
    // Never queued twice for one wake: every schedule led to exactly one poll.
    CHECK(run.polls == static_cast<std::uint64_t>(scheduled.load()));
    CHECK(run.failures.empty());
}

TEST_CASE("by hand: a task that throws fails its poll and the executor goes on", "[by_hand]") {
    testing::traced_runtime t({.workers = 1});
    auto [tx, rx] = mpsc::unbounded<runnable>("ready queue");
    auto fail = []() -> task<void> {
        co_await sleep_for(1ms);
        throw std::runtime_error("the napper fell");
    };
    runnable::spawn(t.rt, fail(), "failing", queue_into(tx));
    runnable::spawn(t.rt, nap_twice(2ms, 2ms), "napper", queue_into(tx));
    { auto drop = std::move(tx); }
    const executor_run run = run_executor_thread(t.rt, std::move(rx));
    const auto events = t.finish();
    REQUIRE(run.failures.size() == 1);
    CHECK(run.failures[0] == "the napper fell");
    const auto failing = testing::task_named(events, "failing");
    const auto ends = testing::of_task(events, event_kind::poll_end, failing);
    REQUIRE(!ends.empty());
    CHECK(trace::poll_end_view::from(ends.back()).result == trace::poll_result::threw);
    CHECK(testing::of_task(events, event_kind::poll_begin, testing::task_named(events, "napper"))
              .size() == 3);
}

TEST_CASE("by hand: blocking_recv serves a plain thread and refuses a task", "[by_hand]") {
    runtime rt({.workers = 2});
    auto [tx, rx] = mpsc::channel<int>(2, "to a thread");
    std::vector<int> got;
    std::thread reader([&, in = std::move(rx)]() mutable {
        while (std::optional<int> v = in.blocking_recv()) {
            got.push_back(*v);
        }
    });
    auto produce = [](mpsc::sender<int> out) -> task<void> {
        for (int i = 0; i < 50; ++i) {
            co_await out.send(i);
        }
    };
    rt.block_on(produce(std::move(tx)));
    reader.join();
    REQUIRE(got.size() == 50);
    CHECK(got.back() == 49);

    auto [tx2, rx2] = mpsc::channel<int>(1, "misused");
    auto misuse = [](mpsc::receiver<int> in) -> task<bool> {
        try {
            (void)in.blocking_recv();
        } catch (const std::logic_error&) {
            co_return true;
        }
        co_return false;
    };
    CHECK(rt.block_on(misuse(std::move(rx2))));
}

TEST_CASE("by hand: the executor's polls make a lane of their own in the model", "[by_hand]") {
    testing::traced_runtime t({.workers = 1});
    auto [tx, rx] = mpsc::unbounded<runnable>("ready queue");
    runnable::spawn(t.rt, nap_twice(2ms, 2ms), "napper", queue_into(tx));
    { auto drop = std::move(tx); }
    run_executor_thread(t.rt, std::move(rx));
    const auto events = t.finish();
    analysis::model m;
    m.consume(events);
    const auto lane = std::find_if(m.lanes().begin(), m.lanes().end(), [](const auto& l) {
        return l.kind == trace::track_kind::executor;
    });
    REQUIRE(lane != m.lanes().end());
    CHECK(lane->label() == "own executor 0");
    CHECK(lane->polls.size() == 3);
    // The task ran to its end there: the model says so, with every poll on that lane.
    REQUIRE(m.tasks().size() == 1);
    CHECK(m.tasks()[0].state == analysis::task_state::done);
    CHECK(m.tasks()[0].polls == 3);
}
