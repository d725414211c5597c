// Issue 17: a program serves its trace to viewers that attach (taskscope/trace_server.hpp),
// read with the same decoder as files.
#include "taskscope/trace/dropped_tally.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "taskscope/trace_server.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <set>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;
using trace::event_kind;

namespace {

task<int> leaf(int v) {
    co_await yield_now();
    co_return v;
}

task<int> spawn_leaves(int n, std::string_view name) {
    int sum = 0;
    for (int i = 0; i < n; ++i) {
        sum += co_await spawn(leaf(i), name);
    }
    co_return sum;
}

runtime_options served(std::size_t workers = 2) {
    runtime_options o{.workers = workers};
    o.trace.listen = "127.0.0.1:0";
    return o;
}

/// Bytes from memory: a recorded stream, replayed (whole or cut).
class memory_source final : public trace::byte_source {
public:
    explicit memory_source(std::vector<unsigned char> bytes) : m_bytes(std::move(bytes)) {}
    std::size_t read(void* data, std::size_t size) override {
        const std::size_t n = std::min(size, m_bytes.size() - m_at);
        std::memcpy(data, m_bytes.data() + m_at, n);
        m_at += n;
        return n;
    }
    [[nodiscard]] bool is_stream() const noexcept override { return true; }

private:
    std::vector<unsigned char> m_bytes;
    std::size_t m_at = 0;
};

/// Everything a viewer reads until the program's stream ends.
struct viewed {
    trace::run_info info;
    std::vector<trace::event> events;
    std::vector<std::string> names;
    trace::read_report report;
};

viewed view_all(trace::file_reader& reader) {
    viewed v;
    v.info = reader.info();
    std::vector<trace::event> chunk;
    while (reader.next(chunk)) {
        v.events.insert(v.events.end(), chunk.begin(), chunk.end());
    }
    v.names = reader.names();
    v.report = reader.report();
    return v;
}

std::string name_of(const viewed& v, std::uint32_t id) {
    return id < v.names.size() ? v.names[id] : std::string("?");
}

} // namespace

TEST_CASE("a viewer attached to a runtime serving its trace gets every event and the end",
          "[trace][serve]") {
    auto rt = std::make_unique<runtime>(served());
    REQUIRE(rt->served_trace() != nullptr);
    const std::string address = rt->served_trace()->address();
    auto memory = std::make_shared<trace::memory_sink>();
    rt->trace().add_sink(memory);

    trace::file_reader reader(std::make_unique<trace_stream_source>(address), address);
    CHECK(reader.info().pid != 0);
    CHECK(reader.info().workers == 2);
    viewed seen;
    std::thread viewer([&] { seen = view_all(reader); });
    CHECK(rt->block_on(spawn_leaves(200, "served_leaf"), "served_root") == 19900);
    rt->shutdown(); // the end record tells the viewer the program ended
    viewer.join();

    CHECK(seen.report.complete);
    CHECK(seen.report.warning.empty());
    std::size_t spawns = 0;
    std::set<std::string> names;
    for (const trace::event& e : seen.events) {
        if (e.kind == event_kind::task_spawned) {
            ++spawns;
            names.insert(name_of(seen, trace::task_spawned_view::from(e).name));
        }
    }
    CHECK(spawns == 201); // the root and its 200 leaves
    CHECK(names.count("served_leaf") == 1);
    CHECK(names.count("served_root") == 1);
    // Connected before the first task: the viewer saw what the program's own sink saw.
    std::size_t memory_spawns = 0;
    for (const trace::event& e : memory->events()) {
        memory_spawns += e.kind == event_kind::task_spawned ? 1 : 0;
    }
    CHECK(memory_spawns == spawns);
}

