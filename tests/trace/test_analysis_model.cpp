// The analysis model: hand-built event sequences in, every derived number checked exactly.
// Lanes, polls, task lifetimes, wake and steal links, queue depths, spans, requests and
// their percentiles, lints, names, dropped events, finish() and damaged input.

#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace taskscope;
using analysis::model;
using analysis::no_task;
using analysis::open_end;
using analysis::task_state;
using trace::event;
using trace::event_kind;
using trace::poll_result;
using trace::track_kind;
using trace::wake_source;

// ---- building events: the makers of trace/event_types.hpp ------------------------------

namespace make = trace::make;

void feed(model& m, const std::vector<event>& events) {
    m.consume(events);
}

const analysis::task_info& task_of(const model& m, std::uint64_t id) {
    const analysis::task_ref ref = m.find_task(id);
    REQUIRE(ref != no_task);
    return m.tasks()[ref];
}

std::size_t source_index(wake_source s) {
    return static_cast<std::size_t>(s);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

// ---- lanes -----------------------------------------------------------------------------

TEST_CASE("track_started names lanes and maps worker indices", "[analysis]") {
    model m;
    feed(m,
         {
             make::track_started(10, 0, track_kind::worker, 0),
             make::track_started(11, 1, track_kind::worker, 1),
             make::track_started(12, 2, track_kind::blocking, 0),
             make::track_started(13, 3, track_kind::driver, 0),
             make::track_started(14, 7, track_kind::worker, 3),
             make::raw(20, 5, event_kind::marker, 0, 1, 0), // a thread that never announced itself
         });

    const auto& lanes = m.lanes();
    REQUIRE(lanes.size() == 8);
    CHECK(lanes[0].kind == track_kind::worker);
    CHECK(lanes[0].index == 0);
    CHECK(lanes[0].announced);
    CHECK(lanes[0].label() == "worker 0");
    CHECK(lanes[1].label() == "worker 1");
    CHECK(lanes[1].index == 1);
    CHECK(lanes[2].kind == track_kind::blocking);
    CHECK(lanes[2].label() == "blocking pool 0");
    CHECK(lanes[3].kind == track_kind::driver);
    CHECK(lanes[3].label() == "driver 0");
    CHECK_FALSE(lanes[4].announced);
    CHECK_FALSE(lanes[5].announced);
    CHECK(lanes[5].kind == track_kind::external);
    CHECK(lanes[5].label() == "outside thread 0");
    CHECK(lanes[7].label() == "worker 3");

    CHECK(m.worker_lane(0) == 0);
    CHECK(m.worker_lane(1) == 1);
    CHECK(m.worker_lane(2) == -1); // a hole between worker 1 and worker 3
    CHECK(m.worker_lane(3) == 7);
    CHECK(m.worker_lane(4) == -1);
    CHECK(m.worker_lane(1'000'000) == -1);

    CHECK(m.event_count() == 6);
    CHECK(m.events_of(event_kind::track_started) == 5);
    CHECK(m.events_of(event_kind::marker) == 1);
    CHECK(m.first_ns() == 10);
    CHECK(m.last_ns() == 20);
    CHECK(m.duration_ns() == 10);
}

TEST_CASE("an empty model reports zeros", "[analysis]") {
    model m;
    m.finish();
    CHECK(m.lanes().empty());
    CHECK(m.tasks().empty());
    CHECK(m.event_count() == 0);
    CHECK(m.first_ns() == 0);
    CHECK(m.last_ns() == 0);
    CHECK(m.duration_ns() == 0);
    CHECK(m.poll_count() == 0);
    CHECK(m.dropped() == 0);
    CHECK(m.blocking_jobs() == 0);
    CHECK(m.find_task(1) == no_task);
    CHECK(m.worker_lane(0) == -1);
    CHECK_FALSE(m.has_client_requests());
    const auto latency = m.request_latency();
    CHECK(latency.count == 0);
    CHECK(latency.p50_ns == 0);
    CHECK(latency.max_ns == 0);
}

// ---- polls and task lifetimes ----------------------------------------------------------

TEST_CASE("polls become spans and a task's time splits into scheduled, busy and idle",
          "[analysis]") {
    model m;
    feed(m,
         {make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(100, 0, 1, 0, 0)});
    const analysis::task_ref ref = m.find_task(1);
    REQUIRE(ref == 0);
    {
        const auto& t = m.tasks()[ref];
        CHECK(t.id == 1);
        CHECK(t.parent == 0);
        CHECK(t.state == task_state::scheduled);
        CHECK(t.spawned_ns == 100);
        CHECK(t.state_since_ns == 100);
        CHECK(t.ended_ns == open_end);
        CHECK(t.scheduled_until(150) == 50);
        CHECK(t.busy_until(150) == 0);
        CHECK(t.idle_until(150) == 0);
    }

    feed(m, {make::poll_begin(200, 0, 1)});
    {
        const auto& t = m.tasks()[ref];
        CHECK(t.state == task_state::running);
        CHECK(t.scheduled_ns == 100);
        CHECK(t.open_poll.valid());
        CHECK(t.open_poll.lane == 0);
        CHECK(t.open_poll.index == 0);
        CHECK(t.busy_until(230) == 30);
        CHECK(t.scheduled_until(230) == 100);
        CHECK(t.idle_until(230) == 0);
        REQUIRE(m.lanes()[0].polls.size() == 1);
        const auto& p = m.lanes()[0].polls[0];
        CHECK(p.end_ns == open_end);
        CHECK(p.duration_ns(260) == 60);
        CHECK(m.lanes()[0].busy_ns == 0); // only closed polls count
    }

    feed(m, {make::poll_end(250, 0, 1, poll_result::pending)});
    {
        const auto& t = m.tasks()[ref];
        CHECK(t.state == task_state::idle);
        CHECK(t.state_since_ns == 250);
        CHECK_FALSE(t.open_poll.valid());
        CHECK(t.busy_ns == 50);
        CHECK(t.idle_until(290) == 40);
        CHECK(t.idle_until(240) == 0); // `now` before the state began adds nothing
        CHECK(t.busy_until(290) == 50);
        CHECK(t.scheduled_until(290) == 100);
    }

    feed(m, {make::wake(300, 1, 1, 0, wake_source::external)});
    {
        const auto& t = m.tasks()[ref];
        CHECK(t.state == task_state::scheduled);
        CHECK(t.idle_ns == 50);
        CHECK(t.state_since_ns == 300);
    }

    feed(m, {make::poll_begin(400, 0, 1), make::poll_end(480, 0, 1, poll_result::ready)});

    const auto& polls = m.lanes()[0].polls;
    REQUIRE(polls.size() == 2);
    CHECK(polls[0].begin_ns == 200);
    CHECK(polls[0].end_ns == 250);
    CHECK(polls[0].task == ref);
    CHECK(polls[0].lane == 0);
    CHECK(polls[0].result == poll_result::pending);
    CHECK(polls[0].flags == 0);
    CHECK(polls[0].duration_ns(999) == 50);
    CHECK(polls[1].begin_ns == 400);
    CHECK(polls[1].end_ns == 480);
    CHECK(polls[1].task == ref);
    CHECK(polls[1].result == poll_result::ready);
    CHECK(polls[1].flags == 0);
    CHECK(m.lanes()[0].busy_ns == 130);
    CHECK(m.poll_count() == 2);
    CHECK(m.events_of(event_kind::poll_begin) == 2);
    CHECK(m.events_of(event_kind::poll_end) == 2);

    const auto& t = m.tasks()[ref];
    CHECK(t.state == task_state::done);
    CHECK(t.ended_ns == 480);
    CHECK(t.state_since_ns == 480);
    CHECK(t.polls == 2);
    CHECK(t.busy_ns == 130);
    CHECK(t.scheduled_ns == 200); // 100..200 and 300..400
    CHECK(t.idle_ns == 50);       // 250..300
    CHECK(t.longest_poll_ns == 80);
    CHECK(t.wakes[source_index(wake_source::external)] == 1);
    CHECK(t.total_wakes() == 1);
    CHECK(t.self_wake_polls == 0);
    // A finished task accumulates nothing more.
    CHECK(t.busy_until(10'000) == 130);
    CHECK(t.scheduled_until(10'000) == 200);
    CHECK(t.idle_until(10'000) == 50);
    CHECK(m.wakes_by_source()[source_index(wake_source::external)] == 1);
    CHECK(m.lints().empty());
}

TEST_CASE("spawn records parent and name and a thrown poll ends the task", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::task_spawned(10, 0, 20, 0, 3),
                make::task_spawned(15, 0, 21, 20, 4),
                make::poll_begin(30, 0, 21),
                make::poll_end(35, 0, 21, poll_result::threw),
            });
    const auto& parent = task_of(m, 20);
    CHECK(parent.parent == 0);
    CHECK(parent.name == 3);
    CHECK(parent.spawned_ns == 10);
    const auto& child = task_of(m, 21);
    CHECK(child.parent == 20);
    CHECK(child.name == 4);
    CHECK(child.spawned_ns == 15);
    CHECK(child.state == task_state::done);
    CHECK(child.ended_ns == 35);
    CHECK(child.scheduled_ns == 15);
    REQUIRE(m.lanes()[0].polls.size() == 1);
    CHECK(m.lanes()[0].polls[0].result == poll_result::threw);
    CHECK(to_string(task_state::done) == "done");
    CHECK(to_string(task_state::idle) == "idle");
}

TEST_CASE("a task woken during its poll goes back to scheduled, not idle", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::track_started(0, 1, track_kind::worker, 1),
                make::task_spawned(0, 0, 1),
                make::task_spawned(0, 0, 2),
                make::poll_begin(100, 0, 1),
                make::poll_begin(105, 1, 2),
                make::wake(120, 1, 1, 2, wake_source::channel), // task 2 wakes running task 1
                make::poll_end(130, 1, 2, poll_result::pending),
                make::poll_end(150, 0, 1, poll_result::pending),
            });
    {
        const auto& t = task_of(m, 1);
        CHECK(t.state == task_state::scheduled);
        CHECK(t.state_since_ns == 150);
        CHECK(t.woken_while_running);
        CHECK(t.idle_ns == 0);
        CHECK(t.wakes[source_index(wake_source::channel)] == 1);
        // Woken by another task: not a self wake.
        REQUIRE(m.lanes()[0].polls.size() == 1);
        CHECK(m.lanes()[0].polls[0].flags == 0);
        CHECK(t.self_wake_polls == 0);
        CHECK(task_of(m, 2).state == task_state::idle);
    }
    feed(m, {make::poll_begin(170, 1, 1), make::poll_end(180, 1, 1, poll_result::pending)});
    const auto& t = task_of(m, 1);
    CHECK(t.scheduled_ns == 100 + 20); // spawn..first poll, then 150..170
    CHECK(t.idle_ns == 0);
    CHECK(t.busy_ns == 50 + 10);
    CHECK(t.polls == 2);
    CHECK(t.state == task_state::idle); // not woken during the second poll
    CHECK_FALSE(t.woken_while_running);
    CHECK(t.longest_poll_ns == 50);
    // The wake links to the poll after the one it interrupted: lane 1, index 1.
    REQUIRE(m.wakes().size() == 1);
    CHECK(m.wakes()[0].caused.valid());
    CHECK(m.wakes()[0].caused.lane == 1);
    CHECK(m.wakes()[0].caused.index == 1);
}

TEST_CASE("poll flags: blocked and woke_self", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::task_spawned(0, 0, 1),
                make::task_spawned(0, 0, 2),
                // Task 1 blocks its thread inside a poll.
                make::poll_begin(10, 0, 1),
                make::raw(12, 0, event_kind::block_begin, 1, 500),
                make::raw(17, 0, event_kind::block_end, 1),
                make::poll_end(20, 0, 1, poll_result::pending),
                // A block outside any poll flags nothing.
                make::raw(25, 0, event_kind::block_begin, 2, 7),
                make::raw(26, 0, event_kind::block_end, 2),
                // Task 2 wakes itself.
                make::poll_begin(30, 0, 2),
                make::wake(32, 0, 2, 2, wake_source::self),
                make::poll_end(40, 0, 2, poll_result::pending),
                // Task 2 yields: woken during the poll, but not a self wake.
                make::poll_begin(50, 0, 2),
                make::wake(52, 0, 2, 2, wake_source::yield),
                make::poll_end(60, 0, 2, poll_result::pending),
            });
    const auto& lane = m.lanes()[0];
    REQUIRE(lane.polls.size() == 3);
    CHECK(lane.polls[0].flags == analysis::poll_flags::blocked);
    CHECK(lane.polls[1].flags == analysis::poll_flags::woke_self);
    CHECK(lane.polls[2].flags == 0);
    CHECK(lane.busy_ns == 30);

    REQUIRE(lane.blocks.size() == 2);
    CHECK(lane.blocks[0].begin_ns == 12);
    CHECK(lane.blocks[0].end_ns == 17);
    CHECK(lane.blocks[0].subject == 1);
    CHECK(lane.blocks[0].value == 500);
    CHECK(lane.blocks[1].begin_ns == 25);
    CHECK(lane.blocks[1].end_ns == 26);
    CHECK(lane.blocks[1].subject == 2);
    CHECK(lane.blocks[1].value == 7);

    const auto& t2 = task_of(m, 2);
    CHECK(t2.self_wake_polls == 1);
    CHECK(t2.polls == 2);
    CHECK(t2.wakes[source_index(wake_source::self)] == 1);
    CHECK(t2.wakes[source_index(wake_source::yield)] == 1);
    CHECK(t2.total_wakes() == 2);
    CHECK(t2.state == task_state::scheduled); // yielded: runnable again
    CHECK(t2.scheduled_ns == 30 + 10);        // 0..30, 40..50
    CHECK(t2.idle_ns == 0);
    const auto by = m.wakes_by_source();
    CHECK(by[source_index(wake_source::self)] == 1);
    CHECK(by[source_index(wake_source::yield)] == 1);
    CHECK(by[source_index(wake_source::task)] == 0);
}

TEST_CASE("a cancelled task ends in the cancelled state", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::task_spawned(10, 0, 2),
                make::poll_begin(20, 0, 2),
                make::poll_end(30, 0, 2, poll_result::pending),
                make::raw(50, 0, event_kind::task_cancelled, 2),
            });
    const auto& t = task_of(m, 2);
    CHECK(t.state == task_state::cancelled);
    CHECK(t.ended_ns == 50);
    CHECK(t.idle_ns == 20);
    CHECK(t.scheduled_ns == 10);
    CHECK(t.busy_ns == 10);
    CHECK(t.idle_until(1000) == 20);
    CHECK(to_string(task_state::cancelled) == "cancelled");

    // A wake after the end is counted but links to nothing and changes nothing.
    feed(m, {make::wake(60, 0, 2, 0, wake_source::timer)});
    const auto& after = task_of(m, 2);
    CHECK(after.state == task_state::cancelled);
    CHECK(after.wakes[source_index(wake_source::timer)] == 1);
    CHECK(after.pending_wake == std::numeric_limits<std::uint32_t>::max());
    REQUIRE(m.wakes().size() == 1);
    CHECK_FALSE(m.wakes()[0].caused.valid());
}

