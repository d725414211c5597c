#pragma once
// The load generator's state its clients share (private to the net part): the HTTP/1.1
// clients in load_generator.cpp and the HTTP/2 ones in http2_load.cpp.

#include "taskscope/net/load_generator.hpp"
#include "taskscope/task.hpp"
#include "taskscope/trace/names.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace taskscope::net::detail {

/// A target the load asks for: its path, its HTTP/1.1 request, its name in the trace.
struct load_target {
    std::string path;
    std::string request_bytes;
    trace::name_id name = 0;
};

struct shared_load {
    explicit shared_load(load_options o);

    load_options options;
    std::vector<load_target> targets; ///< options.targets, or options.target alone
    std::atomic<std::size_t> next{0};
    std::mutex mutex; // guards report and retry
    load_report report;
    std::vector<std::size_t> retry; ///< refused requests to send again

    /// The target request `number` asks for.
    [[nodiscard]] const load_target& target_of(std::size_t number) const noexcept {
        return targets[number % targets.size()];
    }
    void answered(std::size_t number, int status, std::uint64_t latency_ns) {
        std::lock_guard lock(mutex);
        ++report.count;
        ++report.statuses[status];
        report.latencies_ns.push_back(latency_ns);
        if (!options.targets.empty()) {
            report.latencies_by_target_ns[target_of(number).path].push_back(latency_ns);
        }
    }
    /// A request the server refused before doing any of it (HTTP/2 REFUSED_STREAM, or a
    /// stream above a GOAWAY's last id): safe to send again, on a new connection.
    void refused(std::size_t number) {
        std::lock_guard lock(mutex);
        retry.push_back(number);
    }
    /// A refused request to send again, if any.
    std::optional<std::size_t> take_retry() {
        std::lock_guard lock(mutex);
        if (retry.empty()) {
            return std::nullopt;
        }
        const std::size_t number = retry.back();
        retry.pop_back();
        return number;
    }
    /// Requests not yet taken, or refused and waiting to be sent again.
    [[nodiscard]] bool work_left() {
        std::lock_guard lock(mutex);
        return next.load(std::memory_order_relaxed) < options.requests || !retry.empty();
    }
    void failed(std::string what) {
        std::lock_guard lock(mutex);
        ++report.errors;
        if (report.first_error.empty()) {
            report.first_error = std::move(what);
        }
    }
};

/// One HTTP/1.1 connection pipelining up to options.streams requests at a time.
task<void> pipelined_load_client(std::shared_ptr<shared_load> shared);

/// One HTTP/2 client connection (reconnecting while requests are left): up to
/// options.streams requests in flight on it, each a task of its own.
task<void> http2_load_client(std::shared_ptr<shared_load> shared);

} // namespace taskscope::net::detail
