#pragma once
// The timeline: a lane per worker (poll slices coloured by task, blocking in the alarm
// colour, parked time left empty) and per home-made executor thread, one for the reactor
// and timers, one per blocking-pool thread, one for requests (HTTP, chat deliveries), and a row per
// resource (a mutex's holders, a channel's or semaphore's depth, the tasks waiting on it); a time
// ruler; wake arrows (waker -> the poll it caused, named by the resource behind it) and
// steal arrows (victim -> thief) for the selected or hovered task.
//
// Threads outside the runtime that blocked (a lesson's main thread) get a lane of their
// own; a lesson's phases are marked across all lanes, and a replay's playhead too.
//
// Mouse wheel zooms about the cursor, dragging pans, W/S zoom, A/D pan, F follows the live
// end, 0 shows everything. Clicking a slice selects its task in every view; clicking a
// resource row selects the resource (its holders' and waiters' polls are outlined).

#include "charts/series_decimator.hpp"
#include "maths/lane_summary.hpp"
#include "maths/resource_rows.hpp"
#include "taskscope/analysis/model.hpp"

#include <QColor>
#include <QFont>
#include <QWidget>
#include <optional>
#include <unordered_map>
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
        enum class Kind { worker, executor, reactor, blocking, outside, requests, resource } kind;
        int lane = -1; ///< index into model().lanes(); -1 for reactor, requests, resources
        int top = 0;
        int height = 0;
        QString label;
        bool shaded = false;        ///< drawn on the alternate background
        std::uint32_t resource = 0; ///< the resource's id (resource rows)
    };
    [[nodiscard]] std::vector<Row> rows() const;
    /// The resources given a row, top to bottom: the first resourceRows() in the order the
    /// trace met them, channels before locks before notifies and oneshots, and the selected one
    /// in the last row when it is not among them.
    [[nodiscard]] std::vector<std::uint32_t> resourceRowIds() const;
    [[nodiscard]] int resourceRows() const noexcept { return m_resourceRows; }

    /// What a resource's row draws at the visible range, per pixel: a mutex's holds (at most
    /// one per column), and per column the highest depth and number of tasks waiting.
    struct ResourceDrawing {
        std::vector<HoldItem> holds;
        std::vector<std::uint32_t> depth;   ///< per column; empty for a mutex
        std::vector<std::uint32_t> waiters; ///< per column
        std::uint64_t scaleTo = 1;          ///< the depth that fills the row: its capacity
        bool bounded = false;               ///< a capacity: at it, the channel is full
    };
    [[nodiscard]] ResourceDrawing resourceDrawing(std::uint32_t resource) const;
    /// What hovering a resource row at `ns` says: who holds it and since when, who waits,
    /// its depth against its capacity.
    [[nodiscard]] QString resourceToolTip(std::uint32_t resource, double ns) const;
    /// What hovering poll `poll` of lane `lane` says (and what its task waited for next).
    [[nodiscard]] QString pollToolTip(int lane, std::uint32_t poll) const;

    /// A poll outlined because it held, or waited for, the selected resource.
    struct ResourcePoll {
        int lane = -1;
        std::uint32_t poll = 0;
        bool holder = false; ///< held it; otherwise began a wait for it or was granted it
        friend bool operator==(const ResourcePoll&, const ResourcePoll&) = default;
    };
    /// The polls outlined for the selected resource in the visible range (capped per frame).
    [[nodiscard]] std::vector<ResourcePoll> resourcePolls() const;
    static constexpr std::size_t maxResourcePolls = 2000;
    /// The requests row's stacks: a request's stack is its id modulo this.
    static constexpr int requestStacks = 6;
    /// The thin row of the requests lane a request is drawn in: HTTP/1.1 requests spread by
    /// id; an HTTP/2 request goes in its connection's band (the upper or lower half, by
    /// connection), spread over the band by stream.
    [[nodiscard]] static int requestStack(const analysis::request_span& r) noexcept;
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
    /// How many resources get a row (0 for none).
    void setResourceRows(int rows);

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
    [[nodiscard]] const Row* rowAt(const std::vector<Row>& rows, QPoint at) const;
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
    /// Shades the time before the kept window of a live run whose oldest events went.
    void paintLetGo(QPainter& p, int bottom) const;
    void paintWorker(QPainter& p, const Row& row);
    void paintReactor(QPainter& p, const Row& row) const;
    void paintBlocking(QPainter& p, const Row& row) const;
    void paintRequests(QPainter& p, const Row& row) const;
    void paintResource(QPainter& p, const Row& row) const;
    /// Outlines the polls of `lane` in m_resourcePolls.
    void paintResourcePolls(QPainter& p, const Row& row) const;
    void paintArrows(QPainter& p, const std::vector<Row>& rows) const;
    /// A broadcast receiver's lags (it missed messages) in the visible range, as triangles
    /// pointing down at `top`: those found on lane `lane`, or all of them for lane -1. At
    /// most one a pixel column.
    void paintLags(QPainter& p, const analysis::resource_info& r, double top, int lane) const;

    TraceDocument* m_document;
    ViewState* m_view;
    std::vector<DrawItem> m_items; // reused between paints
    bool m_dragging = false;
    QPoint m_dragFrom;
    QPoint m_pressAt;
    analysis::task_ref m_hoverTask = analysis::no_task;
    int m_resourceRows = 6;
    std::vector<ResourcePoll> m_resourcePolls; // this frame's, sorted by lane
    /// Per resource, the level-of-detail summaries of its depth and waiters series (built as
    /// they are first drawn, extended as they grow, dropped with the document).
    struct ResourceSummaries {
        DepthSummary depth;
        DepthSummary waiters;
    };
    mutable std::unordered_map<std::uint32_t, ResourceSummaries> m_resourceSummaries;
    mutable QFont m_labelFont; ///< the font labelWidth() was measured in
    mutable int m_labelWidth = 0;
};

} // namespace taskscope::ui
