#pragma once
// Memory for coroutine frames and task cells: spawning allocates two blocks per task,
// often freed on another worker than the one that allocated them. A general-purpose
// allocator handles that producer/consumer pattern with locks; these per-thread caches
// hand blocks around in batches instead (see task_memory.cpp).

#include <cstddef>

namespace taskscope::detail {

[[nodiscard]] void* allocate_task_memory(std::size_t size);
void free_task_memory(void* block, std::size_t size) noexcept;

/// Gives a class the task-memory allocator (sized delete: no header per block).
struct uses_task_memory {
    static void* operator new(std::size_t size) { return allocate_task_memory(size); }
    static void operator delete(void* block, std::size_t size) noexcept {
        free_task_memory(block, size);
    }
};

} // namespace taskscope::detail
