#include "sessions/event_pump.hpp"

#include "document/trace_document.hpp"

#include <QElapsedTimer>
#include <algorithm>

namespace taskscope::ui {

std::size_t EventPump::pump(TraceDocument& document, const Take& take) {
    if (m_taken == m_batch.size()) {
        take(m_batch);
        m_taken = 0;
    }
    if (m_batch.empty()) {
        return 0;
    }
    const std::size_t count = std::min(m_batch.size() - m_taken, m_eventsPerTick);
    QElapsedTimer took;
    took.start();
    document.append(std::span(m_batch).subspan(m_taken, count));
    m_taken += count;
    const double ns = std::max<double>(1.0, static_cast<double>(took.nsecsElapsed()));
    const double perTick = static_cast<double>(count) * appendBudgetNs / ns;
    m_eventsPerTick = static_cast<std::size_t>(std::clamp(
        perTick, static_cast<double>(minEventsPerTick), static_cast<double>(maxEventsPerTick)));
    return count;
}

void EventPump::pumpAll(TraceDocument& document, const Take& take) {
    for (;;) {
        if (m_taken == m_batch.size()) {
            take(m_batch);
            m_taken = 0;
            if (m_batch.empty()) {
                return;
            }
        }
        document.append(std::span(m_batch).subspan(m_taken));
        m_taken = m_batch.size();
    }
}

void EventPump::clear() noexcept {
    m_batch.clear();
    m_taken = 0;
}

} // namespace taskscope::ui
