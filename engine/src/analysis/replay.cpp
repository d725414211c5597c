#include "taskscope/analysis/replay.hpp"

#include <algorithm>

namespace taskscope::analysis {

replay_cursor::replay_cursor(std::filesystem::path file) : m_file(std::move(file)) {
    rewind();
}

replay_cursor::~replay_cursor() = default;

void replay_cursor::rewind() {
    m_reader = std::make_unique<trace::file_reader>(m_file);
    m_chunk.clear();
    m_next = 0;
    m_exhausted = false;
    m_queues.clear();
    m_queues.set_schema(m_reader->schema());
    m_last.reset();
    m_position_ns = 0;
    m_applied = 0;
}

const trace::event* replay_cursor::peek() {
    while (m_next == m_chunk.size()) {
        if (m_exhausted || !m_reader->next(m_chunk)) {
            m_exhausted = true;
            m_chunk.clear();
            m_next = 0;
            return nullptr;
        }
        m_next = 0;
    }
    return &m_chunk[m_next];
}

void replay_cursor::apply_next() {
    const trace::event& e = m_chunk[m_next++];
    m_queues.apply(e);
    m_last = e;
    // Tracks are merged roughly in time order: the playhead never moves back.
    m_position_ns = std::max(m_position_ns, e.time_ns);
    ++m_applied;
}

bool replay_cursor::at_end() {
    return peek() == nullptr;
}

void replay_cursor::seek(std::uint64_t t_ns) {
    if (t_ns < m_position_ns) {
        rewind();
    }
    while (const trace::event* e = peek()) {
        if (e->time_ns > t_ns) {
            break;
        }
        apply_next();
    }
    m_position_ns = std::max(m_position_ns, t_ns);
}

std::optional<trace::event> replay_cursor::step(trace::event_kind kind) {
    return step_any(std::span(&kind, 1));
}

std::optional<trace::event> replay_cursor::step_any(std::span<const trace::event_kind> kinds) {
    while (const trace::event* e = peek()) {
        const bool wanted = std::find(kinds.begin(), kinds.end(), e->kind) != kinds.end();
        apply_next();
        if (wanted) {
            return m_last;
        }
    }
    return std::nullopt;
}

} // namespace taskscope::analysis
