#include "local_queue.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>
#include <vector>

using taskscope::detail::local_queue;

namespace {
struct item {
    int value;
};
/// Collects what overflowed to the "global queue".
struct overflow_sink {
    std::vector<item*> items;
    void operator()(item** batch, std::uint32_t count) {
        items.insert(items.end(), batch, batch + count);
    }
};
} // namespace

TEST_CASE("local queue: FIFO for its owner", "[queue]") {
    local_queue<item> q;
    std::vector<item> storage(10);
    overflow_sink overflow;
    for (auto& it : storage) {
        q.push_back(&it, overflow);
    }
    CHECK(q.size() == 10);
    for (auto& it : storage) {
        CHECK(q.pop() == &it);
    }
    CHECK(q.pop() == nullptr);
    CHECK(overflow.items.empty());
}

TEST_CASE("local queue: a full ring moves its older half and the new item out", "[queue]") {
    local_queue<item> q;
    std::vector<item> storage(local_queue<item>::capacity + 1);
    overflow_sink overflow;
    for (auto& it : storage) {
        q.push_back(&it, overflow);
    }
    const auto half = local_queue<item>::capacity / 2;
    REQUIRE(overflow.items.size() == half + 1);
    for (std::uint32_t i = 0; i < half; ++i) {
        CHECK(overflow.items[i] == &storage[i]); // the oldest half, in order
    }
    CHECK(overflow.items.back() == &storage.back());
    CHECK(q.size() == half);
    CHECK(q.pop() == &storage[half]);
}

TEST_CASE("local queue: a thief takes half, rounded up, and runs one of them", "[queue]") {
    local_queue<item> victim;
    local_queue<item> thief;
    std::vector<item> storage(9);
    overflow_sink overflow;
    for (auto& it : storage) {
        victim.push_back(&it, overflow);
    }
    std::uint32_t moved = 0;
    item* got = victim.steal_into(thief, moved);
    REQUIRE(got != nullptr);
    CHECK(moved == 5);
    CHECK(thief.size() == 4);  // the other stolen ones are queued for the thief
    CHECK(victim.size() == 4); // the newer half stays
    CHECK(victim.pop() == &storage[5]);
    std::uint32_t none = 0;
    local_queue<item> empty;
    CHECK(empty.steal_into(thief, none) == nullptr);
    CHECK(none == 0);
}

// Invariant: with one owner pushing and popping and two thieves stealing concurrently,
// every item comes out exactly once (no loss, no duplicate), whatever the interleaving.
TEST_CASE("local queue: concurrent owner and thieves lose and duplicate nothing",
          "[queue][stress]") {
    constexpr int total = 200'000;
    std::vector<item> storage(total);
    local_queue<item> owner_queue;
    local_queue<item> thief_queues[2];
    std::vector<std::atomic<int>> seen(total);
    std::atomic<bool> done{false};
    std::atomic<int> taken{0};
    const auto take = [&](item* it) {
        seen[static_cast<std::size_t>(it->value)].fetch_add(1);
        taken.fetch_add(1);
    };
    std::vector<item*> overflowed;
    std::vector<std::thread> thieves;
    for (int t = 0; t < 2; ++t) {
        thieves.emplace_back([&, t] {
            local_queue<item>& mine = thief_queues[t];
            while (!done || !owner_queue.empty()) {
                std::uint32_t moved = 0;
                if (item* it = owner_queue.steal_into(mine, moved)) {
                    take(it);
                    while (item* more = mine.pop()) {
                        take(more);
                    }
                } else {
                    std::this_thread::yield();
                }
            }
        });
    }
    for (int i = 0; i < total; ++i) {
        storage[static_cast<std::size_t>(i)].value = i;
        owner_queue.push_back(&storage[static_cast<std::size_t>(i)],
                              [&](item** batch, std::uint32_t n) {
                                  overflowed.insert(overflowed.end(), batch, batch + n);
                              });
        if (i % 3 == 0) { // the owner pops too, with jitter in its rate
            if (item* it = owner_queue.pop()) {
                take(it);
            }
        }
    }
    while (item* it = owner_queue.pop()) {
        take(it);
    }
    done = true;
    for (auto& t : thieves) {
        t.join();
    }
    for (item* it : overflowed) {
        take(it);
    }
    CHECK(taken.load() == total);
    int wrong = 0;
    for (auto& s : seen) {
        wrong += s.load() != 1;
    }
    CHECK(wrong == 0);
}
