// The synchronization primitives' semantics (taskscope/sync.hpp): channels, oneshot,
// broadcast, async_mutex, semaphore, notify; closing, lag, cancellation and shutdown while
// waiting; and what each records in the trace.

#include "taskscope/trace/event_types.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <variant>

using namespace taskscope;
using namespace std::chrono_literals;
using trace::event_kind;

namespace {

task<void> send_range(mpsc::sender<int> tx, int from, int to, std::vector<bool>* results) {
    for (int i = from; i < to; ++i) {
        const bool sent = co_await tx.send(i);
        if (results != nullptr) {
            results->push_back(sent);
        }
    }
}

task<std::vector<int>> receive_all(mpsc::receiver<int> rx) {
    std::vector<int> got;
    while (std::optional<int> v = co_await rx.recv()) {
        got.push_back(*v);
    }
    co_return got;
}

std::vector<trace::event> resource_events(const std::vector<trace::event>& events, event_kind kind,
                                          std::uint32_t resource) {
    std::vector<trace::event> out;
    for (const auto& e : events) {
        if (e.kind == kind && e.arg2 == resource) {
            out.push_back(e);
        }
    }
    return out;
}

} // namespace

TEST_CASE("mpsc: a bounded channel delivers every message in order and closes when the "
          "senders are gone",
          "[sync]") {
    testing::traced_runtime t({.workers = 2});
    auto [tx, rx] = mpsc::channel<int>(2, "numbers");
    const std::uint32_t id = rx.resource_id();
    auto root = [&]() -> task<std::vector<int>> {
        auto producer = spawn(send_range(std::move(tx), 0, 100, nullptr), "producer");
        auto got = co_await receive_all(std::move(rx));
        co_await producer;
        co_return got;
    };
    const std::vector<int> got = t.rt.block_on(root(), "root");
    REQUIRE(got.size() == 100);
    for (int i = 0; i < 100; ++i) {
        CHECK(got[static_cast<std::size_t>(i)] == i);
    }
    const auto events = t.finish();
    INFO("events lost: " << t.rt.trace().dropped());
    REQUIRE(t.rt.trace().dropped() == 0);
    // Created once, named, with its capacity.
    const auto created = resource_events(events, event_kind::resource_created, id);
    REQUIRE(created.size() == 1);
    const auto c = trace::resource_created_view::from(created[0]);
    CHECK(c.kind == trace::resource_kind::mpsc);
    CHECK(c.capacity == 2);
    CHECK(trace::name_of(c.name) == "numbers");
    // A depth after every receive and every send that did not wait (a waiting sender is let
    // in by the receive that made room: that receive's depth counts it), never above the
    // capacity.
    const auto depths = resource_events(events, event_kind::resource_depth, id);
    const auto lets_in = resource_events(events, event_kind::resource_ready, id);
    std::size_t receives = 0;
    for (const auto& e : depths) {
        CHECK(e.arg <= 2);
        receives += trace::resource_depth_view::from(e).op == trace::resource_op::recv ? 1u : 0u;
    }
    CHECK(receives == 100);
    std::size_t senders_let_in = 0;
    for (const auto& e : lets_in) {
        senders_let_in +=
            trace::resource_ready_view::from(e).op == trace::resource_op::send ? 1u : 0u;
    }
    CHECK(depths.size() - receives + senders_let_in == 100);
    CHECK(resource_events(events, event_kind::resource_closed, id).size() == 1);
}

