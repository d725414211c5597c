#pragma once
// The run queues over time: one step line per worker's local queue and one for the global
// queue, over the timeline's visible range. Built from the model when a trace opens,
// extended with only the new points as live events arrive (at most ten times a second),
// and thinned by SeriesDecimator when a series has more points in view than the chart has
// pixels for.

#include "charts/chart_panel.hpp"
#include "charts/series_decimator.hpp"
#include "taskscope/analysis/model.hpp"

#include <QString>
#include <cstddef>
#include <cstdint>
#include <vector>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace taskscope::ui {

class QueueDepthChart : public ChartPanel {
    Q_OBJECT
public:
    QueueDepthChart(TraceDocument* document, ViewState* view, QWidget* parent = nullptr);

    /// The workers' series in worker order, then the global queue's.
    [[nodiscard]] int seriesCount() const;
    /// Points of series `series` as drawn: a step line has two per change of depth, and one
    /// more holds the last depth to the end of the trace.
    [[nodiscard]] qsizetype pointCount(int series) const;
    /// "worker 0", ..., "global queue".
    [[nodiscard]] QString seriesName(int series) const;
    /// The points of series `series` as drawn: x in ms since the trace's first event.
    [[nodiscard]] QList<QPointF> points(int series) const;

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    struct Line {
        QLineSeries* series = nullptr;
        int lane = -1;                ///< model lane; -1: the global queue
        std::size_t consumed = 0;     ///< source points taken so far
        analysis::depth_point last{}; ///< source[consumed - 1], to notice a late insert
        bool windowed = false;        ///< holds only the visible range (maybe decimated)
        bool held = false;            ///< ends with a point holding the depth to the end
        DepthSummary summary;         ///< the source's extremes by block
    };

    void rebuild() override;
    void refresh() override;
    void onRangeChanged() override;
    void applyStyle() override;
    void onForgotten() override;
    void addLine(int lane, const QString& name);
    void deriveLine(Line& line);
    void appendNew(Line& line);
    bool addHold(const SeriesDecimator::Series& source, QList<QPointF>& points) const;
    void followRange();
    void updateDepthAxis();
    void styleLine(const Line& line, int index);
    [[nodiscard]] const SeriesDecimator::Series& source(const Line& line) const;
    [[nodiscard]] std::vector<int> workerLanes() const;
    [[nodiscard]] int columns() const;
    [[nodiscard]] std::size_t pointLimit() const;
    [[nodiscard]] bool needsWindowing() const;

    QChart* m_chart;
    QChartView* m_chartView;
    QValueAxis* m_timeAxis;
    QValueAxis* m_depthAxis;
    std::vector<Line> m_lines;
    std::uint64_t m_originNs = 0;
    std::uint64_t m_lastNs = 0;
    bool m_rederive = false;   ///< the range or the width changed: windowed lines are redone
    bool m_rangeMoved = false; ///< the axis must follow the view at the next refresh
    bool m_forgotten = false;  ///< older points were let go: every line is derived again
};

} // namespace taskscope::ui
