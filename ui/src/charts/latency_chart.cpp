#include "charts/latency_chart.hpp"

#include "charts/series_decimator.hpp"
#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "look/style.hpp"
#include "maths/axis_ticks.hpp"

#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QFont>
#include <QImage>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QPainter>
#include <QPen>
#include <QResizeEvent>
#include <QSplitter>
#include <QStackedLayout>
#include <QToolTip>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <utility>

namespace taskscope::ui {

namespace {

double toMs(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

QString percentileName(const char* which, std::uint64_t ns) {
    return QStringLiteral("%1 %2").arg(QLatin1String(which),
                                       QString::fromStdString(analysis::format_duration(ns)));
}

} // namespace

LatencyChart::LatencyChart(TraceDocument* document, ViewState* view, QWidget* parent)
    : ChartPanel(document, view, 1, parent)
    , m_scatter(new QChart)
    , m_scatterView(new QChartView(m_scatter))
    , m_timeAxis(new QValueAxis(m_scatter))
    , m_latencyAxis(new QValueAxis(m_scatter))
    , m_p50Line(new QLineSeries(m_scatter))
    , m_p99Line(new QLineSeries(m_scatter))
    , m_histogramChart(new QChart)
    , m_histogramView(new QChartView(m_histogramChart))
    , m_bars(new QBarSeries(m_histogramChart))
    , m_barSet(new QBarSet(tr("requests")))
    , m_bucketAxis(new QCategoryAxis(m_histogramChart))
    , m_countAxis(new QValueAxis(m_histogramChart))
    , m_pages(new QStackedLayout(this))
    , m_hint(new QLabel(this))
    , m_charts(new QSplitter(Qt::Horizontal, this)) {
    setUpChart(m_scatter, m_scatterView);
    m_scatter->legend()->setAlignment(Qt::AlignBottom);
    m_scatter->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);
    setUpValueAxis(m_timeAxis, tr("request start (ms)"));
    setUpValueAxis(m_latencyAxis, tr("latency (ms)"));
    m_latencyAxis->setMinorTickCount(0);
    m_scatter->addAxis(m_timeAxis, Qt::AlignBottom);
    m_scatter->addAxis(m_latencyAxis, Qt::AlignLeft);
    for (QLineSeries* line : {m_p50Line, m_p99Line}) {
        m_scatter->addSeries(line);
        line->attachAxis(m_timeAxis);
        line->attachAxis(m_latencyAxis);
        line->setVisible(false);
    }

    setUpChart(m_histogramChart, m_histogramView);
    setChartTitle(m_histogramChart, tr("Latency histogram"));
    m_histogramChart->legend()->hide();
    m_bars->append(m_barSet);
    m_bars->setBarWidth(0.9);
    m_histogramChart->addSeries(m_bars);
    m_bucketAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_bucketAxis->setTitleText(tr("latency"));
    setUpValueAxis(m_countAxis, tr("requests"));
    m_countAxis->setLabelFormat(QStringLiteral("%d"));
    m_countAxis->setMinorTickCount(0);
    m_histogramChart->addAxis(m_bucketAxis, Qt::AlignBottom);
    m_histogramChart->addAxis(m_countAxis, Qt::AlignLeft);
    m_bars->attachAxis(m_bucketAxis);
    m_bars->attachAxis(m_countAxis);

    m_charts->addWidget(m_scatterView);
    m_charts->addWidget(m_histogramView);
    m_charts->setStretchFactor(0, 3);
    m_charts->setStretchFactor(1, 2);
    m_charts->setSizes({3000, 2000}); // weights: three fifths for the scatter plot

    m_hint->setTextFormat(Qt::PlainText);
    m_hint->setAlignment(Qt::AlignCenter);
    m_hint->setWordWrap(true);
    m_hint->setMargin(24);
    m_hint->setForegroundRole(QPalette::PlaceholderText);
    m_pages->setContentsMargins(0, 0, 0, 0);
    m_pages->addWidget(m_hint);
    m_pages->addWidget(m_charts);

