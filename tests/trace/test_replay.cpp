// Replay over a committed lesson trace: every step lands on the next event of the kind
// asked for, seeking back and forth gives the same state, and the state at the playhead
// is what the queue tracker says after exactly the events before it.

#include "taskscope/analysis/replay.hpp"

#include <catch2/catch.hpp>

using namespace taskscope;
using analysis::queue_id;
using analysis::replay_cursor;
using trace::event;
using trace::event_kind;

namespace {

const std::filesystem::path sample =
    std::filesystem::path(TASKSCOPE_TEST_DATA) / "lesson-work-stealing.tstrace";

bool same(const event& a, const event& b) {
    return a.time_ns == b.time_ns && a.task == b.task && a.arg == b.arg && a.arg2 == b.arg2 &&
           a.track == b.track && a.kind == b.kind && a.detail == b.detail;
}

} // namespace

TEST_CASE("replay: each step lands on the next event of the kind asked for") {
    const trace::loaded_trace all = trace::read_trace_file(sample);
    REQUIRE(all.report.complete);
    for (const event_kind kind : {event_kind::poll_begin, event_kind::wake, event_kind::steal}) {
        INFO(trace::to_string(kind));
        std::vector<event> expected;
        for (const event& e : all.events) {
            if (e.kind == kind) {
                expected.push_back(e);
            }
        }
        REQUIRE_FALSE(expected.empty()); // the lesson trace has polls, wakes and steals
        replay_cursor cursor(sample);
        std::size_t i = 0;
        while (auto e = cursor.step(kind)) {
            REQUIRE(i < expected.size());
            CHECK(same(*e, expected[i]));
            CHECK(cursor.position_ns() >= e->time_ns);
            ++i;
        }
        CHECK(i == expected.size());
        CHECK(cursor.at_end());
        CHECK(cursor.applied() == all.events.size());
    }
}

TEST_CASE("replay: stepping to any of several kinds, and the state at the playhead") {
    const trace::loaded_trace all = trace::read_trace_file(sample);
    replay_cursor cursor(sample);
    const std::array kinds{event_kind::steal, event_kind::poll_begin};
    std::size_t applied_before = 0;
    for (int step = 0; step < 200; ++step) {
        const auto e = cursor.step_any(kinds);
        REQUIRE(e);
        CHECK((e->kind == event_kind::steal || e->kind == event_kind::poll_begin));
        // Every event between the previous step and this one was skipped over, not lost.
        for (std::size_t k = applied_before; k + 1 < cursor.applied(); ++k) {
            CHECK(all.events[k].kind != event_kind::steal);
            CHECK(all.events[k].kind != event_kind::poll_begin);
        }
        applied_before = cursor.applied();
    }
    // The state at the playhead equals a tracker fed exactly the events applied so far.
    analysis::queue_tracker expected;
    for (std::size_t k = 0; k < cursor.applied(); ++k) {
        expected.apply(all.events[k]);
    }
    for (std::uint32_t w = 0; w < 2; ++w) {
        CHECK(cursor.queues().running(w) == expected.running(w));
        CHECK(cursor.queues().size(queue_id::local(w)) == expected.size(queue_id::local(w)));
    }
    CHECK(cursor.queues().total_queued() == expected.total_queued());
}

TEST_CASE("replay: a current trace knows its queues at the playhead 0, before any event") {
    replay_cursor cursor(sample);
    CHECK(cursor.position_ns() == 0);
    CHECK(cursor.queues().knows_queues());
    CHECK(cursor.queues().total_queued() == 0);
}

TEST_CASE("replay: at a steal the thief's queue holds what it took, and seeking back agrees") {
    replay_cursor cursor(sample);
    const auto steal = cursor.step(event_kind::steal);
    REQUIRE(steal);
    REQUIRE(cursor.queues().knows_queues());
    const std::uint64_t moved = steal->arg2;
    const std::uint32_t victim = static_cast<std::uint32_t>(steal->arg);
    const std::uint32_t thief = victim == 0 ? 1 : 0;
    // The thief runs one of the tasks at once; the rest wait in its queue.
    CHECK(cursor.queues().size(queue_id::local(thief)) >= moved - 1);
    const std::size_t thief_queue = cursor.queues().size(queue_id::local(thief));
    const std::size_t victim_queue = cursor.queues().size(queue_id::local(victim));
    const std::uint64_t at = cursor.position_ns();
    const std::uint64_t applied = cursor.applied();

    cursor.seek(at + 1'000'000); // forward ...
    CHECK(cursor.position_ns() >= at + 1'000'000);
    cursor.seek(at); // ... and back: read again from the start up to the same time
    CHECK(cursor.position_ns() == at);
    CHECK(cursor.applied() >= applied);
    if (cursor.applied() == applied) {
        CHECK(cursor.queues().size(queue_id::local(thief)) == thief_queue);
        CHECK(cursor.queues().size(queue_id::local(victim)) == victim_queue);
    }
    cursor.rewind();
    CHECK(cursor.applied() == 0);
    CHECK(cursor.queues().total_queued() == 0);
}
