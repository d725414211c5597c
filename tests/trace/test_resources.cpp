// Resources in the analysis model (schema 4): holds, waits, depths, lags and their findings,
// from hand-made event sequences and from real runs of the sync primitives.

#include "taskscope/analysis/model.hpp"
#include "taskscope/taskscope.hpp"
#include "taskscope/trace/event_types.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <variant>

namespace {

using namespace taskscope;
using namespace std::chrono_literals;
using analysis::model;
using trace::resource_kind;
using trace::resource_op;
namespace make = trace::make;

constexpr std::uint16_t w0 = 0;
constexpr std::uint16_t w1 = 1;

std::vector<trace::event> two_workers() {
    return {make::track_started(0, w0, trace::track_kind::worker, 0),
            make::track_started(0, w1, trace::track_kind::worker, 1)};
}

} // namespace

TEST_CASE("resources: a contended mutex gives one holder at a time, the waits, the holder "
          "each waiter saw, and the wake's resource",
          "[resources]") {
    const std::uint32_t m = 7;
    auto ev = two_workers();
    const auto add = [&](trace::event e) { ev.push_back(e); };
    add(make::resource_created(10, w0, m, resource_kind::mutex, 0, 1, 1));
    // task 1 locks uncontended, and suspends holding it
    add(make::poll_begin(20, w0, 1));
    add(make::resource_depth(21, w0, 1, m, resource_op::lock, 1));
    add(make::poll_end(30, w0, 1, trace::poll_result::pending));
    // tasks 2 and 3 wait, seeing task 1 as the holder
    add(make::poll_begin(40, w1, 2));
    ev.push_back(make::raw(41, w1, trace::event_kind::resource_wait, 2, 1, m,
                           static_cast<std::uint8_t>(resource_op::lock)));
    add(make::poll_end(42, w1, 2, trace::poll_result::pending));
    add(make::poll_begin(50, w1, 3));
    ev.push_back(make::raw(51, w1, trace::event_kind::resource_wait, 3, 1, m,
                           static_cast<std::uint8_t>(resource_op::lock)));
    add(make::poll_end(52, w1, 3, trace::poll_result::pending));
    // task 1 wakes, unlocks: hands it to task 2
    add(make::poll_begin(20'000'000, w0, 1));
    add(make::resource_released(20'000'010, w0, 1, m, 1));
    add(make::resource_ready(20'000'011, w0, 2, m, resource_op::lock, 19'999'970));
    add(make::wake(20'000'012, w0, 2, 1, trace::wake_source::channel));
    add(make::poll_end(20'000'020, w0, 1, trace::poll_result::ready));
    // task 2 unlocks at once: hands it to task 3, who unlocks with nobody waiting
    add(make::poll_begin(20'000'100, w1, 2));
    add(make::resource_released(20'000'110, w1, 2, m, 1));
    add(make::resource_ready(20'000'111, w1, 3, m, resource_op::lock, 20'000'060));
    add(make::wake(20'000'112, w1, 3, 2, trace::wake_source::channel));
    add(make::poll_end(20'000'120, w1, 2, trace::poll_result::ready));
    add(make::poll_begin(20'000'200, w1, 3));
    add(make::resource_released(20'000'210, w1, 3, m, 0));
    add(make::poll_end(20'000'220, w1, 3, trace::poll_result::ready));

    model mo;
    mo.consume(ev);
    mo.finish();
    const auto* r = mo.resources().find(m);
    REQUIRE(r != nullptr);
    CHECK(r->kind == resource_kind::mutex);
    CHECK(r->announced);
    REQUIRE(r->holds.size() == 3);
    CHECK(r->holds[0].task == 1);
    CHECK(r->holds[0].begin_ns == 21);
    CHECK(r->holds[0].end_ns == 20'000'010);
    CHECK(r->holds[0].across_await);
    CHECK(r->holds[1].task == 2);
    CHECK_FALSE(r->holds[1].across_await);
    CHECK(r->holds[2].task == 3);
    // one holder at a time
    for (std::size_t i = 1; i < r->holds.size(); ++i) {
        CHECK(r->holds[i].begin_ns >= r->holds[i - 1].end_ns);
    }
    REQUIRE(r->waits.size() == 2);
    CHECK(r->waits[0].holder == 1);
    CHECK(r->waits[0].end_ns == 20'000'011);
    CHECK(r->total_waits == 2);
    CHECK(r->waiters_now == 0);
    CHECK(r->longest_wait_ns == 20'000'060);
    CHECK(r->holder_now() == 0);
    // the wakes are the mutex's
    REQUIRE(mo.wakes().size() == 2);
    CHECK(mo.resource_of_wake(0) == m);
    CHECK(mo.resource_of_wake(1) == m);
    // findings: held across an await for 20 ms (threshold 10 ms)
    bool held_finding = false;
    for (const auto& l : mo.lints()) {
        if (l.kind == analysis::lint_kind::lock_held_across_await) {
            held_finding = true;
            CHECK(l.resource == m);
            CHECK(mo.describe(l).find("mutex") != std::string::npos);
        }
    }
    CHECK(held_finding);
}