    initialize();
}

qsizetype LatencyChart::pointCount() const {
    qsizetype n = 0;
    for (const QLineSeries* series : m_routeSeries) {
        n += series->count();
    }
    return n;
}

int LatencyChart::columns() const {
    // Columns two pixels wide: a marker is six, so points a pixel apart would only cover
    // each other (and each point costs Qt Charts a layout).
    const double plot = m_scatter->plotArea().width();
    return std::max(64, (plot >= 1.0 ? static_cast<int>(plot) : m_scatterView->width()) / 2);
}

qsizetype LatencyChart::requestAt(int series, QPointF point) const {
    if (series < 0 || static_cast<std::size_t>(series) >= m_routeSeries.size()) {
        return -1;
    }
    const auto& requests = m_pointRequests[static_cast<std::size_t>(series)];
    const auto& all = traceDocument()->model().requests();
    // The point with the nearest coordinates (a hover reports the point as drawn).
    qsizetype best = -1;
    double bestDistance = 0;
    for (const std::uint32_t i : requests) {
        if (i >= all.size() || i < all.first_kept()) {
            continue; // a model replaced, or a request let go since it was drawn
        }
        const analysis::request_span& r = all[i];
        const double dx =
            SeriesDecimator::toMs(static_cast<double>(r.begin_ns), m_originNs) - point.x();
        const double dy = toMs(r.latency_ns()) - point.y();
        const double distance = dx * dx + dy * dy;
        if (best < 0 || distance < bestDistance) {
            best = static_cast<qsizetype>(i);
            bestDistance = distance;
        }
    }
    return best;
}

QString LatencyChart::describeRequest(std::size_t index) const {
    const analysis::model& m = traceDocument()->model();
    if (index >= m.requests().size() || index < m.requests().first_kept()) {
        return {};
    }
    const analysis::request_span& r = m.requests()[index];
    QString text =
        QStringLiteral("<b>%1</b><br>latency %2, status %3<br>began at %4 ms")
            .arg(QString::fromStdString(m.name(r.route)).toHtmlEscaped(),
                 QString::fromStdString(analysis::format_duration(r.latency_ns())))
            .arg(r.status)
            .arg(SeriesDecimator::toMs(static_cast<double>(r.begin_ns), m_originNs), 0, 'f', 3);
    if (r.task != analysis::no_task) {
        text += (r.client ? tr("<br>sent by %1") : tr("<br>served by %1"))
                    .arg(QString::fromStdString(m.task_label(r.task)).toHtmlEscaped());
    }
    text += r.client ? tr("<br>(as the load generator saw it)") : tr("<br>(as the server saw it)");
    return text;
}

double LatencyChart::p50Ms() const {
    return toMs(m_p50Ns);
}

double LatencyChart::p99Ms() const {
    return toMs(m_p99Ns);
}

QStringList LatencyChart::routes() const {
    return m_routes;
}

bool LatencyChart::showsEmptyHint() const {
    return m_pages->currentWidget() == m_hint;
}

QString LatencyChart::emptyHint() const {
    return m_hint->text();
}

void LatencyChart::updateEmptyHint() {
    const TraceDocument& document = *traceDocument();
    if (!document.info().lesson.empty()) {
        m_hint->setText(document.model().requests().empty()
                            ? tr("No HTTP requests in this lesson (so far).")
                            : tr("No request of this lesson has finished yet."));
    } else if (document.isLive()) {
        m_hint->setText(tr("No requests yet: fire some with the control panel on the left "
                           "(Run > Fire requests, Ctrl+Return)."));
    } else if (document.source().isEmpty()) {
        m_hint->setText(tr("No trace yet: open one (File > Open) or start a live run."));
    } else if (document.model().requests().empty()) {
        m_hint->setText(tr("This trace has no HTTP requests."));
    } else {
        m_hint->setText(tr("None of this trace's HTTP requests finished."));
    }
    m_pages->setCurrentWidget(m_finished == 0 ? static_cast<QWidget*>(m_hint) : m_charts);
}

void LatencyChart::rebuild() {
    for (QLineSeries* series : m_routeSeries) {
        m_scatter->removeSeries(series);
        delete series;
    }
    m_routeSeries.clear();
    m_seriesRoute.clear();
    m_seriesOfRoute.clear();
    m_pointRequests.clear();
    m_routes.clear();
    m_client = traceDocument()->model().has_client_requests();
    m_originNs = traceDocument()->firstNs();
    setChartTitle(m_scatter, m_client ? tr("Request latency (as the client saw it)")
                                      : tr("Request latency (server side)"));
    derivePoints();
    updateStatistics();
    followRange();
    updateEmptyHint();
}

void LatencyChart::refresh() {
    const analysis::model& m = traceDocument()->model();
    if (traceDocument()->firstNs() != m_originNs || m.has_client_requests() != m_client) {
        rebuild(); // the first events of a live trace, or its first client request
        return;
    }
    const std::size_t finished = m.request_latencies().size();
    const bool forgotten = std::exchange(m_forgotten, false);
    if (finished == m_finished && !m_rangeMoved && !forgotten) {
        return;
    }
    derivePoints();
    if (finished != m_finished || forgotten) {
        updateStatistics();
        updateEmptyHint();
    }
}

void LatencyChart::onForgotten() {
    m_forgotten = true; // the same count of latencies may be other ones now
}

void LatencyChart::onRangeChanged() {
    m_rangeMoved = true; // derivePoints() moves the axis, with the points that go with it
}

void LatencyChart::resizeEvent(QResizeEvent* event) {
    ChartPanel::resizeEvent(event);
    if (valueTicks() != m_ticks) { // the ticks that fit the new height
        m_ticks = valueTicks();
        updateStatistics();
        updateHistogram();
    } else if (middleLabelFits() != m_middleLabel) { // the labels that fit the new width
        updateHistogram();
    }
    m_rangeMoved = true; // the points were thinned for another width
    scheduleRefresh();
}

std::size_t LatencyChart::seriesFor(std::size_t routeIndex) {
    if (routeIndex < m_seriesOfRoute.size() && m_seriesOfRoute[routeIndex] >= 0) {
        return static_cast<std::size_t>(m_seriesOfRoute[routeIndex]);
    }
    const analysis::model& m = traceDocument()->model();
    // A line series without a line, its points drawn as images: Qt Charts paints those in
    // one pass, where a scatter series makes each point a graphics item of its own (several
    // times slower to draw, and quadratic to fill).
    auto* series = new QLineSeries;
    const QString name = QString::fromStdString(m.name(m.routes()[routeIndex]));
    series->setName(name);
    m_scatter->addSeries(series);
    series->attachAxis(m_timeAxis);
    series->attachAxis(m_latencyAxis);
    const std::size_t index = m_routeSeries.size();
    connect(series, &QLineSeries::hovered, this,
            [this, index](const QPointF& point, bool state) { showTooltip(index, point, state); });
    m_routeSeries.push_back(series);
    m_seriesRoute.push_back(routeIndex);
    m_pointRequests.emplace_back();
    m_routes.append(name);
    if (routeIndex >= m_seriesOfRoute.size()) {
        m_seriesOfRoute.resize(routeIndex + 1, -1);
    }
    m_seriesOfRoute[routeIndex] = static_cast<int>(index);
    styleRoute(index);
    return index;
}

void LatencyChart::derivePoints() {
    const bool rangeMoved = std::exchange(m_rangeMoved, false);
    const analysis::model& m = traceDocument()->model();
    const TimeScale& scale = viewState()->scale();
    const int columnCount = columns();
    const std::vector<RequestDecimator::Route> kept = traceDocument()->requestPicks().decimate(
        m, m_client, !traceDocument()->isLive(), scale.startNs(), scale.endNs(), columnCount);
    // Each route's points in the order Qt Charts lays them out fastest: column by column,
    // rising latency in one column and falling in the next. A series is a line to Qt Charts,
    // which strokes its path (for the hover shape) whenever the points change; taken in time
    // order, a zoomed-out view's points zigzag between the fastest and the slowest and that
    // cost three times as much (about 6 ms against 2 for 2,700 points). The points are
    // markers of one colour, without a line: the picture is the same in any order.
    const double columnNs = (scale.endNs() - scale.startNs()) / columnCount;
    struct Placed {
        std::int64_t column;
        std::uint64_t rank; ///< latency, reversed in odd columns
        std::uint32_t request;
        auto operator<=>(const Placed&) const = default;
    };
    std::vector<Placed> placed;
    // A series for each route once it has shown a point: it keeps its place in the legend
    // and its colour (Style::routeColor of the route's place in the trace) while its
    // requests come and go from view.
    std::vector<QList<QPointF>> points(m_routeSeries.size());
    std::vector<std::vector<std::uint32_t>> requests(m_routeSeries.size());
    for (const RequestDecimator::Route& route : kept) {
        if (route.requests.empty()) {
            continue;
        }
        const std::size_t index = seriesFor(m.requests()[route.requests.front()].route_index);
        points.resize(m_routeSeries.size());
        requests.resize(m_routeSeries.size());
        placed.clear();
        for (const std::uint32_t i : route.requests) {
            const analysis::request_span& r = m.requests()[i];
            const double at = (static_cast<double>(r.begin_ns) - scale.startNs()) / columnNs;
            const auto column = columnNs > 0.0 ? static_cast<std::int64_t>(std::floor(at)) : 0;
            const std::uint64_t latency = r.latency_ns();
            placed.push_back({column, column % 2 == 0 ? latency : ~latency, i});
        }
        std::sort(placed.begin(), placed.end());
        points[index].reserve(static_cast<qsizetype>(placed.size()));
        requests[index].reserve(placed.size());
        for (const Placed& p : placed) {
            const analysis::request_span& r = m.requests()[p.request];
            points[index].append(
                QPointF(SeriesDecimator::toMs(static_cast<double>(r.begin_ns), m_originNs),
                        toMs(r.latency_ns())));
            requests[index].push_back(p.request);
        }
    }
    // Qt Charts lays out every point again when an axis moves and again when points are
    // replaced: with the range moved, empty the series first so that happens once.
    if (rangeMoved) {
        for (QLineSeries* series : m_routeSeries) {
            series->clear();
        }
        followRange();
    }
    for (std::size_t i = 0; i < m_routeSeries.size(); ++i) {
        if (!points[i].isEmpty() || m_routeSeries[i]->count() > 0) {
            m_routeSeries[i]->replace(points[i]);
        }
        m_pointRequests[i] = std::move(requests[i]);
    }
}

void LatencyChart::showTooltip(std::size_t series, QPointF point, bool state) {
    if (!state) {
        QToolTip::hideText();
        return;
    }
    const qsizetype request = requestAt(static_cast<int>(series), point);
    if (request >= 0) {
        QToolTip::showText(QCursor::pos(), describeRequest(static_cast<std::size_t>(request)),
                           m_scatterView);
    }
}

void LatencyChart::updateStatistics() {
    const analysis::model& m = traceDocument()->model();
    const analysis::latency_summary summary = m.request_latency();
    m_finished = summary.count;
    m_p50Ns = summary.p50_ns;
    m_p99Ns = summary.p99_ns;
    const bool any = summary.count != 0;
    m_p50Line->setName(percentileName("p50", m_p50Ns));
    m_p99Line->setName(percentileName("p99", m_p99Ns));
    m_p50Line->setVisible(any);
    m_p99Line->setVisible(any);
    const double most = any ? toMs(summary.max_ns) : 1.0;
    const double step = AxisTicks::niceStep(most, valueTicks());
    m_latencyAxis->setTickInterval(step);
    setLabelFormat(m_latencyAxis, QStringLiteral("%.%1f").arg(AxisTicks::decimals(step)));
    m_latencyAxis->setRange(0.0, AxisTicks::topAbove(most, step));
    followRange();
    updateHistogram();
}

void LatencyChart::updateHistogram() {
    m_histogram = LatencyHistogram::build(traceDocument()->model().request_latencies());
    QList<qreal> counts;
    std::uint64_t most = 0;
    for (const auto& bucket : m_histogram) {
        counts.append(static_cast<qreal>(bucket.count));
        most = std::max(most, bucket.count);
    }
    m_barSet->remove(0, m_barSet->count());
    m_barSet->append(counts);

    // Bar i stands at x = i. Label the first, middle and last edges between bars: a
    // category axis clips a label to its category's width, so there are few and wide.
    for (const QString& label : m_bucketAxis->categoriesLabels()) {
        m_bucketAxis->remove(label);
    }
    const auto n = static_cast<qsizetype>(m_histogram.size());
    m_bucketAxis->setStartValue(-0.5);
    // The middle label only where three fit across the chart (not in a narrow or large-font
    // one, where they would be clipped to "187…").
    m_middleLabel = middleLabelFits();
    const bool middle = m_middleLabel;
    for (const qsizetype i : {qsizetype{0}, n / 2, n}) {
        if (n == 0 || (i == n / 2 && (i == 0 || i == n || !middle))) {
            continue;
        }
        const std::uint64_t edge =
            i < n ? m_histogram[static_cast<std::size_t>(i)].fromNs : m_histogram.back().toNs - 1;
        const QString label = QString::fromStdString(LatencyHistogram::edgeLabel(edge));
        if (!m_bucketAxis->categoriesLabels().contains(label)) {
            m_bucketAxis->append(label, static_cast<double>(i) - 0.5);
        }
    }
    m_bucketAxis->setRange(-0.5, std::max(0.5, static_cast<double>(n) - 0.5));

    const double step = AxisTicks::integerStep(static_cast<double>(most), valueTicks());
    m_countAxis->setTickInterval(step);
    m_countAxis->setRange(0.0, AxisTicks::topAbove(static_cast<double>(most), step));
}

bool LatencyChart::middleLabelFits() const {
    const int labelWidth =
        QFontMetrics(m_bucketAxis->labelsFont()).horizontalAdvance(QStringLiteral("000.0 ms"));
    return labelWidth * 4 < static_cast<int>(m_histogramChart->size().width());
}

int LatencyChart::timeLabelCount() const {
    const double step = m_timeAxis->tickInterval();
    if (!(step > 0.0)) {
        return 0;
    }
    return static_cast<int>(std::floor(m_timeAxis->max() / step) -
                            std::ceil(m_timeAxis->min() / step)) +
           1;
}

void LatencyChart::followRange() {
    const auto [from, to] = followTimeAxis(m_scatter, m_timeAxis, m_originNs);
    // The percentile lines span whatever is in view.
    m_p50Line->replace(QList<QPointF>{{from, toMs(m_p50Ns)}, {to, toMs(m_p50Ns)}});
    m_p99Line->replace(QList<QPointF>{{from, toMs(m_p99Ns)}, {to, toMs(m_p99Ns)}});
}

void LatencyChart::styleRoute(std::size_t index) {
    QLineSeries* series = m_routeSeries[index];
    const QColor colour = Style::routeColor(m_seriesRoute[index]);
    const int size = viewState()->presentation() ? 11 : 6;
    const qreal ratio = devicePixelRatioF();
    QImage marker(QSize(size, size) * ratio, QImage::Format_ARGB32_Premultiplied);
    marker.setDevicePixelRatio(ratio);
    marker.fill(Qt::transparent);
    QPainter painter(&marker);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    painter.setBrush(colour);
    painter.drawEllipse(QRectF(0, 0, size, size));
    painter.end();
    series->setPen(Qt::NoPen);
    series->setColor(colour);
    series->setMarkerSize(size);
    series->setLightMarker(marker);
}

void LatencyChart::applyStyle() {
    styleCharts({m_scatter, m_histogramChart},
                {m_timeAxis, m_latencyAxis, m_bucketAxis, m_countAxis});
    QFont hintFont = font();
    if (hintFont.pointSizeF() > 0) {
        hintFont.setPointSizeF(hintFont.pointSizeF() * 1.2);
    }
    m_hint->setFont(hintFont);
    // The theme resets pens and colours too: set ours again.
    const double width = viewState()->presentation() ? 3.0 : 1.5;
    QPen p50(palette().color(QPalette::WindowText), width, Qt::DashLine);
    QPen p99(Style::p99Color(), width, Qt::DashLine);
    m_p50Line->setPen(p50);
    m_p99Line->setPen(p99);
    m_barSet->setColor(Style::histogramColor());
    m_barSet->setBorderColor(Style::histogramColor());
    for (std::size_t i = 0; i < m_routeSeries.size(); ++i) {
        styleRoute(i);
    }
}

} // namespace taskscope::ui
