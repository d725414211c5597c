// A live window keeps only its last minutes: column::forget_before and
// model::forget_before. What stays must be exactly what a model of the whole run holds from
// the cut on, at the same indices, and a model that goes on after forgetting must agree with
// one that never forgot. Memory must stop growing once the kept window is full.

#include "bench/bench_support.hpp"
#include "taskscope/analysis/column.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/event_types.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

namespace {

using namespace taskscope;
using analysis::column;
using analysis::model;
using analysis::no_task;
using analysis::open_end;
using trace::event;

namespace make = trace::make;

std::vector<event> stream_of(bench::HttpLikeStream& stream, std::size_t count) {
    std::vector<event> events;
    stream.next(events, count);
    return events;
}

/// Bytes the model's columns hold (what forgetting must give back).
std::size_t held_bytes(const model& m) {
    std::size_t n = m.tasks().capacity_bytes() + m.wakes().capacity_bytes() +
                    m.steals().capacity_bytes() + m.requests().capacity_bytes() +
                    m.global_depth().capacity_bytes() + m.lints().capacity_bytes() +
                    m.reactor_events().capacity_bytes() + m.markers().capacity_bytes();
    for (const analysis::lane& l : m.lanes()) {
        n += l.polls.capacity_bytes() + l.blocks.capacity_bytes() + l.jobs.capacity_bytes() +
             l.parked.capacity_bytes() + l.depth.capacity_bytes();
    }
    return n;
}

std::vector<std::uint64_t> kept_latencies(const model& m) {
    std::vector<std::uint64_t> out;
    for (const analysis::request_span& r : m.requests()) {
        if (r.finished() && !r.client) {
            out.push_back(r.latency_ns());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool same_poll(const analysis::poll_span& a, const analysis::poll_span& b) {
    return a.begin_ns == b.begin_ns && a.end_ns == b.end_ns && a.task == b.task &&
           a.result == b.result && a.flags == b.flags;
}

bool same_request(const analysis::request_span& a, const analysis::request_span& b) {
    return a.begin_ns == b.begin_ns && a.end_ns == b.end_ns && a.request_id == b.request_id &&
           a.task == b.task && a.status == b.status;
}

/// `kept` holds from its first kept index on exactly what `whole` holds there.
void check_kept_as_whole(const model& kept, const model& whole) {
    REQUIRE(kept.lanes().size() == whole.lanes().size());
    for (std::size_t li = 0; li < kept.lanes().size(); ++li) {
        const auto& k = kept.lanes()[li].polls;
        const auto& w = whole.lanes()[li].polls;
        REQUIRE(k.size() == w.size());
        for (std::size_t i = k.first_kept(); i < k.size(); ++i) {
            REQUIRE(same_poll(k[i], w[i]));
        }
    }
    const auto& kr = kept.requests();
    const auto& wr = whole.requests();
    REQUIRE(kr.size() == wr.size());
    for (std::size_t i = kr.first_kept(); i < kr.size(); ++i) {
        REQUIRE(same_request(kr[i], wr[i]));
    }
    const auto& kw = kept.wakes();
    const auto& ww = whole.wakes();
    REQUIRE(kw.size() == ww.size());
    for (std::size_t i = kw.first_kept(); i < kw.size(); ++i) {
        REQUIRE(kw[i].time_ns == ww[i].time_ns);
        REQUIRE(kw[i].woken == ww[i].woken);
    }
}

} // namespace

TEST_CASE("column: forgetting keeps every index and gives whole segments back", "[retention]") {
    column<std::uint64_t> c;
    for (std::uint64_t i = 0; i < 300'000; ++i) {
        c.push_back(i * 3);
    }
    const std::size_t full = c.capacity_bytes();
    c.forget_before(200'000);
    CHECK(c.first_kept() == 200'000);
    CHECK(c.size() == 300'000);
    CHECK(c.kept() == 100'000);
    CHECK(c.front() == 600'000);
    CHECK(c.begin().index() == 200'000);
    CHECK(c[250'000] == 750'000);
    CHECK(c.capacity_bytes() < full / 2); // pages wholly below 200,000 were given back
    // Appending goes on at the same indices; iteration sees only what is kept.
    c.push_back(1);
    CHECK(c.back() == 1);
    CHECK(c.size() == 300'001);
    CHECK(std::distance(c.begin(), c.end()) == 100'001);
    // A copy keeps the indices; forgetting backwards or past the end is harmless.
    const column<std::uint64_t> copy = c;
    CHECK(copy.first_kept() == 200'000);
    CHECK(copy[299'999] == 299'999 * 3);
    c.forget_before(10);
    CHECK(c.first_kept() == 200'000);
    c.forget_before(1'000'000);
    CHECK(c.empty());
    CHECK(c.size() == 300'001);
    c.push_back(7);
    CHECK(c[300'001] == 7);
    CHECK(c.kept() == 1);
}

TEST_CASE("forget_before keeps what a model of the whole run holds from the cut on",
          "[retention]") {
    bench::HttpLikeStream a(7);
    bench::HttpLikeStream b(7);
    model whole;
    model kept;
    whole.consume(stream_of(a, 300'000));
    kept.consume(stream_of(b, 300'000));
    const std::uint64_t cut = whole.first_ns() + (whole.last_ns() - whole.first_ns()) / 2;
    kept.forget_before(cut);

    CHECK(kept.kept_from_ns() == cut);
    CHECK(kept.first_ns() == whole.first_ns()); // times still count from the run's start
    CHECK(kept.last_ns() == whole.last_ns());
    CHECK(kept.event_count() == whole.event_count()); // counters count the whole run
    check_kept_as_whole(kept, whole);
    for (const analysis::lane& l : kept.lanes()) {
        for (const analysis::poll_span& p : l.polls) {
            CHECK(p.end_ns >= cut);
        }
        if (l.polls.first_kept() > 0) { // the one before the first kept ended before the cut
            const auto& w = whole.lanes()[static_cast<std::size_t>(&l - kept.lanes().data())].polls;
            CHECK(w[l.polls.first_kept() - 1].end_ns < cut);
        }
    }
    CHECK(kept.requests().first_kept() > 0);
    CHECK(kept.wakes().first_kept() > 0);
    CHECK(kept.tasks().first_kept() > 0);

    // Latencies are those of the kept requests only.
    const std::vector<std::uint64_t> latencies = kept_latencies(kept);
    const auto span = kept.request_latencies();
    CHECK(std::vector<std::uint64_t>(span.begin(), span.end()) == latencies);
    CHECK(kept.request_latency().count == latencies.size());
    CHECK(kept.request_latency().count < whole.request_latency().count);

    // The accept loop, alive since the start, stays; tasks that ended before the cut go.
    const analysis::task_ref accept = kept.find_task(1);
    REQUIRE(accept != no_task);
    REQUIRE(kept.task(accept) != nullptr);
    CHECK(accept < kept.tasks().first_kept());
    CHECK(kept.task_label(accept) == whole.task_label(accept));
    std::size_t gone = 0;
    for (std::size_t r = 0; r < kept.tasks().first_kept(); ++r) {
        const analysis::task_info& t = whole.tasks()[r];
        const bool alive = t.ended_ns == open_end || t.ended_ns >= cut;
        CHECK((kept.task(static_cast<analysis::task_ref>(r)) != nullptr) == alive);
        CHECK((kept.find_task(t.id) != no_task) == alive);
        gone += alive ? 0 : 1;
    }
    CHECK(gone > 0);
    for (std::size_t row = 0; row < kept.task_rows(); ++row) {
        const analysis::task_info* t = kept.task(kept.task_of_row(row));
        REQUIRE(t != nullptr);
        CHECK((t->ended_ns == open_end || t->ended_ns >= cut));
    }
    CHECK(kept.task_label(0) ==
          (kept.task(0) != nullptr ? whole.task_label(0) : "an earlier task"));
}

TEST_CASE("a model that goes on after forgetting agrees with one that saw everything",
          "[retention]") {
    bench::HttpLikeStream a(11);
    bench::HttpLikeStream b(11);
    model whole;
    model kept;
    for (int round = 0; round < 6; ++round) {
        whole.consume(stream_of(a, 100'000));
        kept.consume(stream_of(b, 100'000));
        kept.forget_before(kept.last_ns() - (kept.last_ns() - kept.first_ns()) / 3);
        check_kept_as_whole(kept, whole);
        // Every finished request kept is counted in the latencies, and nothing else.
        const auto span = kept.request_latencies();
        CHECK(std::vector<std::uint64_t>(span.begin(), span.end()) == kept_latencies(kept));
        // Open requests that began before the cut were let go, and no more: those kept
        // that the model that saw everything holds open too.
        CHECK(kept.open_request_count() <= whole.open_request_count());
        CHECK(whole.open_request_count() - kept.open_request_count() <= 64); // one a connection
        // Every task of a kept poll can be named.
        for (const analysis::lane& l : kept.lanes()) {
            for (const analysis::poll_span& p : l.polls) {
                REQUIRE(kept.task(p.task) != nullptr);
            }
        }
    }
}

TEST_CASE("forgetting over and over keeps the model's memory flat", "[retention]") {
    // Keep the last half second of trace time (about 500,000 events), fed 100,000 at a
    // time: full after five rounds. Memory is given back in pages, so it saws up and down a
    // page or so; what matters is that the top of the saw stops rising.
    bench::HttpLikeStream stream(3);
    model m;
    constexpr int rounds = 28;
    constexpr int full = 6;
    std::size_t early = 0; // the most held in the eight rounds after it filled
    std::size_t late = 0;  // ... and in the last eight
    for (int round = 0; round < rounds; ++round) {
        m.consume(stream_of(stream, 100'000));
        m.forget_before(m.last_ns() > 500'000'000 ? m.last_ns() - 500'000'000 : 0);
        if (round >= full && round < full + 8) {
            early = std::max(early, held_bytes(m));
        }
        if (round >= rounds - 8) {
            late = std::max(late, held_bytes(m));
        }
    }
    REQUIRE(early > 0);
    CAPTURE(early, late);
    CHECK(late <= early + early / 5);
    CHECK(m.task_rows() < 10'000); // 64 connections, the accept loop and the recent dead
}

TEST_CASE("resources: a lock held and a wait open across the cut end cleanly", "[retention]") {
    using trace::resource_kind;
    using trace::resource_op;
    model m;
    constexpr std::uint32_t mutex = 5;
    m.consume(std::vector<event>{
        make::track_started(0, 0, trace::track_kind::worker, 0),
        make::resource_created(10, 0, mutex, resource_kind::mutex, 0, 1, 1),
        make::poll_begin(20, 0, 1),
        make::resource_depth(21, 0, 1, mutex, resource_op::lock, 1), // task 1 holds it
        make::poll_end(30, 0, 1, trace::poll_result::pending),
        make::poll_begin(40, 0, 2),
        make::resource_wait(41, 0, 2, mutex, resource_op::lock), // task 2 waits
        make::poll_end(42, 0, 2, trace::poll_result::pending),
    });
    m.forget_before(1000);
    const analysis::resource_info* r = m.resources().find(mutex);
    REQUIRE(r != nullptr);
    CHECK(r->waiters_now == 1);
    CHECK(r->holder_now() == 1); // its hold began before the cut and is still open: kept
    m.consume(std::vector<event>{
        make::poll_begin(2000, 0, 1),
        make::resource_released(2001, 0, 1, mutex, 0),
        make::resource_ready(2002, 0, 2, mutex, resource_op::lock, 1961),
        make::poll_end(2003, 0, 1, trace::poll_result::ready),
    });
    CHECK(r->waiters_now == 0);
    CHECK(r->holder_now() == 2);
    CHECK(r->holds.front().begin_ns == 21);
    CHECK(r->holds.front().end_ns == 2001);
    CHECK(r->waits.empty()); // the wait began before the cut
}