TEST_CASE("mpsc: a full channel makes the sender wait, and the receive that makes room "
          "lets it in",
          "[sync]") {
    testing::traced_runtime t({.workers = 1});
    auto [tx, rx] = mpsc::channel<int>(1, "one slot");
    const std::uint32_t id = rx.resource_id();
    // (Catch's assertions are for the test's own thread: tasks collect, the test checks.
    // Never co_await inside CHECK either: Catch repeats the expression in a branch that
    // g++ 12 evaluates for a co_await.)
    std::vector<bool> results;
    std::size_t queued_while_waiting = 0;
    std::vector<std::optional<int>> received;
    auto root = [&]() -> task<void> {
        auto producer = spawn(send_range(tx, 0, 3, &results), "producer");
        co_await yield_now(); // the producer fills the slot and waits
        co_await yield_now();
        queued_while_waiting = rx.size();
        for (int i = 0; i < 3; ++i) {
            received.push_back(co_await rx.recv());
        }
        co_await producer;
    };
    t.rt.block_on(root(), "root");
    CHECK(queued_while_waiting == 1);
    CHECK(received == std::vector<std::optional<int>>{0, 1, 2});
    CHECK(results == std::vector<bool>{true, true, true});
    const auto events = t.finish();
    const auto waits = resource_events(events, event_kind::resource_wait, id);
    REQUIRE(!waits.empty());
    CHECK(trace::resource_wait_view::from(waits[0]).op == trace::resource_op::send);
    // Every ended wait is followed on its track by the wake it caused, source channel.
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (events[i].kind != event_kind::resource_ready || events[i].arg2 != id) {
            continue;
        }
        const auto& ready = events[i];
        bool woke = false;
        for (std::size_t j = i + 1; j < events.size(); ++j) {
            if (events[j].track == ready.track) {
                woke = events[j].kind == event_kind::wake && events[j].task == ready.task &&
                       trace::wake_view::from(events[j]).source == trace::wake_source::channel;
                break;
            }
        }
        CHECK(woke);
    }
}

TEST_CASE("mpsc: dropping the receiver refuses sends, waiting ones included - try_send says "
          "full or closed",
          "[sync]") {
    runtime rt({.workers = 1});
    auto [tx, rx] = mpsc::channel<std::string>(1, "refused");
    CHECK(tx.try_send(std::string("a")) == mpsc::try_send_result::sent);
    std::string b = "b";
    CHECK(tx.try_send(std::move(b)) == mpsc::try_send_result::full);
    CHECK(b == "b"); // untouched when not sent
    auto waiting = [&]() -> task<bool> { co_return co_await tx.send("c"); };
    auto root = [&]() -> task<bool> {
        auto sender = spawn(waiting(), "sender");
        co_await yield_now();
        co_await yield_now();
        { auto gone = std::move(rx); } // the receiver is dropped while the sender waits
        co_return co_await sender;
    };
    CHECK_FALSE(rt.block_on(root(), "root"));
    CHECK(tx.is_closed());
    CHECK(tx.try_send(std::string("d")) == mpsc::try_send_result::closed);
}

TEST_CASE("mpsc: close() stops senders but what was queued can still be received", "[sync]") {
    runtime rt({.workers = 1});
    auto [tx, rx] = mpsc::unbounded<int>("events");
    CHECK(tx.send(1));
    CHECK(tx.send(2));
    rx.close();
    CHECK_FALSE(tx.send(3));
    auto root = [&]() -> task<std::vector<int>> { co_return co_await receive_all(std::move(rx)); };
    CHECK(rt.block_on(root()) == std::vector<int>{1, 2});
}

TEST_CASE("mpsc: a channel of capacity 0 is refused with a clear error", "[sync]") {
    CHECK_THROWS_WITH(mpsc::channel<int>(0), Catch::Contains("at least 1"));
    CHECK_THROWS_WITH(broadcast::channel<int>(0), Catch::Contains("capacity"));
}