TEST_CASE("resources: a channel's depth, its full-with-senders finding, and lag counts",
          "[resources]") {
    const std::uint32_t c = 3;
    const std::uint32_t b = 4;
    auto ev = two_workers();
    ev.push_back(make::resource_created(1, w0, c, resource_kind::mpsc, 0, 2));
    ev.push_back(make::resource_created(1, w0, b, resource_kind::broadcast, 0, 16));
    ev.push_back(make::resource_depth(2, w0, 1, c, resource_op::send, 1));
    ev.push_back(make::resource_depth(3, w0, 1, c, resource_op::send, 2));
    ev.push_back(make::resource_wait(4, w0, 1, c, resource_op::send));
    ev.push_back(make::resource_wait(5, w1, 5, c, resource_op::send));
    ev.push_back(make::resource_depth(6, w1, 2, c, resource_op::recv, 2));
    ev.push_back(make::resource_ready(6, w1, 1, c, resource_op::send, 2));
    ev.push_back(make::resource_lagged(7, w0, 9, b, 5));
    ev.push_back(make::resource_lagged(8, w0, 9, b, 3));
    ev.push_back(make::resource_lagged(9, w1, 10, b, 1));
    ev.push_back(make::resource_closed(10, w0, c));
    model mo;
    mo.consume(ev);
    mo.finish();
    const auto* ch = mo.resources().find(c);
    REQUIRE(ch != nullptr);
    CHECK(ch->capacity == 2);
    CHECK(ch->depth == 2);
    CHECK(ch->max_depth == 2);
    REQUIRE(ch->depths.size() == 2); // the receive left it at 2: a repeat is not stored
    CHECK(ch->depths[1].time_ns == 3);
    CHECK(ch->depths[1].depth == 2);
    CHECK(ch->total_waits == 2);
    CHECK(ch->closed);
    const auto* br = mo.resources().find(b);
    REQUIRE(br != nullptr);
    CHECK(br->lag_events == 3);
    CHECK(br->messages_missed == 9);
    CHECK(br->lagged_receivers.size() == 2);
    int full = 0;
    int lagged = 0;
    for (const auto& l : mo.lints()) {
        full += l.kind == analysis::lint_kind::channel_full ? 1 : 0;
        lagged += l.kind == analysis::lint_kind::lagged_receiver ? 1 : 0;
    }
    CHECK(full == 1);   // once per channel
    CHECK(lagged == 2); // once per receiver
}

