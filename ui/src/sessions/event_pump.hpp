#pragma once
// Moves events a session received on other threads into the document at a pace the GUI
// thread keeps: per tick, as many as fit half a frame at the speed of the last append; the
// rest at the next tick. So a burst (a million requests fired, a busy program attached)
// never stalls the window. The live engine and an attached program both use it.

#include "taskscope/trace/event.hpp"

#include <cstddef>
#include <functional>
#include <vector>

namespace taskscope::ui {

class TraceDocument;

class EventPump {
public:
    /// Replaces its argument with what arrived since the last call.
    using Take = std::function<void(std::vector<trace::event>&)>;

    /// One tick: takes more when the last batch went in, appends what fits the budget.
    /// Returns how many events went in.
    std::size_t pump(TraceDocument& document, const Take& take);
    /// Everything that arrived, however much (at the end of a run).
    void pumpAll(TraceDocument& document, const Take& take);
    /// Events taken but not yet in the document (the window is that far behind).
    [[nodiscard]] std::size_t backlog() const noexcept { return m_batch.size() - m_taken; }
    void clear() noexcept;

private:
    static constexpr double appendBudgetNs = 8e6; ///< per tick: half a frame
    static constexpr std::size_t minEventsPerTick = 2'000;
    static constexpr std::size_t maxEventsPerTick = 200'000;
    std::vector<trace::event> m_batch; ///< taken; [m_taken, end) still to go
    std::size_t m_taken = 0;
    std::size_t m_eventsPerTick = 20'000;
};

} // namespace taskscope::ui
