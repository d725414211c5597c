#pragma once
// The chat load generator: posters, fast readers and slow (or stalled) readers on one
// group of a chat server, measuring what each class of reader gets. Every message carries
// its posting time (steady_clock, the same in every process of the machine), so delivery
// latency is measured where the reader reads it.
//
//     net::chat_load_options load;
//     load.port = server->port();
//     load.posters = 2; load.fast_readers = 4; load.slow_readers = 1; load.slow_rate = 0;
//     net::chat_load_report report = net::run_chat_load_blocking(load);   // its own runtime
//     report.fast.percentile_ns(0.99); report.slow.missed;
//
// Inside a task: `co_await net::run_chat_load(load)` (name the options first, as with
// run_load: g++ 12 miscopies a braced temporary holding a std::string across a co_await).
//
// Readers join first and each confirms its join by seeing its own "sync" post come back;
// posting starts once every reader is in. After `duration` the posters stop; readers
// then read until they have everything (or were told what they missed) or `drain` has
// passed. A stalled reader reads nothing while the posters post, then reads what is left:
// so it hears the server's lag notices, and its report says how many messages it missed.

#include "taskscope/task.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace taskscope::net {

struct chat_load_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 7878;
    std::string group = "load";
    std::size_t posters = 2;
    double post_rate = 200.0; ///< messages a second, each poster; 0: as fast as it can write
    std::size_t fast_readers = 4;
    std::size_t slow_readers = 1;
    double slow_rate = 0.0;         ///< messages a second a slow reader reads; 0: stalled
    std::size_t message_bytes = 64; ///< the message text is padded to this length
    std::chrono::milliseconds duration{2000};
    std::chrono::milliseconds drain{1000};        ///< after posting, for readers to catch up
    std::chrono::milliseconds join_timeout{5000}; ///< connect and join, each reader
    /// Set to true (from any thread) to end the run early.
    const std::atomic<bool>* cancel = nullptr;
};

/// What one class of reader got.
struct chat_reader_report {
    std::size_t readers = 0;                 ///< that joined
    std::uint64_t received = 0;              ///< load messages read
    std::uint64_t lag_notices = 0;           ///< "Dropped N messages" lines
    std::uint64_t missed = 0;                ///< the N of those, summed
    std::vector<std::uint64_t> latencies_ns; ///< post to read, one a message, ascending

    /// Nearest-rank percentile (p in [0, 1]); 0 with none.
    [[nodiscard]] std::uint64_t percentile_ns(double p) const noexcept;
};

struct chat_load_report {
    std::uint64_t posted = 0;      ///< Post lines written
    std::uint64_t post_errors = 0; ///< Error lines the posters got back
    chat_reader_report fast;
    chat_reader_report slow;        ///< slow or stalled readers
    std::size_t connect_errors = 0; ///< clients that could not connect or join in time
    std::uint64_t elapsed_ns = 0;   ///< from the first post to the last reader done
    std::string first_error;        ///< what went wrong first, for a message
};

/// Runs the load (call from inside a task; spawns one task a client).
task<chat_load_report> run_chat_load(chat_load_options options);

/// Runs the load on a runtime of its own with `workers` workers, from outside any runtime
/// (a load on the runtime it measures would stall with it).
[[nodiscard]] chat_load_report run_chat_load_blocking(chat_load_options options,
                                                      std::size_t workers = 2);

} // namespace taskscope::net
