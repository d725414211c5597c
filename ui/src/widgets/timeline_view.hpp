#pragma once
// The timeline: a lane per worker (poll slices coloured by task, blocking in the alarm
// colour, parked time left empty), one for the reactor and timers, one per blocking-pool
// thread, and one for HTTP requests; a time ruler; wake arrows (waker -> the poll it
// caused) and steal arrows (victim -> thief) for the selected or hovered task.
//
// Threads outside the runtime that blocked (a lesson's main thread) get a lane of their
// own; a lesson's phases are marked across all lanes, and a replay's playhead too.
//
// Mouse wheel zooms about the cursor, dragging pans, W/S zoom, A/D pan, F follows the live
// end, 0 shows everything. Clicking a slice selects its task in every view.

#include "maths/lane_summary.hpp"
#include "taskscope/analysis/model.hpp"

#include <QColor>
#include <QFont>
#include <QWidget>
#include <optional>
#include <vector>

namespace taskscope::ui {

class TraceDocument;
class ViewState;

class TimelineView : public QWidget {
    Q_OBJECT
public:
    TimelineView(TraceDocument* document, ViewState* view, QWidget* parent = nullptr);

    /// A row of the timeline, top to bottom (for tests and the legend).
    struct Row {
        enum class Kind { worker, reactor, blocking, outside, requests } kind;
        int lane = -1; ///< index into model().lanes(); -1 for reactor and requests
        int top = 0;
        int height = 0;
        QString label;
        bool shaded = false; ///< drawn on the alternate background
    };
    [[nodiscard]] std::vector<Row> rows() const;
    /// The requests row's stacks: a request's stack is its id modulo this.
    static constexpr int requestStacks = 6;
    /// The request drawn under `at` in the requests row (its index in model().requests()).
    [[nodiscard]] std::optional<std::size_t> requestAt(QPoint at) const;
    /// What hovering a request says: route, latency, status, the task that served it.
    [[nodiscard]] QString requestToolTip(std::size_t index) const;
    [[nodiscard]] int labelWidth() const;
    [[nodiscard]] QSize sizeHint() const override;
    [[nodiscard]] QSize minimumSizeHint() const override;

public slots:
    void showAll();
    void setFollowing(bool on);

signals:
    void followingChanged(bool on);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    struct Hit {
        int lane = -1;
        std::uint32_t poll = UINT32_MAX;
    };
    [[nodiscard]] Hit hitTest(QPoint at) const;
    [[nodiscard]] std::vector<Row> layoutRows(bool fillHeight) const;
    [[nodiscard]] double scale() const; ///< 1, or larger in presentation mode
    void syncWidth();
    void onDocumentChanged();
    void onDocumentReset();

    void paintRuler(QPainter& p) const;
    void paintOutside(QPainter& p, const Row& row) const;
    /// A lane's blocking spans in the alarm colour, in the band [top, top + height).
    void paintBlocks(QPainter& p, const analysis::lane& lane, double top, double height) const;
    /// Phase markers (lessons) and the replay playhead, across every row.
    void paintMarkers(QPainter& p, int bottom) const;
    void paintWorker(QPainter& p, const Row& row);
    void paintReactor(QPainter& p, const Row& row) const;
    void paintBlocking(QPainter& p, const Row& row) const;
    void paintRequests(QPainter& p, const Row& row) const;
    void paintArrows(QPainter& p, const std::vector<Row>& rows) const;

    TraceDocument* m_document;
    ViewState* m_view;
    std::vector<DrawItem> m_items; // reused between paints
    bool m_dragging = false;
    QPoint m_dragFrom;
    QPoint m_pressAt;
    analysis::task_ref m_hoverTask = analysis::no_task;
    mutable QFont m_labelFont; ///< the font labelWidth() was measured in
    mutable int m_labelWidth = 0;
};

} // namespace taskscope::ui
