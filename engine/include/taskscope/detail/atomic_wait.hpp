#pragma once
// std::atomic<T>::wait and notify, made safe where libstdc++ has no futex-like wait.
//
// libstdc++ before GCC 13 (bug 106183), on a system without a platform wait (Windows with
// MinGW among them), reads the value outside the lock its condition variable waits with:
// a notify between that read and the wait is lost, and the waiter sleeps for ever. There
// these functions use a table of mutex and condition variable pairs, the value read under
// the lock. Everywhere else they are the std calls, at no cost.

#include <atomic>

#if defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE < 13 && !defined(_GLIBCXX_HAVE_PLATFORM_WAIT)
#define TASKSCOPE_ATOMIC_WAIT_BY_TABLE 1
#include <condition_variable>
#include <mutex>
#endif

namespace taskscope::detail {

#if defined(TASKSCOPE_ATOMIC_WAIT_BY_TABLE)

struct wait_slot {
    std::mutex mutex;
    std::condition_variable changed;
};
/// The slot for an atomic's address: one table for the whole engine (atomic_wait.cpp), so
/// a waiter and a notifier in different modules agree.
wait_slot& wait_slot_for(const void* address) noexcept;

/// Blocks while `value` holds `old` (and may return spuriously, like std::atomic::wait).
template <class T>
void atomic_wait(const std::atomic<T>& value, T old, std::memory_order order) noexcept {
    wait_slot& slot = wait_slot_for(&value);
    std::unique_lock lock(slot.mutex);
    while (value.load(order) == old) {
        slot.changed.wait(lock);
    }
}

/// Wakes every waiter on `value` (a slot is shared by several addresses, so there is no
/// waking just one).
template <class T>
void atomic_notify_all(const std::atomic<T>& value) noexcept {
    wait_slot& slot = wait_slot_for(&value);
    {
        // A waiter between its read and its wait holds the lock: the wake cannot fall between.
        std::lock_guard lock(slot.mutex);
    }
    slot.changed.notify_all();
}

template <class T>
void atomic_notify_one(const std::atomic<T>& value) noexcept {
    atomic_notify_all(value);
}

#else

template <class T>
void atomic_wait(const std::atomic<T>& value, T old, std::memory_order order) noexcept {
    value.wait(old, order);
}
template <class T>
void atomic_notify_all(std::atomic<T>& value) noexcept {
    value.notify_all();
}
template <class T>
void atomic_notify_one(std::atomic<T>& value) noexcept {
    value.notify_one();
}

#endif

} // namespace taskscope::detail
