#pragma once
// The runtime's record of every unfinished task, so that shutdown can destroy them.
//
// Each worker keeps a list of the tasks spawned on it that only its own thread links and
// unlinks: no lock on the spawn path. A task that finishes on another thread is pushed
// onto its owner's `remote_done` stack (a Treiber stack: any thread pushes with one CAS,
// the owner takes the whole stack with one exchange) and unlinked by the owner at its next
// tick or before it parks. Tasks spawned from outside the workers live on one list behind
// a mutex. After the workers stopped (shutdown), any thread may unlink directly.

#include "taskscope/detail/task_header.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace taskscope::detail {

class owned_tasks {
public:
    static constexpr std::uint32_t external = 0xffffffffu;
    static constexpr std::uint32_t not_owned = 0xfffffffeu; // refused: the runtime had stopped

    explicit owned_tasks(std::size_t workers) : m_lists(workers) {}

    /// Records a new task. `here` is the calling worker's index, or `external`. Returns
    /// false, without recording it, once stop() was called: the caller cancels the task.
    bool insert(task_header& task, std::uint32_t here) noexcept {
        if (here == external || m_stopped.load(std::memory_order_acquire)) {
            // Workers have stopped before stop(), so only this path can race with it: the
            // mutex orders this insert against stop()'s flag.
            std::lock_guard lock(m_external_mutex);
            m_external_spawned.fetch_add(1, std::memory_order_relaxed); // relaxed: a count
            if (m_stopped.load(std::memory_order_relaxed)) {
                task.m_owner = not_owned;
                return false;
            }
            task.m_owner = external;
            link(m_external_head, task);
            return true;
        }
        task.m_owner = here;
        worker_list& list = m_lists[here];
        link(list.head, task);
        bump(list.spawned);
        return true;
    }

    /// A task finished or was cancelled on the calling thread (`here` as for insert).
    void count_finished(std::uint32_t here) noexcept {
        if (here == external) {
            m_external_finished.fetch_add(1, std::memory_order_release);
        } else {
            bump(m_lists[here].finished);
        }
    }

    /// After count_finished: unlinks `task` and drops the runtime's reference to it, now
    /// or when its owner next drains.
    void release(task_header& task, std::uint32_t here) noexcept {
        const std::uint32_t owner = task.m_owner;
        // acquire: a stop() by this thread or before it happens-before this unlink
        const bool stopped = m_stopped.load(std::memory_order_acquire);
        if (owner == not_owned) {
            task.unref();
        } else if (owner == external) {
            {
                std::lock_guard lock(m_external_mutex);
                unlink(m_external_head, task);
            }
            task.unref();
        } else if (owner == here || stopped) {
            unlink(m_lists[owner].head, task);
            task.unref();
        } else {
            worker_list& list = m_lists[owner];
            task_header* top = list.remote_done.load(std::memory_order_relaxed);
            do {
                task.m_next_done = top;
                // release: the owner that takes the stack sees the link
            } while (!list.remote_done.compare_exchange_weak(top, &task, std::memory_order_release,
                                                             std::memory_order_relaxed));
        }
    }

    /// Worker `owner`'s thread (or anyone after stop): unlinks the tasks that finished
    /// elsewhere.
    void drain(std::uint32_t owner) noexcept {
        worker_list& list = m_lists[owner];
        // relaxed pre-check: the common case is an empty stack
        if (list.remote_done.load(std::memory_order_relaxed) == nullptr) {
            return;
        }
        // acquire: pairs with the pushers' release
        task_header* task = list.remote_done.exchange(nullptr, std::memory_order_acquire);
        while (task != nullptr) {
            task_header* next = task->m_next_done;
            unlink(list.head, *task);
            task->unref();
            task = next;
        }
    }

    /// The workers stopped: from now on one thread at a time touches the worker lists, and
    /// insert() refuses new tasks.
    void stop() noexcept {
        {
            std::lock_guard lock(m_external_mutex);
            m_stopped.store(true, std::memory_order_release);
        }
        for (std::uint32_t w = 0; w < m_lists.size(); ++w) {
            drain(w);
        }
    }

    /// Some unfinished task (after stop), or nullptr.
    task_header* any() noexcept {
        for (worker_list& list : m_lists) {
            if (list.head != nullptr) {
                return list.head;
            }
        }
        std::lock_guard lock(m_external_mutex);
        return m_external_head;
    }

    /// Tasks spawned and not finished (exact when nothing runs, a snapshot otherwise).
    [[nodiscard]] std::size_t live() const noexcept {
        // Finished counts first: every task counted there was spawned before, so the
        // difference never goes negative.
        std::uint64_t finished = m_external_finished.load(std::memory_order_acquire);
        for (const worker_list& list : m_lists) {
            finished += list.finished.load(std::memory_order_acquire);
        }
        std::uint64_t spawned = m_external_spawned.load(std::memory_order_acquire);
        for (const worker_list& list : m_lists) {
            spawned += list.spawned.load(std::memory_order_acquire);
        }
        return static_cast<std::size_t>(spawned - finished);
    }

private:
    // alignas: one worker's list on its own cache lines; remote_done apart from the
    // owner-only fields, since other workers write it
    struct alignas(64) worker_list {
        task_header* head = nullptr;
        std::atomic<std::uint64_t> spawned{0};  // written by the owner only
        std::atomic<std::uint64_t> finished{0}; // written by this worker's thread only
        alignas(64) std::atomic<task_header*> remote_done{nullptr};
    };

    static void bump(std::atomic<std::uint64_t>& counter) noexcept {
        // one writer: a load and a store, no read-modify-write; release for live()
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    static void link(task_header*& head, task_header& task) noexcept {
        task.m_prev_owned = nullptr;
        task.m_next_owned = head;
        if (head != nullptr) {
            head->m_prev_owned = &task;
        }
        head = &task;
    }
    static void unlink(task_header*& head, task_header& task) noexcept {
        if (task.m_prev_owned != nullptr) {
            task.m_prev_owned->m_next_owned = task.m_next_owned;
        } else {
            head = task.m_next_owned;
        }
        if (task.m_next_owned != nullptr) {
            task.m_next_owned->m_prev_owned = task.m_prev_owned;
        }
        task.m_prev_owned = task.m_next_owned = nullptr;
    }

    std::vector<worker_list> m_lists;
    std::atomic<bool> m_stopped{false};
    std::mutex m_external_mutex;
    task_header* m_external_head = nullptr;
    std::atomic<std::uint64_t> m_external_spawned{0};
    std::atomic<std::uint64_t> m_external_finished{0};
};

} // namespace taskscope::detail
