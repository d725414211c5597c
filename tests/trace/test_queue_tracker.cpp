// The queue tracker: hand-built event sequences for each rule, then real runtimes whose
// queues the tracker must follow exactly.

#include "engine/test_support.hpp"
#include "taskscope/analysis/queue_tracker.hpp"
#include "taskscope/trace/event_types.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

using namespace taskscope;
using analysis::queue_id;
using analysis::queue_tracker;
using trace::event;
using trace::event_kind;
using trace::poll_result;
using trace::queue_code;
using trace::queue_kind;
using trace::track_kind;
using trace::wake_source;
namespace make = trace::make;

namespace {

std::vector<std::uint64_t> ids(const queue_tracker& q, queue_id which) {
    std::vector<std::uint64_t> out;
    for (const auto& t : q.contents(which, 1000)) {
        out.push_back(t.task);
    }
    return out;
}

using ids_t = std::vector<std::uint64_t>;

} // namespace

TEST_CASE("queue tracker: spawns and wakes land where their events say, polls take them out") {
    queue_tracker q;
    q.consume(std::vector{make::track_started(0, 0, track_kind::worker, 0),
                          make::track_started(0, 1, track_kind::worker, 1),
                          make::track_started(0, 2, track_kind::external, 0)});
    CHECK_FALSE(q.knows_queues());
    q.apply(make::raw(10, 2, event_kind::task_spawned, 7, 0, 0,
                      static_cast<std::uint8_t>(queue_kind::global)));
    q.apply(make::wake(11, 1, 8, 0, wake_source::task, {queue_kind::local, 1}));
    q.apply(make::wake(12, 1, 9, 0, wake_source::task, {queue_kind::local, 1}));
    CHECK(q.knows_queues());
    CHECK(ids(q, queue_id::global()) == ids_t{7});
    CHECK(ids(q, queue_id::local(1)) == ids_t{8, 9});
    CHECK(q.contents(queue_id::local(1), 10)[0].since_ns == 11);
    CHECK(q.total_queued() == 3);

    q.apply(make::poll_begin(20, 1, 8));
    CHECK(q.running(1) == 8);
    CHECK(q.running_since(1) == 20);
    CHECK(ids(q, queue_id::local(1)) == ids_t{9});
    q.apply(make::poll_end(25, 1, 8, trace::poll_result::ready));
    CHECK(q.running(1) == 0);

    // Out of order: the newer task is polled first (a steal the tracker did not see).
    q.apply(make::poll_begin(30, 0, 7));
    CHECK(q.size(queue_id::global()) == 0);
    CHECK(q.running(0) == 7);
    queue_id where;
    REQUIRE(q.find(9, where));
    CHECK(where.kind == queue_kind::local);
    CHECK(where.worker == 1);
    CHECK_FALSE(q.find(7, where));
    CHECK(q.workers() == 2);
}

TEST_CASE("queue tracker: a task woken into the LIFO slot pushes the previous one back") {
    queue_tracker q;
    q.apply(make::track_started(0, 0, track_kind::worker, 0));
    q.apply(make::wake(1, 0, 5, 0, wake_source::task, {queue_kind::local, 0}));
    q.apply(make::wake(2, 0, 6, 0, wake_source::task, {queue_kind::lifo, 0}));
    q.apply(make::wake(3, 0, 7, 0, wake_source::task, {queue_kind::lifo, 0}));
    CHECK(ids(q, queue_id::lifo(0)) == ids_t{7});
    CHECK(ids(q, queue_id::local(0)) == ids_t{5, 6});
    CHECK(q.contents(queue_id::local(0), 10)[1].since_ns == 2); // runnable since its wake

    // After three LIFO polls in a row the slot's task goes behind the queue.
    q.apply(make::queue_depth(4, 0, 0, 3, 7));
    CHECK(q.size(queue_id::lifo(0)) == 0);
    CHECK(ids(q, queue_id::local(0)) == ids_t{5, 6, 7});
    CHECK(q.contents(queue_id::local(0), 10)[2].since_ns == 3);
}

TEST_CASE("queue tracker: a steal moves the victim's oldest tasks to the thief") {
    queue_tracker q;
    q.consume(std::vector{make::track_started(0, 0, track_kind::worker, 0),
                          make::track_started(0, 1, track_kind::worker, 1)});
    for (std::uint64_t task = 1; task <= 6; ++task) {
        q.apply(make::wake(task, 0, task, 0, wake_source::task, {queue_kind::local, 0}));
    }
    // Thief worker 1 takes three: 1 and 2 queue on worker 1, 3 runs at once.
    q.apply(make::steal(10, 1, 0, 3, 3));
    CHECK(ids(q, queue_id::local(0)) == ids_t{4, 5, 6});
    CHECK(ids(q, queue_id::local(1)) == ids_t{1, 2});
    q.apply(make::poll_begin(11, 1, 3));
    CHECK(q.running(1) == 3);
    CHECK(q.total_queued() == 5);
}

