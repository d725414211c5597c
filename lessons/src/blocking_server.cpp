// The server on one worker. One client asks for /sleep?ms=5000, then five ask for /.
// Blocking mode: the sleep holds the only worker, the five wait for it. Async: a timer
// wakes the sleeper and the worker answers the five at once. Offload: the sleep runs on
// the blocking pool, visible on its own lane, and the five are answered at once.

#include "stage.hpp"

#include <algorithm>
#include <thread>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto slow = 5000ms;
constexpr auto head_start = 100ms; // lets the slow request reach the server first

} // namespace

void blocking_server(lesson_context& cx) {
    cx.start_runtime({.workers = 1});
    http_stage stage(cx, {.port = 0, .sleep = net::sleep_mode::blocking});
    const std::string sleep_target = "/sleep?ms=" + std::to_string(cx.scaled_ms(slow));

    for (const net::sleep_mode mode :
         {net::sleep_mode::blocking, net::sleep_mode::async, net::sleep_mode::offload}) {
        stage.server().set_sleep_mode(mode);
        cx.begin_phase(net::to_string(mode));
        auto sleeper = stage.fire(sleep_target, 1, 1);
        std::this_thread::sleep_for(cx.scaled(head_start));
        auto quick = stage.fire("/", 5, 5);
        const net::load_report five = stage.wait(quick);
        const net::load_report one = stage.wait(sleeper);
        const std::uint64_t slowest = five.latencies_ns.empty() ? 0 : five.latencies_ns.back();
        cx.end_phase({{"quick_answered", static_cast<double>(five.count)},
                      {"quick_slowest_ms", to_ms(slowest)},
                      {"sleep_ms", to_ms(one.latencies_ns.empty() ? 0 : one.latencies_ns.back())},
                      {"errors", static_cast<double>(five.errors + one.errors)}});
        if (cx.stopping()) {
            return;
        }
    }
}

} // namespace taskscope::lessons::detail
