#pragma once
// What the lessons share: duration scaling, phases (timed, reported, marked in the trace),
// the lesson's runtime, and an HTTP server with a load generator outside the executor.

#include "taskscope/lessons/lessons.hpp"
#include "taskscope/net/http_server.hpp"
#include "taskscope/net/load_generator.hpp"
#include "taskscope/taskscope.hpp"
#include "taskscope/trace/worker_tracks.hpp"

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace taskscope::lessons::detail {

using clock = std::chrono::steady_clock;

class lesson_context {
public:
    lesson_context(const run_options& options, lesson_report& report);
    ~lesson_context();

    /// `d` times the lesson's scale (at least a microsecond).
    [[nodiscard]] std::chrono::nanoseconds scaled(std::chrono::nanoseconds d) const;
    /// Whole milliseconds of `d` scaled, at least 1: for /sleep?ms= and /cpu?ms=.
    [[nodiscard]] std::uint64_t scaled_ms(std::chrono::milliseconds d) const;

    /// Makes the lesson's runtime (once) and lets the caller attach its sinks.
    runtime& start_runtime(runtime_options options);
    [[nodiscard]] runtime& rt() { return *m_runtime; }
    /// Where client request events go (nullptr: nowhere).
    [[nodiscard]] const std::shared_ptr<trace::trace_sink>& client_sink() const noexcept {
        return m_client_sink;
    }

    /// A phase starts: a marker in the trace ("phase NAME") and the clock.
    void begin_phase(std::string_view name);
    /// The phase ends: reported with its duration and counts, marked in the trace.
    void end_phase(std::initializer_list<std::pair<std::string, double>> counts = {});
    /// A stop was requested: the lesson returns after its current step.
    [[nodiscard]] bool stopping() const noexcept;

    /// Blocks the calling (main) thread for `d` scaled, recorded on its own lane.
    void main_thread_sleep(std::chrono::nanoseconds d);

private:
    const run_options& m_options;
    lesson_report& m_report;
    std::unique_ptr<runtime> m_runtime;
    std::shared_ptr<trace::trace_sink> m_client_sink;
    std::string m_phase;
    clock::time_point m_phase_start;
};

/// A sink that reads the lesson's own trace to count what it shows: each event reaches
/// on_event() under the probe's lock, with the worker whose track it is on (none for
/// threads that are not workers). Readers take the counts under lock() too.
class lesson_probe : public trace::trace_sink {
public:
    void consume(std::span<const trace::event> batch) final {
        std::lock_guard guard(m_mutex);
        for (const trace::event& e : batch) {
            if (!m_tracks.note(e)) {
                on_event(e, m_tracks.worker_of(e.track));
            }
        }
    }

protected:
    virtual void on_event(const trace::event& e, std::optional<std::uint32_t> worker) = 0;
    [[nodiscard]] std::unique_lock<std::mutex> lock() { return std::unique_lock(m_mutex); }

private:
    std::mutex m_mutex;
    trace::worker_tracks m_tracks;
};

/// An HTTP server on the lesson's runtime, and a load generator on a runtime of its own
/// whose view of the requests goes into the lesson's trace.
class http_stage {
public:
    http_stage(lesson_context& cx, net::http_server_options options);
    ~http_stage();
    http_stage(const http_stage&) = delete;
    http_stage& operator=(const http_stage&) = delete;

    [[nodiscard]] net::http_server& server() { return *m_server; }
    /// Replaces the server by one with `options` (an accept mode is fixed per server).
    void restart(net::http_server_options options);
    /// Starts `count` requests for `target` with `concurrency` at once from the clients.
    join_handle<net::load_report> fire(std::string target, std::size_t count,
                                       std::size_t concurrency);
    /// Starts the load `options` describe against the server (its host and port are set).
    join_handle<net::load_report> fire(net::load_options options);
    /// Waits for a load started by fire().
    net::load_report wait(join_handle<net::load_report>& load);

private:
    void start(net::http_server_options options);
    void stop();

    lesson_context& m_cx;
    runtime m_clients;
    std::shared_ptr<net::http_server> m_server;
    std::optional<join_handle<void>> m_serving;
};

/// Milliseconds of a duration in nanoseconds, for counts.
[[nodiscard]] inline double to_ms(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

// The lessons, one file each.
void three_sleeps(lesson_context& cx);
void spawn_vs_await(lesson_context& cx);
void own_executor(lesson_context& cx);
void blocking_server(lesson_context& cx);
void accept_loop(lesson_context& cx);
void work_stealing(lesson_context& cx);
void cpu_heavy(lesson_context& cx);
void locks_and_channels(lesson_context& cx);
void chat_backpressure(lesson_context& cx);
void http2_multiplexing(lesson_context& cx);

} // namespace taskscope::lessons::detail
