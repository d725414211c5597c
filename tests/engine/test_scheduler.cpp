#include "gate.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;
using trace::event_kind;

namespace {

task<int> busy(int i) {
    spin_for(100us);
    co_return i;
}

task<int> fan_out(int n) {
    std::vector<join_handle<int>> children;
    for (int i = 0; i < n; ++i) {
        children.push_back(spawn(busy(i), "busy"));
    }
    int sum = 0;
    for (auto& c : children) {
        sum += co_await c;
    }
    co_return sum;
}

/// Worker index of every poll of tasks named `name`.
std::set<int> workers_polling(const std::vector<trace::event>& events, std::string_view name) {
    const auto track_worker = testing::worker_of_track(events);
    const auto name_id = trace::intern(name);
    std::set<std::uint64_t> ids;
    for (const auto& e : testing::of_kind(events, event_kind::task_spawned)) {
        if (e.arg2 == name_id) {
            ids.insert(e.task);
        }
    }
    std::set<int> workers;
    for (const auto& e : testing::of_kind(events, event_kind::poll_begin)) {
        if (ids.count(e.task) != 0) {
            workers.insert(track_worker.at(e.track));
        }
    }
    return workers;
}

} // namespace

TEST_CASE("with stealing on, an idle worker steals from the busy one", "[scheduler][steal]") {
    testing::traced_runtime t({.workers = 2, .stealing = true});
    CHECK(t.rt.block_on(fan_out(200), "root") == 199 * 200 / 2);
    const auto events = t.finish();
    const auto steals = testing::of_kind(events, event_kind::steal);
    CHECK_FALSE(steals.empty());
    for (const auto& s : steals) {
        CHECK(s.arg2 >= 1); // moved at least the task it returned
        CHECK(s.arg < 2);   // victim is a worker
    }
    CHECK(workers_polling(events, "busy") == std::set<int>{0, 1});
}

TEST_CASE("with stealing off, no steals: the spawning worker runs every child",
          "[scheduler][steal]") {
    testing::traced_runtime t({.workers = 2, .stealing = false});
    CHECK(t.rt.block_on(fan_out(200), "root") == 199 * 200 / 2);
    const auto events = t.finish();
    CHECK(testing::of_kind(events, event_kind::steal).empty());
    CHECK(workers_polling(events, "busy").size() == 1);
}

TEST_CASE("stealing switched off and on while running takes effect for the next fan-out",
          "[scheduler][steal]") {
    testing::traced_runtime t({.workers = 2, .stealing = true});
    t.rt.set_stealing(false);
    CHECK_FALSE(t.rt.stealing());
    CHECK(t.rt.block_on(fan_out(200), "root") == 199 * 200 / 2);
    t.rt.trace().flush();
    const auto without = t.sink->events();
    CHECK(testing::of_kind(without, event_kind::steal).empty());
    CHECK(workers_polling(without, "busy").size() == 1);

    t.rt.set_stealing(true);
    t.rt.set_lifo_slot(false);
    CHECK_FALSE(t.rt.lifo_slot());
    CHECK(t.rt.block_on(fan_out(200), "root") == 199 * 200 / 2);
    const auto with = t.finish();
    CHECK_FALSE(testing::of_kind(with, event_kind::steal).empty());
    // LIFO off: no wake or spawn names a LIFO slot after the switch.
    const auto lifo = trace::queue_kind::lifo;
    const auto after = without.empty() ? 0 : without.back().time_ns;
    for (const auto& e : with) {
        if (e.time_ns > after && e.kind == event_kind::wake) {
            CHECK(trace::queue_kind_of(e.arg2) != lifo);
        }
        if (e.time_ns > after && e.kind == event_kind::task_spawned) {
            CHECK(e.detail != static_cast<std::uint8_t>(lifo));
        }
    }
}

TEST_CASE("wakes from a foreign thread resume the task", "[scheduler][waker]") {
    testing::traced_runtime t({.workers = 2});
    testing::gate g;
    auto waiter = [&g]() -> task<int> {
        co_await g.wait();
        co_return 5;
    };
    auto handle = t.rt.spawn(waiter(), "waiter");
    std::thread opener([&g] {
        std::this_thread::sleep_for(20ms);
        g.open();
    });
    CHECK(handle.get() == 5);
    opener.join();
    const auto events = t.finish();
    const auto id = testing::task_named(events, "waiter");
    const auto wakes = testing::of_task(events, event_kind::wake, id);
    REQUIRE(wakes.size() == 1);
    CHECK(wakes[0].detail == static_cast<std::uint8_t>(trace::wake_source::external));
}

