#include "latency_chart.hpp"

#include "axis_ticks.hpp"
#include "series_decimator.hpp"
#include "trace_document.hpp"
#include "view_state.hpp"

#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QFont>
#include <QLabel>
#include <QLineSeries>
#include <QPen>
#include <QScatterSeries>
#include <QSplitter>
#include <QStackedLayout>
#include <QValueAxis>
#include <algorithm>
#include <array>
#include <utility>

namespace taskscope::ui {

namespace {

// Tableau 10 less its red, which the p99 line keeps: route i keeps its colour.
constexpr std::array<QRgb, 9> routeColours{0x4e79a7, 0x59a14f, 0xb07aa1, 0xf28e2b, 0x76b7b2,
                                           0xedc948, 0x9c755f, 0xff9da7, 0xbab0ac};
constexpr QRgb p99Colour = 0xe15759;
constexpr QRgb barColour = 0x4e79a7;

double toMs(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

QString percentileName(const char* which, std::uint64_t ns) {
    return QStringLiteral("%1 %2").arg(QLatin1String(which),
                                       QString::fromStdString(analysis::format_duration(ns)));
}

} // namespace

LatencyChart::LatencyChart(TraceDocument* document, ViewState* view, QWidget* parent)
    : ChartPanel(document, view, parent)
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
    m_histogramChart->setTitle(tr("Latency histogram"));
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
    for (const QScatterSeries* series : m_routeSeries) {
        n += series->count();
    }
    return n;
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
    m_pages->setCurrentWidget(m_latencies.empty() ? static_cast<QWidget*>(m_hint) : m_charts);
}

void LatencyChart::rebuild() {
    for (QScatterSeries* series : m_routeSeries) {
        m_scatter->removeSeries(series);
        delete series;
    }
    m_routeSeries.clear();
    m_routeIndex.clear();
    m_routes.clear();
    m_open.clear();
    m_latencies.clear();
    m_scanned = 0;
    m_client = traceDocument()->model().has_client_requests();
    m_originNs = traceDocument()->firstNs();
    m_scatter->setTitle(m_client ? tr("Request latency (as the client saw it)")
                                 : tr("Request latency (server side)"));
    takeFinished();
    updateStatistics();
    followRange();
    updateEmptyHint();
}

void LatencyChart::refresh() {
    if (traceDocument()->firstNs() != m_originNs ||
        traceDocument()->model().has_client_requests() != m_client) {
        rebuild(); // the first events of a live trace, or its first client request
        return;
    }
    const std::size_t before = m_latencies.size();
    takeFinished();
    if (m_latencies.size() != before) {
        updateStatistics();
        updateEmptyHint();
    }
}

void LatencyChart::onRangeChanged() {
    followRange();
}

std::size_t LatencyChart::seriesFor(trace::name_id route) {
    if (const auto it = m_routeIndex.find(route); it != m_routeIndex.end()) {
        return it->second;
    }
    auto* series = new QScatterSeries;
    const QString name = QString::fromStdString(traceDocument()->model().name(route));
    series->setName(name);
    m_scatter->addSeries(series);
    series->attachAxis(m_timeAxis);
    series->attachAxis(m_latencyAxis);
    m_routeSeries.push_back(series);
    m_routes.append(name);
    const std::size_t index = m_routeSeries.size() - 1;
    m_routeIndex.emplace(route, index);
    styleRoute(index);
    return index;
}

void LatencyChart::takeFinished() {
    const auto& requests = traceDocument()->model().requests();
    std::vector<QList<QPointF>> added(m_routeSeries.size());
    std::vector<std::uint64_t> fresh;
    const auto take = [&](const analysis::request_span& r) {
        const std::size_t series = seriesFor(r.route);
        if (series >= added.size()) {
            added.resize(series + 1);
        }
        added[series].append(
            QPointF(SeriesDecimator::toMs(static_cast<double>(r.begin_ns), m_originNs),
                    toMs(r.latency_ns())));
        fresh.push_back(r.latency_ns());
    };

    // Requests end in any order: the open ones are looked at again on every refresh.
    std::vector<std::size_t> stillOpen;
    for (const std::size_t i : m_open) {
        if (requests[i].finished()) {
            take(requests[i]);
        } else {
            stillOpen.push_back(i);
        }
    }
    for (std::size_t i = m_scanned; i < requests.size(); ++i) {
        const analysis::request_span& r = requests[i];
        if (r.client != m_client) {
            continue;
        }
        if (r.finished()) {
            take(r);
        } else {
            stillOpen.push_back(i);
        }
    }
    m_open = std::move(stillOpen);
    m_scanned = requests.size();

    for (std::size_t s = 0; s < added.size(); ++s) {
        if (!added[s].isEmpty()) {
            m_routeSeries[s]->append(added[s]);
        }
    }
    std::sort(fresh.begin(), fresh.end());
    const auto middle = static_cast<std::ptrdiff_t>(m_latencies.size());
    m_latencies.insert(m_latencies.end(), fresh.begin(), fresh.end());
    std::inplace_merge(m_latencies.begin(), m_latencies.begin() + middle, m_latencies.end());
}

void LatencyChart::updateStatistics() {
    m_p50Ns = analysis::percentile(m_latencies, 0.50);
    m_p99Ns = analysis::percentile(m_latencies, 0.99);
    const bool any = !m_latencies.empty();
    m_p50Line->setName(percentileName("p50", m_p50Ns));
    m_p99Line->setName(percentileName("p99", m_p99Ns));
    m_p50Line->setVisible(any);
    m_p99Line->setVisible(any);
    const double most = any ? toMs(m_latencies.back()) : 1.0;
    const double step = AxisTicks::niceStep(most, 5);
    m_latencyAxis->setTickInterval(step);
    m_latencyAxis->setLabelFormat(QStringLiteral("%.%1f").arg(AxisTicks::decimals(step)));
    m_latencyAxis->setRange(0.0, AxisTicks::topAbove(most, step));
    followRange();
    updateHistogram();
}

void LatencyChart::updateHistogram() {
    m_histogram = LatencyHistogram::build(m_latencies);
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
    for (const qsizetype i : {qsizetype{0}, n / 2, n}) {
        if (n == 0 || (i == n / 2 && (i == 0 || i == n))) {
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

    const double step = AxisTicks::integerStep(static_cast<double>(most), 6);
    m_countAxis->setTickInterval(step);
    m_countAxis->setRange(0.0, AxisTicks::topAbove(static_cast<double>(most), step));
}

void LatencyChart::followRange() {
    const auto [from, to] = followTimeAxis(m_timeAxis, m_originNs);
    // The percentile lines span whatever is in view.
    m_p50Line->replace(QList<QPointF>{{from, toMs(m_p50Ns)}, {to, toMs(m_p50Ns)}});
    m_p99Line->replace(QList<QPointF>{{from, toMs(m_p99Ns)}, {to, toMs(m_p99Ns)}});
}

void LatencyChart::styleRoute(std::size_t index) {
    QScatterSeries* series = m_routeSeries[index];
    series->setColor(QColor::fromRgb(routeColours[index % routeColours.size()]));
    series->setBorderColor(Qt::transparent);
    series->setMarkerShape(QScatterSeries::MarkerShapeCircle);
    series->setMarkerSize(viewState()->presentation() ? 11.0 : 6.0);
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
    QPen p99(QColor::fromRgb(p99Colour), width, Qt::DashLine);
    m_p50Line->setPen(p50);
    m_p99Line->setPen(p99);
    m_barSet->setColor(QColor::fromRgb(barColour));
    m_barSet->setBorderColor(QColor::fromRgb(barColour));
    for (std::size_t i = 0; i < m_routeSeries.size(); ++i) {
        styleRoute(i);
    }
}

} // namespace taskscope::ui
