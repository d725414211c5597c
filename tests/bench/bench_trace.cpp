// Trace file benchmark: how compact a recorded HTTP load is on disk, how fast files are
// read into the analysis model, and whether the writer keeps up with a busy runtime.
// Prints one line per figure: `bench trace/<case> <value> <unit>`.
//
//   build/release/tests/bench/taskscope_bench_trace [--events N]

#include "taskscope/analysis/export.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/net/http_server.hpp"
#include "taskscope/net/load_generator.hpp"
#include "taskscope/taskscope.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <streambuf>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace taskscope;
using trace::event;
using trace::event_kind;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

void print(const char* name, double value, const char* unit) {
    std::printf("bench trace/%s %.2f %s\n", name, value, unit);
    std::fflush(stdout);
}

std::filesystem::path temp_path(const char* name) {
    return std::filesystem::temp_directory_path() /
           ("taskscope-bench-" + std::to_string(::getpid()) + "-" + name);
}

/// Counts what is written to it and keeps nothing.
class counting_buffer : public std::streambuf {
public:
    std::uint64_t bytes = 0;

protected:
    int_type overflow(int_type c) override {
        ++bytes;
        return c;
    }
    std::streamsize xsputn(const char*, std::streamsize n) override {
        bytes += static_cast<std::uint64_t>(n);
        return n;
    }
};

/// A real recording: the HTTP server on 2 workers under the built-in load generator.
void http_load_on_disk(const std::filesystem::path& path) {
    runtime rt({.workers = 2});
    trace::run_info info = trace::run_info_for(rt.trace());
    info.command = "bench_trace http load";
    auto file = std::make_shared<trace::file_writer>(path, info);
    rt.trace().add_sink(file);
    auto server = net::http_server::bind(rt, {});
    auto serving = rt.spawn(server->run(), "accept_loop");
    net::load_options load;
    load.port = server->port();
    load.requests = 50'000;
    load.concurrency = 32;
    const net::load_report report = rt.block_on(net::run_load(load), "load");
    server->stop();
    serving.get();
    rt.trace().flush();
    rt.trace().remove_sink(file);
    server.reset();
    rt.shutdown();
    file->close();

    const trace::loaded_trace trace = trace::read_trace_file(path);
    const double bytes = static_cast<double>(std::filesystem::file_size(path));
    const double events = static_cast<double>(trace.events.size());
    std::printf("# http load: %zu requests answered, %.0f events, %.0f bytes on disk\n",
                report.count, events, bytes);
    print("http_load_file_bytes_per_event", bytes / events, "B/event");

    counting_buffer counter;
    std::ostream out(&counter);
    analysis::chrome_trace_writer chrome(out, trace.info);
    chrome.consume(trace.events, trace.names);
    chrome.finish();
    print("http_load_chrome_json_bytes_per_event", static_cast<double>(counter.bytes) / events,
          "B/event");
}

/// A synthetic HTTP-like stream: two workers each serving connections (socket ready, wake,
/// poll, request begin/end, pending), with timer and steal traffic mixed in.
std::vector<event> synthetic_stream(std::size_t count) {
    std::vector<event> events;
    events.reserve(count + 16);
    std::mt19937_64 random(42);
    const trace::name_id route = trace::intern("/");
    const trace::name_id conn = trace::intern("handle_connection");
    events.push_back({0, 0, 0, 0, 0, event_kind::track_started, 0});
    events.push_back({0, 0, 1, 0, 1, event_kind::track_started, 0});
    std::uint64_t now = 1000;
    std::uint64_t next_task = 10;
    std::uint64_t request_id = 1;
    std::vector<std::uint64_t> live(64);
    for (auto& t : live) {
        t = next_task++;
        events.push_back({now, t, 1, conn, 0, event_kind::task_spawned, 0});
    }
    while (events.size() < count) {
        const auto worker = static_cast<std::uint16_t>(random() % 2);
        const std::uint64_t task = live[random() % live.size()];
        const auto step = [&] { return now += 50 + random() % 400; };
        events.push_back({step(), task, 7, 1, worker, event_kind::io_ready, 1});
        events.push_back({step(), task, 0, 0, worker, event_kind::wake, 4});
        events.push_back({step(), task, 0, static_cast<std::uint32_t>(random() % 4), worker,
                          event_kind::poll_begin, 0});
        events.push_back({step(), task, request_id++, route, worker, event_kind::request_begin, 0});
        events.push_back({step(), task, 21, 200, worker, event_kind::request_end, 0});
        events.push_back({step(), task, 0, 0, worker, event_kind::poll_end, 0});
        if (random() % 16 == 0) {
            events.push_back(
                {step(), task, now + 1'000'000, 0, worker, event_kind::timer_armed, 0});
            events.push_back({step(), task, static_cast<std::uint64_t>(1 - worker), 1, worker,
                              event_kind::steal, 0});
        }
    }
    events.resize(count);
    return events;
}

