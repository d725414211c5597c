#include "test_support.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;

namespace {

task<int> value(int v) {
    co_return v;
}

task<int> add_nested(int depth) {
    if (depth == 0) {
        co_return 1;
    }
    const int below = co_await add_nested(depth - 1);
    co_return below + 1;
}

task<std::string> greet(std::string who) {
    co_return "hello " + who;
}

task<int> thrower() {
    co_await yield_now();
    throw std::runtime_error("boom");
}

task<void> set_flag(std::atomic<bool>& flag) {
    flag = true;
    co_return;
}

} // namespace

TEST_CASE("a task is lazy until spawned or awaited", "[task]") {
    std::atomic<bool> ran{false};
    {
        task<void> t = set_flag(ran);
        std::this_thread::sleep_for(5ms);
        CHECK_FALSE(ran.load());
    } // destroyed without running
    CHECK_FALSE(ran.load());
    runtime rt({.workers = 1});
    rt.block_on(set_flag(ran));
    CHECK(ran.load());
}

TEST_CASE("block_on returns a task's value", "[task]") {
    runtime rt({.workers = 2});
    CHECK(rt.block_on(value(42)) == 42);
    CHECK(rt.block_on(greet("class")) == "hello class");
}

TEST_CASE("nested awaits run inline within one poll", "[task]") {
    testing::traced_runtime t({.workers = 1});
    CHECK(t.rt.block_on(add_nested(200), "nested") == 201);
    const auto events = t.finish();
    const auto id = testing::task_named(events, "nested");
    REQUIRE(id != 0);
    // 200 nested awaits, none of which suspends: a single poll, ending ready.
    const auto polls = testing::of_task(events, trace::event_kind::poll_end, id);
    REQUIRE(polls.size() == 1);
    CHECK(polls[0].detail == static_cast<std::uint8_t>(trace::poll_result::ready));
}

TEST_CASE("an exception reaches the join and the worker survives", "[task]") {
    testing::traced_runtime t({.workers = 1});
    auto failing = t.rt.spawn(thrower(), "thrower");
    CHECK_THROWS_WITH(failing.get(), "boom");
    // The single worker is still alive and polls new tasks.
    CHECK(t.rt.block_on(value(7)) == 7);
    const auto events = t.finish();
    const auto id = testing::task_named(events, "thrower");
    const auto ends = testing::of_task(events, trace::event_kind::poll_end, id);
    REQUIRE(ends.size() == 2);
    CHECK(ends.back().detail == static_cast<std::uint8_t>(trace::poll_result::threw));
}

TEST_CASE("an exception in an awaited child propagates to the parent", "[task]") {
    runtime rt({.workers = 2});
    auto parent = []() -> task<std::string> {
        try {
            co_await thrower();
        } catch (const std::runtime_error& e) {
            co_return std::string("caught ") + e.what();
        }
        co_return "not thrown";
    };
    CHECK(rt.block_on(parent()) == "caught boom");
}

TEST_CASE("spawned tasks join from inside tasks", "[task]") {
    runtime rt({.workers = 2});
    auto parent = []() -> task<int> {
        std::vector<join_handle<int>> children;
        for (int i = 0; i < 100; ++i) {
            children.push_back(spawn(value(i), "child"));
        }
        int sum = 0;
        for (auto& child : children) {
            sum += co_await child;
        }
        co_return sum;
    };
    CHECK(rt.block_on(parent()) == 4950);
}

TEST_CASE("100 000 spawned tasks all complete with the right values", "[task][scale]") {
    runtime rt({.workers = 2});
    std::vector<join_handle<int>> handles;
    handles.reserve(100'000);
    for (int i = 0; i < 100'000; ++i) {
        handles.push_back(rt.spawn(value(i)));
    }
    long long sum = 0;
    for (auto& h : handles) {
        sum += h.get();
    }
    CHECK(sum == 100'000LL * 99'999 / 2);
    CHECK(rt.live_tasks() == 0);
}

TEST_CASE("a dropped join handle detaches: the task still runs", "[task]") {
    runtime rt({.workers = 2});
    std::atomic<bool> ran{false};
    rt.spawn(set_flag(ran)).detach();
    for (int i = 0; i < 2000 && !ran; ++i) {
        std::this_thread::sleep_for(1ms);
    }
    CHECK(ran.load());
}

TEST_CASE("misuse gets clear errors", "[task]") {
    runtime rt({.workers = 1});
    CHECK_THROWS_AS(spawn(value(1)), std::logic_error); // outside any runtime thread
    join_handle<int> empty;
    CHECK_THROWS_AS(empty.get(), std::logic_error);
    auto inner = [&rt]() -> task<int> { co_return rt.block_on(value(1)); };
    CHECK_THROWS_AS(rt.block_on(inner()), std::logic_error);
    CHECK_THROWS_AS(rt.spawn(task<int>{}), std::invalid_argument);
}

TEST_CASE("a join handle's result or error is taken once", "[task]") {
    runtime rt({.workers = 1});
    auto failed = rt.spawn(thrower(), "thrower");
    CHECK_THROWS_WITH(failed.get(), "boom");
    CHECK_THROWS_WITH(failed.get(), Catch::Contains("taken twice"));
    auto done = rt.spawn(value(3));
    CHECK(done.get() == 3);
    CHECK_THROWS_WITH(done.get(), Catch::Contains("taken twice"));
    auto nothing = rt.spawn([]() -> task<void> { co_return; }());
    nothing.get();
    CHECK_THROWS_WITH(nothing.get(), Catch::Contains("taken twice"));
}

TEST_CASE("poll-style futures are polled until ready, with the task's waker", "[task][poll]") {
    struct countdown {
        int remaining;
        int* polls;
        poll_result<int> poll(context& cx) {
            ++*polls;
            if (remaining-- == 0) {
                return 99;
            }
            cx.waker().wake();
            return pending;
        }
    };
    testing::traced_runtime t({.workers = 1});
    int polls = 0;
    auto body = [&polls]() -> task<int> { co_return co_await countdown{5, &polls}; };
    CHECK(t.rt.block_on(body(), "countdown") == 99);
    CHECK(polls == 6);
    const auto events = t.finish();
    const auto id = testing::task_named(events, "countdown");
    // five self-wakes, each one more poll of the task
    CHECK(testing::of_task(events, trace::event_kind::poll_begin, id).size() == 6);
    const auto wakes = testing::of_task(events, trace::event_kind::wake, id);
    REQUIRE(wakes.size() == 5);
    for (const auto& w : wakes) {
        CHECK(w.detail == static_cast<std::uint8_t>(trace::wake_source::self));
        CHECK(w.arg == id);
    }
}

TEST_CASE("a poll-style future that throws fails its task", "[task][poll]") {
    struct failing {
        bool first = true;
        poll_result<void> poll(context& cx) {
            if (first) {
                first = false;
                cx.waker().wake();
                return pending;
            }
            throw std::runtime_error("leaf failed");
        }
    };
    runtime rt({.workers = 1});
    auto body = []() -> task<void> { co_await failing{}; };
    CHECK_THROWS_WITH(rt.block_on(body()), "leaf failed");
}
