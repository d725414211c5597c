#include "gate.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <thread>

using namespace taskscope;
using namespace std::chrono_literals;
using trace::event_kind;

namespace {

struct shared_state {
    std::atomic<int> finished{0};
    std::atomic<long long> sum{0};
    std::vector<std::unique_ptr<testing::gate>> gates;
};

/// A task that does a random mix of yields, short sleeps, child spawns and waits on a
/// gate that a foreign thread opens.
task<int> random_walk(shared_state& s, std::uint32_t seed, int depth) {
    std::minstd_rand rng(seed);
    int value = static_cast<int>(seed % 100);
    const int steps = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < steps; ++i) {
        switch (rng() % 5) {
        case 0:
            co_await yield_now();
            break;
        case 1:
            co_await sleep_for(std::chrono::microseconds(rng() % 500));
            break;
        case 2:
            if (depth < 3) {
                value +=
                    co_await spawn(random_walk(s, static_cast<std::uint32_t>(rng()), depth + 1));
            }
            break;
        case 3:
            co_await s.gates[rng() % s.gates.size()]->wait();
            break;
        default:
            break;
        }
    }
    s.finished.fetch_add(1);
    co_return value;
}

} // namespace

// Invariant: under random interleavings of spawns, yields, timer wakes and wakes from
// foreign threads, every task finishes exactly once (no lost wake-up leaves one waiting,
// no double poll runs a frame twice at once), and the trace shows each task's polls
// strictly one after another.
TEST_CASE("stress: random spawns, yields, sleeps and foreign wakes", "[stress]") {
    const int roots = 300;
    for (const bool stealing : {true, false}) {
        DYNAMIC_SECTION("stealing=" << stealing) {
            shared_state s;
            for (int i = 0; i < 8; ++i) {
                s.gates.push_back(std::make_unique<testing::gate>());
            }
            testing::traced_runtime t({.workers = 3, .stealing = stealing});
            std::vector<join_handle<int>> handles;
            std::thread opener([&s] {
                std::minstd_rand rng(7);
                for (auto& g : s.gates) {
                    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
                    g->open();
                }
            });
            for (int i = 0; i < roots; ++i) {
                handles.push_back(
                    t.rt.spawn(random_walk(s, static_cast<std::uint32_t>(i * 7919), 0)));
                if (i % 37 == 0) {
                    std::this_thread::sleep_for(100us); // jitter the spawn rate
                }
            }
            long long total = 0;
            for (auto& h : handles) {
                total += h.get();
            }
            opener.join();
            CHECK(total >= 0);
            CHECK(t.rt.live_tasks() == 0);
            const auto events = t.finish();
            const auto spawned = testing::of_kind(events, event_kind::task_spawned).size();
            CHECK(static_cast<std::size_t>(s.finished.load()) == spawned);

            // A task's polls never overlap, even across workers.
            std::map<std::uint64_t, int> running;
            for (const auto& e : events) {
                if (e.kind == event_kind::poll_begin) {
                    CHECK(running[e.task]++ == 0);
                } else if (e.kind == event_kind::poll_end) {
                    CHECK(--running[e.task] == 0);
                }
            }
            // ready exactly once per task
            std::map<std::uint64_t, int> readies;
            for (const auto& e : testing::of_kind(events, event_kind::poll_end)) {
                readies[e.task] += e.detail == static_cast<std::uint8_t>(trace::poll_result::ready);
            }
            CHECK(readies.size() == spawned);
            for (const auto& [task, n] : readies) {
                CHECK(n == 1);
            }
        }
    }
}
