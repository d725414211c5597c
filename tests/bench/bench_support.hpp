#pragma once
// What the window benchmarks share: timing helpers, the process's resident memory, and a
// synthetic HTTP-like event stream (and a file of it) with the shape of a busy server.

#include "taskscope/trace/event.hpp"
#include "taskscope/trace/names.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "taskscope/trace/trace_hub.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace taskscope::bench {

using trace::event;
using trace::event_kind;
using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

inline double ms_since(clock_type::time_point start) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

/// The resident set size of this process in bytes (VmRSS), 0 if unknown.
inline std::uint64_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stoull(line.substr(6)) * 1024;
        }
    }
    return 0;
}

/// Discards events: the cost measured is recording and draining, not storing.
class counting_sink final : public trace::trace_sink {
public:
    void consume(std::span<const trace::event> batch) override { m_count += batch.size(); }
    std::size_t m_count = 0;
};

inline double median(std::vector<double> values) {
    if (values.empty()) {
        return 0.0;
    }
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

/// A synthetic HTTP server on two workers and a blocking pool, in time order (as a trace
/// hub would deliver it, but strictly ordered). Each worker serves connections: socket
/// ready, wake, poll with a request inside, sometimes a blocking call inside the poll;
/// timers fire, workers steal and park, connections close and the accept loop spawns new
/// ones. The pool thread runs jobs and wakes the task that asked. About a million events
/// per second of trace time.
class HttpLikeStream {
public:
    static constexpr std::uint16_t workers = 2;

    explicit HttpLikeStream(std::uint64_t seed) : m_random(seed) {
        m_route = trace::intern("/");
        m_connName = trace::intern("handle_connection");
        m_acceptName = trace::intern("accept_loop");
        m_jobName = trace::intern("resize_image");
        // Every thread announces itself first.
        for (std::uint16_t w = 0; w < workers; ++w) {
            m_startup.push_back({0, 0, w, 0, w, event_kind::track_started,
                                 static_cast<std::uint8_t>(trace::track_kind::worker)});
        }
        m_startup.push_back({0, 0, 0, 0, poolTrack, event_kind::track_started,
                             static_cast<std::uint8_t>(trace::track_kind::blocking)});
        m_startup.push_back({1000, acceptTask, 0, m_acceptName, 0, event_kind::task_spawned, 0});
        m_connections.resize(64);
        for (auto& t : m_connections) {
            t = m_nextTask++;
            m_startup.push_back({1000, t, acceptTask, m_connName, 0, event_kind::task_spawned, 0});
        }
        for (std::uint16_t a = 0; a < actorCount; ++a) {
            m_actors[a].clock = 2000 + a * 777u;
        }
    }

    /// Appends the next `count` events to `out`.
    void next(std::vector<event>& out, std::size_t count) {
        for (std::size_t n = 0; n < count; ++n) {
            out.push_back(pop());
        }
    }

    [[nodiscard]] std::uint64_t polls() const noexcept { return m_polls; }
    [[nodiscard]] std::uint64_t requests() const noexcept { return m_requests; }

private:
    static constexpr std::uint16_t poolTrack = workers;
    static constexpr std::uint16_t actorCount = workers + 1;
    static constexpr std::uint64_t acceptTask = 1;

    struct Actor {
        std::uint64_t clock = 0;
        std::deque<event> queue;
    };

    std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
        return lo + m_random() % (hi - lo);
    }
    bool oneIn(std::uint64_t n) { return m_random() % n == 0; }

    event pop() {
        if (!m_startup.empty()) {
            const event e = m_startup.front();
            m_startup.pop_front();
            return e;
        }
        std::size_t best = 0;
        for (std::size_t a = 0; a < actorCount; ++a) {
            if (m_actors[a].queue.empty()) {
                episode(a);
            }
            if (m_actors[a].queue.front().time_ns < m_actors[best].queue.front().time_ns) {
                best = a;
            }
        }
        const event e = m_actors[best].queue.front();
        m_actors[best].queue.pop_front();
        return e;
    }

    void episode(std::size_t actor) {
        if (actor == poolTrack) {
            poolEpisode();
        } else {
            workerEpisode(static_cast<std::uint16_t>(actor));
        }
    }

    void workerEpisode(std::uint16_t w) {
        Actor& a = m_actors[w];
        auto& q = a.queue;
        std::uint64_t& t = a.clock;
        const auto put = [&](std::uint64_t task, std::uint64_t arg, std::uint32_t arg2,
                             event_kind kind, std::uint8_t detail) {
            q.push_back({t, task, arg, arg2, w, kind, detail});
        };
        const auto depth = [&] { return static_cast<std::uint32_t>(m_random() % 4); };

        t += uniform(300, 2000);
        if (oneIn(40)) { // nothing to do for a while
            put(0, 0, 0, event_kind::worker_park, 0);
            t += uniform(20'000, 200'000);
            put(0, 0, 0, event_kind::worker_unpark, 0);
        }
        const std::size_t slot = m_random() % m_connections.size();
        const std::uint64_t task = m_connections[slot];
        put(task, 7 + slot, 0, event_kind::io_ready, 1);
        t += uniform(200, 800);
        put(task, 0, 0, event_kind::wake, static_cast<std::uint8_t>(trace::wake_source::io));
        t += uniform(300, 2500);
        put(task, 0, depth(), event_kind::poll_begin, 0);
        ++m_polls;
        t += uniform(100, 500);
        put(task, m_nextRequest++, m_route, event_kind::request_begin, 0);
        ++m_requests;
        if (oneIn(2000)) { // a blocking call inside the poll: the worker can run nothing else
            const std::uint64_t blocked = uniform(100'000, 2'000'000);
            t += uniform(200, 1000);
            put(task, blocked, 0, event_kind::block_begin, 0);
            t += blocked;
            put(task, 0, 0, event_kind::block_end, 0);
        }
        t += uniform(1500, 6000);
        put(task, 2048, 200, event_kind::request_end, 0);
        t += uniform(200, 800);
        const bool closes = oneIn(64);
        put(task, 0, depth(), event_kind::poll_end,
            static_cast<std::uint8_t>(closes ? trace::poll_result::ready
                                             : trace::poll_result::pending));
        if (closes) { // the connection closed: the accept loop takes the next one
            const std::uint64_t next = m_nextTask++;
            m_connections[slot] = next;
            t += uniform(300, 1500);
            put(acceptTask, 3, 0, event_kind::io_ready, 1);
            t += uniform(200, 600);
            put(acceptTask, 0, 0, event_kind::wake,
                static_cast<std::uint8_t>(trace::wake_source::io));
            t += uniform(200, 800);
            put(acceptTask, 0, depth(), event_kind::poll_begin, 0);
            ++m_polls;
            t += uniform(500, 2000);
            put(next, acceptTask, m_connName, event_kind::task_spawned, 0);
            t += uniform(200, 600);
            put(acceptTask, 0, depth(), event_kind::poll_end, 0);
        }
        if (oneIn(16)) { // a keep-alive timer fires
            const std::uint64_t timed = m_connections[m_random() % m_connections.size()];
            t += uniform(300, 1500);
            put(timed, 0, 0, event_kind::timer_fired, 0);
            t += uniform(100, 400);
            put(timed, 0, 0, event_kind::wake,
                static_cast<std::uint8_t>(trace::wake_source::timer));
            t += uniform(300, 1500);
            put(timed, 0, depth(), event_kind::poll_begin, 0);
            ++m_polls;
            t += uniform(500, 3000);
            put(timed, t + 5'000'000, 0, event_kind::timer_armed, 0);
            t += uniform(100, 400);
            put(timed, 0, depth(), event_kind::poll_end, 0);
        }
        if (oneIn(32)) { // this worker ran dry and steals from the other
            t += uniform(200, 1000);
            put(m_connections[m_random() % m_connections.size()], (w + 1u) % workers,
                static_cast<std::uint32_t>(uniform(1, 5)), event_kind::steal, 0);
        }
    }

    void poolEpisode() {
        Actor& a = m_actors[poolTrack];
        std::uint64_t& t = a.clock;
        t += uniform(200'000, 20'000'000);
        const std::uint64_t job = m_nextJob++;
        const std::uint64_t spawner = m_connections[m_random() % m_connections.size()];
        a.queue.push_back(
            {t, job, spawner, m_jobName, poolTrack, event_kind::blocking_job_begin, 0});
        t += uniform(500'000, 5'000'000);
        a.queue.push_back({t, job, 0, 0, poolTrack, event_kind::blocking_job_end, 0});
        t += uniform(1000, 5000);
        a.queue.push_back({t, spawner, 0, 0, poolTrack, event_kind::wake,
                           static_cast<std::uint8_t>(trace::wake_source::blocking)});
    }

    std::mt19937_64 m_random;
    trace::name_id m_route = 0;
    trace::name_id m_connName = 0;
    trace::name_id m_acceptName = 0;
    trace::name_id m_jobName = 0;
    std::deque<event> m_startup;
    std::array<Actor, actorCount> m_actors{};
    std::vector<std::uint64_t> m_connections;
    std::uint64_t m_nextTask = 10;
    std::uint64_t m_nextJob = 1'000'000'000;
    std::uint64_t m_nextRequest = 1;
    std::uint64_t m_polls = 0;
    std::uint64_t m_requests = 0;
};

/// Writes `count` events of the synthetic server to `path` in hub-sized batches.
inline void writeTrace(const std::filesystem::path& path, std::size_t count) {
    trace::run_info info;
    info.command = "taskscope benchmark: synthetic http";
    info.workers = HttpLikeStream::workers;
    HttpLikeStream stream(42);
    trace::file_writer writer(path, info);
    std::vector<event> batch;
    constexpr std::size_t batchSize = 4096;
    std::uint64_t lastNs = 0;
    for (std::size_t at = 0; at < count; at += batchSize) {
        batch.clear();
        stream.next(batch, std::min(batchSize, count - at));
        lastNs = batch.back().time_ns;
        writer.consume(batch);
    }
    writer.close();
    std::printf("# trace: %zu events, %llu polls, %llu requests, %.2f s of trace time, "
                "%.1f MB on disk\n",
                count, static_cast<unsigned long long>(stream.polls()),
                static_cast<unsigned long long>(stream.requests()),
                static_cast<double>(lastNs) / 1e9,
                static_cast<double>(std::filesystem::file_size(path)) / 1e6);
    std::fflush(stdout);
}

} // namespace taskscope::bench
