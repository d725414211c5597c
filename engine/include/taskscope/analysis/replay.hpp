#pragma once
// Replay: a playhead over a trace file. It applies the file's events in order and keeps
// what they imply at the playhead (which task each worker polls, what waits in each run
// queue), stepping to the next poll, wake or steal, or seeking to a time. Seeking back
// reads the file again from its start (a lesson's trace takes milliseconds).
//
//     analysis::replay_cursor cursor("lesson.tstrace");
//     while (auto e = cursor.step(trace::event_kind::steal)) {
//         cursor.queues().contents(analysis::queue_id::local(1), 10);
//     }

#include "taskscope/analysis/queue_tracker.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace taskscope::analysis {

class replay_cursor {
public:
    /// Opens the file (throws trace::file_error as file_reader does).
    explicit replay_cursor(std::filesystem::path file);
    ~replay_cursor();
    replay_cursor(const replay_cursor&) = delete;
    replay_cursor& operator=(const replay_cursor&) = delete;

    /// The playhead: the time of the last event applied (0 before the first).
    [[nodiscard]] std::uint64_t position_ns() const noexcept { return m_position_ns; }
    /// The last event applied, if any.
    [[nodiscard]] const std::optional<trace::event>& last() const noexcept { return m_last; }
    /// Events applied so far.
    [[nodiscard]] std::uint64_t applied() const noexcept { return m_applied; }
    /// No event is left after the playhead.
    [[nodiscard]] bool at_end();

    /// Moves the playhead to `t_ns`: applies every event up to that time, from the start
    /// of the file if `t_ns` is behind the playhead.
    void seek(std::uint64_t t_ns);
    /// Back to before the first event.
    void rewind();
    /// Applies events up to and including the next one of `kind`, and returns it; nullopt
    /// (with everything applied) when there is none.
    std::optional<trace::event> step(trace::event_kind kind);
    /// The same for the next event of any of `kinds`.
    std::optional<trace::event> step_any(std::span<const trace::event_kind> kinds);

    /// The state at the playhead.
    [[nodiscard]] const queue_tracker& queues() const noexcept { return m_queues; }

private:
    /// The next unapplied event, reading a chunk when needed; nullptr at the end.
    const trace::event* peek();
    void apply_next();

    std::filesystem::path m_file;
    std::unique_ptr<trace::file_reader> m_reader;
    std::vector<trace::event> m_chunk;
    std::size_t m_next = 0;
    bool m_exhausted = false;
    queue_tracker m_queues;
    std::optional<trace::event> m_last;
    std::uint64_t m_position_ns = 0;
    std::uint64_t m_applied = 0;
};

} // namespace taskscope::analysis
