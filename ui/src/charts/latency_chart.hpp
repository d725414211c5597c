#pragma once
// Request latency: a scatter of the finished requests in the timeline's range (when each
// started, how long it took; one colour per route) with dashed p50 and p99 lines, and beside
// it a histogram of every latency. It shows the side the model prefers: what the load
// generator saw when the trace has client requests, otherwise what the server measured.
// The scatter holds at most a few points per pixel column and route (RequestDecimator: the
// fastest, the slowest and the column's p50, p90 and p99), so a million requests draw as
// fast as a hundred; the percentiles and the histogram count every request (the model's).
// Redrawn when a trace opens, when the range moves, and as live requests finish (at most
// ten times a second). Until a request has finished it shows a hint instead of empty axes.

#include "charts/chart_panel.hpp"
#include "maths/latency_histogram.hpp"
#include "maths/request_decimator.hpp"
#include "taskscope/analysis/model.hpp"

#include <QPointF>
#include <QStringList>
#include <cstddef>
#include <cstdint>
#include <vector>

QT_BEGIN_NAMESPACE
class QBarSeries;
class QLabel;
class QStackedLayout;
class QBarSet;
class QCategoryAxis;
class QChart;
class QChartView;
class QLineSeries;
class QSplitter;
class QValueAxis;
QT_END_NAMESPACE

namespace taskscope::ui {

class LatencyChart : public ChartPanel {
    Q_OBJECT
public:
    LatencyChart(TraceDocument* document, ViewState* view, QWidget* parent = nullptr);

    /// Points in the scatter plot (every route's): each a request, at most
    /// RequestDecimator::maxPerColumn per pixel column and route.
    [[nodiscard]] qsizetype pointCount() const;
    /// How many labels the scatter's time axis shows (ticks inside its range).
    [[nodiscard]] int timeLabelCount() const;
    /// The columns the points were thinned for: the scatter's plot area in columns two
    /// pixels wide.
    [[nodiscard]] int columns() const;
    /// The request the point at `point` of series `series` (an index into routes())
    /// stands for, as an index into model::requests(); -1 if none.
    [[nodiscard]] qsizetype requestAt(int series, QPointF point) const;
    /// What hovering a point says of request `index` of model::requests().
    [[nodiscard]] QString describeRequest(std::size_t index) const;
    /// Nearest-rank percentiles of every finished request of the side shown, in ms (0 for
    /// none): the model's.
    [[nodiscard]] double p50Ms() const;
    [[nodiscard]] double p99Ms() const;
    /// The routes shown ("/", "/sleep?ms=5"), in the order they first had a point.
    [[nodiscard]] QStringList routes() const;
    /// Whether the requests shown are the load generator's (client side).
    [[nodiscard]] bool clientSide() const noexcept { return m_client; }
    /// Whether the hint stands in for the charts: no request of the side shown has finished.
    [[nodiscard]] bool showsEmptyHint() const;
    /// The hint's text: what to do to get requests, or why there are none.
    [[nodiscard]] QString emptyHint() const;
    /// The histogram's buckets as drawn.
    [[nodiscard]] const std::vector<LatencyHistogram::Bucket>& histogram() const noexcept {
        return m_histogram;
    }

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    /// Three edge labels fit across the histogram (else only the first and last).
    [[nodiscard]] bool middleLabelFits() const;
    void rebuild() override;
    void refresh() override;
    void onRangeChanged() override;
    void onForgotten() override;
    void applyStyle() override;
    void derivePoints();
    /// The series of route `routeIndex` (its place in model::routes()), made on first use.
    std::size_t seriesFor(std::size_t routeIndex);
    void updateStatistics();
    void updateHistogram();
    void followRange();
    void styleRoute(std::size_t index);
    void updateEmptyHint();
    void showTooltip(std::size_t series, QPointF point, bool state);

    QChart* m_scatter;
    QChartView* m_scatterView;
    QValueAxis* m_timeAxis;
    QValueAxis* m_latencyAxis;
    QLineSeries* m_p50Line;
    QLineSeries* m_p99Line;
    std::vector<QLineSeries*> m_routeSeries;                 ///< in the order first shown
    std::vector<std::size_t> m_seriesRoute;                  ///< each series' route index
    std::vector<int> m_seriesOfRoute;                        ///< by route index; -1: none yet
    std::vector<std::vector<std::uint32_t>> m_pointRequests; ///< each series' points' requests
    QStringList m_routes;

    QChart* m_histogramChart;
    QChartView* m_histogramView;
    QBarSeries* m_bars;
    QBarSet* m_barSet;
    QCategoryAxis* m_bucketAxis;
    QValueAxis* m_countAxis;
    std::vector<LatencyHistogram::Bucket> m_histogram;

    QStackedLayout* m_pages;
    QLabel* m_hint;
    QSplitter* m_charts;

    bool m_client = false;
    int m_ticks = 0;            ///< valueTicks() when the axes were last set
    bool m_middleLabel = false; ///< the histogram showed its middle edge label
    std::uint64_t m_originNs = 0;
    std::size_t m_finished = 0; ///< finished requests of the side shown, when last drawn
    bool m_rangeMoved = false;  ///< the points are for another range or width
    bool m_forgotten = false;   ///< requests were let go: statistics and points again
    std::uint64_t m_p50Ns = 0;
    std::uint64_t m_p99Ns = 0;
};

} // namespace taskscope::ui
