// One worker, one connection. On it: one /sleep?ms=2000, then ten /.
// HTTP/2, async sleep: every request is a stream and every stream a task, so the ten are
// answered at once while the sleep's stream waits on its timer. HTTP/2, blocking sleep: the
// sleep's task holds the only worker, and the connection task that would send the ten
// answers cannot run: they wait with it (all but the one spawned last, which sat in the
// worker's LIFO slot and ran before the sleep). HTTP/1.1 with pipelining, async sleep: the ten are
// queued on the connection behind the sleep, and responses must come back in the order
// asked, so they wait for it even though the worker is free.

#include "stage.hpp"

#include <algorithm>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto slow = 2000ms;
constexpr std::size_t quick_count = 10;

struct phase {
    std::string_view name;
    bool http2;
    net::sleep_mode sleep;
};

constexpr std::array<phase, 3> phases = {{
    {"http2-async", true, net::sleep_mode::async},
    {"http2-blocking", true, net::sleep_mode::blocking},
    {"http1-pipelined-async", false, net::sleep_mode::async},
}};

double slowest_ms(const std::vector<std::uint64_t>& sorted) {
    return sorted.empty() ? 0.0 : to_ms(sorted.back());
}
double fastest_ms(const std::vector<std::uint64_t>& sorted) {
    return sorted.empty() ? 0.0 : to_ms(sorted.front());
}

} // namespace

void http2_multiplexing(lesson_context& cx) {
    cx.start_runtime({.workers = 1});
    http_stage stage(cx, {.port = 0});
    const std::string sleep_target = "/sleep?ms=" + std::to_string(cx.scaled_ms(slow));

    for (const phase& p : phases) {
        stage.server().set_sleep_mode(p.sleep);
        cx.begin_phase(p.name);
        net::load_options load;
        load.targets.push_back(sleep_target); // request 0: the sleep goes first
        load.targets.insert(load.targets.end(), quick_count, "/");
        load.requests = load.targets.size();
        load.concurrency = 1;               // one connection
        load.streams = load.targets.size(); // all eleven on it at once
        load.http2 = p.http2;
        load.pipeline = !p.http2;
        auto fired = stage.fire(std::move(load));
        const net::load_report report = stage.wait(fired);
        const auto& quick = report.latencies_by_target_ns.find("/");
        const auto& sleeper = report.latencies_by_target_ns.find(sleep_target);
        const std::vector<std::uint64_t> none;
        const auto& quick_ns = quick == report.latencies_by_target_ns.end() ? none : quick->second;
        const auto& sleep_ns =
            sleeper == report.latencies_by_target_ns.end() ? none : sleeper->second;
        // Those that waited for the sleep: answered after half of it.
        const auto half = static_cast<std::uint64_t>(cx.scaled(slow).count() / 2);
        const auto waited = std::count_if(quick_ns.begin(), quick_ns.end(),
                                          [half](std::uint64_t ns) { return ns >= half; });
        cx.end_phase({{"quick_answered", static_cast<double>(quick_ns.size())},
                      {"quick_waited", static_cast<double>(waited)},
                      {"quick_fastest_ms", fastest_ms(quick_ns)},
                      {"quick_slowest_ms", slowest_ms(quick_ns)},
                      {"sleep_ms", slowest_ms(sleep_ns)},
                      {"errors", static_cast<double>(report.errors)}});
        if (cx.stopping()) {
            return;
        }
    }
}

} // namespace taskscope::lessons::detail