TEST_CASE("oneshot: one value arrives - a sender dropped without sending closes it", "[sync]") {
    runtime rt({.workers = 2});
    auto [tx, rx] = oneshot::channel<int>("answer");
    bool first_sent = false;
    bool second_sent = true;
    std::thread outside([tx = std::move(tx), &first_sent, &second_sent]() mutable {
        std::this_thread::sleep_for(20ms);
        first_sent = tx.send(42);
        second_sent = tx.send(43); // once only
    });
    auto root = [&]() -> task<std::optional<int>> { co_return co_await rx.recv(); };
    CHECK(rt.block_on(root()) == 42);
    outside.join();
    CHECK(first_sent);
    CHECK_FALSE(second_sent);

    auto [tx2, rx2] = oneshot::channel<int>();
    auto drop = [](oneshot::sender<int> s) -> task<void> {
        co_await sleep_for(10ms);
        (void)s; // dropped here, unsent
    };
    auto root2 = [&]() -> task<std::optional<int>> {
        auto dropper = spawn(drop(std::move(tx2)));
        auto v = co_await rx2.recv();
        co_await dropper;
        co_return v;
    };
    CHECK(rt.block_on(root2()) == std::nullopt);
}

TEST_CASE("broadcast: every receiver gets every message - one that falls behind is told how "
          "many it missed and goes on from the oldest kept",
          "[sync]") {
    testing::traced_runtime t({.workers = 2});
    auto [tx, rx] = broadcast::channel<int>(4, "room");
    auto rx2 = tx.subscribe();
    const std::uint32_t id = tx.resource_id();
    std::vector<std::size_t> receivers;
    std::vector<broadcast::recv_result<int>> got1;
    std::vector<broadcast::recv_result<int>> got2;
    std::uint64_t backlog2 = 0;
    std::uint64_t backlog3 = 99;
    auto root = [&]() -> task<void> {
        for (int i = 0; i < 3; ++i) {
            receivers.push_back(tx.send(i));
        }
        for (int i = 0; i < 3; ++i) {
            got1.push_back(co_await rx.recv());
        }
        for (int i = 3; i < 10; ++i) {
            tx.send(i);
        }
        got1.push_back(co_await rx.recv());
        got1.push_back(co_await rx.recv());
        backlog2 = rx2.backlog();
        for (int i = 0; i < 5; ++i) {
            got2.push_back(co_await rx2.recv());
        }
        auto rx3 = tx.subscribe(); // sees only what comes after it
        backlog3 = rx3.backlog();
    };
    t.rt.block_on(root(), "root");
    CHECK(receivers == std::vector<std::size_t>{2, 2, 2});
    using r = broadcast::recv_result<int>;
    // rx read 0..2, then is 7 behind with 4 kept: it missed 3..5 and goes on at 6.
    CHECK(got1 == std::vector<r>{r(0), r(1), r(2), r(broadcast::lagged{3}), r(6)});
    // rx2 read nothing: 10 sent, 4 kept, 6 missed.
    CHECK(backlog2 == 10);
    CHECK(got2 == std::vector<r>{r(broadcast::lagged{6}), r(6), r(7), r(8), r(9)});
    CHECK(backlog3 == 0);
    const auto events = t.finish();
    const auto lags = resource_events(events, event_kind::resource_lagged, id);
    REQUIRE(lags.size() == 2);
    CHECK(lags[0].arg + lags[1].arg == 9);
}

TEST_CASE("broadcast: try_recv takes what is there without waiting - messages, a lag, then "
          "nothing, and closed once every sender is gone",
          "[sync]") {
    testing::traced_runtime t({.workers = 1});
    auto [tx, rx] = broadcast::channel<int>(2, "feed");
    const std::uint32_t id = tx.resource_id();
    using r = broadcast::recv_result<int>;
    std::vector<std::optional<r>> got;
    auto root = [&]() -> task<void> {
        got.push_back(rx.try_recv()); // nothing yet
        for (int i = 0; i < 5; ++i) {
            tx.send(i); // two kept: 3 and 4
        }
        for (int i = 0; i < 4; ++i) {
            got.push_back(rx.try_recv());
        }
        { auto gone = std::move(tx); }
        got.push_back(rx.try_recv());
        co_return;
    };
    t.rt.block_on(root(), "root");
    CHECK(got == std::vector<std::optional<r>>{std::nullopt, r(broadcast::lagged{3}), r(3), r(4),
                                               std::nullopt, r(broadcast::closed{})});
    const auto events = t.finish();
    const auto lags = resource_events(events, event_kind::resource_lagged, id);
    REQUIRE(lags.size() == 1);
    CHECK(lags[0].arg == 3);
}

