#pragma once
// Sums `events_dropped` events: each carries a running total for one track, so the loss
// so far is the sum over tracks of the largest total seen for each.

#include "taskscope/trace/event.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace taskscope::trace {

class dropped_tally {
public:
    /// Takes an events_dropped event (others are ignored). True if the total grew.
    bool add(const event& e) {
        if (e.kind != event_kind::events_dropped || e.arg2 > 0xFFFF) {
            return false; // tracks are 16-bit: a larger number is damage, not a track
        }
        if (e.arg2 >= m_by_track.size()) {
            m_by_track.resize(e.arg2 + std::size_t{1}, 0);
        }
        std::uint64_t& seen = m_by_track[e.arg2];
        if (e.arg <= seen) {
            return false;
        }
        m_total += e.arg - seen;
        seen = e.arg;
        return true;
    }
    [[nodiscard]] std::uint64_t total() const noexcept { return m_total; }
    [[nodiscard]] std::uint64_t of_track(std::uint16_t track) const noexcept {
        return track < m_by_track.size() ? m_by_track[track] : 0;
    }

private:
    std::vector<std::uint64_t> m_by_track;
    std::uint64_t m_total = 0;
};

} // namespace taskscope::trace
