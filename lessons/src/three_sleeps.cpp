// A function that sleeps 2 s and returns 2, called three times: in a row on the main
// thread, on three threads, and as three tasks on one worker, first with a blocking sleep
// and then with an async one. The result is 6 every time; the time is not.

#include "stage.hpp"

#include <thread>
#include <vector>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto nap = 2s;

/// The blocking version: what a synchronous function does.
int sleepy(lesson_context& cx) {
    cx.main_thread_sleep(nap);
    return 2;
}

task<int> sleepy_blocking(std::chrono::nanoseconds d) {
    blocking_sleep(d); // blocks the worker that polls this task
    co_return 2;
}

task<int> sleepy_async(std::chrono::nanoseconds d) {
    co_await sleep_for(d); // suspends the task; the worker polls others meanwhile
    co_return 2;
}

template <class Make>
task<int> three_tasks(Make make) {
    std::vector<join_handle<int>> handles;
    for (int i = 0; i < 3; ++i) {
        handles.push_back(spawn(make(), "sleepy"));
    }
    int sum = 0;
    for (auto& h : handles) {
        sum += co_await h;
    }
    co_return sum;
}

} // namespace

void three_sleeps(lesson_context& cx) {
    runtime& rt = cx.start_runtime({.workers = 1});
    const auto d = cx.scaled(nap);

    cx.begin_phase("sequential");
    int sum = 0;
    for (int i = 0; i < 3; ++i) {
        sum += sleepy(cx);
    }
    cx.end_phase({{"result", sum}});
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("threads");
    {
        std::vector<int> results(3, 0);
        std::vector<std::jthread> threads;
        for (int i = 0; i < 3; ++i) {
            threads.emplace_back([&cx, &rt, &results, i] {
                results[static_cast<std::size_t>(i)] = sleepy(cx);
                rt.trace().unregister_thread();
            });
        }
        threads.clear(); // joins
        sum = results[0] + results[1] + results[2];
    }
    cx.end_phase({{"result", sum}});
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("tasks-blocking-sleep");
    sum = rt.block_on(three_tasks([d] { return sleepy_blocking(d); }), "main");
    cx.end_phase({{"result", sum}});
    if (cx.stopping()) {
        return;
    }

    cx.begin_phase("tasks-async-sleep");
    sum = rt.block_on(three_tasks([d] { return sleepy_async(d); }), "main");
    cx.end_phase({{"result", sum}});
}

} // namespace taskscope::lessons::detail