TEST_CASE("broadcast: a waiting receiver is woken by a send from another task, and sees "
          "closed when every sender is gone",
          "[sync]") {
    runtime rt({.workers = 2});
    auto [tx, rx] = broadcast::channel<std::string>(8, "news");
    auto listen = [](broadcast::receiver<std::string> r) -> task<std::vector<std::string>> {
        std::vector<std::string> got;
        for (;;) {
            auto m = co_await r.recv();
            if (auto* s = std::get_if<std::string>(&m)) {
                got.push_back(*s);
            } else {
                got.push_back(std::holds_alternative<broadcast::closed>(m) ? "closed" : "lagged");
                co_return got;
            }
        }
    };
    auto root = [&]() -> task<std::vector<std::string>> {
        auto listener = spawn(listen(std::move(rx)), "listener");
        co_await sleep_for(5ms); // it waits
        tx.send("one");
        co_await sleep_for(5ms);
        tx.send("two");
        { auto last = std::move(tx); }
        co_return co_await listener;
    };
    CHECK(rt.block_on(root()) == std::vector<std::string>{"one", "two", "closed"});
}

TEST_CASE("async_mutex: four tasks holding it across an await take turns, first come first "
          "served, one holder at a time",
          "[sync]") {
    testing::traced_runtime t({.workers = 2});
    async_mutex<std::vector<int>> m({}, "log");
    std::atomic<int> holders{0};
    std::atomic<int> most{0};
    auto worker = [&](int who) -> task<void> {
        auto guard = co_await m.lock();
        const int now = ++holders;
        most = std::max(most.load(), now);
        guard->push_back(who);
        co_await sleep_for(2ms); // held across an await
        --holders;
    };
    auto root = [&]() -> task<void> {
        auto first = co_await m.lock(); // everyone queues behind this
        std::vector<join_handle<void>> hs;
        for (int i = 0; i < 4; ++i) {
            hs.push_back(spawn(worker(i), "locker"));
            while (m.waiting() < static_cast<std::size_t>(i + 1)) {
                co_await yield_now();
            }
        }
        first.unlock();
        for (auto& h : hs) {
            co_await h;
        }
    };
    t.rt.block_on(root(), "root");
    CHECK(most == 1);
    auto guard_check = m.try_lock();
    REQUIRE(guard_check.has_value());
    CHECK(**guard_check == std::vector<int>{0, 1, 2, 3}); // the order they queued in
    guard_check->unlock();
    const auto events = t.finish();
    const std::uint32_t id = m.resource_id();
    CHECK(resource_events(events, event_kind::resource_wait, id).size() == 4);
    CHECK(resource_events(events, event_kind::resource_ready, id).size() == 4);
    // root's and the four lockers' (the try_lock above ran outside the runtime: unrecorded)
    CHECK(resource_events(events, event_kind::resource_released, id).size() == 5);
    // Each wait names the holder at the time: root for all four (it held it throughout).
    for (const auto& w : resource_events(events, event_kind::resource_wait, id)) {
        CHECK(w.arg != 0);
    }
}