TEST_CASE("a task woken while it runs is polled exactly once more", "[scheduler][waker]") {
    // The leaf hands its waker to another thread and waits, inside the poll, until that
    // thread has called wake: the wake lands while the task is running.
    struct wake_me_while_running {
        int* polls;
        poll_result<void> poll(context& cx) {
            if (++*polls > 1) {
                return ready();
            }
            std::thread other([w = cx.waker()] { w.wake(); });
            other.join(); // the wake has happened; this poll has not ended yet
            return pending;
        }
    };
    testing::traced_runtime t({.workers = 1});
    int polls = 0;
    auto body = [&polls]() -> task<void> { co_await wake_me_while_running{&polls}; };
    t.rt.block_on(body(), "self");
    CHECK(polls == 2);
    const auto events = t.finish();
    const auto id = testing::task_named(events, "self");
    const auto begins = testing::of_task(events, event_kind::poll_begin, id);
    const auto ends = testing::of_task(events, event_kind::poll_end, id);
    REQUIRE(begins.size() == 2);
    REQUIRE(ends.size() == 2);
    const auto wake = testing::of_task(events, event_kind::wake, id);
    REQUIRE(wake.size() == 1);
    // the wake happened during the first poll
    CHECK(wake[0].time_ns >= begins[0].time_ns);
    CHECK(wake[0].time_ns <= ends[0].time_ns);
}

TEST_CASE("many wakes of one suspended task queue it once and give one poll",
          "[scheduler][waker]") {
    // Single-threaded, so nothing polls between block_on calls: the task is suspended
    // (idle) while eight threads wake it at once.
    testing::traced_runtime t({.single_threaded = true});
    testing::gate g;
    std::vector<waker> copies;
    struct capture {
        std::vector<waker>* out;
        int polls = 0;
        poll_result<void> poll(context& cx) {
            if (polls++ > 0) {
                return ready();
            }
            for (int i = 0; i < 8; ++i) {
                out->push_back(cx.waker());
            }
            return pending;
        }
    };
    auto body = [&]() -> task<void> {
        co_await capture{&copies};
        co_await g.wait();
    };
    auto h = t.rt.spawn(body(), "multi");
    t.rt.block_on([]() -> task<void> { co_await yield_now(); }()); // polls "multi" once
    REQUIRE(copies.size() == 8);
    REQUIRE_FALSE(h.is_finished());
    std::vector<std::thread> wakers;
    for (auto& w : copies) {
        wakers.emplace_back([w] { w.wake(); });
    }
    for (auto& th : wakers) {
        th.join();
    }
    g.open(); // the gate's waiter is not registered yet: nothing more to wake
    t.rt.block_on(std::move(h));
    const auto events = t.finish();
    const auto id = testing::task_named(events, "multi");
    CHECK(testing::of_task(events, event_kind::wake, id).size() == 8);
    CHECK(testing::of_task(events, event_kind::global_push, id).size() == 2); // spawn + 1 wake
    CHECK(testing::of_task(events, event_kind::poll_begin, id).size() == 2);
}

TEST_CASE("yield_now lets the other tasks on the worker run", "[scheduler][yield]") {
    testing::traced_runtime t({.workers = 1});
    std::vector<int> order;
    auto yielder = [&order](int id) -> task<void> {
        for (int i = 0; i < 3; ++i) {
            order.push_back(id);
            co_await yield_now();
        }
    };
    auto both = [&]() -> task<void> {
        auto a = spawn(yielder(1), "yielder");
        auto b = spawn(yielder(2), "yielder");
        co_await a;
        co_await b;
    };
    t.rt.block_on(both());
    // interleaved (each yield goes behind the other task), never 1,1,1,2,2,2
    REQUIRE(order.size() == 6);
    for (std::size_t i = 1; i < order.size(); ++i) {
        CHECK(order[i] != order[i - 1]);
    }
    const auto events = t.finish();
    int yields = 0;
    for (const auto& e : testing::of_kind(events, event_kind::wake)) {
        yields += e.detail == static_cast<std::uint8_t>(trace::wake_source::yield);
    }
    CHECK(yields == 6);
}

