#include "gate.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;
using testing::live_counter;

namespace {
task<int> sleeps_long() {
    live_counter alive;
    co_await sleep_for(1h);
    co_return 1;
}
task<void> waits_forever(testing::gate& g) {
    live_counter alive;
    co_await g.wait();
}
task<void> never_polled(live_counter frame_part) {
    (void)frame_part; // a parameter lives in the frame from creation on
    co_return;
}
} // namespace

TEST_CASE("shutdown destroys every unfinished task frame and joins every thread", "[shutdown]") {
    const int before = live_counter::live.load();
    testing::gate never_opened;
    join_handle<int> sleeping;
    {
        testing::traced_runtime t({.workers = 2});
        sleeping = t.rt.spawn(sleeps_long(), "sleeper");
        for (int i = 0; i < 50; ++i) {
            t.rt.spawn(waits_forever(never_opened)).detach();
        }
        std::atomic<bool> job_started{false};
        auto blocking = t.rt.spawn_blocking([&job_started] {
            job_started = true;
            std::this_thread::sleep_for(20ms);
        });
        while (live_counter::live.load() < before + 51 || !job_started) {
            std::this_thread::sleep_for(1ms);
        }
        CHECK(t.rt.live_tasks() == 51);
        const auto events = t.finish();
        CHECK(testing::of_kind(events, trace::event_kind::task_cancelled).size() == 51);
        CHECK(t.rt.live_tasks() == 0);
        blocking.get(); // a running blocking job is allowed to finish
    }
    CHECK(live_counter::live.load() == before);
    CHECK_THROWS_AS(sleeping.get(), task_cancelled);
}

TEST_CASE("tasks never polled are destroyed at shutdown", "[shutdown]") {
    const int before = live_counter::live.load();
    {
        runtime rt({.single_threaded = true}); // nobody drives: the tasks stay queued
        for (int i = 0; i < 100; ++i) {
            rt.spawn(never_polled(live_counter{})).detach();
        }
        CHECK(rt.live_tasks() == 100);
        CHECK(live_counter::live.load() == before + 100);
    }
    CHECK(live_counter::live.load() == before);
}

TEST_CASE("shutdown is idempotent and spawning afterwards cancels at once", "[shutdown]") {
    runtime rt({.workers = 1});
    rt.shutdown();
    rt.shutdown();
    auto late = rt.spawn(sleeps_long());
    CHECK(late.is_finished());
    CHECK_THROWS_AS(late.get(), task_cancelled);
    CHECK_THROWS_AS(rt.block_on(sleeps_long()), std::logic_error);
}

TEST_CASE("a blocking job queued at shutdown is cancelled", "[shutdown][blocking]") {
    runtime rt({.workers = 1, .max_blocking_threads = 1});
    std::atomic<bool> first_started{false};
    auto first = rt.spawn_blocking([&] {
        first_started = true;
        std::this_thread::sleep_for(50ms);
    });
    const int before = live_counter::live.load();
    // waits for the only thread; its closure holds a counted object
    auto second = rt.spawn_blocking([held = live_counter{}] { return 2; });
    while (!first_started) {
        std::this_thread::sleep_for(1ms);
    }
    rt.shutdown();
    first.get();
    CHECK_THROWS_AS(second.get(), task_cancelled);
    second = {};
    CHECK(live_counter::live.load() == before);
}