TEST_CASE("semaphore: permits limit how many run at once - try_acquire and add_permits", "[sync]") {
    runtime rt({.workers = 2});
    semaphore slots(2, "slots");
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    auto user = [&]() -> task<void> {
        auto permit = co_await slots.acquire();
        const int now = ++inside;
        most = std::max(most.load(), now);
        co_await sleep_for(1ms);
        --inside;
    };
    auto root = [&]() -> task<void> {
        std::vector<join_handle<void>> hs;
        for (int i = 0; i < 8; ++i) {
            hs.push_back(spawn(user()));
        }
        for (auto& h : hs) {
            co_await h;
        }
    };
    rt.block_on(root());
    CHECK(most == 2);
    CHECK(slots.available_permits() == 2);
    auto two = slots.try_acquire(2);
    REQUIRE(two.has_value());
    CHECK_FALSE(slots.try_acquire().has_value());
    slots.add_permits(1);
    CHECK(slots.try_acquire().has_value()); // released again at once
    two->release();
    CHECK(slots.available_permits() == 3);
}

TEST_CASE("cancel safety: tasks destroyed while they wait leave the queue and are never "
          "granted - a lock held by a cancelled task is released",
          "[sync]") {
    async_mutex<int> m(0, "guarded");
    semaphore none(0, "empty");
    notify bell("bell");
    {
        runtime rt({.workers = 2});
        auto holder = [&]() -> task<void> {
            auto g = co_await m.lock();
            co_await sleep_for(60s); // cancelled by the shutdown while holding it
        };
        auto locker = [&]() -> task<void> {
            auto g = co_await m.lock();
            ++*g; // never runs: it is cancelled first, or granted and cancelled
        };
        auto acquirer = [&]() -> task<void> { auto p = co_await none.acquire(); };
        auto listener = [&]() -> task<void> { co_await bell.notified(); };
        auto root = [&]() -> task<void> {
            spawn(holder()).detach();
            while (!m.is_locked()) {
                co_await yield_now();
            }
            for (int i = 0; i < 3; ++i) {
                spawn(locker()).detach();
                spawn(acquirer()).detach();
                spawn(listener()).detach();
            }
            while (m.waiting() < 3 || none.waiting() < 3 || bell.waiting() < 3) {
                co_await sleep_for(1ms);
            }
        };
        rt.block_on(root());
        rt.shutdown(); // destroys the waiting tasks
    }
    CHECK(m.waiting() == 0);
    CHECK_FALSE(m.is_locked());
    auto g = m.try_lock();
    REQUIRE(g.has_value());
    CHECK(**g == 0);
    CHECK(none.waiting() == 0);
    none.add_permits(1);
    CHECK(none.available_permits() == 1); // nobody dead took it
    CHECK(bell.waiting() == 0);
}

TEST_CASE("notify: notify_one before the wait is not lost - notify_waiters wakes everyone "
          "waiting and stores nothing",
          "[sync]") {
    runtime rt({.workers = 2});
    notify n("n");
    n.notify_one(); // stored
    auto root = [&]() -> task<void> { co_await n.notified(); };
    rt.block_on(root()); // completes at once

    std::atomic<int> woken{0};
    auto waiter = [&]() -> task<void> {
        co_await n.notified();
        ++woken;
    };
    auto root2 = [&]() -> task<void> {
        std::vector<join_handle<void>> hs;
        for (int i = 0; i < 3; ++i) {
            hs.push_back(spawn(waiter()));
        }
        while (n.waiting() < 3) {
            co_await sleep_for(1ms);
        }
        n.notify_waiters();
        for (auto& h : hs) {
            co_await h;
        }
    };
    rt.block_on(root2());
    CHECK(woken == 3);
    // notify_waiters stored no permit: a new waiter waits until notify_one.
    int woken_before = -1;
    auto root3 = [&]() -> task<void> {
        auto h = spawn(waiter());
        while (n.waiting() < 1) {
            co_await sleep_for(1ms);
        }
        woken_before = woken;
        n.notify_one();
        co_await h;
    };
    rt.block_on(root3());
    CHECK(woken_before == 3);
    CHECK(woken == 4);
}