// ---- wake links ------------------------------------------------------------------------

TEST_CASE("wake links name the waker and point at the woken task's next poll", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::track_started(0, 1, track_kind::worker, 1), make::task_spawned(0, 0, 1, 0, 0),
                make::task_spawned(0, 0, 2, 1, 0), make::poll_begin(10, 1, 2),
                make::poll_end(20, 1, 2, poll_result::pending), make::poll_begin(30, 0, 1),
                make::wake(40, 0, 2, 1, wake_source::task),    // the first wake since task 2's poll
                make::wake(50, 0, 2, 1, wake_source::channel), // a second one: not linked
            });
    REQUIRE(m.wakes().size() == 2);
    CHECK_FALSE(m.wakes()[0].caused.valid()); // task 2 has not run yet
    CHECK(task_of(m, 2).state == task_state::scheduled);

    feed(m, {
                make::poll_end(60, 0, 1, poll_result::ready), make::poll_begin(70, 1, 2),
                make::poll_end(80, 1, 2, poll_result::ready),
                make::wake(90, 0, 3, 999, wake_source::task), // waker never seen; woken never seen
                make::wake(95, 0, 3, 0, wake_source::timer),  // no waker
            });

    const auto& w = m.wakes();
    REQUIRE(w.size() == 4);
    CHECK(w[0].time_ns == 40);
    CHECK(w[0].woken == m.find_task(2));
    CHECK(w[0].waker == m.find_task(1));
    CHECK(w[0].from_lane == 0);
    CHECK(w[0].source == wake_source::task);
    REQUIRE(w[0].caused.valid());
    CHECK(w[0].caused.lane == 1);
    CHECK(w[0].caused.index == 1);
    CHECK(m.lanes()[w[0].caused.lane].polls[w[0].caused.index].begin_ns == 70);

    CHECK(w[1].time_ns == 50);
    CHECK(w[1].source == wake_source::channel);
    CHECK(w[1].waker == m.find_task(1));
    CHECK_FALSE(w[1].caused.valid());

    CHECK(w[2].waker == no_task);
    CHECK(w[2].woken == m.find_task(3));
    CHECK_FALSE(w[2].caused.valid());
    CHECK(w[3].waker == no_task);
    CHECK(w[3].source == wake_source::timer);

    const auto& t2 = task_of(m, 2);
    CHECK(t2.scheduled_ns == 10 + 30); // spawn..10, wake 40..poll 70
    CHECK(t2.idle_ns == 20);           // 20..40
    CHECK(t2.busy_ns == 20);
    CHECK(t2.wakes[source_index(wake_source::task)] == 1);
    CHECK(t2.wakes[source_index(wake_source::channel)] == 1);
    CHECK(t2.parent == 1);

    // A task first seen in a wake starts life at that wake.
    const auto& t3 = task_of(m, 3);
    CHECK(t3.spawned_ns == 90);
    CHECK(t3.state == task_state::scheduled);
    CHECK(t3.total_wakes() == 2);
    CHECK(m.tasks().size() == 3);
}

