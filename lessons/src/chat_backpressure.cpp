// Backpressure in a chat server: four fast readers, one stalled reader and two posters in one
// group, first with a bounded ring a group (the stalled reader loses messages and is told),
// then with an unbounded queue a reader (nothing is lost, and the server's memory grows with
// the stalled reader's backlog).

#include "stage.hpp"
#include "taskscope/net/chat_load.hpp"
#include "taskscope/net/chat_server.hpp"

#include <algorithm>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t ring_capacity = 64;
constexpr std::size_t message_bytes = 1000;

/// One phase: a chat server with `backlog` on the lesson's runtime, the load from a runtime
/// of its own, and the numbers that teach it.
void chat_phase(lesson_context& cx, net::backlog_mode backlog) {
    net::chat_server_options server_options;
    server_options.capacity = ring_capacity;
    server_options.backlog = backlog;
    auto server = net::chat_server::start(cx.rt(), server_options);

    net::chat_load_options load;
    load.port = server->port();
    load.group = "lobby";
    load.posters = 2;
    // A shorter run posts faster (the same 4,000 messages down to a quarter of the time, at
    // most 2,000 a second each below that), so the stalled reader still falls well behind
    // its socket buffers, which do not scale; faster would swamp a loaded machine.
    load.post_rate = std::min(2000.0, 500.0 * 1e9 / static_cast<double>(cx.scaled(1s).count()));
    load.fast_readers = 4;
    load.slow_readers = 1;
    load.slow_rate = 0; // stalled while the posters post; it reads what is left afterwards
    load.message_bytes = message_bytes;
    load.duration = std::chrono::duration_cast<std::chrono::milliseconds>(cx.scaled(4s));
    load.drain = 5s;
    cx.begin_phase(net::to_string(backlog));
    const net::chat_load_report report = net::run_chat_load_blocking(load, 2);
    const net::chat_stats stats = server->stats();
    server->stop_and_wait();
    cx.end_phase({
        {"posted", static_cast<double>(report.posted)},
        {"fast_received", static_cast<double>(report.fast.received)},
        {"fast_missed", static_cast<double>(report.fast.missed)},
        {"fast_p99_ms", to_ms(report.fast.percentile_ns(0.99))},
        {"slow_received", static_cast<double>(report.slow.received)},
        {"slow_missed", static_cast<double>(report.slow.missed)},
        {"lag_notices", static_cast<double>(report.slow.lag_notices)},
        {"server_lag_notices", static_cast<double>(stats.lag_notices)}, // to every reader
        {"slow_p99_ms", to_ms(report.slow.percentile_ns(0.99))},
        {"peak_queued_kib", static_cast<double>(stats.peak_queued_bytes) / 1024.0},
        {"capacity_kib",
         static_cast<double>(ring_capacity * (message_bytes + 64)) / 1024.0}, // a line's framing
    });
}

} // namespace

void chat_backpressure(lesson_context& cx) {
    cx.start_runtime({.workers = 2});
    chat_phase(cx, net::backlog_mode::ring);
    if (cx.stopping()) {
        return;
    }
    chat_phase(cx, net::backlog_mode::unbounded);
}

} // namespace taskscope::lessons::detail