TEST_CASE("blocking_lock: a contended std::mutex blocks the worker, and the trace says so",
          "[sync]") {
    testing::traced_runtime t({.workers = 1});
    std::mutex plain;
    std::atomic<bool> holding{false};
    std::thread releaser([&] {
        std::lock_guard held(plain);
        holding = true;
        std::this_thread::sleep_for(20ms);
    });
    while (!holding) {
        std::this_thread::yield();
    }
    auto root = [&]() -> task<void> {
        auto lock = blocking_lock(plain); // the mistake: the worker stops here
        co_return;
    };
    t.rt.block_on(root(), "root");
    releaser.join();
    const auto events = t.finish();
    REQUIRE(testing::of_kind(events, event_kind::block_begin).size() == 1);
    REQUIRE(testing::of_kind(events, event_kind::block_end).size() == 1);
}

// ---- stress: random interleavings across workers (run under TSan by the tsan preset) ----

namespace {

task<void> produce(mpsc::sender<std::uint64_t> tx, std::uint64_t who, std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i) {
        const bool sent = co_await tx.send(who << 32 | i);
        if (!sent) {
            co_return;
        }
        if (i % 7 == who % 7) {
            co_await yield_now();
        }
    }
}

} // namespace

TEST_CASE("stress: channels, locks and broadcast under random interleavings keep their "
          "invariants",
          "[sync][stress]") {
    // Invariants checked:
    //  - mpsc: every message sent is received exactly once, in each sender's order;
    //  - async_mutex: never two holders, and a plain counter it guards loses no increment;
    //  - semaphore: never more permits in use than it has;
    //  - broadcast: each receiver gets, for every message, the message or a count of it in
    //    `lagged`, in order.
    constexpr std::uint64_t producers = 4;
    constexpr std::uint64_t per_producer = 400;
    constexpr int lockers = 6;
    constexpr int locks_each = 150;
    constexpr std::uint64_t broadcasts = 600;
    for (int round = 0; round < 3; ++round) {
        runtime rt({.workers = 4});
        auto [tx, rx] = mpsc::channel<std::uint64_t>(8, "stress channel");
        async_mutex<std::uint64_t> guarded(0, "stress mutex");
        std::atomic<int> holders{0};
        std::atomic<bool> two_holders{false};
        semaphore permits(3, "stress semaphore");
        std::atomic<int> in_use{0};
        std::atomic<bool> too_many{false};
        auto [btx, brx] = broadcast::channel<std::uint64_t>(16, "stress broadcast");
        bool all_in_order = false;
        std::uint64_t total_received = 0;
        int listeners_ok = 0;

        auto locker = [&](unsigned seed) -> task<void> {
            std::uint64_t state = seed * 2654435761u + 1;
            for (int i = 0; i < locks_each; ++i) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                {
                    auto g = co_await guarded.lock();
                    if (++holders != 1) {
                        two_holders = true;
                    }
                    ++*g; // a plain increment: the mutex is all that orders it
                    if (state % 4 == 0) {
                        co_await yield_now(); // held across an await
                    }
                    --holders;
                }
                const std::size_t want = 1 + state % 2;
                auto p = co_await permits.acquire(want);
                if (in_use.fetch_add(static_cast<int>(want)) + static_cast<int>(want) > 3) {
                    too_many = true;
                }
                if (state % 3 == 0) {
                    co_await yield_now();
                }
                in_use.fetch_sub(static_cast<int>(want));
            }
        };
        auto listen = [](broadcast::receiver<std::uint64_t> r, bool slow) -> task<bool> {
            std::uint64_t expected = 0; // the next sequence number
            for (std::uint64_t n = 0;; ++n) {
                auto got = co_await r.recv();
                if (auto* v = std::get_if<std::uint64_t>(&got)) {
                    if (*v != expected) {
                        co_return false;
                    }
                    ++expected;
                } else if (auto* lag = std::get_if<broadcast::lagged>(&got)) {
                    expected += lag->missed;
                } else {
                    co_return expected == broadcasts;
                }
                if (slow && n % 3 == 0) {
                    co_await sleep_for(std::chrono::microseconds(50));
                }
            }
        };
        auto root = [&]() -> task<void> {
            std::vector<join_handle<void>> work;
            for (std::uint64_t p = 0; p < producers; ++p) {
                work.push_back(spawn(produce(tx, p, per_producer), "producer"));
            }
            { auto last = std::move(tx); } // the producers hold the only senders now
            for (int i = 0; i < lockers; ++i) {
                work.push_back(spawn(locker(static_cast<unsigned>(round * 100 + i)), "locker"));
            }
            std::vector<join_handle<bool>> listeners;
            listeners.push_back(spawn(listen(btx.subscribe(), false), "listener"));
            listeners.push_back(spawn(listen(btx.subscribe(), true), "slow listener"));
            listeners.push_back(spawn(listen(std::move(brx), true), "slow listener"));
            auto broadcaster = [](broadcast::sender<std::uint64_t> s) -> task<void> {
                for (std::uint64_t i = 0; i < broadcasts; ++i) {
                    s.send(i);
                    if (i % 5 == 0) {
                        co_await yield_now();
                    }
                }
            };
            work.push_back(spawn(broadcaster(std::move(btx)), "broadcaster"));

            std::vector<std::uint64_t> next(producers, 0);
            std::uint64_t received = 0;
            bool in_order = true;
            while (std::optional<std::uint64_t> m = co_await rx.recv()) {
                const std::uint64_t who = *m >> 32;
                const std::uint64_t seq = *m & 0xffffffffu;
                in_order = in_order && who < producers && seq == next[who];
                if (who < producers) {
                    ++next[who];
                }
                ++received;
            }
            all_in_order = in_order;
            total_received = received;
            for (auto& w : work) {
                co_await w;
            }
            for (auto& l : listeners) {
                listeners_ok += (co_await l) ? 1 : 0;
            }
        };
        rt.block_on(root(), "root");
        CHECK(all_in_order);
        CHECK(total_received == producers * per_producer);
        CHECK(listeners_ok == 3);
        CHECK_FALSE(two_holders);
        CHECK_FALSE(too_many);
        auto g = guarded.try_lock();
        REQUIRE(g.has_value());
        CHECK(**g == static_cast<std::uint64_t>(lockers * locks_each));
        CHECK(permits.available_permits() == 3);
    }
}

