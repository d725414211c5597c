#pragma once
// A one-shot gate a task can await and any thread can open: the smallest primitive that
// exercises wakes from foreign threads.

#include "taskscope/taskscope.hpp"

#include <mutex>
#include <vector>

namespace taskscope::testing {

class gate {
public:
    void open() {
        std::vector<waker> waiters;
        {
            std::lock_guard lock(m_mutex);
            m_open = true;
            waiters.swap(m_waiters);
        }
        for (const waker& w : waiters) {
            w.wake();
        }
    }

    struct wait_future {
        gate* g;
        poll_result<void> poll(context& cx) {
            std::lock_guard lock(g->m_mutex);
            if (g->m_open) {
                return ready();
            }
            g->m_waiters.push_back(cx.waker());
            return pending;
        }
    };
    /// `co_await g.wait()`
    wait_future wait() { return {this}; }

private:
    std::mutex m_mutex;
    bool m_open = false;
    std::vector<waker> m_waiters;
};

} // namespace taskscope::testing
