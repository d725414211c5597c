// Per-thread caches of fixed-size blocks with a shared depot, after Bonwick and Adams'
// magazines ("Magazines and Vmem", USENIX 2001): a thread allocates from and frees to its
// own list per size class without any synchronisation; when a list grows past two
// batches, one batch goes to the depot (one lock per batch of 64 blocks), and a thread
// whose list is empty takes a whole batch back. A worker that spawns and a worker that
// completes tasks thus trade memory 64 blocks at a time.
//
// Under AddressSanitizer the caches are bypassed so every frame is checked.

#include "taskscope/detail/task_memory.hpp"

#include "taskscope/detail/per_thread.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define TASKSCOPE_TASK_MEMORY_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TASKSCOPE_TASK_MEMORY_POOL 0
#endif
#endif
#ifndef TASKSCOPE_TASK_MEMORY_POOL
#define TASKSCOPE_TASK_MEMORY_POOL 1
#endif

namespace taskscope::detail {

#if TASKSCOPE_TASK_MEMORY_POOL
namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t class_count = 32; // blocks of 64 .. 2048 bytes
constexpr std::uint32_t batch_size = 64;
constexpr std::size_t depot_batches_max = 4096; // per class; beyond, memory goes back

struct free_block {
    free_block* next;
};

struct batch {
    free_block* head = nullptr;
    std::uint32_t count = 0;
};

std::size_t class_of(std::size_t size) noexcept {
    return (size + granule - 1) / granule - 1;
}
std::size_t block_size(std::size_t cls) noexcept {
    return (cls + 1) * granule;
}

void release_list(free_block* head, std::size_t cls) noexcept {
    while (head) {
        free_block* next = head->next;
        ::operator delete(head, block_size(cls));
        head = next;
    }
}

class depot {
public:
    void put(std::size_t cls, batch b) noexcept {
        {
            std::lock_guard lock(m_mutex);
            if (m_full[cls].size() < depot_batches_max) {
                try {
                    m_full[cls].push_back(b);
                    return;
                } catch (...) {
                }
            }
        }
        release_list(b.head, cls);
    }
    bool take(std::size_t cls, batch& out) noexcept {
        std::lock_guard lock(m_mutex);
        if (m_full[cls].empty()) {
            return false;
        }
        out = m_full[cls].back();
        m_full[cls].pop_back();
        return true;
    }

private:
    std::mutex m_mutex;
    std::array<std::vector<batch>, class_count> m_full;
};

/// Never destroyed: threads may return their caches during static destruction.
depot& the_depot() {
    static depot* d = new depot;
    return *d;
}

class thread_cache {
public:
    ~thread_cache() {
        for (std::size_t cls = 0; cls < class_count; ++cls) {
            if (m_lists[cls].head) {
                the_depot().put(cls, m_lists[cls]);
            }
            m_lists[cls] = {};
        }
    }

    void* allocate(std::size_t cls) {
        batch& list = m_lists[cls];
        if (list.head == nullptr && !the_depot().take(cls, list)) {
            return ::operator new(block_size(cls));
        }
        free_block* b = list.head;
        list.head = b->next;
        --list.count;
        return b;
    }

    void free(void* p, std::size_t cls) noexcept {
        batch& list = m_lists[cls];
        auto* b = static_cast<free_block*>(p);
        b->next = list.head;
        list.head = b;
        if (++list.count < 2 * batch_size) {
            return;
        }
        // Hand the first batch to the depot and keep the rest.
        free_block* last = list.head;
        for (std::uint32_t i = 1; i < batch_size; ++i) {
            last = last->next;
        }
        batch out{list.head, batch_size};
        list.head = last->next;
        list.count -= batch_size;
        last->next = nullptr;
        the_depot().put(cls, out);
    }

private:
    std::array<batch, class_count> m_lists{};
};

} // namespace

// The calling thread's cache is per_thread<thread_cache>::get(): nullptr once the thread's
// cache was destroyed (thread exit; for the main thread, before static objects are
// destroyed), so blocks freed afterwards, say by a static runtime, bypass it.

void* allocate_task_memory(std::size_t size) {
    const std::size_t cls = class_of(size);
    if (size == 0 || cls >= class_count) {
        return ::operator new(size);
    }
    thread_cache* cache = per_thread<thread_cache>::get();
    if (cache == nullptr) {
        return ::operator new(block_size(cls));
    }
    return cache->allocate(cls);
}

void free_task_memory(void* block, std::size_t size) noexcept {
    const std::size_t cls = class_of(size);
    if (size == 0 || cls >= class_count) {
        ::operator delete(block, size);
        return;
    }
    thread_cache* cache = per_thread<thread_cache>::get();
    if (cache == nullptr) {
        ::operator delete(block, block_size(cls));
        return;
    }
    cache->free(block, cls);
}

#else

void* allocate_task_memory(std::size_t size) {
    return ::operator new(size);
}
void free_task_memory(void* block, std::size_t size) noexcept {
    ::operator delete(block, size);
}

#endif

} // namespace taskscope::detail
