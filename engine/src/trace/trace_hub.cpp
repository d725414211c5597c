#include "taskscope/trace/trace_hub.hpp"

#include "taskscope/trace/trace_buffer.hpp"

#include <algorithm>
#include <limits>

namespace taskscope::trace {
namespace {

std::atomic<std::uint64_t> g_next_generation{1};

/// The calling thread's buffer for one hub. Hubs are told apart by a generation number,
/// never by address, so a new hub at a freed hub's address cannot pick up a stale buffer.
struct thread_buffer_cache {
    std::uint64_t generation = 0;
    detail::trace_buffer* buffer = nullptr;
};
thread_local thread_buffer_cache t_cache;

} // namespace

void memory_sink::consume(std::span<const event> batch) {
    std::lock_guard lock(m_mutex);
    m_events.insert(m_events.end(), batch.begin(), batch.end());
}

std::vector<event> memory_sink::events() const {
    std::vector<event> copy;
    {
        std::lock_guard lock(m_mutex);
        copy = m_events;
    }
    std::stable_sort(copy.begin(), copy.end(),
                     [](const event& a, const event& b) { return a.time_ns < b.time_ns; });
    return copy;
}

std::size_t memory_sink::size() const {
    std::lock_guard lock(m_mutex);
    return m_events.size();
}

void memory_sink::clear() {
    std::lock_guard lock(m_mutex);
    m_events.clear();
}

trace_hub::trace_hub(trace_options options)
    : m_options(options)
    , m_generation(g_next_generation.fetch_add(1, std::memory_order_relaxed))
    , m_epoch_steady_ns(0)
    , m_epoch_ticks(now_ticks())
    , m_enabled(options.enabled) {
    m_epoch_steady_ns = ticks_to_steady_ns(m_epoch_ticks);
    m_drain_thread = std::jthread([this](std::stop_token stop) { drain_loop(stop); });
}

trace_hub::~trace_hub() {
    m_drain_thread.request_stop();
    m_wait.notify_all();
    m_drain_thread.join();
    drain_once();
}

void trace_hub::add_sink(std::shared_ptr<trace_sink> sink) {
    std::lock_guard lock(m_drain_mutex);
    // A sink added late still learns which thread each track is.
    if (!m_track_events.empty()) {
        sink->consume(m_track_events);
    }
    m_sinks.push_back(std::move(sink));
}

void trace_hub::remove_sink(const std::shared_ptr<trace_sink>& sink) {
    std::lock_guard lock(m_drain_mutex);
    std::erase(m_sinks, sink);
}

void trace_hub::flush() {
    drain_once();
}

void trace_hub::mark(std::string_view name, std::uint64_t value) noexcept {
    if (detail::trace_buffer* buffer = this_thread_buffer()) {
        name_id id = default_task_name;
        try {
            id = intern(name);
        } catch (...) {
            return; // out of memory: lose the marker, never the program
        }
        buffer->record(event_kind::marker, 0, value, id);
    }
}

std::uint64_t trace_hub::dropped() const noexcept {
    // relaxed: a statistic
    return m_total_dropped.load(std::memory_order_relaxed);
}

std::uint64_t trace_hub::to_trace_ns(std::chrono::steady_clock::time_point t) const noexcept {
    const std::int64_t ns = t.time_since_epoch().count() - m_epoch_steady_ns;
    return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
}

detail::trace_buffer* trace_hub::register_locked(track_kind kind, std::uint32_t index,
                                                 std::size_t capacity) {
    if (m_next_track == std::numeric_limits<std::uint16_t>::max()) {
        return nullptr; // out of track ids: this thread goes unrecorded
    }
    const auto track = static_cast<std::uint16_t>(m_next_track++);
    auto& entry = m_tracks.emplace_back();
    entry.buffer = std::make_unique<detail::trace_buffer>(capacity, track);
    entry.owner = std::this_thread::get_id();
    entry.buffer->record(event_kind::track_started, 0, index, 0, static_cast<std::uint8_t>(kind));
    t_cache = {m_generation, entry.buffer.get()};
    return entry.buffer.get();
}

detail::trace_buffer* trace_hub::register_thread(track_kind kind, std::uint32_t index) {
    std::lock_guard lock(m_tracks_mutex);
    return register_locked(kind, index, m_options.buffer_events);
}

detail::trace_buffer* trace_hub::this_thread_buffer() noexcept {
    if (!enabled()) {
        return nullptr;
    }
    if (t_cache.generation == m_generation) {
        return t_cache.buffer;
    }
    try {
        std::lock_guard lock(m_tracks_mutex);
        const auto self = std::this_thread::get_id();
        for (auto& entry : m_tracks) {
            if (entry.owner == self && !entry.retired) {
                t_cache = {m_generation, entry.buffer.get()};
                return entry.buffer.get();
            }
        }
        return register_locked(track_kind::external, m_external_count++, m_options.buffer_events);
    } catch (...) {
        return nullptr; // could not allocate a buffer: record nothing from this thread
    }
}

void trace_hub::unregister_thread() noexcept {
    std::lock_guard lock(m_tracks_mutex);
    const auto self = std::this_thread::get_id();
    for (auto& entry : m_tracks) {
        if (entry.owner == self) {
            entry.retired = true;
        }
    }
    if (t_cache.generation == m_generation) {
        t_cache = {};
    }
}

void trace_hub::drain_loop(std::stop_token stop) {
    while (!stop.stop_requested()) {
        {
            std::unique_lock lock(m_wait_mutex);
            m_wait.wait_for(lock, stop, m_options.drain_interval, [] { return false; });
        }
        drain_once();
    }
}

void trace_hub::drain_once() {
    std::lock_guard drain_lock(m_drain_mutex);
    m_batch.clear();
    const clock_calibration& cal = calibration();
    const double ns_per_tick = 1.0 / cal.ticks_per_ns;
    const std::uint64_t epoch = m_epoch_ticks;
    const auto to_ns = [&](std::uint64_t ticks) -> std::uint64_t {
        const auto delta = static_cast<std::int64_t>(ticks - epoch);
        return delta <= 0 ? 0
                          : static_cast<std::uint64_t>(static_cast<double>(delta) * ns_per_tick);
    };
    // Each buffer's events are already in time order (one thread, a monotonic clock), so
    // the batch is a few sorted runs: merging them costs O(n log runs), not a full sort.
    m_run_ends.clear();
    bool runs_sorted = true; // false if some thread's clock went backwards
    {
        std::lock_guard lock(m_tracks_mutex);
        for (auto& entry : m_tracks) {
            std::uint64_t previous = 0;
            entry.buffer->drain([&](const event& raw) {
                event e = raw;
                e.time_ns = to_ns(raw.time_ns);
                runs_sorted = runs_sorted && e.time_ns >= previous;
                previous = e.time_ns;
                m_batch.push_back(e);
                if (e.kind == event_kind::track_started) {
                    m_track_events.push_back(e);
                }
            });
            const std::uint64_t drops = entry.buffer->dropped();
            if (drops != entry.reported_drops) {
                // relaxed: a statistic
                m_total_dropped.fetch_add(drops - entry.reported_drops, std::memory_order_relaxed);
                entry.reported_drops = drops;
                const std::uint64_t at = m_batch.empty() ? 0 : m_batch.back().time_ns;
                m_batch.push_back(event{at, 0, drops, entry.buffer->track(), entry.buffer->track(),
                                        event_kind::events_dropped, 0});
            }
            if (m_run_ends.empty() ? !m_batch.empty() : m_run_ends.back() != m_batch.size()) {
                m_run_ends.push_back(m_batch.size());
            }
        }
        std::erase_if(m_tracks,
                      [](const track_entry& e) { return e.retired && e.buffer->empty(); });
    }
    if (m_batch.empty()) {
        return;
    }
    const auto earlier = [](const event& a, const event& b) { return a.time_ns < b.time_ns; };
    if (!runs_sorted) {
        std::stable_sort(m_batch.begin(), m_batch.end(), earlier);
        m_run_ends.clear();
    }
    // Merge neighbouring runs pairwise until one is left (std::inplace_merge is stable).
    while (m_run_ends.size() > 1) {
        std::size_t begin = 0;
        std::size_t kept = 0;
        for (std::size_t i = 0; i < m_run_ends.size(); i += 2) {
            if (i + 1 < m_run_ends.size()) {
                std::inplace_merge(m_batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                   m_batch.begin() + static_cast<std::ptrdiff_t>(m_run_ends[i]),
                                   m_batch.begin() + static_cast<std::ptrdiff_t>(m_run_ends[i + 1]),
                                   earlier);
                begin = m_run_ends[i + 1];
            } else {
                begin = m_run_ends[i];
            }
            m_run_ends[kept++] = begin;
        }
        m_run_ends.resize(kept);
    }
    for (auto& sink : m_sinks) {
        sink->consume(m_batch);
    }
}

} // namespace taskscope::trace
