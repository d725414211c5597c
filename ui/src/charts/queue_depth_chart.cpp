#include "charts/queue_depth_chart.hpp"

#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "look/style.hpp"
#include "maths/axis_ticks.hpp"

#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QPainter>
#include <QPen>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>
#include <array>
#include <utility>

namespace taskscope::ui {

QueueDepthChart::QueueDepthChart(TraceDocument* document, ViewState* view, QWidget* parent)
    : ChartPanel(document, view, 0, parent)
    , m_chart(new QChart)
    , m_chartView(new QChartView(m_chart, this))
    , m_timeAxis(new QValueAxis(m_chart))
    , m_depthAxis(new QValueAxis(m_chart)) {
    setUpChart(m_chart, m_chartView);
    // Steps are horizontal and vertical lines: antialiasing adds nothing but the cost of
    // stroking thousands of points with it.
    m_chartView->setRenderHint(QPainter::Antialiasing, false);
    setChartTitle(m_chart, tr("Run-queue depth"));
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    setUpValueAxis(m_timeAxis, tr("time (ms)"));
    setUpValueAxis(m_depthAxis, tr("tasks queued"));
    m_depthAxis->setLabelFormat(QStringLiteral("%d"));
    m_depthAxis->setMinorTickCount(0);
    m_chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_chart->addAxis(m_depthAxis, Qt::AlignLeft);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_chartView);

    initialize();
}

int QueueDepthChart::seriesCount() const {
    return static_cast<int>(m_lines.size());
}

qsizetype QueueDepthChart::pointCount(int series) const {
    if (series < 0 || series >= seriesCount()) {
        return 0;
    }
    return m_lines[static_cast<std::size_t>(series)].series->count();
}

QString QueueDepthChart::seriesName(int series) const {
    if (series < 0 || series >= seriesCount()) {
        return {};
    }
    return m_lines[static_cast<std::size_t>(series)].series->name();
}

QList<QPointF> QueueDepthChart::points(int series) const {
    if (series < 0 || series >= seriesCount()) {
        return {};
    }
    return m_lines[static_cast<std::size_t>(series)].series->points();
}

void QueueDepthChart::resizeEvent(QResizeEvent* event) {
    ChartPanel::resizeEvent(event);
    updateDepthAxis(); // the ticks that fit the new height
    followRange();     // and the new width
    if (needsWindowing()) {
        m_rederive = true; // the point budget follows the width
        scheduleRefresh();
    }
}

const SeriesDecimator::Series& QueueDepthChart::source(const Line& line) const {
    const analysis::model& m = traceDocument()->model();
    if (line.lane < 0) {
        return m.global_depth();
    }
    // A line of the previous document, asked before this chart saw the reset (another
    // view's reset handler can move the shared range first): nothing to show yet.
    static const SeriesDecimator::Series none;
    const auto lane = static_cast<std::size_t>(line.lane);
    return lane < m.lanes().size() ? m.lanes()[lane].depth : none;
}

std::vector<int> QueueDepthChart::workerLanes() const {
    const auto& lanes = traceDocument()->model().lanes();
    std::vector<int> out;
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        if (lanes[i].kind == trace::track_kind::worker) {
            out.push_back(static_cast<int>(i));
        }
    }
    std::stable_sort(out.begin(), out.end(), [&lanes](int a, int b) {
        return lanes[static_cast<std::size_t>(a)].index < lanes[static_cast<std::size_t>(b)].index;
    });
    return out;
}

int QueueDepthChart::columns() const {
    // Columns two pixels wide: a line is one and a half, so the lowest and highest depth of
    // a two-pixel column still show as the line's full swing there.
    const double plot = m_chart->plotArea().width();
    return std::max(64, (plot >= 1.0 ? static_cast<int>(plot) : width()) / 2);
}

std::size_t QueueDepthChart::pointLimit() const {
    return static_cast<std::size_t>(SeriesDecimator::pointsPerPixel) *
           static_cast<std::size_t>(columns());
}