TEST_CASE("stress: a shutdown while tasks wait on every primitive cancels them all and "
          "leaves each primitive whole",
          "[sync][stress]") {
    // Invariant: after the runtime is gone, nothing waits on any primitive, the mutex is
    // free, and the semaphore has exactly the permits it started with (a permit granted to
    // a task cancelled before it saw it is handed back).
    for (int round = 0; round < 5; ++round) {
        async_mutex<int> m(0, "m");
        semaphore s(2, "s");
        notify n("n");
        auto [tx, rx] = mpsc::channel<int>(1, "c");
        {
            runtime rt({.workers = 3});
            auto churn = [&](int i) -> task<void> {
                for (;;) {
                    {
                        auto g = co_await m.lock();
                        co_await yield_now();
                    }
                    auto p = co_await s.acquire(1 + static_cast<std::size_t>(i % 2));
                    if (i % 3 == 0) {
                        co_await n.notified();
                    } else if (i % 3 == 1) {
                        n.notify_one();
                    }
                    co_await tx.send(i);
                }
            };
            auto drain = [&]() -> task<void> {
                while (co_await rx.recv()) {
                    co_await yield_now();
                }
            };
            for (int i = 0; i < 12; ++i) {
                rt.spawn(churn(i), "churn").detach();
            }
            rt.spawn(drain(), "drain").detach();
            std::this_thread::sleep_for(std::chrono::milliseconds(5 + round * 3));
            rt.shutdown();
        }
        CHECK(m.waiting() == 0);
        CHECK_FALSE(m.is_locked());
        CHECK(s.waiting() == 0);
        CHECK(s.available_permits() == 2);
        CHECK(n.waiting() == 0);
    }
}
