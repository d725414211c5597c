#include "blocking_pool.hpp"

#include "trace_buffer.hpp"

namespace taskscope::detail {

blocking_pool::blocking_pool(trace::trace_hub& hub, std::size_t max_threads,
                             std::chrono::milliseconds idle_timeout)
    : m_hub(hub)
    , m_max_threads(max_threads == 0 ? 1 : max_threads)
    , m_idle_timeout(idle_timeout) {}

blocking_pool::~blocking_pool() {
    shutdown();
}

void blocking_pool::submit(blocking_job_base& job) {
    {
        std::unique_lock lock(m_mutex);
        if (!m_shutdown) {
            job.m_id = m_next_job++;
            job.m_next = nullptr;
            if (m_tail) {
                m_tail->m_next = &job;
            } else {
                m_head = &job;
            }
            m_tail = &job;
            if (m_idle > 0) {
                lock.unlock();
                m_cv.notify_one();
            } else if (m_live < m_max_threads) {
                ++m_live;
                const std::uint32_t index = m_started++;
                m_threads.emplace_back([this, index] { thread_main(index); });
            }
            return;
        }
    }
    job.cancel();
}

void blocking_pool::thread_main(std::uint32_t index) {
    trace::detail::trace_buffer* buffer = m_hub.register_thread(trace::track_kind::blocking, index);
    std::unique_lock lock(m_mutex);
    for (;;) {
        while (m_head == nullptr && !m_shutdown) {
            ++m_idle;
            const bool timed_out = !m_cv.wait_for(lock, m_idle_timeout,
                                                  [&] { return m_head != nullptr || m_shutdown; });
            --m_idle;
            if (timed_out) {
                --m_live;
                lock.unlock();
                m_hub.unregister_thread();
                return;
            }
        }
        if (m_head == nullptr) { // shutdown and nothing left
            break;
        }
        blocking_job_base* job = m_head;
        m_head = job->m_next;
        if (m_head == nullptr) {
            m_tail = nullptr;
        }
        lock.unlock();
        const std::uint64_t id = job->m_id;
        const bool tracing = buffer != nullptr && m_hub.enabled();
        if (tracing) {
            buffer->record(trace::event_kind::blocking_job_begin, id, job->m_spawner, job->m_name);
        }
        job->run(); // may delete the job
        if (tracing && m_hub.enabled()) {
            buffer->record(trace::event_kind::blocking_job_end, id);
        }
        lock.lock();
    }
    --m_live;
    lock.unlock();
    m_hub.unregister_thread();
}

void blocking_pool::shutdown() {
    blocking_job_base* queued = nullptr;
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(m_mutex);
        if (m_shutdown && m_threads.empty()) {
            return;
        }
        m_shutdown = true;
        queued = m_head;
        m_head = m_tail = nullptr;
        threads.swap(m_threads);
    }
    m_cv.notify_all();
    while (queued != nullptr) {
        blocking_job_base* next = queued->m_next;
        queued->cancel();
        queued = next;
    }
    for (auto& t : threads) {
        t.join();
    }
}

std::size_t blocking_pool::thread_count() const {
    std::lock_guard lock(m_mutex);
    return m_live;
}

} // namespace taskscope::detail
