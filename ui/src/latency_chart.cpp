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
#include <QEvent>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QPen>
#include <QScatterSeries>
#include <QSplitter>
#include <QValueAxis>
#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace taskscope::ui {

namespace {

constexpr int refreshIntervalMs = 100; // at most ten refreshes a second while recording

// Tableau 10 less its red, which the p99 line keeps: route i keeps its colour.
constexpr std::array<QRgb, 9> routeColours{0x4e79a7, 0x59a14f, 0xb07aa1, 0xf28e2b, 0x76b7b2,
                                           0xedc948, 0x9c755f, 0xff9da7, 0xbab0ac};
constexpr QRgb p99Colour = 0xe15759;
constexpr QRgb barColour = 0x4e79a7;

QFont scaled(QFont font, double factor) {
    if (font.pointSizeF() > 0) {
        font.setPointSizeF(font.pointSizeF() * factor);
    } else {
        font.setPixelSize(static_cast<int>(std::lround(font.pixelSize() * factor)));
    }
    return font;
}

double toMs(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

QString percentileName(const char* which, std::uint64_t ns) {
    return QStringLiteral("%1 %2").arg(QLatin1String(which),
                                       QString::fromStdString(analysis::format_duration(ns)));
}

} // namespace

LatencyChart::LatencyChart(TraceDocument* document, ViewState* view, QWidget* parent)
    : QWidget(parent)
    , m_document(document)
    , m_view(view)
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
    , m_countAxis(new QValueAxis(m_histogramChart)) {
    m_scatter->setBackgroundRoundness(0);
    m_scatter->legend()->setAlignment(Qt::AlignBottom);
    m_timeAxis->setTitleText(tr("request start (ms)"));
    m_timeAxis->setTickType(QValueAxis::TicksDynamic);
    m_timeAxis->setTickAnchor(0.0);
    m_latencyAxis->setTitleText(tr("latency (ms)"));
    m_latencyAxis->setTickType(QValueAxis::TicksDynamic);
    m_latencyAxis->setTickAnchor(0.0);
    m_latencyAxis->setMinorTickCount(0);
    m_scatter->addAxis(m_timeAxis, Qt::AlignBottom);
    m_scatter->addAxis(m_latencyAxis, Qt::AlignLeft);
    for (QLineSeries* line : {m_p50Line, m_p99Line}) {
        m_scatter->addSeries(line);
        line->attachAxis(m_timeAxis);
        line->attachAxis(m_latencyAxis);
        line->setVisible(false);
    }
    m_scatterView->setRenderHint(QPainter::Antialiasing);

    m_histogramChart->setTitle(tr("Latency histogram"));
    m_histogramChart->setBackgroundRoundness(0);
    m_histogramChart->legend()->hide();
    m_bars->append(m_barSet);
    m_bars->setBarWidth(0.9);
    m_histogramChart->addSeries(m_bars);
    m_bucketAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_bucketAxis->setTitleText(tr("latency"));
    m_countAxis->setTitleText(tr("requests"));
    m_countAxis->setLabelFormat(QStringLiteral("%d"));
    m_countAxis->setTickType(QValueAxis::TicksDynamic);
    m_countAxis->setTickAnchor(0.0);
    m_countAxis->setMinorTickCount(0);
    m_histogramChart->addAxis(m_bucketAxis, Qt::AlignBottom);
    m_histogramChart->addAxis(m_countAxis, Qt::AlignLeft);
    m_bars->attachAxis(m_bucketAxis);
    m_bars->attachAxis(m_countAxis);
    m_histogramView->setRenderHint(QPainter::Antialiasing);

    auto* splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(m_scatterView);
    splitter->addWidget(m_histogramView);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({3000, 2000}); // weights: three fifths for the scatter plot
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, &LatencyChart::refresh);
    connect(m_document, &TraceDocument::reset, this, [this] {
        m_refreshTimer.stop();
        rebuild();
    });
    connect(m_document, &TraceDocument::changed, this, &LatencyChart::scheduleRefresh);
    connect(m_view, &ViewState::rangeChanged, this, &LatencyChart::followRange);
    connect(m_view, &ViewState::presentationChanged, this, &LatencyChart::applyStyle);

