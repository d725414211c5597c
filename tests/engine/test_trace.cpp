#include "taskscope/trace/clock.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;
using trace::event_kind;

namespace {
task<int> value(int v) {
    co_return v;
}

task<int> spawn_some(int n) {
    int sum = 0;
    for (int i = 0; i < n; ++i) {
        sum += co_await spawn(value(i));
    }
    co_return sum;
}
} // namespace

TEST_CASE("the event record is the documented 32-byte layout", "[trace][schema]") {
    STATIC_REQUIRE(sizeof(trace::event) == 32);
    STATIC_REQUIRE(std::is_trivially_copyable_v<trace::event>);
    CHECK(trace::to_string(event_kind::poll_begin) == "poll_begin");
    CHECK(trace::to_string(trace::wake_source::timer) == "timer");
    for (std::size_t k = 0; k < trace::event_kind_count; ++k) {
        CHECK(trace::to_string(static_cast<event_kind>(k)) != "unknown");
    }
}

TEST_CASE("names are interned once and looked up by id", "[trace][names]") {
    const auto a = trace::intern("handle_connection");
    const auto b = trace::intern("handle_connection");
    const auto c = trace::intern("accept_loop");
    CHECK(a == b);
    CHECK(a != c);
    CHECK(trace::name_of(a) == "handle_connection");
    CHECK(trace::name_of(trace::default_task_name) == "task");
    CHECK(trace::name_of(0xffffffffu) == "?");
}

TEST_CASE("every poll is bracketed and the spawn names its parent", "[trace]") {
    testing::traced_runtime t({.workers = 2});
    CHECK(t.rt.block_on(spawn_some(50), "parent") == 49 * 50 / 2);
    const auto events = t.finish();
    const auto parent = testing::task_named(events, "parent");
    REQUIRE(parent != 0);
    int children = 0;
    for (const auto& e : testing::of_kind(events, event_kind::task_spawned)) {
        children += e.arg == parent;
    }
    CHECK(children == 50);
    // On each track polls alternate begin/end for the same task.
    std::map<std::uint16_t, std::uint64_t> open;
    for (const auto& e : events) {
        if (e.kind == event_kind::poll_begin) {
            CHECK(open.count(e.track) == 0);
            open[e.track] = e.task;
        } else if (e.kind == event_kind::poll_end) {
            REQUIRE(open.count(e.track) == 1);
            CHECK(open[e.track] == e.task);
            open.erase(e.track);
        }
    }
    CHECK(open.empty());
    // time is ordered
    for (std::size_t i = 1; i < events.size(); ++i) {
        CHECK(events[i - 1].time_ns <= events[i].time_ns);
    }
    // every worker announced its track
    std::set<std::uint64_t> workers;
    for (const auto& e : testing::of_kind(events, event_kind::track_started)) {
        if (e.detail == static_cast<std::uint8_t>(trace::track_kind::worker)) {
            workers.insert(e.arg);
        }
    }
    CHECK(workers == std::set<std::uint64_t>{0, 1});
}

TEST_CASE("tracing can be switched off and on at run time", "[trace]") {
    trace::trace_options off;
    off.enabled = false;
    testing::traced_runtime t({.workers = 2, .trace = off});
    CHECK(t.rt.block_on(spawn_some(20)) == 190);
    t.rt.trace().flush();
    for (const auto& e : t.sink->events()) {
        CHECK(e.kind == event_kind::track_started); // only the lanes' announcements
    }
    t.rt.trace().set_enabled(true);
    CHECK(t.rt.block_on(spawn_some(20), "later") == 190);
    const auto events = t.finish();
    CHECK(testing::task_named(events, "later") != 0);
    CHECK(testing::of_kind(events, event_kind::poll_begin).size() >= 21);
}

TEST_CASE("a full buffer drops events, counts them and never blocks", "[trace][drops]") {
    trace::trace_options tiny;
    tiny.buffer_events = 64;
    tiny.drain_interval = 60s; // nothing drains until the runtime stops
    testing::traced_runtime t({.workers = 1, .trace = tiny});
    CHECK(t.rt.block_on(spawn_some(500)) == 499 * 500 / 2);
    const auto events = t.finish();
    const auto drops = testing::of_kind(events, event_kind::events_dropped);
    REQUIRE_FALSE(drops.empty());
    std::map<std::uint32_t, std::uint64_t> last_total;
    for (const auto& d : drops) {
        last_total[d.arg2] = d.arg;
    }
    std::uint64_t sum = 0;
    for (const auto& [track, total] : last_total) {
        sum += total;
    }
    CHECK(sum == t.rt.trace().dropped());
    CHECK(sum > 0);
}

TEST_CASE("markers carry a name and a value", "[trace]") {
    testing::traced_runtime t({.workers = 1});
    t.rt.trace().mark("phase sequential", 3);
    const auto events = t.finish();
    const auto markers = testing::of_kind(events, event_kind::marker);
    REQUIRE(markers.size() == 1);
    CHECK(trace::name_of(markers[0].arg2) == "phase sequential");
    CHECK(markers[0].arg == 3);
}

TEST_CASE("the trace clock advances with steady_clock", "[trace][clock]") {
    REQUIRE(trace::calibration().ticks_per_ns > 0.0); // calibrate (about 2 ms) before reading
    const auto a = trace::ticks_to_steady_ns(trace::now_ticks());
    const auto s = trace::steady_now_ns();
    std::this_thread::sleep_for(10ms);
    const auto b = trace::ticks_to_steady_ns(trace::now_ticks());
    CHECK(b > a);
    // within a millisecond of steady_clock (calibration error, not timing of the test)
    CHECK(std::abs(a - s) < 1'000'000);
}

TEST_CASE("a sink added after the threads started still learns every track", "[trace]") {
    runtime rt({.workers = 2});
    std::this_thread::sleep_for(30ms); // the hub has drained the threads' first events
    auto late = std::make_shared<trace::memory_sink>();
    rt.trace().add_sink(late);
    rt.shutdown();
    std::set<std::pair<std::uint8_t, std::uint64_t>> tracks;
    for (const auto& e : testing::of_kind(late->events(), event_kind::track_started)) {
        tracks.emplace(e.detail, e.arg);
    }
    const auto worker = static_cast<std::uint8_t>(trace::track_kind::worker);
    CHECK(tracks.count({worker, 0}) == 1);
    CHECK(tracks.count({worker, 1}) == 1);
}
