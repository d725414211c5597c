#include "blocking_pool.hpp"

#include "taskscope/trace/trace_buffer.hpp"

#include <algorithm>

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
    std::vector<std::thread> finished;
    {
        std::unique_lock lock(m_mutex);
        if (m_shutdown) {
            lock.unlock();
            job.cancel();
            return;
        }
        job.m_id = m_next_job++;
        job.m_next = nullptr;
        if (m_tail) {
            m_tail->m_next = &job;
        } else {
            m_head = &job;
        }
        m_tail = &job;
        finished = take_exited_locked();
        if (m_idle > m_notified) {
            // An idle thread that no other job has claimed yet takes this one.
            ++m_notified;
            m_cv.notify_one();
        } else if (m_live < m_max_threads) {
            ++m_live;
            const std::uint32_t index = m_started++;
            m_threads.emplace_back([this, index] { thread_main(index); });
        }
    }
    for (auto& t : finished) {
        t.join(); // already past its last use of the pool
    }
}

std::vector<std::thread> blocking_pool::take_exited_locked() {
    std::vector<std::thread> done;
    for (const std::thread::id id : m_exited) {
        auto it = std::find_if(m_threads.begin(), m_threads.end(),
                               [id](const std::thread& t) { return t.get_id() == id; });
        if (it != m_threads.end()) {
            done.push_back(std::move(*it));
            m_threads.erase(it);
        }
    }
    m_exited.clear();
    return done;
}

void blocking_pool::thread_main(std::uint32_t index) {
    trace::detail::trace_buffer* buffer = m_hub.register_thread(trace::track_kind::blocking, index);
    std::unique_lock lock(m_mutex);
    for (;;) {
        while (m_head == nullptr && !m_shutdown) {
            ++m_idle;
            const auto status = m_cv.wait_for(lock, m_idle_timeout);
            --m_idle;
            if (m_notified > 0) {
                --m_notified; // count a notify as consumed by whichever idle thread woke
            }
            if (status == std::cv_status::timeout && m_head == nullptr && !m_shutdown) {
                --m_live;
                m_exited.push_back(std::this_thread::get_id());
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