TEST_CASE("a viewer that attaches late first learns the tracks and names so far",
          "[trace][serve]") {
    runtime rt(served());
    const std::string address = rt.served_trace()->address();
    // Named before the viewer comes: the name must still reach it.
    auto early = rt.block_on(spawn_leaves(20, "named_before_attach"), "early");
    CHECK(early == 190);
    rt.trace().flush();
    std::this_thread::sleep_for(200ms); // past a chunk's age: that chunk went to nobody

    trace::file_reader reader(std::make_unique<trace_stream_source>(address), address);
    viewed seen;
    std::thread viewer([&] { seen = view_all(reader); });
    while (rt.served_trace()->viewers() == 0) {
        std::this_thread::sleep_for(1ms);
    }
    CHECK(rt.block_on(spawn_leaves(20, "named_before_attach"), "late") == 190);
    rt.shutdown();
    viewer.join();

    REQUIRE(seen.report.complete);
    std::set<std::uint32_t> worker_tracks;
    std::uint64_t first_time = UINT64_MAX;
    for (const trace::event& e : seen.events) {
        first_time = std::min(first_time, e.time_ns);
        if (e.kind == event_kind::track_started &&
            static_cast<trace::track_kind>(e.detail) == trace::track_kind::worker) {
            worker_tracks.insert(e.track);
        }
    }
    CHECK(worker_tracks.size() == 2);
    bool late_spawn_named = false;
    for (const trace::event& e : seen.events) {
        if (e.kind == event_kind::task_spawned &&
            name_of(seen, trace::task_spawned_view::from(e).name) == "named_before_attach") {
            late_spawn_named = true;
        }
        // The tracks it was told of start where its view starts, not before.
        if (e.kind == event_kind::track_started) {
            CHECK(e.time_ns == first_time);
        }
    }
    CHECK(late_spawn_named);
}

TEST_CASE("a viewer that stops reading costs the program nothing and is told what it missed",
          "[trace][serve]") {
    runtime rt({.workers = 1});
    // A server of its own with a small backlog: once the socket buffers are full, chunks
    // are missed at once.
    auto server = std::make_shared<trace_server>(
        trace::run_info_for(rt, rt.options(), "slow viewer"),
        trace_server_options{.address = "127.0.0.1:0", .viewer_backlog_bytes = 64 * 1024});
    rt.trace().add_sink(server);
    const std::string address = server->address();
    auto source = std::make_unique<trace_stream_source>(address);
    // Connected, but nobody reads until the program has run well past what buffers hold.
    while (server->viewers() == 0) {
        std::this_thread::sleep_for(1ms);
    }
    const auto started = std::chrono::steady_clock::now();
    int rounds = 0;
    while (server->missed_by_viewers() == 0 && std::chrono::steady_clock::now() - started < 60s) {
        CHECK(rt.block_on(spawn_leaves(20000, "busy"), "round") == 199990000);
        rt.trace().flush();
        std::this_thread::sleep_for(20ms);
        ++rounds;
    }
    const std::uint64_t missed = server->missed_by_viewers();
    INFO("rounds of 20,000 tasks before a chunk was missed: " << rounds);
    REQUIRE(missed > 0);

    // Now it reads: what it got plus what it was told it missed is everything sent.
    trace::file_reader reader(std::move(source), address);
    viewed seen;
    std::thread viewer([&] { seen = view_all(reader); });
    rt.shutdown();
    rt.trace().flush();
    rt.trace().remove_sink(server);
    server->close();
    viewer.join();
    REQUIRE(seen.report.complete);
    trace::dropped_tally told;
    for (const trace::event& e : seen.events) {
        told.add(e);
    }
    // Chunks may still be missed while it starts reading (shutdown flushes more): count
    // what the server says once it has closed.
    CHECK(server->missed_by_viewers() >= missed);
    CHECK(told.total() == server->missed_by_viewers() + rt.trace().dropped());
}