TEST_CASE("queue tracker: an overflow moves the oldest half and the newest to the global queue") {
    queue_tracker q;
    q.apply(make::track_started(0, 0, track_kind::worker, 0));
    for (std::uint64_t task = 1; task <= 5; ++task) {
        q.apply(make::wake(task, 0, task, 0, wake_source::task, {queue_kind::local, 0}));
    }
    // The queue held 1..4 and 5 was being pushed: 1, 2 and 5 go global.
    q.apply(make::global_push(6, 0, 1, 3, 3, trace::push_reason::overflow));
    CHECK(ids(q, queue_id::global()) == ids_t{1, 2, 5});
    CHECK(ids(q, queue_id::local(0)) == ids_t{3, 4});

    // A push from outside was already placed by its wake: nothing moves twice.
    q.apply(make::track_started(0, 1, track_kind::external, 0));
    q.apply(make::wake(7, 1, 9, 0, wake_source::task, {queue_kind::global, 0}));
    q.apply(make::global_push(7, 1, 9, 1, 4));
    CHECK(ids(q, queue_id::global()) == ids_t{1, 2, 5, 9});
    q.apply(make::global_pop(8, 0, 1, 3));
    CHECK(ids(q, queue_id::global()) == ids_t{2, 5, 9});

    // A push recorded on a worker's track that is not an overflow (a single-threaded
    // runtime's caller keeps the worker's track) moves nothing either.
    q.apply(make::wake(9, 0, 11, 0, wake_source::task, {queue_kind::global, 0}));
    q.apply(make::global_push(9, 0, 11, 1, 4));
    CHECK(ids(q, queue_id::global()) == ids_t{2, 5, 9, 11});
    CHECK(ids(q, queue_id::local(0)) == ids_t{3, 4});
}

TEST_CASE("queue tracker: a task woken while it runs queues behind when its poll ends") {
    queue_tracker q;
    q.apply(make::track_started(0, 0, track_kind::worker, 0));
    q.apply(make::wake(1, 0, 4, 0, wake_source::task, {queue_kind::local, 0}));
    q.apply(make::poll_begin(2, 0, 3));
    q.apply(make::wake(3, 0, 3, 0, wake_source::task, {queue_kind::after_poll, 0})); // yield_now
    CHECK(ids(q, queue_id::local(0)) == ids_t{4});
    q.apply(make::poll_end(4, 0, 3));
    CHECK(ids(q, queue_id::local(0)) == ids_t{4, 3});

    // The wake recorded just after the poll's end (another thread lost the race).
    q.apply(make::poll_begin(5, 0, 4));
    q.apply(make::poll_end(6, 0, 4));
    q.apply(make::wake(7, 0, 4, 0, wake_source::task, {queue_kind::after_poll, 0}));
    CHECK(ids(q, queue_id::local(0)) == ids_t{3, 4});

    // Already queued: a second wake moves nothing.
    q.apply(make::wake(8, 0, 4, 0, wake_source::task, {queue_kind::none, 0}));
    CHECK(ids(q, queue_id::local(0)) == ids_t{3, 4});

    // A finished or cancelled task is forgotten.
    q.apply(make::poll_begin(9, 0, 3));
    q.apply(make::poll_end(10, 0, 3, trace::poll_result::ready));
    q.apply(make::task_cancelled(11, 0, 4));
    CHECK(q.total_queued() == 0);
}

TEST_CASE("queue tracker: the schema says whether queues are known, before any task is queued") {
    queue_tracker q;
    CHECK_FALSE(q.knows_queues());
    q.set_schema(trace::first_schema_with_queues);
    CHECK(q.knows_queues()); // nothing queued yet: empty queues, not an old trace
    q.clear();
    CHECK(q.knows_queues()); // a new live run of the same schema
    queue_tracker old;
    old.set_schema(trace::oldest_readable_schema);
    CHECK_FALSE(old.knows_queues());
}

TEST_CASE("queue tracker: schema 2 traces name no queues") {
    queue_tracker q;
    q.apply(make::track_started(0, 0, track_kind::worker, 0));
    q.apply(make::task_spawned(1, 0, 3));               // detail 0: unknown
    q.apply(make::wake(2, 0, 3, 0, wake_source::task)); // arg2 0: unknown
    q.apply(make::poll_begin(3, 0, 3));
    CHECK_FALSE(q.knows_queues());
    CHECK(q.total_queued() == 0);
    CHECK(q.running(0) == 3);
}