void read_speed(std::size_t count) {
    const auto path = temp_path("read.tstrace");
    const std::vector<event> events = synthetic_stream(count);

    // The writer alone, fed from one thread as fast as it takes batches of hub size.
    auto started = clock_type::now();
    {
        trace::file_writer writer(path, trace::run_info{});
        constexpr std::size_t batch = 4096;
        for (std::size_t at = 0; at < events.size(); at += batch) {
            writer.consume(std::span(events).subspan(at, std::min(batch, events.size() - at)));
        }
        writer.close();
    }
    const double write_s = seconds_since(started);
    print("writer_rate", static_cast<double>(count) / write_s / 1e6, "Mevents/s");
    print("synthetic_file_bytes_per_event",
          static_cast<double>(std::filesystem::file_size(path)) / static_cast<double>(count),
          "B/event");

    // Decoding only, then decoding into the analysis model (what stats and the window do).
    std::vector<event> chunk;
    double best_decode = 1e30;
    double best_model = 1e30;
    for (int run = 0; run < 3; ++run) {
        started = clock_type::now();
        {
            trace::file_reader reader(path);
            std::size_t n = 0;
            while (reader.next(chunk)) {
                n += chunk.size();
            }
            if (n != count) {
                std::printf("# read %zu events, expected %zu\n", n, count);
            }
        }
        best_decode = std::min(best_decode, seconds_since(started));
        started = clock_type::now();
        {
            trace::file_reader reader(path);
            analysis::model m;
            trace::read_all(reader, [&](std::span<const event> chunk_events, const auto& names) {
                m.set_names(names);
                m.consume(chunk_events);
                return true;
            });
            m.finish();
            if (m.event_count() != count) {
                std::printf("# model saw %llu events\n",
                            static_cast<unsigned long long>(m.event_count()));
            }
        }
        best_model = std::min(best_model, seconds_since(started));
    }
    print("read_decode_rate", static_cast<double>(count) / best_decode / 1e6, "Mevents/s");
    print("read_into_model_rate", static_cast<double>(count) / best_model / 1e6, "Mevents/s");
    std::filesystem::remove(path);
}

/// A live runtime recording a yield-heavy workload to a file: the events it records per
/// second and how many the per-thread buffers dropped (the writer must not be the cause).
void live_recording(const std::filesystem::path& path) {
    runtime rt({.workers = 2});
    auto file = std::make_shared<trace::file_writer>(path, trace::run_info_for(rt.trace()));
    rt.trace().add_sink(file);
    const auto started = clock_type::now();
    rt.block_on(
        []() -> task<void> {
            std::vector<join_handle<void>> workers;
            for (int w = 0; w < 64; ++w) {
                workers.push_back(spawn(
                    []() -> task<void> {
                        for (int i = 0; i < 20'000; ++i) {
                            // ~0.4 us per poll: more than 5 million events a second on two workers
                            const auto until = clock_type::now() + std::chrono::nanoseconds(300);
                            while (clock_type::now() < until) {
                            }
                            co_await yield_now();
                        }
                    }(),
                    "yielder"));
            }
            for (auto& w : workers) {
                co_await w;
            }
        }(),
        "bench");
    const double elapsed = seconds_since(started);
    rt.trace().flush();
    rt.trace().remove_sink(file);
    const std::uint64_t dropped = rt.trace().dropped();
    rt.shutdown();
    file->close();
    const double events = static_cast<double>(file->events_written());
    print("live_recorded_rate", events / elapsed / 1e6, "Mevents/s");
    print("live_dropped", static_cast<double>(dropped), "events");
    std::filesystem::remove(path);
}

} // namespace

int main(int argc, char** argv) {
    std::size_t events = 10'000'000;
    bool read_only = false; // for profiling the reader and the model alone
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            events = std::stoull(argv[++i]);
        } else if (std::strcmp(argv[i], "--read-only") == 0) {
            read_only = true;
        } else {
            std::fprintf(stderr, "usage: %s [--events N] [--read-only]\n", argv[0]);
            return 2;
        }
    }
    if (read_only) {
        read_speed(events);
        return 0;
    }
    std::printf("# taskscope trace benchmark (targets: <= 4 B/event on disk for HTTP load, "
                ">= 50 Mevents/s into the model, writer >= 5 Mevents/s)\n");
    const auto http = temp_path("http.tstrace");
    http_load_on_disk(http);
    std::filesystem::remove(http);
    read_speed(events);
    live_recording(temp_path("live.tstrace"));
    return 0;
}