TEST_CASE("a late wake with an earlier time links to the poll it caused", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::track_started(0, 1, track_kind::worker, 1),
                make::task_spawned(0, 1, 5),
                make::poll_begin(100, 1, 5),
                make::poll_end(110, 1, 5, poll_result::pending),
            });

    SECTION("the poll is still running when the wake arrives") {
        feed(m, {
                    make::poll_begin(200, 1, 5),
                    make::wake(190, 0, 5, 0, wake_source::io), // recorded on lane 0 before the poll
                });
        REQUIRE(m.wakes().size() == 1);
        const auto& w = m.wakes()[0];
        REQUIRE(w.caused.valid());
        CHECK(w.caused.lane == 1);
        CHECK(w.caused.index == 1);
        const auto& t = task_of(m, 5);
        CHECK(t.state == task_state::running);
        CHECK_FALSE(t.woken_while_running);
        CHECK(t.pending_wake == std::numeric_limits<std::uint32_t>::max());
        CHECK(t.wakes[source_index(wake_source::io)] == 1);
        CHECK(m.lanes()[1].polls[1].flags == 0);

        feed(m, {make::poll_end(220, 1, 5, poll_result::pending)});
        const auto& after = task_of(m, 5);
        CHECK(after.state == task_state::idle); // the wake was before the poll, not in it
        CHECK(after.state_since_ns == 220);
        CHECK(after.busy_ns == 30);
        // No wake was seen before the poll began, so 110..200 counted as idle.
        CHECK(after.idle_ns == 90);
        CHECK(after.scheduled_ns == 100);

        // The next wake links to the next poll.
        feed(m, {make::wake(300, 0, 5, 0, wake_source::io), make::poll_begin(310, 1, 5)});
        REQUIRE(m.wakes().size() == 2);
        REQUIRE(m.wakes()[1].caused.valid());
        CHECK(m.wakes()[1].caused.index == 2);
    }

    SECTION("the poll has already ended when the wake arrives") {
        feed(m, {
                    make::poll_begin(200, 1, 5),
                    make::poll_end(210, 1, 5, poll_result::pending),
                    make::wake(190, 0, 5, 0, wake_source::io),
                });
        REQUIRE(m.wakes().size() == 1);
        const auto& w = m.wakes()[0];
        REQUIRE(w.caused.valid());
        CHECK(w.caused.lane == 1);
        CHECK(w.caused.index == 1);
        const auto& t = task_of(m, 5);
        // The task is still waiting for a waker since its poll ended.
        CHECK(t.state == task_state::idle);
        CHECK(t.state_since_ns == 210);
        CHECK(t.pending_wake == std::numeric_limits<std::uint32_t>::max());
        CHECK(t.wakes[source_index(wake_source::io)] == 1);

        feed(m, {make::wake(300, 0, 5, 0, wake_source::timer), make::poll_begin(320, 1, 5)});
        const auto& after = task_of(m, 5);
        CHECK(after.idle_ns == 90 + 90); // 110..200 and 210..300
        CHECK(after.scheduled_ns == 100 + 20);
        REQUIRE(m.wakes().size() == 2);
        REQUIRE(m.wakes()[1].caused.valid());
        CHECK(m.wakes()[1].caused.lane == 1);
        CHECK(m.wakes()[1].caused.index == 2);
    }

    SECTION("the task has run twice since the wake") {
        feed(m, {
                    make::poll_begin(200, 1, 5),
                    make::poll_end(210, 1, 5, poll_result::pending),
                    make::poll_begin(300, 0, 5),
                    make::poll_end(310, 0, 5, poll_result::ready),
                    make::wake(190, 0, 5, 0, wake_source::io),
                });
        REQUIRE(m.wakes().size() == 1);
        const auto& w = m.wakes()[0];
        REQUIRE(w.caused.valid());
        CHECK(w.caused.lane == 1); // the first poll after the wake, not the latest
        CHECK(w.caused.index == 1);
        CHECK(task_of(m, 5).state == task_state::done);
        CHECK(task_of(m, 5).ended_ns == 310);
    }

    SECTION("the wake came during a poll that has ended") {
        feed(m, {
                    make::poll_begin(200, 1, 5),
                    make::poll_end(210, 1, 5, poll_result::pending),
                    make::wake(205, 0, 5, 0, wake_source::io),
                });
        REQUIRE(m.wakes().size() == 1);
        CHECK_FALSE(m.wakes()[0].caused.valid());
        const auto& t = task_of(m, 5);
        CHECK(t.state == task_state::scheduled); // runnable from the end of that poll
        CHECK(t.state_since_ns == 210);
        CHECK(t.pending_wake == 0);
        CHECK(t.idle_ns == 90);

        feed(m, {make::poll_begin(230, 1, 5)});
        const auto& after = task_of(m, 5);
        CHECK(after.scheduled_ns == 100 + 20);
        CHECK(after.idle_ns == 90);
        REQUIRE(m.wakes()[0].caused.valid());
        CHECK(m.wakes()[0].caused.lane == 1);
        CHECK(m.wakes()[0].caused.index == 2);
    }
}

// ---- steals and queue depths ------------------------------------------------------------

TEST_CASE("steal links name thief and victim lanes", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::track_started(0, 1, track_kind::worker, 1), make::task_spawned(0, 0, 5),
                make::raw(100, 1, event_kind::steal, 5, 0, 3),  // worker 1 takes 3 from worker 0
                make::raw(110, 0, event_kind::steal, 0, 1, 1),  // no first task recorded
                make::raw(120, 0, event_kind::steal, 77, 9, 2), // a victim never announced
            });
    const auto& s = m.steals();
    REQUIRE(s.size() == 3);
    CHECK(s[0].time_ns == 100);
    CHECK(s[0].thief_lane == 1);
    CHECK(s[0].victim_lane == 0);
    CHECK(s[0].count == 3);
    CHECK(s[0].first_task == m.find_task(5));
    CHECK(s[0].first_task != no_task);
    CHECK(s[1].thief_lane == 0);
    CHECK(s[1].victim_lane == 1);
    CHECK(s[1].count == 1);
    CHECK(s[1].first_task == no_task);
    CHECK(s[2].victim_lane == 0xFFFF);
    CHECK(s[2].first_task == no_task); // a task id the model has not seen
    CHECK(m.tasks().size() == 1);
}