TEST_CASE("queue tracker: damaged events are ignored, not trusted") {
    queue_tracker q;
    q.apply(make::track_started(0, 0, track_kind::worker, 0));
    q.apply(
        make::wake(1, 0, 3, 0, wake_source::task, {queue_kind::local, 0xFFFF})); // absurd worker
    q.apply(make::steal(2, 0, 1u << 30, 100, 3));                                // absurd victim
    q.apply(make::global_push(3, 9, 3, 5, 5));                                   // unknown track
    q.apply(make::raw(4, 0, event_kind::wake, 3, 0, 0xFFFF'FFFFu));              // unknown kind
    q.apply(
        make::global_push(5, 0, 3, 1'000'000, 5, trace::push_reason::overflow)); // more than queued
    CHECK(q.total_queued() <= 1);
}

namespace {

task<void> child() {
    co_return;
}

/// Yields `n` times.
task<void> yielder(int n) {
    for (int i = 0; i < n; ++i) {
        co_await yield_now();
    }
}

/// Spawns `n` children on its own worker, then waits for them.
task<void> parent(int n) {
    std::vector<join_handle<void>> children;
    for (int i = 0; i < n; ++i) {
        children.push_back(spawn(child(), "child"));
    }
    for (auto& c : children) {
        co_await c;
    }
}

/// Applies events up to (and including) the first that matches `stop`; returns its index.
template <class Stop>
std::size_t apply_until(queue_tracker& q, const std::vector<event>& events, Stop stop) {
    for (std::size_t i = 0; i < events.size(); ++i) {
        q.apply(events[i]);
        if (stop(events[i])) {
            return i;
        }
    }
    return events.size();
}

} // namespace

TEST_CASE("queue tracker: follows a real worker's LIFO slot and queue exactly") {
    runtime_options options;
    options.workers = 1;
    testing::traced_runtime traced(options);
    traced.rt.block_on(parent(5), "parent");
    const auto events = traced.finish();
    const std::uint64_t parent_id = testing::task_named(events, "parent");
    const std::uint64_t first_child = testing::task_named(events, "child");
    REQUIRE(parent_id != 0);

    // When the parent's first poll ends, its five children wait: the last one spawned in
    // the LIFO slot, the first four in spawn order in the queue.
    queue_tracker q;
    apply_until(q, events, [&](const event& e) {
        return e.kind == event_kind::poll_end && e.task == parent_id;
    });
    REQUIRE(q.knows_queues());
    CHECK(ids(q, queue_id::lifo(0)) == ids_t{first_child + 4});
    CHECK(ids(q, queue_id::local(0)) ==
          ids_t{first_child, first_child + 1, first_child + 2, first_child + 3});
}

namespace {

/// Spawns `n` children pinned to its worker, then waits for them.
task<void> pinning_parent(int n) {
    std::vector<join_handle<void>> children;
    for (int i = 0; i < n; ++i) {
        children.push_back(spawn_local(child(), "pinned_child"));
    }
    for (auto& c : children) {
        co_await c;
    }
}

} // namespace

TEST_CASE("queue tracker: pinned tasks pushed out of the LIFO slot wait in the pinned queue") {
    runtime_options options;
    options.workers = 2;
    testing::traced_runtime traced(options);
    traced.rt.block_on(pinning_parent(3), "pinning_parent");
    const auto events = traced.finish();
    const std::uint64_t parent_id = testing::task_named(events, "pinning_parent");
    const std::uint64_t first = testing::task_named(events, "pinned_child");
    REQUIRE(parent_id != 0);
    queue_tracker q;
    const std::size_t at = apply_until(q, events, [&](const event& e) {
        return e.kind == event_kind::poll_end && e.task == parent_id;
    });
    REQUIRE(at < events.size());
    const auto w = static_cast<std::uint32_t>(testing::worker_of_track(events)[events[at].track]);
    CHECK(ids(q, queue_id::lifo(w)) == ids_t{first + 2});
    CHECK(ids(q, queue_id::pinned(w)) == ids_t{first, first + 1});
    CHECK(q.size(queue_id::local(w)) == 0);
}

TEST_CASE("queue tracker: every poll of a stealing runtime finds its task queued") {
    runtime_options options;
    options.workers = 2;
    testing::traced_runtime traced(options);
    auto yielding = traced.rt.spawn(yielder(500), "yielder");
    traced.rt.block_on(parent(2000), "parent");
    traced.rt.block_on(std::move(yielding));
    const auto events = traced.finish();
    REQUIRE_FALSE(testing::of_kind(events, event_kind::poll_begin).empty());

    // A task leaves its queue at a global_pop, a steal (the one the thief runs) or its
    // poll_begin; at that moment the tracker must have it queued.
    queue_tracker q;
    std::size_t polls = 0;
    std::size_t found = 0;
    std::set<std::uint64_t> taken; // dequeued, poll not begun yet
    for (const event& e : events) {
        queue_id where;
        if (e.kind == event_kind::global_pop || e.kind == event_kind::steal) {
            if (q.find(e.task, where)) {
                taken.insert(e.task);
            }
        } else if (e.kind == event_kind::poll_begin) {
            ++polls;
            if (q.find(e.task, where) || taken.erase(e.task) != 0) {
                ++found;
            }
        }
        q.apply(e);
    }
    INFO("polls " << polls << ", found queued " << found << ", steals "
                  << testing::of_kind(events, event_kind::steal).size());
    // Each poll's task was announced by a spawn or a wake naming its queue.
    CHECK(found == polls);
    CHECK(q.total_queued() == 0);
    CHECK(q.running(0) == 0);
    CHECK(q.running(1) == 0);
}