TEST_CASE("resources: the waiters series counts the tasks waiting after each change, and a "
          "poll's wait is found by its task and time",
          "[resources]") {
    const std::uint32_t m = 7;
    auto ev = two_workers();
    ev.push_back(make::resource_created(10, w0, m, resource_kind::mutex, 0, 1));
    ev.push_back(make::resource_depth(20, w0, 1, m, resource_op::lock, 1));
    ev.push_back(make::raw(41, w1, trace::event_kind::resource_wait, 2, 1, m,
                           static_cast<std::uint8_t>(resource_op::lock)));
    ev.push_back(make::raw(51, w1, trace::event_kind::resource_wait, 3, 1, m,
                           static_cast<std::uint8_t>(resource_op::lock)));
    ev.push_back(make::raw(55, w0, trace::event_kind::resource_wait, 4, 1, m,
                           static_cast<std::uint8_t>(resource_op::lock)));
    ev.push_back(make::resource_released(100, w0, 1, m, 1));
    ev.push_back(make::resource_ready(100, w0, 2, m, resource_op::lock, 59)); // task 2 holds it
    ev.push_back(make::task_cancelled(120, w1, 3));                           // stops waiting
    ev.push_back(make::marker(200, w0, 0));
    model mo;
    mo.consume(ev);
    const auto* r = mo.resources().find(m);
    REQUIRE(r != nullptr);
    const auto points = [&] {
        std::vector<std::pair<std::uint64_t, std::uint32_t>> out;
        for (const auto& p : r->waiters) {
            out.emplace_back(p.time_ns, p.depth);
        }
        return out;
    };
    using points_t = std::vector<std::pair<std::uint64_t, std::uint32_t>>;
    CHECK(points() == points_t{{41, 1}, {51, 2}, {55, 3}, {100, 2}, {120, 1}});
    CHECK(r->waiters_now == 1);
    // The end of the file closes the last wait.
    mo.finish();
    CHECK(points() == points_t{{41, 1}, {51, 2}, {55, 3}, {100, 2}, {120, 1}, {200, 0}});
    CHECK(r->waiters_now == 0);

    // The wait task 3 began at 51, found from a poll around it; none in a poll before it.
    const auto found = mo.resources().wait_begun_by(3, 50, 52);
    REQUIRE(found);
    CHECK(found->resource == m);
    CHECK(r->waits[found->index].task == 3);
    CHECK(r->waits[found->index].holder == 1);
    CHECK_FALSE(mo.resources().wait_begun_by(3, 52, 60));
    CHECK_FALSE(mo.resources().wait_begun_by(9, 0, 1000)); // a task that never waited
    const auto fourth = mo.resources().wait_begun_by(4, 0, 1000);
    REQUIRE(fourth);
    CHECK(r->waits[fourth->index].begin_ns == 55);
}

TEST_CASE("resources: a late event from another thread takes its place among the holds and "
          "the depths",
          "[resources]") {
    // Task 2 locks on worker 1 at 12; worker 0's buffer, drained later, says task 1 held the
    // mutex from 10 to 11. Task 2's hold is still open when task 1's is put before it.
    const std::uint32_t m = 7;
    auto ev = two_workers();
    ev.push_back(make::resource_created(1, w1, m, resource_kind::mutex, 0, 1));
    ev.push_back(make::resource_depth(12, w1, 2, m, resource_op::lock, 1));
    ev.push_back(make::resource_depth(10, w0, 1, m, resource_op::lock, 1));
    ev.push_back(make::resource_released(11, w0, 1, m, 0));
    ev.push_back(make::resource_released(13, w1, 2, m, 0));
    model mo;
    mo.consume(ev);
    mo.finish();
    const auto* r = mo.resources().find(m);
    REQUIRE(r != nullptr);
    REQUIRE(r->holds.size() == 2);
    CHECK(r->holds[0].task == 1);
    CHECK(r->holds[0].begin_ns == 10);
    CHECK(r->holds[0].end_ns == 11);
    CHECK(r->holds[1].task == 2);
    CHECK(r->holds[1].begin_ns == 12);
    CHECK(r->holds[1].end_ns == 13); // its release found it where it moved to
    REQUIRE(r->depths.size() == 4);
    for (std::size_t i = 0; i < r->depths.size(); ++i) {
        CHECK(r->depths[i].time_ns == 10 + i);
        CHECK(r->depths[i].depth == (i % 2 == 0 ? 1u : 0u));
    }
    CHECK(r->longest_hold_ns == 1);
    // The holds overlapping a time range, by binary search.
    CHECK(r->holds_overlapping(12, 12) == std::pair<std::size_t, std::size_t>{1, 2});
    CHECK(r->holds_overlapping(0, 5) == std::pair<std::size_t, std::size_t>{0, 0});
}

