#pragma once
// Synchronization for tasks: channels, locks and notifications that suspend the waiting
// task, never its worker, and appear in the trace as resources.
//
//   mpsc::channel<T>(n), mpsc::unbounded<T>()   many senders, one receiver
//   oneshot::channel<T>()                       one value, once
//   broadcast::channel<T>(n)                    every receiver gets every message
//   async_mutex<T>, semaphore                   FIFO-fair, cancel-safe
//   notify                                      notify_one / notify_waiters
//   blocking_lock(std::mutex&)                  the mistake: a thread lock inside a task

#include "taskscope/sync/broadcast.hpp"
#include "taskscope/sync/mpsc.hpp"
#include "taskscope/sync/notify.hpp"
#include "taskscope/sync/oneshot.hpp"
#include "taskscope/sync/semaphore.hpp"

#include <mutex>

namespace taskscope {

/// Locks a std::mutex from inside a task. When the mutex is taken it blocks the worker,
/// and that block is recorded (block_begin / block_end) so the timeline shows the mistake;
/// an uncontended lock records nothing.
[[nodiscard]] std::unique_lock<std::mutex> blocking_lock(std::mutex& m);

} // namespace taskscope
