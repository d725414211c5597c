// A task is a description of work, not work: created and left alone it does nothing until
// it is awaited or spawned. And two tasks whose sleep blocks take turns on one worker.

#include "stage.hpp"

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto nap = 2s;

task<int> work_async(std::chrono::nanoseconds d) {
    co_await sleep_for(d);
    co_return 2;
}

task<int> work_blocking(std::chrono::nanoseconds d) {
    blocking_sleep(d);
    co_return 2;
}

task<int> both(join_handle<int> a, join_handle<int> b) {
    const int first = co_await a;
    co_return first + co_await b;
}

} // namespace

void spawn_vs_await(lesson_context& cx) {
    runtime& rt = cx.start_runtime({.workers = 1});
    const auto d = cx.scaled(nap);

    cx.begin_phase("create-then-await");
    {
        task<int> later = work_async(d); // nothing runs yet
        cx.main_thread_sleep(nap);       // the main thread's own work
        const int result = rt.block_on(std::move(later), "work");
        cx.end_phase({{"result", result}});
    }
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("spawn-then-await");
    {
        join_handle<int> running = rt.spawn(work_async(d), "work"); // starts now
        cx.main_thread_sleep(nap);
        const int result = rt.block_on(std::move(running));
        cx.end_phase({{"result", result}});
    }
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("two-blocking-sleeps");
    {
        auto a = rt.spawn(work_blocking(d), "work");
        auto b = rt.spawn(work_blocking(d), "work");
        const int result = rt.block_on(both(std::move(a), std::move(b)), "main");
        cx.end_phase({{"result", result}});
    }
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("two-async-sleeps");
    {
        auto a = rt.spawn(work_async(d), "work");
        auto b = rt.spawn(work_async(d), "work");
        const int result = rt.block_on(both(std::move(a), std::move(b)), "main");
        cx.end_phase({{"result", result}});
    }
}

} // namespace taskscope::lessons::detail
