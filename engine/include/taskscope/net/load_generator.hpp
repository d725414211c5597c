#pragma once
// The built-in load generator: an async HTTP/1.1 or HTTP/2 client on the same executor, so
// a demo needs no outside tool. Fires `requests` requests with `concurrency` connections at
// once (HTTP/2: `streams` requests at once on each) and records every latency (and traces
// each request as request_begin/end, client side).
//
//     net::load_options load{.port = 8080, .target = "/sleep?ms=100", .requests = 20,
//                            .concurrency = 5};
//     auto report = co_await net::run_load(load);
//     report.percentile_ns(0.99);
//
// Name the options, as above, rather than writing `co_await run_load({...})`: g++ 12
// moves a braced temporary that lives across a co_await into the coroutine frame with a
// bitwise copy, which leaves its std::string pointing at the old place (a compiler bug).

#include "taskscope/task.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace taskscope::net {

struct load_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 80;
    std::string target = "/";
    std::size_t requests = 100;
    std::size_t concurrency = 10;
    bool keep_alive = true; ///< reuse each connection for its next request
    /// HTTP/2 with prior knowledge (h2c): each of the `concurrency` connections carries up
    /// to `streams` requests at once, each request a task (its stream).
    bool http2 = false;
    /// HTTP/2: streams in flight per connection. HTTP/1.1 with `pipeline`: requests written
    /// at once on a connection before their responses are read.
    std::size_t streams = 1;
    /// HTTP/1.1 pipelining: each connection writes `streams` requests in one go, then reads
    /// their responses, which come back in the order asked.
    bool pipeline = false;
    /// When not empty: request i asks for targets[i % targets.size()] instead of `target`,
    /// and the report keeps the latencies of each target apart.
    std::vector<std::string> targets{};
    std::chrono::milliseconds timeout{30'000}; ///< per request, connect included
    /// No request starts after this, and any still running then is cut off (an error).
    std::chrono::steady_clock::time_point stop_at = std::chrono::steady_clock::time_point::max();
};

/// The nearest-rank percentile of `sorted` (ascending): the smallest value with at least
/// `p` (0..1) of the values at or below it; 0 for none.
[[nodiscard]] std::uint64_t nearest_rank_ns(std::span<const std::uint64_t> sorted,
                                            double p) noexcept;

struct load_report {
    std::size_t count = 0;  ///< requests answered (any status)
    std::size_t errors = 0; ///< requests that got no answer (refused, reset, timed out, ...)
    std::vector<std::uint64_t> latencies_ns; ///< one per answer, ascending
    std::map<int, std::size_t> statuses;
    std::uint64_t elapsed_ns = 0;
    std::string first_error; ///< what went wrong first, for a message
    /// With load_options::targets: each target's latencies, ascending.
    std::map<std::string, std::vector<std::uint64_t>> latencies_by_target_ns;

    /// Nearest-rank percentile (p in [0, 1]) of the latencies; 0 with none.
    [[nodiscard]] std::uint64_t percentile_ns(double p) const noexcept;
};

/// Runs the load (call from inside a task; spawns `concurrency` client tasks).
task<load_report> run_load(load_options options);

struct http_url {
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";
};
/// Parses http://host[:port][/path[?query]]; nullopt (and `error`) when it is not one.
[[nodiscard]] std::optional<http_url> parse_http_url(std::string_view url, std::string& error);

} // namespace taskscope::net
