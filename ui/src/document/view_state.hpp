#pragma once
// The one zoom and selection state all views share: the visible time range (TimeScale),
// the selected task and resource, and the presentation settings. A view that changes any
// of it calls the setter; every view listens to the signals and redraws.

#include "maths/time_scale.hpp"
#include "taskscope/analysis/model.hpp"

#include <QObject>

namespace taskscope::ui {

class ViewState : public QObject {
    Q_OBJECT
public:
    explicit ViewState(QObject* parent = nullptr) : QObject(parent) {}

    /// The visible range. Change it through the setters below (or change it and call
    /// notifyRangeChanged()) so every view follows.
    [[nodiscard]] TimeScale& scale() noexcept { return m_scale; }
    [[nodiscard]] const TimeScale& scale() const noexcept { return m_scale; }
    void setVisible(double startNs, double endNs) {
        m_scale.setVisible(startNs, endNs);
        emit rangeChanged();
    }
    void notifyRangeChanged() { emit rangeChanged(); }

    [[nodiscard]] analysis::task_ref selectedTask() const noexcept { return m_selected; }
    void selectTask(analysis::task_ref task) {
        if (task != m_selected) {
            m_selected = task;
            emit selectionChanged();
        }
    }

    /// The selected resource's id (channel, lock, semaphore...); 0 for none. Its holders'
    /// and waiters' polls light up on the timeline.
    [[nodiscard]] std::uint32_t selectedResource() const noexcept { return m_resource; }
    void selectResource(std::uint32_t id) {
        if (id != m_resource) {
            m_resource = id;
            emit resourceSelectionChanged();
        }
    }

    /// Larger fonts and lines for a projector.
    [[nodiscard]] bool presentation() const noexcept { return m_presentation; }
    void setPresentation(bool on) {
        if (on != m_presentation) {
            m_presentation = on;
            emit presentationChanged();
        }
    }

    /// Replay's playhead on the trace clock; -1 when not replaying.
    [[nodiscard]] qint64 playheadNs() const noexcept { return m_playhead; }
    void setPlayhead(qint64 ns) {
        if (ns != m_playhead) {
            m_playhead = ns;
            emit playheadChanged();
        }
    }

signals:
    void rangeChanged();
    void playheadChanged();
    void selectionChanged();
    void resourceSelectionChanged();
    void presentationChanged();

private:
    TimeScale m_scale;
    analysis::task_ref m_selected = analysis::no_task;
    std::uint32_t m_resource = 0;
    bool m_presentation = false;
    qint64 m_playhead = -1;
};

} // namespace taskscope::ui
