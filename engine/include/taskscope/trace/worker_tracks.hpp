#pragma once
// Which track each worker records on, learnt from the track_started events: the one place
// that maps a worker's index to its track and back (the model, the exporter, the queue
// tracker and the lessons' own sinks all need it).
//
//     taskscope::trace::worker_tracks workers;
//     for (const auto& e : events) {
//         workers.note(e);
//         if (auto w = workers.worker_of(e.track)) { ... worker *w recorded e ... }
//     }

#include "taskscope/trace/event.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace taskscope::trace {

class worker_tracks {
public:
    /// Worker indices from this on are damage, not a runtime's: ignored.
    static constexpr std::uint32_t max_workers = 4096;

    /// Takes a track_started event; false for any other event.
    bool note(const event& e) {
        if (e.kind != event_kind::track_started) {
            return false;
        }
        if (static_cast<track_kind>(e.detail) == track_kind::worker && e.arg < max_workers) {
            const auto worker = static_cast<std::uint32_t>(e.arg);
            if (worker >= m_track_of_worker.size()) {
                m_track_of_worker.resize(worker + 1u, none);
            }
            m_track_of_worker[worker] = e.track;
            if (e.track >= m_worker_of_track.size()) {
                m_worker_of_track.resize(std::size_t{e.track} + 1, none);
            }
            m_worker_of_track[e.track] = worker;
        }
        return true;
    }

    /// The worker that records on `track`, if a worker does.
    [[nodiscard]] std::optional<std::uint32_t> worker_of(std::uint16_t track) const noexcept {
        if (track < m_worker_of_track.size() && m_worker_of_track[track] != none) {
            return m_worker_of_track[track];
        }
        return std::nullopt;
    }
    /// The track worker `worker` records on, if it announced one.
    [[nodiscard]] std::optional<std::uint16_t> track_of(std::uint64_t worker) const noexcept {
        if (worker < m_track_of_worker.size() && m_track_of_worker[worker] != none) {
            return static_cast<std::uint16_t>(m_track_of_worker[worker]);
        }
        return std::nullopt;
    }

private:
    static constexpr std::uint32_t none = UINT32_MAX;
    std::vector<std::uint32_t> m_track_of_worker;
    std::vector<std::uint32_t> m_worker_of_track;
};

} // namespace taskscope::trace
