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

TEST_CASE("spawning from another thread while shutdown runs cancels each task once", "[shutdown]") {
    for (int round = 0; round < 20; ++round) {
        runtime rt({.workers = 2});
        std::atomic<bool> stop{false};
        std::vector<join_handle<int>> handles;
        std::thread spawner([&] {
            while (!stop) {
                handles.push_back(rt.spawn(sleeps_long()));
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(round % 3));
        rt.shutdown();
        stop = true;
        spawner.join();
        CHECK(rt.live_tasks() == 0);
        for (auto& h : handles) {
            CHECK(h.is_finished());
            CHECK_THROWS_AS(h.get(), task_cancelled);
        }
    }
}

TEST_CASE("single-threaded: shutdown from another thread waits for block_on to let go",
          "[shutdown][single]") {
    runtime rt({.single_threaded = true});
    auto forever = []() -> task<int> {
        live_counter alive;
        for (;;) {
            co_await yield_now();
        }
    };
    const int before = live_counter::live.load();
    std::thread driver([&] { CHECK_THROWS_AS(rt.block_on(forever()), task_cancelled); });
    while (live_counter::live.load() == before) {
        std::this_thread::sleep_for(1ms);
    }
    rt.shutdown();
    driver.join();
    CHECK(live_counter::live.load() == before);
}

TEST_CASE("shutdown does not hang on a blocking job that waits for a task",
          "[shutdown][blocking]") {
    runtime rt({.workers = 1});
    std::atomic<bool> waiting{false};
    auto job = rt.spawn_blocking([h = rt.spawn(sleeps_long()), &waiting]() mutable {
        waiting = true;
        return h.get(); // the task sleeps an hour: only shutdown ends this
    });
    while (!waiting) {
        std::this_thread::sleep_for(1ms);
    }
    rt.shutdown();
    CHECK_THROWS_AS(job.get(), task_cancelled);
}

TEST_CASE("shutdown and get() inside a task are refused with a clear error", "[shutdown]") {
    runtime rt({.workers = 1});
    auto stopper = [&rt]() -> task<std::string> {
        try {
            rt.shutdown();
        } catch (const std::logic_error& e) {
            co_return e.what();
        }
        co_return "not refused";
    };
    CHECK_THAT(rt.block_on(stopper()), Catch::Contains("inside one of the runtime's own tasks"));
    auto getter = [&rt]() -> task<std::string> {
        auto h = rt.spawn(sleeps_long());
        try {
            (void)h.get();
        } catch (const std::logic_error& e) {
            co_return e.what();
        }
        co_return "not refused";
    };
    CHECK_THAT(rt.block_on(getter()), Catch::Contains("co_await the handle"));
}
