#pragma once
// Request latency: a scatter of every finished request (when it started, how long it took;
// one colour per route) with dashed p50 and p99 lines, and beside it a histogram of the same
// latencies. It shows the side the model prefers: what the load generator saw when the
// trace has client requests, otherwise what the server measured. Built when a trace opens,
// extended with the requests finished since the last refresh as live events arrive (at most
// ten times a second). Until a request has finished it shows a hint instead of empty axes.

#include "chart_panel.hpp"
#include "latency_histogram.hpp"
#include "taskscope/analysis/model.hpp"

#include <QStringList>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
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
class QScatterSeries;
class QSplitter;
class QValueAxis;
QT_END_NAMESPACE

namespace taskscope::ui {

class LatencyChart : public ChartPanel {
    Q_OBJECT
public:
    LatencyChart(TraceDocument* document, ViewState* view, QWidget* parent = nullptr);

    /// Requests in the scatter plot (every route's).
    [[nodiscard]] qsizetype pointCount() const;
    /// Nearest-rank percentiles of the finished requests shown, in ms (0 for none).
    [[nodiscard]] double p50Ms() const;
    [[nodiscard]] double p99Ms() const;
    /// The routes shown ("/", "/sleep?ms=5"), in the order they first finished a request.
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

private:
    void rebuild() override;
    void refresh() override;
    void onRangeChanged() override;
    void applyStyle() override;
    void takeFinished();
    std::size_t seriesFor(trace::name_id route);
    void updateStatistics();
    void updateHistogram();
    void followRange();
    void styleRoute(std::size_t index);
    void updateEmptyHint();

    QChart* m_scatter;
    QChartView* m_scatterView;
    QValueAxis* m_timeAxis;
    QValueAxis* m_latencyAxis;
    QLineSeries* m_p50Line;
    QLineSeries* m_p99Line;
    std::vector<QScatterSeries*> m_routeSeries;
    std::unordered_map<trace::name_id, std::size_t> m_routeIndex;
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
    std::uint64_t m_originNs = 0;
    std::size_t m_scanned = 0;              ///< requests[0, m_scanned) looked at
    std::vector<std::size_t> m_open;        ///< looked at, of the side shown, not finished then
    std::vector<std::uint64_t> m_latencies; ///< sorted, every point's
    std::uint64_t m_p50Ns = 0;
    std::uint64_t m_p99Ns = 0;
};

} // namespace taskscope::ui