TEST_CASE("the LIFO slot runs a freshly woken task next, without it the queue is FIFO",
          "[scheduler][lifo]") {
    for (const bool lifo : {true, false}) {
        DYNAMIC_SECTION("lifo_slot=" << lifo) {
            runtime rt({.workers = 1, .lifo_slot = lifo});
            std::vector<int> order;
            auto record = [&order](int id) -> task<void> {
                order.push_back(id);
                co_return;
            };
            auto root = [&]() -> task<void> {
                auto a = spawn(record(1));
                auto b = spawn(record(2));
                auto c = spawn(record(3));
                co_await a;
                co_await b;
                co_await c;
            };
            rt.block_on(root());
            // LIFO: 3 sits in the slot and runs first, then the queue in order.
            CHECK(order == (lifo ? std::vector<int>{3, 1, 2} : std::vector<int>{1, 2, 3}));
        }
    }
}

TEST_CASE("single-threaded mode polls everything on the caller's thread", "[scheduler][single]") {
    testing::traced_runtime t({.single_threaded = true});
    const auto caller = std::this_thread::get_id();
    std::atomic<int> off_thread{0};
    auto child = [&](int i) -> task<int> {
        off_thread += std::this_thread::get_id() != caller;
        co_await sleep_for(1ms);
        off_thread += std::this_thread::get_id() != caller;
        co_return i;
    };
    auto root = [&]() -> task<int> {
        std::vector<join_handle<int>> hs;
        for (int i = 0; i < 10; ++i) {
            hs.push_back(spawn(child(i)));
        }
        int s = 0;
        for (auto& h : hs) {
            s += co_await h;
        }
        s += co_await spawn_blocking([] { return 100; });
        co_return s;
    };
    CHECK(t.rt.block_on(root()) == 145);
    CHECK(off_thread == 0);
    CHECK(t.rt.worker_count() == 1);
    const auto events = t.finish();
    std::set<std::uint16_t> poll_tracks;
    for (const auto& e : testing::of_kind(events, event_kind::poll_begin)) {
        poll_tracks.insert(e.track);
    }
    CHECK(poll_tracks.size() == 1);
}

TEST_CASE("tasks spawned before block_on in single-threaded mode run when it drives",
          "[scheduler][single]") {
    runtime rt({.single_threaded = true});
    std::atomic<bool> ran{false};
    auto early = rt.spawn([](std::atomic<bool>& r) -> task<void> {
        r = true;
        co_return;
    }(ran));
    std::this_thread::sleep_for(5ms);
    CHECK_FALSE(ran.load()); // nobody drives yet
    rt.block_on(std::move(early));
    CHECK(ran.load());
}

namespace {
/// Two tasks hand a baton back and forth, each waking the other: with a LIFO slot the
/// woken one always runs next on that worker.
struct baton {
    int holder = 0;
    std::atomic<long> rounds{0};
    waker waiting[2];
};
struct wait_turn {
    baton* b;
    int me;
    poll_result<void> poll(context& cx) {
        if (b->holder == me) {
            return ready();
        }
        b->waiting[me] = cx.waker();
        return pending;
    }
};
task<void> player(baton& b, int me, std::atomic<bool>& stop, long limit) {
    while (!stop && b.rounds < limit) {
        co_await wait_turn{&b, me};
        ++b.rounds;
        b.holder = 1 - me;
        b.waiting[1 - me].wake();
    }
    b.holder = 1 - me;
    b.waiting[1 - me].wake();
}
} // namespace

TEST_CASE("two tasks waking each other do not starve a task from the global queue",
          "[scheduler][lifo]") {
    // The LIFO slot is capped at three polls in a row, and the global queue is checked
    // every global_queue_interval ticks, so the outside task runs long before the
    // ping-pong would have ended on its own.
    constexpr long limit = 20'000'000;
    runtime rt({.workers = 1});
    baton b;
    std::atomic<bool> stop{false};
    auto p0 = rt.spawn(player(b, 0, stop, limit));
    auto p1 = rt.spawn(player(b, 1, stop, limit));
    while (b.rounds < 100) {
        std::this_thread::yield();
    }
    auto outsider = [](baton& shared, std::atomic<bool>& halt) -> task<long> {
        halt = true;
        co_return shared.rounds.load();
    };
    const long rounds_when_polled = rt.spawn(outsider(b, stop)).get();
    p0.get();
    p1.get();
    CHECK(rounds_when_polled < limit);
}

