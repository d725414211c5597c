#pragma once
// Every colour the views use, in one place, so a task, a route, a worker or a finding has
// the same colour in the timeline, the queue strip, the charts, the findings list and the
// legends, and red means one thing: a worker was blocked (or the p99 line).

#include "taskscope/analysis/model.hpp"

#include <QColor>
#include <QPalette>
#include <cstddef>
#include <cstdint>

namespace taskscope::ui {

class Style {
public:
    /// A task's polls: one hue per task id, the same in the timeline and the queue strip.
    [[nodiscard]] static QColor taskColor(std::uint64_t taskId);
    /// A poll that blocked its worker, and the finding that reports it.
    [[nodiscard]] static QColor blockedColor();
    /// Wake arrows: waker -> the poll it caused (dark or light by the palette's base).
    [[nodiscard]] static QColor wakeColor(const QPalette& palette);
    /// Steal arrows: victim -> thief.
    [[nodiscard]] static QColor stealColor();
    /// The reactor lane's marks: a timer fired, a socket became ready.
    [[nodiscard]] static QColor timerColor();
    [[nodiscard]] static QColor socketColor();
    /// A job on the blocking pool.
    [[nodiscard]] static QColor blockingJobColor();
    /// Worker `index`'s line in the queue-depth chart.
    [[nodiscard]] static QColor workerColor(std::size_t index);
    /// The colour of route `routeIndex` (its place in analysis::model::routes()), in the
    /// requests lane, the latency scatter and its legend alike. Never red.
    [[nodiscard]] static QColor routeColor(std::size_t routeIndex);
    /// The latency histogram's bars.
    [[nodiscard]] static QColor histogramColor();
    /// The p99 line.
    [[nodiscard]] static QColor p99Color();
    /// A finding's dot in the findings list.
    [[nodiscard]] static QColor lintColor(analysis::lint_kind kind);
    /// A resource row: the depth (queued messages, permits held, a broadcast's backlog) as
    /// an area, in the alarm-ish colour where a bounded channel is full, and the band where
    /// tasks wait on it (the colour of the long-wait finding).
    [[nodiscard]] static QColor resourceDepthColor(const QPalette& palette);
    [[nodiscard]] static QColor resourceFullColor();
    [[nodiscard]] static QColor resourceWaitersColor();
    /// A lock held across an await: the mark on its hold (the colour of that finding).
    [[nodiscard]] static QColor heldAcrossAwaitColor();
    /// Outlines of the polls that held, or waited for, the selected resource: apart from the
    /// task selection's outline and from each other.
    [[nodiscard]] static QColor resourceHolderColor();
    [[nodiscard]] static QColor resourceWaiterColor();
    /// The outline of the selected task's polls and chips: the text colour, which stands
    /// out from every task hue on light and dark backgrounds alike.
    [[nodiscard]] static QColor selectionColor(const QPalette& palette);
    /// Black or white, whichever reads on `fill`.
    [[nodiscard]] static QColor textOn(const QColor& fill);
};

} // namespace taskscope::ui
