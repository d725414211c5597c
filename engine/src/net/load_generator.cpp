#include "taskscope/net/load_generator.hpp"

#include "http_response.hpp"
#include "load_shared.hpp"
#include "taskscope/net/tcp.hpp"
#include "taskscope/record.hpp"
#include "taskscope/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>

namespace taskscope::net {
namespace {

using clock_type = std::chrono::steady_clock;

using detail::load_target;
using detail::shared_load;

// relaxed: only uniqueness matters, not order with anything else
std::atomic<std::uint64_t> g_next_client_request{1};

/// One client connection: takes request numbers until none are left.
task<void> client(std::shared_ptr<shared_load> shared) {
    shared_load& s = *shared;
    tcp_stream stream;
    std::vector<char> buffer(16 * 1024);
    std::string unparsed;
    std::unique_ptr<detail::http_response_parser> parser;
    for (;;) {
        const std::size_t number = s.next.fetch_add(1, std::memory_order_relaxed);
        if (number >= s.options.requests) {
            break;
        }
        const auto started = clock_type::now();
        if (started >= s.options.stop_at) {
            break; // the run's time is up: no new requests
        }
        io_deadline deadline(std::min(started + s.options.timeout, s.options.stop_at));
        // Client request ids are unique in the process, so two load runs in one trace
        // never share one (an exported async slice is keyed by it).
        const load_target& target = s.target_of(number);
        record_request_begin(g_next_client_request.fetch_add(1, std::memory_order_relaxed),
                             target.name, trace::request_side::client);
        const bool connected_before = stream.is_open();
        if (!stream.is_open()) {
            auto [connected, fresh] =
                co_await tcp_stream::connect(s.options.host, s.options.port, &deadline);
            if (!connected.ok()) {
                s.failed("connect: " + std::string(to_string(connected.status)));
                record_request_end(0, 0, trace::request_side::client);
                continue;
            }
            stream = std::move(fresh);
            parser = std::make_unique<detail::http_response_parser>();
            unparsed.clear();
        }
        bool answered = false;
        bool keep = false;
        // A kept-alive connection the server closed meanwhile fails before any byte of
        // the answer: reconnect and send once more rather than count an error.
        for (int attempt = 0; attempt < 2 && !answered; ++attempt) {
            const bool reused = attempt == 0 && connected_before;
            const io_result sent = co_await stream.write_all(target.request_bytes, &deadline);
            bool got_bytes = false;
            std::string failure;
            if (sent.ok()) {
                for (;;) {
                    std::size_t consumed = 0;
                    const auto status = parser->feed(unparsed, consumed);
                    unparsed.erase(0, consumed);
                    if (status == detail::response_status::response_ready) {
                        const auto head = parser->take_response();
                        const auto latency = static_cast<std::uint64_t>(
                            std::chrono::nanoseconds(clock_type::now() - started).count());
                        s.answered(number, head.status, latency);
                        record_request_end(head.body_bytes, static_cast<std::uint32_t>(head.status),
                                           trace::request_side::client);
                        answered = true;
                        keep = head.keep_alive && s.options.keep_alive;
                        break;
                    }
                    if (status == detail::response_status::bad_response) {
                        failure = "bad response: " + std::string(parser->error_reason());
                        break;
                    }
                    const io_result r = co_await stream.read(buffer, &deadline);
                    if (r.status == io_status::closed &&
                        parser->finish() == detail::response_status::response_ready) {
                        unparsed.clear(); // a response that ran to the end of the connection
                        continue;
                    }
                    if (!r.ok()) {
                        failure = "read: " + std::string(to_string(r.status));
                        break;
                    }
                    got_bytes = true;
                    unparsed.append(buffer.data(), r.bytes);
                }
            } else {
                failure = "write: " + std::string(to_string(sent.status));
            }
            if (answered) {
                break;
            }
            stream.close();
            if (!(reused && !got_bytes)) {
                s.failed(std::move(failure));
                break;
            }
            auto [again, fresh] =
                co_await tcp_stream::connect(s.options.host, s.options.port, &deadline);
            if (!again.ok()) {
                s.failed("connect: " + std::string(to_string(again.status)));
                break;
            }
            stream = std::move(fresh);
            parser = std::make_unique<detail::http_response_parser>();
            unparsed.clear();
        }
        if (!answered) {
            record_request_end(0, 0, trace::request_side::client);
        }
        if (!keep) {
            stream.close();
        }
    }
}

} // namespace

namespace detail {

task<void> pipelined_load_client(std::shared_ptr<shared_load> shared) {
    shared_load& s = *shared;
    // Without keep-alive every response closes its connection: one request at a time.
    const std::size_t depth =
        s.options.keep_alive ? std::max<std::size_t>(1, s.options.streams) : 1;
    tcp_stream stream;
    auto parser = std::make_unique<detail::http_response_parser>();
    std::string unparsed;
    std::vector<char> buffer(16 * 1024);
    std::vector<std::size_t> batch;
    for (;;) {
        batch.clear();
        while (batch.size() < depth && clock_type::now() < s.options.stop_at) {
            const std::size_t number = s.next.fetch_add(1, std::memory_order_relaxed);
            if (number >= s.options.requests) {
                break;
            }
            batch.push_back(number);
        }
        if (batch.empty()) {
            co_return;
        }
        const auto started = clock_type::now();
        const std::uint64_t began = trace::now_ticks();
        io_deadline deadline(std::min(started + s.options.timeout, s.options.stop_at));
        // Each request of the batch is a queued request of this task: they end oldest
        // first, as their responses must come back.
        std::string bytes;
        for (const std::size_t number : batch) {
            record_queued_request_begin(
                g_next_client_request.fetch_add(1, std::memory_order_relaxed),
                s.target_of(number).name, trace::request_side::client, began);
            bytes += s.target_of(number).request_bytes;
        }
        std::size_t done = 0;
        std::string failure;
        if (!stream.is_open()) {
            auto [connected, fresh] =
                co_await tcp_stream::connect(s.options.host, s.options.port, &deadline);
            if (connected.ok()) {
                stream = std::move(fresh);
            } else {
                failure = "connect: " + std::string(to_string(connected.status));
            }
        }
        if (failure.empty()) {
            const io_result sent = co_await stream.write_all(bytes, &deadline);
            if (!sent.ok()) {
                failure = "write: " + std::string(to_string(sent.status));
            }
        }
        while (failure.empty() && done < batch.size()) {
            std::size_t consumed = 0;
            const auto status = parser->feed(unparsed, consumed);
            unparsed.erase(0, consumed);
            if (status == detail::response_status::response_ready) {
                const auto head = parser->take_response();
                s.answered(batch[done], head.status,
                           static_cast<std::uint64_t>(
                               std::chrono::nanoseconds(clock_type::now() - started).count()));
                record_queued_request_end(head.body_bytes, static_cast<std::uint32_t>(head.status),
                                          trace::request_side::client);
                ++done;
                continue;
            }
            if (status == detail::response_status::bad_response) {
                failure = "bad response: " + std::string(parser->error_reason());
                break;
            }
            const io_result r = co_await stream.read(buffer, &deadline);
            if (!r.ok()) {
                failure = "read: " + std::string(to_string(r.status));
                break;
            }
            unparsed.append(buffer.data(), r.bytes);
        }
        for (; done < batch.size(); ++done) {
            s.failed(failure);
            record_queued_request_end(0, 0, trace::request_side::client);
        }
        if (!failure.empty() || !s.options.keep_alive) {
            stream.close(); // the next batch starts on a new connection
            parser = std::make_unique<detail::http_response_parser>();
            unparsed.clear();
        }
    }
}

} // namespace detail

std::uint64_t nearest_rank_ns(std::span<const std::uint64_t> sorted, double p) noexcept {
    if (sorted.empty()) {
        return 0;
    }
    p = std::clamp(p, 0.0, 1.0);
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[rank == 0 ? 0 : rank - 1];
}

std::uint64_t load_report::percentile_ns(double p) const noexcept {
    return nearest_rank_ns(latencies_ns, p);
}

namespace {
task<load_report> run_shared_load(std::shared_ptr<shared_load> shared) {
    const load_options& o = shared->options;
    const auto started = clock_type::now();
    std::vector<join_handle<void>> clients;
    const std::size_t n = std::max<std::size_t>(1, std::min(o.concurrency, o.requests));
    for (std::size_t i = 0; i < n; ++i) {
        clients.push_back(o.http2      ? spawn(detail::http2_load_client(shared), "load_client")
                          : o.pipeline ? spawn(detail::pipelined_load_client(shared), "load_client")
                                       : spawn(client(shared), "load_client"));
    }
    for (auto& c : clients) {
        co_await c;
    }
    load_report report;
    {
        std::lock_guard lock(shared->mutex);
        report = std::move(shared->report);
    }
    report.elapsed_ns =
        static_cast<std::uint64_t>(std::chrono::nanoseconds(clock_type::now() - started).count());
    std::sort(report.latencies_ns.begin(), report.latencies_ns.end());
    for (auto& [path, latencies] : report.latencies_by_target_ns) {
        std::sort(latencies.begin(), latencies.end());
    }
    co_return report;
}
} // namespace

namespace detail {

shared_load::shared_load(load_options o) : options(std::move(o)) {
    const auto add = [this](const std::string& path) {
        targets.push_back({path,
                           "GET " + path + " HTTP/1.1\r\nHost: " + options.host + ":" +
                               std::to_string(options.port) + "\r\nUser-Agent: taskscope-load\r\n" +
                               (options.keep_alive ? "" : "Connection: close\r\n") + "\r\n",
                           trace::intern(path.substr(0, 64))});
    };
    for (const std::string& path : options.targets) {
        add(path);
    }
    if (targets.empty()) {
        add(options.target);
    }
}

} // namespace detail

task<load_report> run_load(load_options options) {
    return run_shared_load(std::make_shared<shared_load>(std::move(options)));
}

std::optional<http_url> parse_http_url(std::string_view url, std::string& error) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) {
        error = "the URL must start with http:// (https is not supported)";
        return std::nullopt;
    }
    url.remove_prefix(scheme.size());
    const std::size_t authority_end = url.find_first_of("/?#");
    std::string_view authority = url.substr(0, authority_end);
    http_url out;
    if (authority_end != std::string_view::npos) {
        const std::string_view rest = url.substr(authority_end);
        out.target.clear();
        if (rest.front() != '/') { // "http://host?q" means "/?q"
            out.target.push_back('/');
        }
        out.target.append(rest); // piece by piece: g++ 12 warns falsely on "/" + string
    }
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') { // [IPv6]:port
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "unclosed [ in the host";
            return std::nullopt;
        }
        out.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                error = "after ] only :port may follow";
                return std::nullopt;
            }
            has_port = true;
            port_text = after.substr(1);
        }
    } else {
        const std::size_t colon = authority.find(':');
        if (colon != std::string_view::npos &&
            authority.find(':', colon + 1) != std::string_view::npos) {
            error = "an IPv6 address goes in brackets, like http://[::1]:8080/";
            return std::nullopt;
        }
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
    }
    if (out.host.empty()) {
        error = "the URL has no host";
        return std::nullopt;
    }
    if (has_port) {
        unsigned long port = 0;
        for (char c : port_text) {
            if (c < '0' || c > '9' || port > 65535) {
                port = 0;
                break;
            }
            port = port * 10 + static_cast<unsigned long>(c - '0');
        }
        if (port_text.empty() || port == 0 || port > 65535) {
            error = "the port must be a number from 1 to 65535";
            return std::nullopt;
        }
        out.port = static_cast<std::uint16_t>(port);
    }
    return out;
}

} // namespace taskscope::net
