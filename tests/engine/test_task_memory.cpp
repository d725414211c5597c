#include "taskscope/detail/task_memory.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <thread>
#include <vector>

using taskscope::detail::allocate_task_memory;
using taskscope::detail::free_task_memory;

TEST_CASE("task memory hands out distinct blocks across threads", "[memory]") {
    // One thread allocates, another frees (the spawn/complete pattern), repeatedly; every
    // live block must be distinct.
    for (int round = 0; round < 20; ++round) {
        std::vector<void*> blocks;
        for (int i = 0; i < 300; ++i) {
            blocks.push_back(allocate_task_memory(96));
        }
        CHECK(std::set<void*>(blocks.begin(), blocks.end()).size() == blocks.size());
        std::thread freer([&blocks] {
            for (void* b : blocks) {
                free_task_memory(b, 96);
            }
        });
        freer.join();
    }
}

// Not on MinGW: there a thread_local's destructor runs on freed storage (mingw-w64 bug
// 527; see taskscope/detail/per_thread.hpp), so this test's own holder cannot work.
#if !defined(__MINGW32__)
namespace {
/// Frees its blocks when its thread's thread-locals are destroyed, after the thread's
/// task-memory cache (constructed later, so destroyed earlier).
struct freed_at_thread_exit {
    std::vector<void*> blocks;
    ~freed_at_thread_exit() {
        for (void* b : blocks) {
            free_task_memory(b, 128);
        }
    }
};
thread_local freed_at_thread_exit t_late;
} // namespace

TEST_CASE("blocks freed after the thread's cache is gone are not handed out twice", "[memory]") {
    std::thread worker([] {
        t_late.blocks.clear(); // construct the holder before the cache
        for (int i = 0; i < 200; ++i) {
            t_late.blocks.push_back(allocate_task_memory(128));
        }
    });
    worker.join();
    std::vector<void*> again;
    for (int i = 0; i < 400; ++i) {
        again.push_back(allocate_task_memory(128));
    }
    CHECK(std::set<void*>(again.begin(), again.end()).size() == again.size());
    for (void* b : again) {
        free_task_memory(b, 128);
    }
}
#endif