    applyStyle();
    rebuild();
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

void LatencyChart::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        applyStyle();
    }
}

void LatencyChart::scheduleRefresh() {
    if (m_refreshTimer.isActive()) {
        return;
    }
    const qint64 since =
        m_sinceRefresh.isValid() ? m_sinceRefresh.elapsed() : qint64{refreshIntervalMs};
    m_refreshTimer.start(static_cast<int>(std::max<qint64>(0, refreshIntervalMs - since)));
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
    m_client = m_document->model().has_client_requests();
    m_originNs = m_document->firstNs();
    m_scatter->setTitle(m_client ? tr("Request latency (as the client saw it)")
                                 : tr("Request latency (server side)"));
    takeFinished();
    updateStatistics();
    followRange();
    m_sinceRefresh.start();
}

void LatencyChart::refresh() {
    if (m_document->firstNs() != m_originNs ||
        m_document->model().has_client_requests() != m_client) {
        rebuild(); // the first events of a live trace, or its first client request
        return;
    }
    const std::size_t before = m_latencies.size();
    takeFinished();
    if (m_latencies.size() != before) {
        updateStatistics();
    }
    m_sinceRefresh.start();
}

std::size_t LatencyChart::seriesFor(trace::name_id route) {
    if (const auto it = m_routeIndex.find(route); it != m_routeIndex.end()) {
        return it->second;
    }
    auto* series = new QScatterSeries;
    const QString name = QString::fromStdString(m_document->model().name(route));
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
    const auto& requests = m_document->model().requests();
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
    const TimeScale& scale = m_view->scale();
    const double from = SeriesDecimator::toMs(scale.startNs(), m_originNs);
    const double to = SeriesDecimator::toMs(scale.endNs(), m_originNs);
    const double step = AxisTicks::niceStep(to - from, 6);
    m_timeAxis->setTickInterval(step);
    m_timeAxis->setLabelFormat(QStringLiteral("%.%1f").arg(AxisTicks::decimals(step)));
    m_timeAxis->setRange(from, to);
    // The percentile lines span whatever is in view.
    m_p50Line->replace(QList<QPointF>{{from, toMs(m_p50Ns)}, {to, toMs(m_p50Ns)}});
    m_p99Line->replace(QList<QPointF>{{from, toMs(m_p99Ns)}, {to, toMs(m_p99Ns)}});
}

void LatencyChart::styleRoute(std::size_t index) {
    QScatterSeries* series = m_routeSeries[index];
    series->setColor(QColor::fromRgb(routeColours[index % routeColours.size()]));
    series->setBorderColor(Qt::transparent);
    series->setMarkerShape(QScatterSeries::MarkerShapeCircle);
    series->setMarkerSize(m_view->presentation() ? 11.0 : 6.0);
}

void LatencyChart::applyStyle() {
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const bool big = m_view->presentation();
    const auto theme = dark ? QChart::ChartThemeDark : QChart::ChartThemeLight;
    m_scatter->setTheme(theme);
    m_histogramChart->setTheme(theme);
    // The theme resets fonts, pens and colours: set ours again.
    const QFont base = scaled(font(), big ? 1.6 : 1.0);
    QFont title = scaled(base, 1.2);
    title.setBold(true);
    for (QChart* chart : {m_scatter, m_histogramChart}) {
        chart->setTitleFont(title);
        chart->legend()->setFont(base);
    }
    for (QAbstractAxis* axis : std::initializer_list<QAbstractAxis*>{m_timeAxis, m_latencyAxis,
                                                                     m_bucketAxis, m_countAxis}) {
        axis->setLabelsFont(base);
        axis->setTitleFont(base);
    }
    const double width = big ? 3.0 : 1.5;
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