TEST_CASE("queue depth series per worker and for the global queue", "[analysis]") {
    model m;
    feed(m,
         {
             make::track_started(0, 0, track_kind::worker, 0),
             make::track_started(0, 1, track_kind::worker, 1),
             make::task_spawned(0, 0, 1),
             make::poll_begin(10, 0, 1, 3),
             make::poll_end(20, 0, 1, poll_result::pending, 3),  // same depth: not repeated
             make::raw(30, 2, event_kind::queue_depth, 0, 0, 5), // worker 0's queue, seen elsewhere
             make::raw(35, 2, event_kind::queue_depth, 0, 9, 8), // no worker 9: dropped
             make::wake(36, 2, 1, 0, wake_source::external),
             make::poll_begin(40, 0, 1, 4),
             make::poll_end(50, 0, 1, poll_result::pending, 2),
             make::raw(25, 2, event_kind::queue_depth, 0, 0, 7), // late: goes in time order
             make::raw(60, 2, event_kind::queue_depth, 0, 1, 1),
             make::raw(60, 2, event_kind::queue_depth, 0, 1, 1), // repeated: dropped
             make::raw(5, 2, event_kind::global_push, 1, 1, 1),
             make::raw(6, 2, event_kind::global_push, 2, 1, 2),
             make::raw(7, 0, event_kind::global_pop, 1, 0, 1),
             make::raw(8, 0, event_kind::global_pop, 2, 0, 1), // equal depth: not repeated
             make::raw(9, 1, event_kind::global_pop, 3, 0, 0),
             make::raw(4, 1, event_kind::global_push, 3, 1, 6), // late: inserted first
         });
    const auto& d0 = m.lanes()[0].depth;
    const std::vector<std::pair<std::uint64_t, std::uint32_t>> want0 = {
        {10, 3}, {25, 7}, {30, 5}, {40, 4}, {50, 2}};
    REQUIRE(d0.size() == want0.size());
    for (std::size_t i = 0; i < want0.size(); ++i) {
        INFO("point " << i);
        CHECK(d0[i].time_ns == want0[i].first);
        CHECK(d0[i].depth == want0[i].second);
    }
    const auto& d1 = m.lanes()[1].depth;
    REQUIRE(d1.size() == 1);
    CHECK(d1[0].time_ns == 60);
    CHECK(d1[0].depth == 1);
    CHECK((m.lanes().size() <= 2 || m.lanes()[2].depth.empty())); // not a worker

    const auto& g = m.global_depth();
    const std::vector<std::pair<std::uint64_t, std::uint32_t>> want_global = {
        {4, 6}, {5, 1}, {6, 2}, {7, 1}, {9, 0}};
    REQUIRE(g.size() == want_global.size());
    for (std::size_t i = 0; i < want_global.size(); ++i) {
        INFO("point " << i);
        CHECK(g[i].time_ns == want_global[i].first);
        CHECK(g[i].depth == want_global[i].second);
    }
    CHECK(m.first_ns() == 0);
    CHECK(m.last_ns() == 60);
}

TEST_CASE("polls on a lane that is not a worker record no queue depth", "[analysis]") {
    model m;
    feed(m, {
                make::task_spawned(0, 4, 1),
                make::poll_begin(10, 4, 1, 3),
                make::poll_end(20, 4, 1, poll_result::ready, 2),
            });
    REQUIRE(m.lanes().size() == 5);
    CHECK(m.lanes()[4].depth.empty());
    CHECK(m.lanes()[4].polls.size() == 1);
    CHECK(m.lanes()[4].busy_ns == 10);
}

// ---- spans and instants ------------------------------------------------------------------

TEST_CASE("blocking-pool jobs, parked workers, reactor events and markers", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::track_started(0, 2, track_kind::blocking, 0),
                make::track_started(0, 3, track_kind::driver, 0),
                make::task_spawned(1, 0, 5),
                make::raw(10, 0, event_kind::worker_park),
                make::raw(40, 0, event_kind::worker_unpark),
                make::raw(41, 0, event_kind::worker_unpark), // nothing open: ignored
                make::raw(100, 2, event_kind::blocking_job_begin, 77, 5, 2),
                make::raw(300, 2, event_kind::blocking_job_end, 77),
                make::raw(301, 2, event_kind::blocking_job_end, 77), // nothing open: ignored
                make::raw(310, 2, event_kind::blocking_job_begin, 78, 0, 3),
                make::raw(320, 2, event_kind::blocking_job_end, 78),
                make::raw(330, 0, event_kind::block_end, 5), // nothing open: ignored
                make::raw(400, 0, event_kind::timer_armed, 5, 900),
                make::raw(500, 3, event_kind::timer_fired, 5),
                make::raw(510, 3, event_kind::io_ready, 6, 9, 0, 1),
                make::raw(600, 0, event_kind::marker, 0, 42, 3),
                make::raw(610, 2, event_kind::marker, 0, 43, 4),
            });
    const auto& worker_lane = m.lanes()[0];
    REQUIRE(worker_lane.parked.size() == 1);
    CHECK(worker_lane.parked[0].begin_ns == 10);
    CHECK(worker_lane.parked[0].end_ns == 40);
    CHECK(worker_lane.parked[0].subject == 0);
    CHECK(worker_lane.blocks.empty());

    const auto& pool = m.lanes()[2];
    REQUIRE(pool.jobs.size() == 2);
    CHECK(pool.jobs[0].begin_ns == 100);
    CHECK(pool.jobs[0].end_ns == 300);
    CHECK(pool.jobs[0].subject == 77);
    CHECK(pool.jobs[0].value == 5);
    CHECK(pool.jobs[0].name == 2);
    CHECK(pool.jobs[1].begin_ns == 310);
    CHECK(pool.jobs[1].end_ns == 320);
    CHECK(pool.jobs[1].subject == 78);
    CHECK(pool.jobs[1].value == 0);
    CHECK(pool.jobs[1].name == 3);
    CHECK(m.blocking_jobs() == 2);

    const auto& r = m.reactor_events();
    REQUIRE(r.size() == 2);
    CHECK(r[0].time_ns == 500);
    CHECK(r[0].task == 5);
    CHECK(r[0].value == 0);
    CHECK(r[0].lane == 3);
    CHECK(r[0].kind == event_kind::timer_fired);
    CHECK(r[1].time_ns == 510);
    CHECK(r[1].task == 6);
    CHECK(r[1].value == 9);
    CHECK(r[1].lane == 3);
    CHECK(r[1].kind == event_kind::io_ready);
    CHECK(m.events_of(event_kind::timer_armed) == 1);

    const auto& mk = m.markers();
    REQUIRE(mk.size() == 2);
    CHECK(mk[0].time_ns == 600);
    CHECK(mk[0].task == 0);
    CHECK(mk[0].value == 42);
    CHECK(mk[0].name == 3);
    CHECK(mk[0].lane == 0);
    CHECK(mk[0].kind == event_kind::marker);
    CHECK(mk[1].value == 43);
    CHECK(mk[1].name == 4);
    CHECK(mk[1].lane == 2);
    // Only tasks the scheduler talks about exist: task 5 (spawned); 6 only named by io_ready.
    CHECK(m.tasks().size() == 1);
}