bool QueueDepthChart::needsWindowing() const {
    const std::size_t limit = pointLimit();
    return std::any_of(m_lines.begin(), m_lines.end(), [&](const Line& line) {
        return line.windowed || source(line).kept() > limit;
    });
}

void QueueDepthChart::onRangeChanged() {
    m_rangeMoved = true; // refresh() moves the axis, with the points that go with it
    m_rederive = m_rederive || needsWindowing();
}

void QueueDepthChart::addLine(int lane, const QString& name) {
    auto* series = new QLineSeries;
    series->setName(name);
    m_chart->addSeries(series);
    series->attachAxis(m_timeAxis);
    series->attachAxis(m_depthAxis);
    Line line;
    line.series = series;
    line.lane = lane;
    m_lines.push_back(std::move(line));
    styleLine(m_lines.back(), static_cast<int>(m_lines.size()) - 1);
}

void QueueDepthChart::rebuild() {
    m_chart->removeAllSeries();
    m_lines.clear();
    m_originNs = traceDocument()->firstNs();
    m_lastNs = traceDocument()->lastNs();
    m_rederive = false;
    const auto& lanes = traceDocument()->model().lanes();
    for (const int lane : workerLanes()) {
        addLine(lane, QString::fromStdString(lanes[static_cast<std::size_t>(lane)].label()));
    }
    addLine(-1, tr("global queue"));
    for (Line& line : m_lines) {
        deriveLine(line);
    }
    updateDepthAxis();
    followRange();
}

void QueueDepthChart::onForgotten() {
    m_forgotten = true;
}

void QueueDepthChart::refresh() {
    const bool forgotten = std::exchange(m_forgotten, false);
    const bool rederive = std::exchange(m_rederive, false) || forgotten;
    if (forgotten) {
        // Points before the kept window are gone: summaries and lines start from what is kept.
        for (Line& line : m_lines) {
            line.summary.reset();
            line.consumed = source(line).size();
            line.windowed = true; // derived below
        }
    }
    std::vector<int> lanes;
    for (const Line& line : m_lines) {
        if (line.lane >= 0) {
            lanes.push_back(line.lane);
        }
    }
    if (traceDocument()->firstNs() != m_originNs || lanes != workerLanes()) {
        rebuild(); // a new worker, or the first events of a live trace
        return;
    }
    const bool endMoved = traceDocument()->lastNs() != m_lastNs;
    m_lastNs = traceDocument()->lastNs();
    const std::size_t limit = pointLimit();
    if (std::exchange(m_rangeMoved, false)) {
        // Qt Charts lays out every point again when an axis moves and again when points
        // are replaced: lines about to be derived again are emptied first, the others put
        // back once after the move, so each is laid out once.
        std::vector<QList<QPointF>> unchanged(m_lines.size());
        for (std::size_t i = 0; i < m_lines.size(); ++i) {
            Line& line = m_lines[i];
            const bool redone = line.windowed || source(line).kept() > limit;
            if (!(redone && rederive)) {
                unchanged[i] = line.series->points();
            }
            line.series->clear();
        }
        followRange();
        for (std::size_t i = 0; i < m_lines.size(); ++i) {
            if (!unchanged[i].isEmpty()) {
                m_lines[i].series->replace(unchanged[i]);
            }
        }
    }
    for (Line& line : m_lines) {
        const auto& src = source(line);
        const bool inserted = line.consumed > src.size() || line.consumed < src.first_kept() ||
                              (line.consumed > src.first_kept() &&
                               (src[line.consumed - 1].time_ns != line.last.time_ns ||
                                src[line.consumed - 1].depth != line.last.depth));
        const bool grew = src.size() != line.consumed;
        if (inserted || line.windowed || src.kept() > limit) {
            if (inserted || grew || rederive || endMoved || src.kept() <= limit) {
                deriveLine(line);
            }
        } else if (grew || endMoved) {
            appendNew(line);
        }
    }
    updateDepthAxis();
}

