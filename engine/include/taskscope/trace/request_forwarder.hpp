#pragma once
// Puts a load generator's view of its requests into the trace of the executor it loads.
//
// A load generator on the executor it measures cannot see that executor stall: with one
// worker blocked, the client cannot even send. So the window and `record` run the load
// generator on a runtime of its own and forward its client-side request events into the
// observed runtime's trace: on that trace's clock, on a track of their own, with task ids
// moved out of the observed runtime's range.
//
//     runtime observed(...), clients({.workers = 1});
//     auto file = std::make_shared<trace::file_writer>(...);
//     observed.trace().add_sink(file);
//     clients.trace().add_sink(std::make_shared<trace::client_request_forwarder>(
//         file, clients.trace(), observed.trace()));

#include "taskscope/trace/trace_hub.hpp"

#include <memory>
#include <vector>

namespace taskscope::trace {

class client_request_forwarder final : public trace_sink {
public:
    /// The track forwarded events are recorded on (not a thread of the observed runtime).
    static constexpr std::uint16_t track = 0xFFF0;
    /// Added to forwarded task ids, so they never match a task of the observed runtime.
    static constexpr std::uint64_t task_offset = std::uint64_t{1} << 62;

    client_request_forwarder(std::shared_ptr<trace_sink> target, const trace_hub& from,
                             const trace_hub& to)
        : m_target(std::move(target))
        , m_offset_ns(from.epoch_steady_ns() - to.epoch_steady_ns()) {}

    void consume(std::span<const event> batch) override {
        m_forward.clear();
        for (const event& e : batch) {
            if ((e.kind != event_kind::request_begin && e.kind != event_kind::request_end) ||
                (e.detail & 1) == 0) {
                continue; // only what the client saw of its requests (queued, HTTP/2 too)
            }
            event out = e;
            const auto shifted = static_cast<std::int64_t>(e.time_ns) + m_offset_ns;
            out.time_ns = shifted < 0 ? 0 : static_cast<std::uint64_t>(shifted);
            out.task = e.task | task_offset;
            out.track = track;
            m_forward.push_back(out);
        }
        if (!m_forward.empty()) {
            m_target->consume(m_forward);
        }
    }

private:
    std::shared_ptr<trace_sink> m_target;
    std::int64_t m_offset_ns;
    std::vector<event> m_forward; // only the source hub's drain thread calls consume
};

} // namespace taskscope::trace