TEST_CASE("a stream cut at any chunk boundary, or inside a chunk, reads up to the cut",
          "[trace][serve]") {
    // Record a stream's raw bytes.
    std::vector<unsigned char> bytes;
    {
        runtime rt(served());
        const std::string address = rt.served_trace()->address();
        trace_stream_source source(address);
        std::thread viewer([&] {
            unsigned char buffer[4096];
            std::size_t n = 0;
            while ((n = source.read(buffer, sizeof buffer)) > 0) {
                bytes.insert(bytes.end(), buffer, buffer + n);
            }
        });
        while (rt.served_trace()->viewers() == 0) {
            std::this_thread::sleep_for(1ms);
        }
        for (int i = 0; i < 5; ++i) {
            (void)rt.block_on(spawn_leaves(300, "cut"), "cut_root");
            rt.trace().flush();
            std::this_thread::sleep_for(120ms); // a chunk each
        }
        rt.shutdown();
        viewer.join();
    }
    trace::file_reader whole(std::make_unique<memory_source>(bytes), "whole");
    const viewed all = view_all(whole);
    REQUIRE(all.report.complete);
    REQUIRE(all.report.chunks >= 3);

    // Cut at 300 places through the bytes: between chunks (a program killed there), inside
    // one (killed mid-write), inside the header.
    std::size_t events_before = 0;
    for (std::size_t cut = 1; cut < bytes.size();
         cut += std::max<std::size_t>(1, bytes.size() / 300)) {
        std::vector<unsigned char> prefix(bytes.begin(),
                                          bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        std::unique_ptr<trace::file_reader> reader;
        try {
            reader = std::make_unique<trace::file_reader>(std::make_unique<memory_source>(prefix),
                                                          "cut stream");
        } catch (const trace::file_error& e) {
            // Only a cut inside the header refuses the stream.
            CHECK(std::string(e.what()).find("cut stream") != std::string::npos);
            continue;
        }
        const viewed part = view_all(*reader);
        CHECK_FALSE(part.report.complete);
        CHECK_FALSE(part.report.warning.empty());
        CHECK(part.events.size() <= all.events.size());
        CHECK(part.events.size() >= events_before); // a longer prefix never reads less
        events_before = part.events.size();
        for (std::size_t i = 0; i < part.events.size(); ++i) {
            if (part.events[i].time_ns != all.events[i].time_ns ||
                part.events[i].kind != all.events[i].kind) {
                FAIL("the cut stream's event " << i << " differs from the whole stream's");
            }
        }
    }
}

TEST_CASE("attaching to nothing, or to something that is not a trace stream, says so",
          "[trace][serve]") {
    // A port nobody listens on (one that was free a moment ago).
    std::uint16_t port = 0;
    {
        sys::network_session net;
        const auto any = sys::parse_address("127.0.0.1", 0);
        const sys::socket_t s = sys::listen_at(*any, 1, port);
        REQUIRE(s != sys::invalid_socket);
        sys::close_socket(s);
    }
    const std::string nobody = "127.0.0.1:" + std::to_string(port);
    try {
        trace_stream_source source(nobody, 2s);
        FAIL("connected to a closed port");
    } catch (const trace::file_error& e) {
        const std::string text = e.what();
        CHECK(text.find("cannot connect to " + nobody) != std::string::npos);
        CHECK(text.find("connection refused (is the program running with TASKSCOPE_LISTEN set?)") !=
              std::string::npos);
    }
    CHECK_THROWS_WITH(trace_stream_source("not an address"), Catch::Contains("is not HOST:PORT"));

    // Something that answers like a web server.
    sys::network_session net;
    const auto any = sys::parse_address("127.0.0.1", 0);
    std::uint16_t http_port = 0;
    const sys::socket_t listener = sys::listen_at(*any, 1, http_port);
    REQUIRE(listener != sys::invalid_socket);
    std::thread fake([&] {
        if (sys::wait_ready(listener, false, 5000) == 1) {
            const sys::socket_t c = sys::accept_connection(listener);
            const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
            (void)sys::wait_ready(c, true, 1000);
            (void)sys::send_some(c, reply, sizeof reply - 1);
            std::this_thread::sleep_for(100ms);
            sys::close_socket(c);
        }
    });
    const std::string web = "127.0.0.1:" + std::to_string(http_port);
    CHECK_THROWS_WITH(trace::file_reader(std::make_unique<trace_stream_source>(web), web),
                      web + " is not a taskscope trace stream");
    fake.join();
    sys::close_socket(listener);

    // A bad address given in the options is the caller's mistake: refused at once.
    runtime_options bad{.workers = 1};
    bad.trace.listen = "localhost";
    CHECK_THROWS_WITH(runtime(bad), Catch::Contains("'localhost' is not HOST:PORT"));
}

TEST_CASE("a port that accepts and says nothing is given up on, and a stop ends the wait",
          "[trace][serve]") {
    sys::network_session net;
    std::uint16_t port = 0;
    const sys::socket_t listener = sys::listen_at(*sys::parse_address("127.0.0.1", 0), 4, port);
    REQUIRE(listener != sys::invalid_socket);
    const std::string silent = "127.0.0.1:" + std::to_string(port);
    // The kernel accepts for the listener; nobody ever writes.
    CHECK_THROWS_WITH(
        trace::file_reader(std::make_unique<trace_stream_source>(silent, 300ms), silent),
        silent + " is not a taskscope trace stream (it accepted the connection but sent "
                 "nothing within 300 ms)");

    auto stop = std::make_shared<std::atomic<bool>>(false);
    std::thread stopper([stop] {
        std::this_thread::sleep_for(100ms);
        stop->store(true);
    });
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(
        trace::file_reader(std::make_unique<trace_stream_source>(silent, 60s, stop), silent),
        silent + ": stopped");
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - started < 30s); // not the 60 s timeout
    sys::close_socket(listener);
}
