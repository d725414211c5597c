#pragma once
// Which workers sleep, and how many are searching for work. One packed atomic holds
// (unparked << 16 | searching) so "is anyone searching, is anyone asleep" is one load.
//
// The protocol (tokio's, with one change): a producer that queued work calls
// worker_to_notify(); it wakes one sleeper only if no worker is searching (a searcher will
// find the work, and when it does, it wakes the next sleeper). At most half the workers
// search at once. Every worker that parks re-checks every queue after announcing it
// sleeps — tokio re-checks only in the last searcher, which leaves a window: a worker
// refused a search slot parks while the only searcher has just taken a long task, and a
// task pushed in between waits for that long task. Every change to the state is seq_cst
// and pairs with the producers' fence before their load (a Dekker-style handshake).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace taskscope::detail {

class idle_set {
public:
    explicit idle_set(std::size_t workers)
        : m_workers(static_cast<std::uint32_t>(workers))
        , m_state(pack(static_cast<std::uint32_t>(workers), 0)) {
        m_sleepers.reserve(workers);
    }

    /// A worker with nothing to do may search (steal) if fewer than half already do.
    bool transition_to_searching() noexcept {
        const std::uint32_t state = m_state.load();
        if (2 * searching(state) >= m_workers) {
            return false;
        }
        m_state.fetch_add(1);
        return true;
    }

    /// A searcher found work. Returns true if it was the last searcher, in which case the
    /// caller wakes another sleeper to keep looking.
    bool transition_from_searching() noexcept { return searching(m_state.fetch_sub(1)) == 1; }

    /// Records that `worker` goes to sleep. Returns true if it was the last searcher.
    /// The caller then re-checks the queues (runtime_core::notify_if_work_pending).
    bool transition_to_parked(std::size_t worker, bool is_searching) {
        std::lock_guard lock(m_mutex);
        const std::uint32_t dec = (1u << unparked_shift) | (is_searching ? 1u : 0u);
        const std::uint32_t prev = m_state.fetch_sub(dec);
        m_sleepers.push_back(worker);
        return is_searching && searching(prev) == 1;
    }

    /// The sleeper to wake for newly queued work, or nothing when someone is searching or
    /// nobody sleeps. The woken worker is counted as unparked and searching.
    std::optional<std::size_t> worker_to_notify() {
        if (!should_notify(m_state.load())) {
            return std::nullopt;
        }
        std::lock_guard lock(m_mutex);
        if (!should_notify(m_state.load()) || m_sleepers.empty()) {
            return std::nullopt;
        }
        m_state.fetch_add((1u << unparked_shift) | 1u);
        const std::size_t worker = m_sleepers.back();
        m_sleepers.pop_back();
        return worker;
    }

    /// A sleeping worker that found work on its own (it drove the reactor) takes itself
    /// off the sleeper list. Returns false if a notifier already did (and counted it as
    /// searching).
    bool unpark_self(std::size_t worker) {
        std::lock_guard lock(m_mutex);
        auto it = std::find(m_sleepers.begin(), m_sleepers.end(), worker);
        if (it == m_sleepers.end()) {
            return false;
        }
        m_sleepers.erase(it);
        m_state.fetch_add(1u << unparked_shift);
        return true;
    }

    /// Some sleeping worker, left on the list (for the reactor hand-over), or nothing.
    std::optional<std::size_t> any_sleeper() {
        std::lock_guard lock(m_mutex);
        if (m_sleepers.empty()) {
            return std::nullopt;
        }
        return m_sleepers.back();
    }

    /// Whether `worker` is still on the sleeper list (a wake-up without a notify).
    bool is_parked(std::size_t worker) {
        std::lock_guard lock(m_mutex);
        return std::find(m_sleepers.begin(), m_sleepers.end(), worker) != m_sleepers.end();
    }

    [[nodiscard]] std::uint32_t searching_now() const noexcept { return searching(m_state.load()); }

private:
    static constexpr std::uint32_t unparked_shift = 16;
    static constexpr std::uint32_t pack(std::uint32_t unparked, std::uint32_t searching) noexcept {
        return (unparked << unparked_shift) | searching;
    }
    static constexpr std::uint32_t searching(std::uint32_t state) noexcept {
        return state & 0xffffu;
    }
    static constexpr std::uint32_t unparked(std::uint32_t state) noexcept {
        return state >> unparked_shift;
    }
    bool should_notify(std::uint32_t state) const noexcept {
        return searching(state) == 0 && unparked(state) < m_workers;
    }

    const std::uint32_t m_workers;
    std::atomic<std::uint32_t> m_state;
    std::mutex m_mutex; // guards m_sleepers
    std::vector<std::size_t> m_sleepers;
};

} // namespace taskscope::detail