TEST_CASE("finish closes open polls, blocks, jobs and parks at the last event's time",
          "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::track_started(0, 1, track_kind::worker, 1),
                make::track_started(0, 2, track_kind::blocking, 0),
                make::task_spawned(0, 0, 1),
                make::task_spawned(0, 0, 2),
                make::poll_begin(50, 1, 2),
                make::poll_end(60, 1, 2, poll_result::pending),
                make::poll_begin(100, 0, 1),
                make::raw(120, 0, event_kind::block_begin, 1, 1000),
                make::raw(150, 2, event_kind::blocking_job_begin, 9, 1, 0),
                make::raw(200, 1, event_kind::worker_park),
                make::raw(500, 2, event_kind::marker, 0, 0, 0),
            });
    CHECK(m.lanes()[0].busy_ns == 0);
    m.finish();
    const auto& l0 = m.lanes()[0];
    REQUIRE(l0.polls.size() == 1);
    CHECK(l0.polls[0].end_ns == 500);
    CHECK(l0.busy_ns == 400);
    REQUIRE(l0.blocks.size() == 1);
    CHECK(l0.blocks[0].end_ns == 500);
    REQUIRE(m.lanes()[2].jobs.size() == 1);
    CHECK(m.lanes()[2].jobs[0].end_ns == 500);
    const auto& l1 = m.lanes()[1];
    REQUIRE(l1.parked.size() == 1);
    CHECK(l1.parked[0].begin_ns == 200);
    CHECK(l1.parked[0].end_ns == 500);
    CHECK(l1.polls[0].end_ns == 60); // closed polls are untouched
    CHECK(l1.busy_ns == 10);
    // The task that was running: its busy time up to the end of the trace.
    CHECK(task_of(m, 1).busy_until(m.last_ns()) == 400);
    CHECK(task_of(m, 2).busy_ns == 10);

    // A second finish changes nothing.
    m.finish();
    CHECK(m.lanes()[0].busy_ns == 400);
    CHECK(m.lanes()[0].polls[0].end_ns == 500);
}

// ---- requests ----------------------------------------------------------------------------

TEST_CASE("server requests: latency, status, bytes and route", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(0, 0, 10),
                make::task_spawned(0, 0, 11),
                make::request_begin(1000, 0, 10, 1, 4, trace::request_side::server),
                make::request_begin(1100, 0, 11, 2, 5, trace::request_side::server), // never ends
                make::request_end(1500, 0, 10, 512, 200, trace::request_side::server),
                make::request_begin(2000, 0, 10, 3, 4, trace::request_side::server),
                make::request_end(2300, 0, 10, 64, 70000,
                                  trace::request_side::server), // status clamps to 16 bits
                make::request_end(2400, 0, 10, 1, 404,
                                  trace::request_side::server), // no open request: ignored
            });
    const auto& r = m.requests();
    REQUIRE(r.size() == 3);
    CHECK(r[0].begin_ns == 1000);
    CHECK(r[0].end_ns == 1500);
    CHECK(r[0].request_id == 1);
    CHECK(r[0].bytes == 512);
    CHECK(r[0].status == 200);
    CHECK(r[0].route == 4);
    CHECK(r[0].task == m.find_task(10));
    CHECK(r[0].lane == 0);
    CHECK_FALSE(r[0].client);
    CHECK(r[0].finished());
    CHECK(r[0].latency_ns() == 500);
    CHECK_FALSE(r[1].finished());
    CHECK(r[1].request_id == 2);
    CHECK(r[1].route == 5);
    CHECK(r[2].status == 0xFFFF);
    CHECK(r[2].bytes == 64);
    CHECK(r[2].latency_ns() == 300);

    CHECK_FALSE(m.has_client_requests());
    const auto s = m.request_latency();
    CHECK(s.count == 2);
    CHECK(s.p50_ns == 300);
    CHECK(s.p90_ns == 500);
    CHECK(s.p99_ns == 500);
    CHECK(s.max_ns == 500);
}

TEST_CASE("request latency uses the client side when the trace has client requests", "[analysis]") {
    model m;
    feed(m, {
                make::request_begin(0, 0, 1, 1, 0, trace::request_side::server),
                make::request_end(500, 0, 1, 10, 200, trace::request_side::server),
                make::request_begin(100, 1, 2, 1, 0, trace::request_side::client),
                make::request_begin(150, 1, 3, 2, 0,
                                    trace::request_side::client), // unfinished client request
                make::request_end(900, 1, 2, 10, 200, trace::request_side::client),
            });
    REQUIRE(m.requests().size() == 3);
    CHECK(m.requests()[1].client);
    CHECK(m.requests()[1].latency_ns() == 800);
    CHECK(m.has_client_requests());
    const auto s = m.request_latency();
    CHECK(s.count == 1);
    CHECK(s.p50_ns == 800);
    CHECK(s.p90_ns == 800);
    CHECK(s.p99_ns == 800);
    CHECK(s.max_ns == 800);
}

TEST_CASE("request latency percentiles over 1..100 ns", "[analysis]") {
    model m;
    std::vector<event> events;
    std::uint64_t t = 0;
    // Shuffled order of latencies: 37, 74, 11, ... (a stride coprime with 100).
    for (std::uint64_t i = 0; i < 100; ++i) {
        const std::uint64_t latency = (i * 37) % 100 + 1;
        events.push_back(make::request_begin(t, 0, 1, i + 1, 0, trace::request_side::server));
        events.push_back(make::request_end(t + latency, 0, 1, 0, 200, trace::request_side::server));
        t += 1000;
    }
    feed(m, events);
    REQUIRE(m.requests().size() == 100);
    const auto s = m.request_latency();
    CHECK(s.count == 100);
    CHECK(s.p50_ns == 50);
    CHECK(s.p90_ns == 90);
    CHECK(s.p99_ns == 99);
    CHECK(s.max_ns == 100);
}

TEST_CASE("a request that ends before it begins has zero latency", "[analysis]") {
    model m;
    feed(m, {make::request_begin(100, 0, 1, 1, 0, trace::request_side::server),
             make::request_end(90, 1, 1, 0, 200, trace::request_side::server)});
    REQUIRE(m.requests().size() == 1);
    CHECK(m.requests()[0].end_ns == 100);
    CHECK(m.requests()[0].latency_ns() == 0);
}

TEST_CASE("a request's end that arrives after the task's next begin closes the right request",
          "[analysis]") {
    // The task moved from worker 0 to worker 1 between its requests; worker 1's buffer
    // drained first, so request 2's begin comes before request 1's end in the stream.
    for (const auto side : {trace::request_side::server, trace::request_side::client}) {
        model m;
        feed(m, {make::track_started(0, 0, track_kind::worker, 0),
                 make::track_started(0, 1, track_kind::worker, 1), make::task_spawned(0, 0, 7),
                 make::request_begin(100, 0, 7, 1, 0, side),
                 make::request_begin(300, 1, 7, 2, 0, side),
                 make::request_end(200, 0, 7, 10, 200, side),
                 make::request_end(450, 1, 7, 20, 200, side)});
        const auto& r = m.requests();
        REQUIRE(r.size() == 2);
        CHECK(r[0].request_id == 1);
        CHECK(r[0].end_ns == 200);
        CHECK(r[0].bytes == 10);
        CHECK(r[1].request_id == 2);
        CHECK(r[1].end_ns == 450);
        CHECK(r[1].bytes == 20);
        CHECK(m.open_request_count() == 0);
        const auto latency = m.request_latency();
        CHECK(latency.count == 2);
        CHECK(latency.p50_ns == 100);
        CHECK(latency.max_ns == 150);
    }
}

TEST_CASE("percentile is nearest rank", "[analysis]") {
    using analysis::percentile;
    CHECK(percentile({}, 0.5) == 0);

    const std::vector<std::uint64_t> one = {7};
    CHECK(percentile(one, 0.0) == 7);
    CHECK(percentile(one, 0.5) == 7);
    CHECK(percentile(one, 1.0) == 7);

    std::vector<std::uint64_t> hundred;
    for (std::uint64_t i = 1; i <= 100; ++i) {
        hundred.push_back(i);
    }
    CHECK(percentile(hundred, 0.0) == 1);
    CHECK(percentile(hundred, 0.01) == 1);
    CHECK(percentile(hundred, 0.5) == 50);
    CHECK(percentile(hundred, 0.9) == 90);
    CHECK(percentile(hundred, 0.99) == 99);
    CHECK(percentile(hundred, 1.0) == 100);

    const std::vector<std::uint64_t> four = {10, 20, 30, 40};
    CHECK(percentile(four, 0.25) == 10);
    CHECK(percentile(four, 0.5) == 20);
    CHECK(percentile(four, 0.51) == 30);
    CHECK(percentile(four, 0.9) == 40);

    const std::vector<std::uint64_t> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK(percentile(ten, 0.5) == 5);
    CHECK(percentile(ten, 0.9) == 9);
    CHECK(percentile(ten, 0.99) == 10);
}

