#include "taskscope/net/load_generator.hpp"

#include "http_response.hpp"
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

struct shared_load {
    load_options options;
    std::string request_bytes;
    std::atomic<std::size_t> next{0};
    std::mutex mutex; // guards report
    load_report report;

    void answered(int status, std::uint64_t latency_ns) {
        std::lock_guard lock(mutex);
        ++report.count;
        ++report.statuses[status];
        report.latencies_ns.push_back(latency_ns);
    }
    void failed(std::string what) {
        std::lock_guard lock(mutex);
        ++report.errors;
        if (report.first_error.empty()) {
            report.first_error = std::move(what);
        }
    }
};

// relaxed: only uniqueness matters, not order with anything else
std::atomic<std::uint64_t> g_next_client_request{1};

/// One client connection: takes request numbers until none are left.
task<void> client(std::shared_ptr<shared_load> shared) {
    shared_load& s = *shared;
    const trace::name_id target_name = trace::intern(s.options.target.substr(0, 64));
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
        record_request_begin(g_next_client_request.fetch_add(1, std::memory_order_relaxed),
                             target_name, trace::request_side::client);
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
            const io_result sent = co_await stream.write_all(s.request_bytes, &deadline);
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
                        s.answered(head.status, latency);
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
    shared->request_bytes = "GET " + o.target + " HTTP/1.1\r\nHost: " + o.host + ":" +
                            std::to_string(o.port) + "\r\nUser-Agent: taskscope-load\r\n" +
                            (o.keep_alive ? "" : "Connection: close\r\n") + "\r\n";
    const auto started = clock_type::now();
    std::vector<join_handle<void>> clients;
    const std::size_t n = std::max<std::size_t>(1, std::min(o.concurrency, o.requests));
    for (std::size_t i = 0; i < n; ++i) {
        clients.push_back(spawn(client(shared), "load_client"));
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
    co_return report;
}
} // namespace

task<load_report> run_load(load_options options) {
    auto shared = std::make_shared<shared_load>();
    shared->options = std::move(options);
    return run_shared_load(std::move(shared));
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