bool QueueDepthChart::addHold(const SeriesDecimator::Series& source, QList<QPointF>& points) const {
    if (source.empty() || points.isEmpty() || source.back().time_ns >= m_lastNs) {
        return false;
    }
    points.append(QPointF(SeriesDecimator::toMs(static_cast<double>(m_lastNs), m_originNs),
                          static_cast<double>(source.back().depth)));
    return true;
}

void QueueDepthChart::deriveLine(Line& line) {
    const auto& src = source(line);
    QList<QPointF> points;
    bool reachesEnd = true;
    if (src.kept() <= pointLimit()) {
        SeriesDecimator::appendSteps(src, SeriesDecimator::IndexRange{src.first_kept(), src.size()},
                                     m_originNs, points);
        line.windowed = false;
    } else {
        const double start = viewState()->scale().startNs();
        const double end = viewState()->scale().endNs();
        const auto range = SeriesDecimator::visibleRange(src, start, end);
        if (range.size() <= pointLimit()) {
            SeriesDecimator::appendSteps(src, range, m_originNs, points);
        } else {
            // Whole blocks stand for their extremes: at least four of them a column.
            line.summary.update(src);
            std::vector<std::size_t> candidates;
            const std::size_t perColumn = range.size() / static_cast<std::size_t>(columns());
            line.summary.candidates(src, range.first, range.last, perColumn / 4, candidates);
            const auto keep =
                SeriesDecimator::decimateCandidates(src, candidates, start, end, columns());
            SeriesDecimator::appendPoints(src, keep, m_originNs, points);
        }
        line.windowed = true;
        reachesEnd = range.last == src.size();
    }
    line.held = reachesEnd && addHold(src, points);
    line.series->replace(points);
    line.consumed = src.size();
    line.last = src.empty() ? analysis::depth_point{} : src.back();
}

void QueueDepthChart::appendNew(Line& line) {
    const auto& src = source(line);
    // One replace() with every point: QXYSeries::append(list) redraws the whole line once
    // per point appended (a live run of 5,000 requests froze the window for seconds). The
    // line holds at most pointLimit() points, or it would be windowed instead.
    QList<QPointF> points = line.series->points();
    if (line.held) {
        points.removeLast();
        line.held = false;
    }
    SeriesDecimator::appendSteps(src, SeriesDecimator::IndexRange{line.consumed, src.size()},
                                 m_originNs, points);
    line.held = addHold(src, points);
    line.series->replace(points);
    line.consumed = src.size();
    line.last = src.empty() ? analysis::depth_point{} : src.back();
}

void QueueDepthChart::followRange() {
    followTimeAxis(m_chart, m_timeAxis, m_originNs);
}

void QueueDepthChart::updateDepthAxis() {
    const double most = static_cast<double>(traceDocument()->model().max_depth());
    const double step = AxisTicks::integerStep(most, valueTicks());
    m_depthAxis->setTickInterval(step);
    m_depthAxis->setRange(0.0, AxisTicks::topAbove(most, step));
}

void QueueDepthChart::styleLine(const Line& line, int index) {
    const bool big = viewState()->presentation();
    QPen pen;
    if (line.lane < 0) {
        pen.setColor(palette().color(QPalette::WindowText));
        pen.setWidthF(big ? 4.0 : 2.0);
    } else {
        pen.setColor(Style::workerColor(static_cast<std::size_t>(index)));
        pen.setWidthF(big ? 3.0 : 1.5);
    }
    line.series->setPen(pen);
}

void QueueDepthChart::applyStyle() {
    styleCharts({m_chart}, {m_timeAxis, m_depthAxis});
    // The theme resets pens too: set ours again.
    for (std::size_t i = 0; i < m_lines.size(); ++i) {
        styleLine(m_lines[i], static_cast<int>(i));
    }
}

} // namespace taskscope::ui