// ---- lints -------------------------------------------------------------------------------

TEST_CASE("lints: blocked worker, long poll and busy polling", "[analysis]") {
    analysis::model_options options;
    options.long_poll_ns = 1000;
    options.busy_poll_min_polls = 4;
    options.busy_poll_self_wake_ratio = 0.75;
    model m(options);
    m.set_names({"task", "handle_connection", "compute", "spinner", "yielder"});

    std::vector<event> events = {
        make::track_started(0, 0, track_kind::worker, 0),
        make::track_started(0, 1, track_kind::worker, 1),
        make::task_spawned(0, 0, 7, 0, 1),
        make::task_spawned(0, 0, 8, 0, 2),
        make::task_spawned(0, 0, 9, 0, 3),
        make::task_spawned(0, 0, 10, 0, 4),
        // Task 7 blocks worker 0 for 2 s.
        make::poll_begin(1000, 0, 7),
        make::raw(1010, 0, event_kind::block_begin, 7, 2'000'000'000),
        make::raw(2'000'000'990, 0, event_kind::block_end, 7),
        make::poll_end(2'000'001'000, 0, 7, poll_result::ready),
        // Task 8 computes on worker 1: one poll just under the threshold, one at it.
        make::poll_begin(100, 1, 8),
        make::poll_end(1099, 1, 8, poll_result::pending),
        make::wake(1100, 1, 8, 8, wake_source::yield),
        make::poll_begin(2000, 1, 8),
        make::poll_end(3500, 1, 8, poll_result::pending),
    };
    // Task 9 wakes itself in every one of its 6 polls; task 10 yields in each of its 6.
    std::uint64_t t = 10'000;
    for (int i = 0; i < 6; ++i) {
        events.push_back(make::poll_begin(t, 1, 9));
        events.push_back(make::wake(t + 1, 1, 9, 9, wake_source::self));
        events.push_back(make::poll_end(t + 10, 1, 9, poll_result::pending));
        events.push_back(make::poll_begin(t + 20, 1, 10));
        events.push_back(make::wake(t + 21, 1, 10, 10, wake_source::yield));
        events.push_back(make::poll_end(t + 30, 1, 10, poll_result::pending));
        t += 100;
    }
    feed(m, events);

    const auto& lints = m.lints();
    REQUIRE(lints.size() == 3);

    // In consume order: task 7's block, task 8's long poll, task 9's busy polling.
    const auto& long_poll = lints[1];
    CHECK(long_poll.kind == analysis::lint_kind::long_poll);
    CHECK(long_poll.task == m.find_task(8));
    CHECK(long_poll.lane == 1);
    CHECK(long_poll.at_ns == 2000);
    CHECK(long_poll.duration_ns == 1500);
    const std::string long_text = m.describe(long_poll);
    CHECK(contains(long_text, "compute#8"));
    CHECK(contains(long_text, "worker 1"));
    CHECK(contains(long_text, "1.5 µs"));

    const auto& busy = lints[2];
    CHECK(busy.kind == analysis::lint_kind::busy_polling);
    CHECK(busy.task == m.find_task(9));
    CHECK(busy.lane == 1);
    CHECK(busy.at_ns == 10'310); // the end of task 9's 4th poll
    CHECK(busy.duration_ns == 0);
    const std::string busy_text = m.describe(busy);
    CHECK(contains(busy_text, "spinner#9"));
    CHECK(contains(busy_text, "6 of 6")); // counts as of now, not as of the finding
    CHECK(task_of(m, 9).busy_poll_reported);
    CHECK(task_of(m, 9).self_wake_polls == 6);
    CHECK(task_of(m, 9).polls == 6);
    CHECK_FALSE(task_of(m, 10).busy_poll_reported);
    CHECK(task_of(m, 10).self_wake_polls == 0);

    const auto& blocked = lints[0];
    CHECK(blocked.kind == analysis::lint_kind::blocked_worker);
    CHECK(blocked.task == m.find_task(7));
    CHECK(blocked.lane == 0);
    CHECK(blocked.at_ns == 1000);
    CHECK(blocked.duration_ns == 2'000'000'000);
    const std::string blocked_text = m.describe(blocked);
    CHECK(contains(blocked_text, "worker 0"));
    CHECK(contains(blocked_text, "handle_connection#7"));
    CHECK(contains(blocked_text, "2.0 s"));
    CHECK(blocked_text.rfind("worker 0 blocked for 2.0 s in task handle_connection#7", 0) == 0);

    CHECK(to_string(analysis::lint_kind::blocked_worker) == "blocked_worker");
    CHECK(to_string(analysis::lint_kind::long_poll) == "long_poll");
    CHECK(to_string(analysis::lint_kind::busy_polling) == "busy_polling");
}

TEST_CASE("busy polling needs both the poll count and the self-wake ratio", "[analysis]") {
    analysis::model_options options;
    options.long_poll_ns = 1'000'000;
    options.busy_poll_min_polls = 4;
    options.busy_poll_self_wake_ratio = 0.75;
    model m(options);
    std::vector<event> events = {make::track_started(0, 0, track_kind::worker, 0),
                                 make::task_spawned(0, 0, 1), make::task_spawned(0, 0, 2),
                                 make::task_spawned(0, 0, 3)};
    std::uint64_t t = 100;
    // Task 1: 3 of 4 polls self-woken: exactly the ratio. Task 2: 2 of 4. Task 3: 3 of 3.
    const auto run = [&](std::uint64_t task, bool self_wake) {
        events.push_back(make::poll_begin(t, 0, task));
        events.push_back(
            make::wake(t + 1, 0, task, task, self_wake ? wake_source::self : wake_source::yield));
        events.push_back(make::poll_end(t + 5, 0, task, poll_result::pending));
        t += 10;
    };
    for (bool s : {true, true, false, true}) {
        run(1, s);
    }
    for (bool s : {true, false, true, false}) {
        run(2, s);
    }
    for (int i = 0; i < 3; ++i) {
        run(3, true);
    }
    feed(m, events);
    REQUIRE(m.lints().size() == 1);
    CHECK(m.lints()[0].kind == analysis::lint_kind::busy_polling);
    CHECK(m.lints()[0].task == m.find_task(1));
    CHECK(m.lints()[0].at_ns == 135);
    CHECK(contains(m.describe(m.lints()[0]), "3 of 4"));
}

// ---- names -------------------------------------------------------------------------------

TEST_CASE("task labels use the name table and survive unknown ids", "[analysis]") {
    model m;
    feed(m, {
                make::task_spawned(0, 0, 7, 0, 5),
                make::task_spawned(0, 0, 8, 0, 999),
                make::task_spawned(0, 0, 3, 0, 0),
            });
    CHECK(m.task_label(m.find_task(3)) == "task#3");
    CHECK(m.task_label(m.find_task(8)) == "name#999#8");

    m.set_names({"task", "a", "b", "c", "d", "handle_connection"});
    CHECK(m.task_label(m.find_task(7)) == "handle_connection#7");
    CHECK(m.task_label(m.find_task(8)) == "name#999#8");
    CHECK(m.task_label(m.find_task(3)) == "task#3");
    CHECK(m.task_label(no_task) == "none");
    CHECK(m.task_label(12345) == "none");
    CHECK(m.name(5) == "handle_connection");
    CHECK(m.name(6) == "name#6");

    // A lint on a lane and a task the model never saw is still described.
    const analysis::lint orphan{.kind = analysis::lint_kind::long_poll,
                                .task = no_task,
                                .lane = 300,
                                .at_ns = 0,
                                .duration_ns = 1'500'000};
    const std::string text = m.describe(orphan);
    CHECK(contains(text, "none"));
    CHECK(contains(text, "a thread"));
    CHECK(contains(text, "1.5 ms"));
    const analysis::lint orphan_busy{.kind = analysis::lint_kind::busy_polling, .task = no_task};
    CHECK(contains(m.describe(orphan_busy), "0 of 0"));
}

TEST_CASE("process names resolve interned ids", "[analysis]") {
    const trace::name_id id = trace::intern("analysis-model-test-name");
    model m;
    m.use_process_names();
    feed(m, {make::task_spawned(0, 0, 4, 0, id)});
    CHECK(m.name(id) == "analysis-model-test-name");
    CHECK(m.task_label(m.find_task(4)) == "analysis-model-test-name#4");
}

// ---- dropped events ----------------------------------------------------------------------

TEST_CASE("events_dropped keeps each track's running total", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::track_started(0, 1, track_kind::worker, 1),
                make::raw(10, 0, event_kind::events_dropped, 0, 5, 0),
                make::raw(20, 0, event_kind::events_dropped, 0, 12, 0),
                make::raw(30, 0, event_kind::events_dropped, 0, 3, 0), // an older total: ignored
                make::raw(40, 1, event_kind::events_dropped, 0, 4, 1),
            });
    CHECK(m.lanes()[0].dropped == 12);
    CHECK(m.lanes()[1].dropped == 4);
    CHECK(m.dropped() == 16);
    CHECK(m.events_of(event_kind::events_dropped) == 4);

    SECTION("a drop reported for a track not seen yet") {
        // Recorded on track 0 about track 6, which has no lane yet.
        feed(m, {make::raw(50, 0, event_kind::events_dropped, 0, 9, 6)});
        REQUIRE(m.lanes().size() == 7);
        CHECK(m.lanes()[6].dropped == 9);
        CHECK_FALSE(m.lanes()[6].announced);
        CHECK(m.dropped() == 25);
    }
}

// ---- damaged and unusual input -------------------------------------------------------------

TEST_CASE("poll_end without poll_begin and doubled ends are ignored", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::poll_end(10, 0, 1, poll_result::pending), make::task_spawned(20, 0, 2),
                make::poll_begin(30, 0, 2), make::poll_end(40, 0, 2, poll_result::pending),
                make::poll_end(45, 0, 2, poll_result::ready), // a second end: ignored
            });
    CHECK(m.events_of(event_kind::poll_end) == 3);
    CHECK(m.poll_count() == 1);
    REQUIRE(m.lanes()[0].polls.size() == 1);
    CHECK(m.lanes()[0].polls[0].end_ns == 40);
    CHECK(m.lanes()[0].busy_ns == 10);
    CHECK(m.find_task(1) == no_task);
    CHECK(m.tasks().size() == 1);
    CHECK(task_of(m, 2).state == task_state::idle);
    CHECK(task_of(m, 2).polls == 1);
}

TEST_CASE("a poll_end earlier than its begin gives a zero-length poll", "[analysis]") {
    model m;
    feed(m, {make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(0, 0, 1),
             make::poll_begin(100, 0, 1), make::poll_end(90, 0, 1, static_cast<poll_result>(7))});
    REQUIRE(m.lanes()[0].polls.size() == 1);
    const auto& p = m.lanes()[0].polls[0];
    CHECK(p.end_ns == 100);
    CHECK(p.result == poll_result::threw); // out-of-range results clamp
    CHECK(m.lanes()[0].busy_ns == 0);
    CHECK(task_of(m, 1).state == task_state::done);
}

TEST_CASE("request_end without request_begin is ignored", "[analysis]") {
    model m;
    feed(m, {make::request_end(10, 0, 3, 100, 200, trace::request_side::server),
             make::request_end(20, 0, 4, 100, 200, trace::request_side::client)});
    CHECK(m.requests().empty());
    CHECK_FALSE(m.has_client_requests());
    CHECK(m.request_latency().count == 0);
    CHECK(m.events_of(event_kind::request_end) == 2);
}

TEST_CASE("a wake for a task never seen creates it and links its first poll", "[analysis]") {
    model m;
    feed(m, {
                make::track_started(0, 0, track_kind::worker, 0),
                make::wake(50, 0, 42, 0, wake_source::external),
                make::task_spawned(60, 0, 42, 0, 0), // seen late: keeps the wake as its start
                make::poll_begin(70, 0, 42),
                make::poll_end(80, 0, 42, poll_result::ready),
            });
    const auto& t = task_of(m, 42);
    CHECK(t.spawned_ns == 50);
    CHECK(t.scheduled_ns == 20);
    CHECK(t.busy_ns == 10);
    CHECK(t.state == task_state::done);
    REQUIRE(m.wakes().size() == 1);
    CHECK(m.wakes()[0].caused.valid());
    CHECK(m.wakes()[0].caused.index == 0);
}

TEST_CASE("huge task ids mix with small ones", "[analysis]") {
    const std::uint64_t huge = std::uint64_t{1} << 60;
    const std::uint64_t far = std::uint64_t{1} << 62;

    SECTION("a huge id first") {
        model m;
        feed(m, {make::task_spawned(0, 0, huge), make::task_spawned(1, 0, 1),
                 make::task_spawned(2, 0, 2), make::task_spawned(3, 0, huge + 1),
                 make::task_spawned(4, 0, far), make::task_spawned(5, 0, 100'000)});
        REQUIRE(m.tasks().size() == 6);
        for (std::uint64_t id :
             {huge, std::uint64_t{1}, std::uint64_t{2}, huge + 1, far, std::uint64_t{100'000}}) {
            INFO("id " << id);
            const analysis::task_ref ref = m.find_task(id);
            REQUIRE(ref != no_task);
            CHECK(m.tasks()[ref].id == id);
        }
        CHECK(m.find_task(3) == no_task);
        CHECK(m.find_task(huge + 2) == no_task);
        CHECK(m.find_task(0) == no_task);
    }

    SECTION("small ids first") {
        model m;
        feed(m, {make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(0, 0, 5),
                 make::task_spawned(1, 0, huge), make::task_spawned(2, 0, 6),
                 make::task_spawned(3, 0, 1), // below the first id
                 make::task_spawned(4, 0, 5 + 70'000), make::task_spawned(5, 0, far),
                 make::task_spawned(6, 0, 7)});
        REQUIRE(m.tasks().size() == 7);
        std::vector<analysis::task_ref> refs;
        for (std::uint64_t id : {std::uint64_t{5}, huge, std::uint64_t{6}, std::uint64_t{1},
                                 std::uint64_t{70'005}, far, std::uint64_t{7}}) {
            INFO("id " << id);
            const analysis::task_ref ref = m.find_task(id);
            REQUIRE(ref != no_task);
            CHECK(m.tasks()[ref].id == id);
            refs.push_back(ref);
        }
        for (std::size_t i = 0; i < refs.size(); ++i) {
            CHECK(refs[i] == i); // refs are handed out in order of first sight
        }
        CHECK(m.find_task(8) == no_task);
        CHECK(m.find_task(huge - 1) == no_task);
        CHECK(m.find_task(std::numeric_limits<std::uint64_t>::max()) == no_task);

        // Wakes and polls of huge-id tasks resolve too.
        feed(m, {make::poll_begin(10, 0, huge), make::wake(11, 0, far, huge, wake_source::task),
                 make::poll_end(12, 0, huge, poll_result::pending), make::poll_begin(13, 0, far),
                 make::poll_end(14, 0, far, poll_result::ready)});
        REQUIRE(m.wakes().size() == 1);
        CHECK(m.wakes()[0].waker == m.find_task(huge));
        CHECK(m.wakes()[0].woken == m.find_task(far));
        CHECK(m.wakes()[0].caused.index == 1);
        CHECK(task_of(m, far).state == task_state::done);
        CHECK(task_of(m, huge).busy_ns == 2);
    }
}

TEST_CASE("unknown event kinds are counted but otherwise ignored", "[analysis]") {
    model m;
    feed(m, {
                make::raw(5, 3, static_cast<event_kind>(trace::event_kind_count), 1, 2, 3, 4),
                make::raw(7, 9, static_cast<event_kind>(200), 1, 2, 3, 4),
            });
    CHECK(m.event_count() == 2);
    CHECK(m.lanes().empty());
    CHECK(m.tasks().empty());
    CHECK(m.first_ns() == 5);
    CHECK(m.last_ns() == 7);
    std::uint64_t known = 0;
    for (std::size_t k = 0; k < trace::event_kind_count; ++k) {
        known += m.events_of(static_cast<event_kind>(k));
    }
    CHECK(known == 0);

    feed(m, {make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(10, 0, 1),
             make::poll_begin(20, 0, 1), make::raw(25, 0, static_cast<event_kind>(99), 1),
             make::poll_end(30, 0, 1, poll_result::ready)});
    CHECK(m.event_count() == 7);
    CHECK(m.poll_count() == 1);
    CHECK(m.lanes()[0].busy_ns == 10);
    CHECK(task_of(m, 1).state == task_state::done);
    m.finish();
}

TEST_CASE("wake_source bits above the source are masked off", "[analysis]") {
    model m;
    feed(m, {make::task_spawned(0, 0, 1), make::raw(5, 0, event_kind::wake, 1, 0, 0, 0xFF)});
    REQUIRE(m.wakes().size() == 1);
    CHECK(m.wakes()[0].source == wake_source::external);
    CHECK(task_of(m, 1).wakes[source_index(wake_source::external)] == 1);
}

// ---- lost ends and the end of a recording ----------------------------------------------

TEST_CASE("a lost poll_end is closed by the lane's next poll and flagged", "[analysis]") {
    model m({.long_poll_ns = 20});
    feed(m, {make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(0, 0, 1),
             make::task_spawned(0, 0, 2), make::poll_begin(10, 0, 1), make::poll_begin(50, 0, 2),
             make::poll_end(60, 0, 2)});
    const auto& polls = m.lanes()[0].polls;
    REQUIRE(polls.size() == 2);
    CHECK(polls[0].end_ns == 50);
    CHECK((polls[0].flags & analysis::poll_flags::end_lost) != 0);
    CHECK(task_of(m, 1).busy_ns == 40);
    CHECK(task_of(m, 1).state != analysis::task_state::running);
    CHECK(m.lanes()[0].busy_ns == 50);
    // 40 ns is only an upper bound of a poll whose end was lost: not a long-poll finding.
    CHECK(m.lints().empty());
}

TEST_CASE("a lost block_end is closed by the next block: no absurd blocked time", "[analysis]") {
    model m;
    feed(m, {make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(0, 0, 1),
             make::poll_begin(10, 0, 1), make::raw(20, 0, event_kind::block_begin, 1, 5),
             make::raw(40, 0, event_kind::block_begin, 1, 5),
             make::raw(45, 0, event_kind::block_end, 1), make::poll_end(50, 0, 1)});
    const auto& blocks = m.lanes()[0].blocks;
    REQUIRE(blocks.size() == 2);
    CHECK(blocks[0].end_ns == 40);
    CHECK(blocks[1].end_ns == 45);
    CHECK(m.block_count() == 2);
}

TEST_CASE("a poll still running when the recording stops is a finding", "[analysis]") {
    model m({.long_poll_ns = 100});
    feed(m, {make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(0, 0, 1),
             make::poll_begin(10, 0, 1), make::raw(20, 0, event_kind::block_begin, 1, 1000),
             make::raw(500, 1, event_kind::marker)});
    CHECK(m.lints().empty());
    m.finish();
    REQUIRE(m.lints().size() == 1);
    CHECK(m.lints()[0].kind == analysis::lint_kind::blocked_worker);
    CHECK(m.lints()[0].duration_ns == 490);
    CHECK((m.lanes()[0].polls[0].flags & analysis::poll_flags::end_lost) != 0);
}

TEST_CASE("a damaged dropped-events record (track beyond 16 bits) is ignored", "[analysis]") {
    model m;
    feed(m, {make::raw(1, 0, event_kind::events_dropped, 0, 7, 0xFFFFFFFFu),
             make::raw(2, 0, event_kind::events_dropped, 0, 3, 2)});
    CHECK(m.dropped() == 3);
}

TEST_CASE("late points far in the past do not make queue depth series quadratic", "[analysis]") {
    model m;
    std::vector<event> events{make::track_started(0, 0, track_kind::worker, 0)};
    for (std::uint64_t t = 0; t < 2000; ++t) {
        events.push_back(make::raw(10'000 + t, 0, event_kind::global_push, 1, 1,
                                   static_cast<std::uint32_t>(t % 7)));
    }
    for (std::uint64_t t = 0; t < 2000; ++t) {
        events.push_back(
            make::raw(100 + t, 0, event_kind::global_push, 1, 1, 3)); // all far too late
    }
    feed(m, events);
    const auto& series = m.global_depth();
    for (std::size_t i = 1; i < series.size(); ++i) {
        CHECK(series[i - 1].time_ns <= series[i].time_ns);
    }
}

TEST_CASE("request latencies of thousands of requests come out sorted, as a plain sort has them",
          "[analysis]") {
    // Enough requests for the radix sort, latencies spread over five bytes.
    model m;
    std::vector<event> events;
    std::vector<std::uint64_t> expected;
    std::uint64_t state = 12345;
    for (std::uint64_t i = 0; i < 5000; ++i) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        const std::uint64_t latency = (state >> 24) % (std::uint64_t{1} << 38) + 1;
        const std::uint64_t begin = i * 1000;
        events.push_back(make::request_begin(begin, 0, 1, i + 1, 0, trace::request_side::server));
        events.push_back(
            make::request_end(begin + latency, 0, 1, 0, 200, trace::request_side::server));
        expected.push_back(latency);
    }
    feed(m, events);
    std::sort(expected.begin(), expected.end());
    const auto sorted = m.request_latencies();
    REQUIRE(sorted.size() == expected.size());
    CHECK(std::equal(sorted.begin(), sorted.end(), expected.begin()));
    CHECK(m.request_latency().max_ns == expected.back());
}

TEST_CASE("client requests of tasks from another runtime pair up whatever their ids",
          "[analysis]") {
    // Ids close together (a load generator's counter), one far above and one below the
    // first seen: each end closes its own task's request.
    model m;
    const std::vector<std::uint64_t> ids = {1000, 1001, 1002, 5'000'000'000'000, 3};
    std::vector<event> events;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        events.push_back(
            make::request_begin(100 * i, 0, ids[i], i + 1, 0, trace::request_side::client));
    }
    // Ends in the reverse order, request i taking 1000 + i ns.
    for (std::size_t i = ids.size(); i-- > 0;) {
        events.push_back(
            make::request_end(100 * i + 1000 + i, 0, ids[i], 0, 200, trace::request_side::client));
    }
    feed(m, events);
    REQUIRE(m.requests().size() == ids.size());
    CHECK(m.open_request_count() == 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        CHECK(m.requests()[i].latency_ns() == 1000 + i);
    }
}

TEST_CASE("queued requests: a task holding several at once has each queued end close the oldest, "
          "beside its ordinary requests",
          "[analysis]") {
    // A chat subscriber writes three messages posted at 10, 20 and 30 in one write that ends
    // at 100..102: the hub's time order puts the three begins before the three ends.
    constexpr auto queued = trace::queued_request_flag;
    const auto begin = [](std::uint64_t t, std::uint64_t id, bool q) {
        event e = make::request_begin(t, 0, 1, id, 7, trace::request_side::server);
        e.detail = static_cast<std::uint8_t>(e.detail | (q ? queued : 0));
        return e;
    };
    const auto end = [](std::uint64_t t, bool q) {
        event e = make::request_end(t, 0, 1, 10, 200, trace::request_side::server);
        e.detail = static_cast<std::uint8_t>(e.detail | (q ? queued : 0));
        return e;
    };
    model m;
    feed(m,
         {make::task_spawned(1, 0, 1), begin(10, 1, true), begin(20, 2, true), begin(30, 3, true),
          begin(40, 4, false), end(100, true), end(101, true), end(102, true), end(150, false)});
    REQUIRE(m.requests().size() == 4);
    CHECK(m.open_request_count() == 0);
    CHECK(m.requests()[0].latency_ns() == 90);
    CHECK(m.requests()[1].latency_ns() == 81);
    CHECK(m.requests()[2].latency_ns() == 72);
    CHECK(m.requests()[3].latency_ns() == 110); // the ordinary one, untouched
    CHECK(trace::request_begin_view::from(begin(10, 1, true)).side == trace::request_side::server);
    CHECK(trace::request_begin_view::from(begin(10, 1, true)).queued);
}
