#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;
using trace::event_kind;

namespace {

task<void> quick() {
    co_return;
}

/// Starts a sleeper (blocking or async) on a one-worker runtime, then five quick tasks.
std::vector<trace::event> sleeper_and_quick_tasks(bool blocking) {
    testing::traced_runtime t({.workers = 1});
    auto sleeper = [blocking]() -> task<void> {
        if (blocking) {
            blocking_sleep(100ms);
        } else {
            co_await sleep_for(100ms);
        }
    };
    auto root = [&]() -> task<void> {
        auto s = spawn(sleeper(), "sleeper");
        co_await yield_now(); // let the sleeper start first
        std::vector<join_handle<void>> qs;
        for (int i = 0; i < 5; ++i) {
            qs.push_back(spawn(quick(), "quick"));
        }
        for (auto& q : qs) {
            co_await q;
        }
        co_await s;
    };
    t.rt.block_on(root(), "root");
    return t.finish();
}

/// Submits `n` blocking jobs that each wait (up to a generous deadline) until all `n` run
/// at once; each returns whether they did. A pool that cannot run `n` at once makes
/// them give up and return false.
std::vector<join_handle<bool>> jobs_that_meet(runtime& rt, std::atomic<int>& running, int n) {
    std::vector<join_handle<bool>> jobs;
    for (int i = 0; i < n; ++i) {
        jobs.push_back(rt.spawn_blocking([&running, n] {
            ++running;
            const auto give_up = std::chrono::steady_clock::now() + 10s;
            while (running.load() < n && std::chrono::steady_clock::now() < give_up) {
                std::this_thread::sleep_for(1ms);
            }
            return running.load() >= n;
        }));
    }
    return jobs;
}

} // namespace

TEST_CASE("blocking_sleep blocks its worker: nothing else is polled there meanwhile",
          "[time][block]") {
    const auto events = sleeper_and_quick_tasks(true);
    const auto sleeper = testing::task_named(events, "sleeper");
    const auto blocks_begin = testing::of_task(events, event_kind::block_begin, sleeper);
    const auto blocks_end = testing::of_task(events, event_kind::block_end, sleeper);
    REQUIRE(blocks_begin.size() == 1);
    REQUIRE(blocks_end.size() == 1);
    CHECK(blocks_begin[0].arg == 100'000'000); // the intended duration, in ns
    const auto begin = blocks_begin[0];
    const auto end = blocks_end[0];
    CHECK(begin.track == end.track);

    // The block lies inside one poll of the sleeper...
    const auto polls = testing::of_task(events, event_kind::poll_begin, sleeper);
    const auto poll_ends = testing::of_task(events, event_kind::poll_end, sleeper);
    bool inside_one_poll = false;
    for (std::size_t i = 0; i < polls.size() && i < poll_ends.size(); ++i) {
        inside_one_poll |= polls[i].time_ns <= begin.time_ns && end.time_ns <= poll_ends[i].time_ns;
    }
    CHECK(inside_one_poll);
    // ...and no other poll on that worker overlaps it.
    for (const auto& p : testing::of_kind(events, event_kind::poll_begin)) {
        if (p.track == begin.track && p.task != sleeper) {
            CHECK_FALSE((p.time_ns > begin.time_ns && p.time_ns < end.time_ns));
        }
    }
}

TEST_CASE("sleep_for suspends only the task: others are polled during the sleep", "[time][sleep]") {
    const auto events = sleeper_and_quick_tasks(false);
    const auto sleeper = testing::task_named(events, "sleeper");
    CHECK(testing::of_task(events, event_kind::block_begin, sleeper).empty());
    const auto armed = testing::of_task(events, event_kind::timer_armed, sleeper);
    const auto fired = testing::of_task(events, event_kind::timer_fired, sleeper);
    REQUIRE(armed.size() == 1);
    REQUIRE(fired.size() == 1);
    const auto quick_id = trace::intern("quick");
    std::set<std::uint64_t> quick_tasks;
    for (const auto& e : testing::of_kind(events, event_kind::task_spawned)) {
        if (e.arg2 == quick_id) {
            quick_tasks.insert(e.task);
        }
    }
    REQUIRE(quick_tasks.size() == 5);
    int polled_during_sleep = 0;
    for (const auto& p : testing::of_kind(events, event_kind::poll_begin)) {
        if (quick_tasks.count(p.task) && p.time_ns > armed[0].time_ns &&
            p.time_ns < fired[0].time_ns) {
            ++polled_during_sleep;
        }
    }
    CHECK(polled_during_sleep == 5);
    // The timer's wake is the sleeper's: source timer; two polls in all.
    const auto wakes = testing::of_task(events, event_kind::wake, sleeper);
    REQUIRE_FALSE(wakes.empty());
    CHECK(wakes.back().detail == static_cast<std::uint8_t>(trace::wake_source::timer));
    CHECK(testing::of_task(events, event_kind::poll_begin, sleeper).size() == 2);
}