TEST_CASE("spawn_local pins tasks to the spawning worker even with stealing on",
          "[scheduler][local]") {
    testing::traced_runtime t({.workers = 2, .stealing = true});
    auto root = []() -> task<int> {
        std::vector<join_handle<int>> children;
        for (int i = 0; i < 100; ++i) {
            children.push_back(spawn_local(busy(i), "pinned"));
        }
        int sum = 0;
        for (auto& c : children) {
            sum += co_await c;
        }
        co_return sum;
    };
    CHECK(t.rt.block_on(root(), "root") == 99 * 100 / 2);
    const auto events = t.finish();
    // the other worker was idle and allowed to steal, yet every child ran where it was made
    const auto pinned_on = workers_polling(events, "pinned");
    REQUIRE(pinned_on.size() == 1);
    // ...the worker of the root's first poll, which spawned them
    const auto root_id = testing::task_named(events, "root");
    const auto root_polls = testing::of_task(events, event_kind::poll_begin, root_id);
    REQUIRE_FALSE(root_polls.empty());
    CHECK(*pinned_on.begin() == testing::worker_of_track(events).at(root_polls.front().track));
    CHECK_THROWS_AS(spawn_local(busy(1)), std::logic_error); // not on a worker
}

namespace {

task<void> yielding_computation(int slices) {
    for (int i = 0; i < slices; ++i) {
        spin_for(2ms);
        co_await yield_now();
    }
}

task<void> short_sleeper() {
    co_await sleep_for(3ms);
}

} // namespace

TEST_CASE("a yield lets timers fire and what they wake run before the yielding task again",
          "[scheduler][yield]") {
    testing::traced_runtime t({.workers = 1});
    auto computing = t.rt.spawn(yielding_computation(20), "computation");
    auto sleeper = t.rt.spawn(short_sleeper(), "sleeper");
    t.rt.block_on(std::move(sleeper));
    t.rt.block_on(std::move(computing));
    const auto events = t.finish();
    const std::uint64_t sleeper_id = testing::task_named(events, "sleeper");
    const std::uint64_t computation_id = testing::task_named(events, "computation");
    // After the sleeper's timer fires, the worker's next poll is the sleeper's, not another
    // slice of the computation that yielded.
    bool fired = false;
    bool checked = false;
    for (const auto& e : events) {
        if (e.kind == event_kind::timer_fired && e.task == sleeper_id) {
            fired = true;
        } else if (fired && e.kind == event_kind::poll_begin) {
            CHECK(e.task == sleeper_id);
            checked = true;
            break;
        }
    }
    CHECK(checked);
    // The computation really did yield between its slices, polled once per slice and more.
    CHECK(testing::of_task(events, event_kind::poll_begin, computation_id).size() >= 20);
}

namespace {

task<int> slow_busy(int i) {
    spin_for(10ms);
    co_return i;
}

task<int> slow_fan_out(int n) {
    std::vector<join_handle<int>> children;
    for (int i = 0; i < n; ++i) {
        children.push_back(spawn(slow_busy(i), "slow_busy"));
    }
    int sum = 0;
    for (auto& c : children) {
        sum += co_await c;
    }
    co_return sum;
}

} // namespace

TEST_CASE("work queued while stealing was off is shared once stealing is switched on",
          "[scheduler][steal]") {
    testing::traced_runtime t({.workers = 2, .stealing = false});
    auto fan = t.rt.spawn(slow_fan_out(20), "root");
    std::this_thread::sleep_for(30ms); // the 20 are queued on one worker; the other idles
    t.rt.set_stealing(true);
    CHECK(t.rt.block_on(std::move(fan)) == 19 * 20 / 2);
    const auto events = t.finish();
    CHECK_FALSE(testing::of_kind(events, event_kind::steal).empty());
    CHECK(workers_polling(events, "slow_busy") == std::set<int>{0, 1});
}
