// A long computation in a task on the server's only worker. Run in one go, it starves
// everything else on that worker: requests wait, timers fire late. Cut into slices with
// yield_now between them, the worker answers requests and fires timers between slices.
// Moved to the blocking pool with spawn_blocking, the worker stays free.

#include "stage.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto computation = 2000ms;
constexpr auto slice = 10ms;
constexpr auto tick = 50ms;
constexpr auto head_start = 200ms;

task<void> compute_at_once(std::chrono::nanoseconds total) {
    spin_for(total);
    co_return;
}

task<void> compute_in_slices(std::chrono::nanoseconds total, std::chrono::nanoseconds step) {
    for (auto done = std::chrono::nanoseconds(0); done < total; done += step) {
        spin_for(std::min(step, total - done));
        co_await yield_now();
    }
}

task<void> compute_on_pool(std::chrono::nanoseconds total) {
    co_await spawn_blocking([total] { spin_for(total); }, "compute");
}

/// Sleeps `period` again and again until `stop`, remembering the latest wake-up.
task<void> ticker(std::chrono::nanoseconds period, std::atomic<bool>& stop,
                  std::atomic<std::int64_t>& worst_late_ns) {
    while (!stop.load()) {
        const auto due = clock::now() + period;
        co_await sleep_until(due);
        const auto late = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - due);
        worst_late_ns.store(std::max(worst_late_ns.load(), late.count()));
    }
}

} // namespace

void cpu_heavy(lesson_context& cx) {
    runtime& rt = cx.start_runtime({.workers = 1});
    http_stage stage(cx, {.port = 0});
    const auto total = cx.scaled(computation);
    const auto step = cx.scaled(slice);

    struct variant {
        const char* name;
        task<void> (*make)(std::chrono::nanoseconds, std::chrono::nanoseconds);
    };
    const variant variants[] = {
        {"at-once", [](auto t, auto) { return compute_at_once(t); }},
        {"yield-between-slices", [](auto t, auto s) { return compute_in_slices(t, s); }},
        {"spawn-blocking", [](auto t, auto) { return compute_on_pool(t); }},
    };
    for (const variant& v : variants) {
        std::atomic<bool> stop_ticking{false};
        std::atomic<std::int64_t> worst_late{0};
        cx.begin_phase(v.name);
        auto timer = rt.spawn(ticker(cx.scaled(tick), stop_ticking, worst_late), "ticker");
        auto computing = rt.spawn(v.make(total, step), "compute");
        std::this_thread::sleep_for(cx.scaled(head_start));
        auto requests = stage.fire("/", 5, 5);
        const net::load_report report = stage.wait(requests);
        rt.block_on(std::move(computing));
        stop_ticking.store(true);
        rt.block_on(std::move(timer));
        cx.end_phase({{"requests_slowest_ms",
                       to_ms(report.latencies_ns.empty() ? 0 : report.latencies_ns.back())},
                      {"timer_worst_late_ms", to_ms(static_cast<std::uint64_t>(worst_late.load()))},
                      {"errors", static_cast<double>(report.errors)}});
        if (cx.stopping()) {
            return;
        }
    }
}

} // namespace taskscope::lessons::detail