TEST_CASE("resources: a resource first seen without its creation still gets a row - a waiter "
          "cancelled while waiting stops counting as waiting",
          "[resources]") {
    auto ev = two_workers();
    ev.push_back(make::resource_wait(5, w0, 4, 99, resource_op::acquire));
    ev.push_back(make::task_cancelled(9, w0, 4));
    model mo;
    mo.consume(ev);
    mo.finish();
    const auto* r = mo.resources().find(99);
    REQUIRE(r != nullptr);
    CHECK_FALSE(r->announced);
    CHECK(r->waiters_now == 0);
    REQUIRE(r->waits.size() == 1);
    CHECK(r->waits[0].end_ns == 9);
    CHECK(mo.resource_label(99) == "resource #99"); // its kind and name were never recorded
}

TEST_CASE("resources: a real run of a mutex contended by four tasks shows one holder at a "
          "time and four waits",
          "[resources]") {
    auto sink = std::make_shared<trace::memory_sink>();
    runtime rt({.workers = 2});
    rt.trace().add_sink(sink);
    async_mutex<int> m(0, "contended");
    auto locker = [&]() -> task<void> {
        auto g = co_await m.lock();
        co_await sleep_for(1ms);
        ++*g;
    };
    auto root = [&]() -> task<void> {
        auto first = co_await m.lock();
        std::vector<join_handle<void>> hs;
        for (int i = 0; i < 4; ++i) {
            hs.push_back(spawn(locker(), "locker"));
        }
        while (m.waiting() < 4) {
            co_await yield_now();
        }
        first.unlock();
        for (auto& h : hs) {
            co_await h;
        }
    };
    rt.block_on(root(), "root");
    rt.shutdown();
    rt.trace().flush();
    REQUIRE(rt.trace().dropped() == 0);
    model mo;
    mo.use_process_names();
    mo.consume(sink->events());
    mo.finish();
    const auto* r = mo.resources().find(m.resource_id());
    REQUIRE(r != nullptr);
    CHECK(mo.name(r->name) == "contended");
    CHECK(r->total_waits == 4);
    CHECK(r->holds.size() == 5);
    for (std::size_t i = 1; i < r->holds.size(); ++i) {
        CHECK(r->holds[i].begin_ns >= r->holds[i - 1].end_ns);
    }
    CHECK(r->waiters_now == 0);
    std::size_t channel_wakes = 0;
    for (std::size_t i = 0; i < mo.wakes().size(); ++i) {
        channel_wakes += mo.resource_of_wake(i) == m.resource_id() ? 1u : 0u;
    }
    CHECK(channel_wakes == 4);
}

TEST_CASE("resources: two plain threads waiting at once (task 0) each keep their own wait, "
          "and a thread's long wait is no finding",
          "[resources]") {
    // An executor loop in blocking_recv and a main thread waiting for a report: neither is
    // a task, both record task 0, each on its own track.
    const std::uint32_t ready = 3;
    const std::uint32_t reports = 4;
    constexpr std::uint16_t loop = 2;
    constexpr std::uint16_t main = 3;
    auto ev = two_workers();
    ev.push_back(make::track_started(0, loop, trace::track_kind::executor, 0));
    ev.push_back(make::track_started(0, main, trace::track_kind::external, 0));
    ev.push_back(
        make::resource_created(1, loop, ready, resource_kind::mpsc, 0, trace::unbounded_capacity));
    ev.push_back(make::resource_created(1, main, reports, resource_kind::mpsc, 0,
                                        trace::unbounded_capacity));
    ev.push_back(make::resource_wait(10, loop, 0, ready, resource_op::recv));
    ev.push_back(make::resource_wait(20, main, 0, reports, resource_op::recv));
    ev.push_back(make::resource_ready(300'000'010, loop, 0, ready, resource_op::recv, 300'000'000));
    ev.push_back(
        make::resource_ready(400'000'020, main, 0, reports, resource_op::recv, 400'000'000));
    model m;
    m.consume(ev);
    for (const std::uint32_t id : {ready, reports}) {
        const auto* r = m.resources().find(id);
        REQUIRE(r != nullptr);
        CHECK(r->waiters_now == 0);
        REQUIRE(r->waits.size() == 1);
        CHECK(r->waits[0].end_ns != analysis::resource_open_end);
    }
    CHECK(m.resources().find(ready)->waits[0].end_ns == 300'000'010);
    CHECK(m.resources().find(reports)->waits[0].end_ns == 400'000'020);
    for (const auto& l : m.lints()) {
        CHECK(l.kind != analysis::lint_kind::long_resource_wait);
    }
}
