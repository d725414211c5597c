#pragma once
// The trace hub collects what every thread recorded and hands it to sinks.
//
//   worker / driver / blocking / other threads
//        │ record(): a few stores into the thread's own ring buffer, no lock
//        ▼
//   trace_hub drain thread (every `drain_interval`, or on flush())
//        │ converts ticks to ns, orders the batch by time
//        ▼
//   sinks: memory_sink (tests), file writer, live store (UI)

#include "taskscope/trace/event.hpp"
#include "taskscope/trace/names.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace taskscope::trace {

namespace detail {
class trace_buffer;
}

/// Receives recorded events in batches. A batch is ordered by time; an event may arrive
/// in a later batch than one stamped a little after it on another thread (at most about
/// one drain interval late), so a consumer that needs a total order sorts by `time_ns`.
class trace_sink {
public:
    virtual ~trace_sink() = default;
    /// Called on the hub's drain thread (or the thread calling `flush`), never concurrently.
    virtual void consume(std::span<const event> batch) = 0;
};

/// Keeps every event in memory: what tests record into and assert on.
///
///     auto sink = std::make_shared<taskscope::trace::memory_sink>();
///     rt.trace().add_sink(sink);
///     ... run a workload, rt.trace().flush() ...
///     for (const event& e : sink->events()) { ... }
class memory_sink final : public trace_sink {
public:
    void consume(std::span<const event> batch) override;
    /// Every event received so far, ordered by time (stable: equal times keep their order).
    [[nodiscard]] std::vector<event> events() const;
    [[nodiscard]] std::size_t size() const;
    void clear();

private:
    mutable std::mutex m_mutex;
    std::vector<event> m_events;
};

struct trace_options {
    bool enabled = true;                 ///< record from the start (can change at run time)
    std::size_t buffer_events = 1 << 16; ///< per-thread ring capacity (rounded to a power of 2)
    std::chrono::milliseconds drain_interval{2};
    /// Serve the trace to viewers that attach, at "HOST:PORT" (taskscope/trace_server.hpp).
    /// Empty: the TASKSCOPE_LISTEN environment variable's address, when it is set.
    std::string listen;
};

/// Owns the per-thread buffers and the drain thread. One per runtime.
class trace_hub {
public:
    explicit trace_hub(trace_options options = {});
    ~trace_hub();
    trace_hub(const trace_hub&) = delete;
    trace_hub& operator=(const trace_hub&) = delete;

    /// Adds a sink; it first receives the `track_started` event of every track already
    /// drained, then everything drained from now on.
    void add_sink(std::shared_ptr<trace_sink> sink);
    void remove_sink(const std::shared_ptr<trace_sink>& sink);

    /// Switches recording on or off; when off, recording costs one relaxed load.
    void set_enabled(bool on) noexcept { m_enabled.store(on, std::memory_order_relaxed); }
    [[nodiscard]] bool enabled() const noexcept {
        // relaxed: a switch may take effect a few events late; nothing else depends on it
        return m_enabled.load(std::memory_order_relaxed);
    }

    /// Drains everything recorded before the call into the sinks, on the calling thread.
    void flush();

    /// Records a marker (a named instant with a value) on the calling thread's track.
    void mark(std::string_view name, std::uint64_t value = 0) noexcept;

    /// Events lost to full buffers so far, over all threads.
    [[nodiscard]] std::uint64_t dropped() const noexcept;

    /// steady_clock time (ns since its epoch) that `event::time_ns == 0` stands for.
    [[nodiscard]] std::int64_t epoch_steady_ns() const noexcept { return m_epoch_steady_ns; }

    /// Trace-clock nanoseconds for a steady_clock time point (for deadlines in events).
    [[nodiscard]] std::uint64_t to_trace_ns(std::chrono::steady_clock::time_point t) const noexcept;

    // ---- used by the engine's threads ----

    /// Gives the calling thread its own buffer, announced by a `track_started` event.
    detail::trace_buffer* register_thread(track_kind kind, std::uint32_t index);
    /// The calling thread's buffer, registering it as an `external` track on first use.
    /// nullptr when recording is off.
    [[nodiscard]] detail::trace_buffer* this_thread_buffer() noexcept;
    /// The calling thread stops recording; its buffer is freed once drained.
    void unregister_thread() noexcept;

private:
    struct track_entry {
        std::unique_ptr<detail::trace_buffer> buffer;
        std::thread::id owner;
        std::uint64_t reported_drops = 0;
        bool retired = false;
    };

    void drain_loop(std::stop_token stop);
    void drain_once();
    detail::trace_buffer* register_locked(track_kind kind, std::uint32_t index,
                                          std::size_t capacity);

    trace_options m_options;
    const std::uint64_t m_generation;
    std::int64_t m_epoch_steady_ns;
    std::uint64_t m_epoch_ticks;
    std::atomic<bool> m_enabled;

    mutable std::mutex m_tracks_mutex; // guards m_tracks (registration is rare)
    std::vector<track_entry> m_tracks;
    std::uint32_t m_external_count = 0;
    std::uint32_t m_next_track = 0;

    std::mutex m_drain_mutex; // one drain at a time; guards m_sinks and m_batch
    std::vector<std::shared_ptr<trace_sink>> m_sinks;
    std::vector<event> m_batch;
    std::vector<event> m_track_events;   // every track_started drained so far
    std::vector<std::size_t> m_run_ends; // where each buffer's sorted run ends in m_batch
    std::atomic<std::uint64_t> m_total_dropped{0};

    std::mutex m_wait_mutex;
    std::condition_variable_any m_wait;
    std::jthread m_drain_thread;
};

} // namespace taskscope::trace
