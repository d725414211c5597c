#pragma once
// The blocking pool: threads that run closures which may block (spawn_blocking), kept
// away from the workers. It grows on demand up to a limit; a thread idle for
// `idle_timeout` exits.

#include "taskscope/runtime.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace taskscope::detail {

class blocking_pool {
public:
    blocking_pool(trace::trace_hub& hub, std::size_t max_threads,
                  std::chrono::milliseconds idle_timeout);
    ~blocking_pool();

    /// Queues `job`; a job submitted after shutdown is cancelled at once.
    void submit(blocking_job_base& job);
    /// Refuses new jobs, cancels queued ones, waits for running ones and joins the threads.
    void shutdown();

    [[nodiscard]] std::size_t thread_count() const;

private:
    void thread_main(std::uint32_t index);
    std::vector<std::thread> take_exited_locked();

    trace::trace_hub& m_hub;
    const std::size_t m_max_threads;
    const std::chrono::milliseconds m_idle_timeout;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    blocking_job_base* m_head = nullptr;
    blocking_job_base* m_tail = nullptr;
    std::size_t m_idle = 0;     // threads waiting for a job
    std::size_t m_notified = 0; // of those, already sent a job (not awake yet)
    std::size_t m_live = 0;
    std::uint32_t m_started = 0;
    bool m_shutdown = false;
    std::vector<std::thread> m_threads;
    std::vector<std::thread::id> m_exited; // timed-out threads, joined by the next submit
    std::uint64_t m_next_job = 1;
};

} // namespace taskscope::detail