TEST_CASE("sleep_until in the past completes without suspending", "[time][sleep]") {
    runtime rt({.workers = 1});
    auto body = []() -> task<int> {
        co_await sleep_until(std::chrono::steady_clock::now() - 1s);
        co_await sleep_for(0ms);
        co_return 3;
    };
    CHECK(rt.block_on(body()) == 3);
}

TEST_CASE("timers fire in deadline order", "[time][sleep]") {
    runtime rt({.workers = 2});
    std::mutex m;
    std::vector<int> order;
    auto sleeper = [&](int ms) -> task<void> {
        co_await sleep_for(std::chrono::milliseconds(ms));
        std::lock_guard lock(m);
        order.push_back(ms);
    };
    auto root = [&]() -> task<void> {
        auto c = spawn(sleeper(60));
        auto a = spawn(sleeper(20));
        auto b = spawn(sleeper(40));
        co_await a;
        co_await b;
        co_await c;
    };
    rt.block_on(root());
    CHECK(order == std::vector<int>{20, 40, 60});
}

TEST_CASE("spawn_blocking runs off the workers, and its result joins", "[time][blocking]") {
    testing::traced_runtime t({.workers = 2});
    std::set<std::thread::id> worker_threads;
    std::mutex m;
    auto root = [&]() -> task<std::thread::id> {
        {
            std::lock_guard lock(m);
            worker_threads.insert(std::this_thread::get_id());
        }
        auto id = co_await spawn_blocking(
            [] {
                std::this_thread::sleep_for(20ms);
                return std::this_thread::get_id();
            },
            "blocking job");
        {
            std::lock_guard lock(m);
            worker_threads.insert(std::this_thread::get_id());
        }
        co_return id;
    };
    const auto job_thread = t.rt.block_on(root());
    CHECK(worker_threads.count(job_thread) == 0);
    CHECK(job_thread != std::this_thread::get_id());

    auto failing = t.rt.spawn_blocking([]() -> int { throw std::runtime_error("job failed"); });
    CHECK_THROWS_WITH(failing.get(), "job failed");

    const auto events = t.finish();
    const auto begins = testing::of_kind(events, event_kind::blocking_job_begin);
    const auto ends = testing::of_kind(events, event_kind::blocking_job_end);
    REQUIRE(begins.size() == 2);
    REQUIRE(ends.size() == 2);
    CHECK(begins[0].arg2 == trace::intern("blocking job"));
    CHECK(begins[0].arg != 0); // spawned from the root task
    const auto track_worker = testing::worker_of_track(events);
    CHECK(track_worker.at(begins[0].track) == -1); // not a worker track
    // the join woke the root with source `blocking`
    bool blocking_wake = false;
    for (const auto& w : testing::of_kind(events, event_kind::wake)) {
        blocking_wake |= w.detail == static_cast<std::uint8_t>(trace::wake_source::blocking);
    }
    CHECK(blocking_wake);
}

TEST_CASE("the blocking pool grows for concurrent jobs", "[time][blocking]") {
    runtime rt({.workers = 1});
    std::atomic<int> running{0};
    for (auto& job : jobs_that_meet(rt, running, 4)) {
        CHECK(job.get());
    }
}

TEST_CASE("an idle blocking thread exits after the idle timeout", "[time][blocking]") {
    runtime rt({.workers = 1, .blocking_idle_timeout = std::chrono::milliseconds(20)});
    CHECK(rt.blocking_threads() == 0);
    CHECK(rt.spawn_blocking([] { return 1; }).get() == 1);
    // Bounded wait for the pool to shrink; a pool that never shrinks fails after 10 s.
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (rt.blocking_threads() != 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(5ms);
    }
    CHECK(rt.blocking_threads() == 0);
    // and it grows again on demand
    CHECK(rt.spawn_blocking([] { return 2; }).get() == 2);
}

TEST_CASE("single-threaded: a lone sleep wakes the driving block_on", "[time][single]") {
    runtime rt({.single_threaded = true});
    auto body = []() -> task<int> {
        co_await sleep_for(10ms);
        co_return 7;
    };
    CHECK(rt.block_on(body()) == 7);
}

TEST_CASE("the blocking pool starts threads while idle ones are already claimed",
          "[time][blocking]") {
    // Four threads go idle, then eight jobs arrive at once: four may reuse the idle threads,
    // the other four need new threads. Each job waits (bounded) until all eight run.
    runtime rt({.workers = 1});
    std::vector<join_handle<void>> warm;
    for (int i = 0; i < 4; ++i) {
        warm.push_back(rt.spawn_blocking([] { std::this_thread::sleep_for(20ms); }));
    }
    for (auto& w : warm) {
        w.get();
    }
    std::atomic<int> running{0};
    for (auto& job : jobs_that_meet(rt, running, 8)) {
        CHECK(job.get());
    }
}
