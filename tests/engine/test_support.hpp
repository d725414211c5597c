#pragma once
// Shared helpers for the engine tests: run a workload with a memory sink, pick events.

#include "taskscope/taskscope.hpp"
#include "taskscope/trace/worker_tracks.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

namespace taskscope::testing {

using trace::event;
using trace::event_kind;

/// Counts live instances, so a test can prove every task frame was destroyed.
struct live_counter {
    static inline std::atomic<int> live{0};
    live_counter() { live.fetch_add(1); }
    live_counter(const live_counter&) { live.fetch_add(1); }
    ~live_counter() { live.fetch_sub(1); }
};

/// A runtime whose every event lands in `sink`.
struct traced_runtime {
    explicit traced_runtime(runtime_options options)
        : sink(std::make_shared<trace::memory_sink>())
        , rt(options) {
        rt.trace().add_sink(sink);
    }
    /// Stops the runtime (joining every thread) and returns every event, ordered by time.
    std::vector<event> finish() {
        rt.shutdown();
        rt.trace().flush();
        return sink->events();
    }
    std::shared_ptr<trace::memory_sink> sink;
    runtime rt;
};

inline std::vector<event> of_kind(const std::vector<event>& events, event_kind kind) {
    std::vector<event> out;
    std::copy_if(events.begin(), events.end(), std::back_inserter(out),
                 [&](const event& e) { return e.kind == kind; });
    return out;
}

inline std::vector<event> of_task(const std::vector<event>& events, event_kind kind,
                                  std::uint64_t task) {
    std::vector<event> out;
    std::copy_if(events.begin(), events.end(), std::back_inserter(out),
                 [&](const event& e) { return e.kind == kind && e.task == task; });
    return out;
}

/// track id -> worker index, from the track_started events (-1 for other tracks).
inline std::vector<int> worker_of_track(const std::vector<event>& events) {
    trace::worker_tracks workers;
    std::size_t tracks = 0;
    for (const event& e : events) {
        if (workers.note(e)) {
            tracks = std::max<std::size_t>(tracks, e.track + 1u);
        }
    }
    std::vector<int> map(tracks, -1);
    for (std::size_t track = 0; track < tracks; ++track) {
        if (const auto w = workers.worker_of(static_cast<std::uint16_t>(track))) {
            map[track] = static_cast<int>(*w);
        }
    }
    return map;
}

/// Id of the first task spawned with `name`.
inline std::uint64_t task_named(const std::vector<event>& events, std::string_view name) {
    const trace::name_id id = trace::intern(name);
    for (const event& e : events) {
        if (e.kind == event_kind::task_spawned && e.arg2 == id) {
            return e.task;
        }
    }
    return 0;
}

} // namespace taskscope::testing
