#pragma once
// The global injection queue: tasks scheduled from outside a worker, and the overflow of
// full local queues. A mutex-guarded intrusive list (it is touched once per
// `global_queue_interval` polls, or when a worker's own queue is empty).

#include "taskscope/detail/task_header.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>

namespace taskscope::detail {

class inject_queue {
public:
    /// Appends one task; returns the depth after, or 0 when closed (not queued).
    std::size_t push(task_header& task) noexcept {
        task_header* const one[1] = {&task};
        return push(one, 1);
    }
    /// Appends `count` tasks; returns the depth after, or 0 when closed (not queued).
    std::size_t push(task_header* const* tasks, std::size_t count) noexcept {
        std::lock_guard lock(m_mutex);
        if (m_closed) {
            return 0;
        }
        for (std::size_t i = 0; i < count; ++i) {
            task_header* t = tasks[i];
            t->m_next_in_queue = nullptr;
            if (m_tail) {
                m_tail->m_next_in_queue = t;
            } else {
                m_head = t;
            }
            m_tail = t;
        }
        const std::size_t len = m_len.load(std::memory_order_relaxed) + count;
        // release: pairs with the acquire in empty(), so a worker that sees the new length
        // and takes the lock finds the tasks
        m_len.store(len, std::memory_order_release);
        return len;
    }

    /// Pops the oldest task; `depth_after` gets the remaining depth.
    task_header* pop(std::size_t& depth_after) noexcept {
        if (empty()) {
            return nullptr;
        }
        std::lock_guard lock(m_mutex);
        task_header* t = m_head;
        if (t == nullptr) {
            return nullptr;
        }
        m_head = t->m_next_in_queue;
        if (m_head == nullptr) {
            m_tail = nullptr;
        }
        t->m_next_in_queue = nullptr;
        depth_after = m_len.load(std::memory_order_relaxed) - 1;
        m_len.store(depth_after, std::memory_order_relaxed);
        return t;
    }

    [[nodiscard]] bool empty() const noexcept { return m_len.load(std::memory_order_acquire) == 0; }
    [[nodiscard]] std::size_t size() const noexcept {
        return m_len.load(std::memory_order_relaxed);
    }

    /// Refuses further pushes and empties the queue (shutdown: the tasks stay owned by the
    /// runtime's task list, which cancels them).
    void close() noexcept {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_head = m_tail = nullptr;
        m_len.store(0, std::memory_order_relaxed);
    }

private:
    std::mutex m_mutex;
    task_header* m_head = nullptr;
    task_header* m_tail = nullptr;
    bool m_closed = false;
    std::atomic<std::size_t> m_len{0};
};

} // namespace taskscope::detail
