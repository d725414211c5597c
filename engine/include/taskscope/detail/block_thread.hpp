#pragma once
// Waiting for a poll-style future on a plain thread (not a task): the thread polls it with a
// waker that unparks the thread, and sleeps between polls. What `blocking_recv` is made of.

#include "taskscope/detail/atomic_wait.hpp"
#include "taskscope/detail/per_thread.hpp"
#include "taskscope/poll.hpp"

#include <atomic>

namespace taskscope::detail {

/// A waker target for a blocked thread. Heap-allocated and reference-counted like a task,
/// because a primitive may still hold (and call) a copy of its waker after the thread
/// stopped waiting (or ended).
class thread_parker final : public task_header {
public:
    thread_parker() noexcept : task_header(nullptr, 0, trace::default_task_name, nullptr) {
        m_wake_hook = &thread_parker::woken;
        m_state.store(task_state::idle, std::memory_order_relaxed);
    }

    /// Sleeps until a wake since the last call (at once if one came already).
    void wait() noexcept {
        atomic_wait(m_woken, false, std::memory_order_acquire);
        // relaxed: a wake after this store sets it again and the next wait returns at once
        m_woken.store(false, std::memory_order_relaxed);
    }

    void complete(bool) noexcept override {}
    void cancel() noexcept override {}
    [[nodiscard]] bool root_threw() const noexcept override { return false; }
    [[nodiscard]] bool root_done() const noexcept override { return false; }

private:
    ~thread_parker() override = default;
    static void woken(task_header& task, trace::wake_source, std::uint64_t) noexcept {
        auto& self = static_cast<thread_parker&>(task);
        // release: what the waker wrote before waking is visible after wait() returns
        self.m_woken.store(true, std::memory_order_release);
        atomic_notify_one(self.m_woken);
    }

    std::atomic<bool> m_woken{false};
};

/// The calling thread's parker, made on first use. The thread owns one reference; wakers
/// of it that a primitive still holds keep it alive after the thread ends. A wake meant for
/// an earlier wait only costs the next one an extra poll.
struct thread_parker_owner {
    thread_parker* parker = new thread_parker;
    thread_parker_owner() = default;
    thread_parker_owner(const thread_parker_owner&) = delete;
    thread_parker_owner& operator=(const thread_parker_owner&) = delete;
    ~thread_parker_owner() { parker->unref(); }
};
inline thread_parker& this_thread_parker() {
    if (thread_parker_owner* owner = per_thread<thread_parker_owner>::get()) {
        return *owner->parker;
    }
    // Blocking from a thread_local's destructor after the parker's owner was destroyed:
    // a parker of its own, never freed (one small object per such call: rare, and safe).
    return *new thread_parker;
}

/// Polls `future` on the calling thread until it is ready, sleeping between polls.
template <class F>
poll_value_t<F> block_thread_on(F& future) {
    thread_parker& parker = this_thread_parker();
    for (;;) {
        context cx(parker);
        auto result = future.poll(cx);
        if (result.is_ready()) {
            return result.take();
        }
        parker.wait();
    }
}

} // namespace taskscope::detail
