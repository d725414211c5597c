#include "charts/chart_panel.hpp"

#include "charts/series_decimator.hpp"
#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "maths/axis_ticks.hpp"

#include <QAbstractAxis>
#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QFont>
#include <QLegend>
#include <QPainter>
#include <QPalette>
#include <QStringList>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <utility>

namespace taskscope::ui {

namespace {

constexpr int refreshIntervalMs = 100; // at most ten refreshes a second while recording
// Range changes come in bursts while a user scrolls or drags: a chart waits at least this
// long for the burst to settle, so the frame that moves the timeline is not also the one
// that re-lays out the charts; each chart's slot adds a frame, so two charts do not re-lay
// out in the same frame either.
constexpr int settleMs = 30;
constexpr int frameMs = 16;

QFont scaled(QFont font, double factor) {
    if (font.pointSizeF() > 0) {
        font.setPointSizeF(font.pointSizeF() * factor);
    } else {
        font.setPixelSize(static_cast<int>(std::lround(font.pixelSize() * factor)));
    }
    return font;
}

} // namespace

ChartPanel::ChartPanel(TraceDocument* document, ViewState* view, int refreshSlot, QWidget* parent)
    : QWidget(parent)
    , m_document(document)
    , m_view(view)
    , m_settleMs(settleMs + frameMs * refreshSlot) {
    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, &ChartPanel::refreshNow);
    connect(m_document, &TraceDocument::reset, this, [this] {
        m_refreshTimer.stop();
        rebuildNow();
    });
    connect(m_document, &TraceDocument::changed, this, &ChartPanel::scheduleRefresh);
    connect(m_document, &TraceDocument::forgotten, this, [this] { onForgotten(); });
    // The range moves every frame while the timeline follows a live run or the user drags:
    // charts follow at their refresh rate, not every frame (a chart re-lays out and
    // strokes all of its series whenever an axis moves).
    connect(m_view, &ViewState::rangeChanged, this, [this] {
        m_rangeMoved = true;
        scheduleRefresh();
    });
    connect(m_view, &ViewState::presentationChanged, this, [this] {
        applyStyle();
        updateCompact();
    });
}

void ChartPanel::initialize() {
    applyStyle();
    rebuildNow();
}

void ChartPanel::scheduleRefresh() {
    if (m_refreshTimer.isActive()) {
        return;
    }
    const qint64 since =
        m_sinceRefresh.isValid() ? m_sinceRefresh.elapsed() : qint64{refreshIntervalMs};
    m_refreshTimer.start(static_cast<int>(std::max<qint64>(m_settleMs, refreshIntervalMs - since)));
}

void ChartPanel::rebuildNow() {
    m_rangeMoved = false;
    rebuild();
    applyCompact(); // new series: the legend may fit beside the plot no more
    m_sinceRefresh.start();
}

void ChartPanel::refreshNow() {
    if (std::exchange(m_rangeMoved, false)) {
        onRangeChanged();
    }
    refresh();
    m_sinceRefresh.start();
}

void ChartPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        applyStyle();
        updateCompact();
    }
}

void ChartPanel::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    updateCompact();
}

void ChartPanel::updateCompact() {
    m_compact = height() < compactBelow();
    applyCompact();
}

int ChartPanel::compactBelow() const {
    // About fourteen lines of text: a title, a legend, an axis title and tick labels
    // need that much before the plot gets any.
    return QFontMetrics(scaled(font(), m_view->presentation() ? 1.6 : 1.0)).height() * 14;
}

int ChartPanel::valueTicks() const {
    const int line = QFontMetrics(scaled(font(), m_view->presentation() ? 1.6 : 1.0)).height();
    const int plot = height() - line * (m_compact ? 2 : 6); // titles, legend, time labels
    return std::clamp(plot / (line * 2) - 2, 1, 5);
}

void ChartPanel::setChartTitle(QChart* chart, const QString& title) {
    const auto it = std::find_if(m_titles.begin(), m_titles.end(),
                                 [chart](const auto& t) { return t.first == chart; });
    if (it != m_titles.end()) {
        it->second = title;
    } else {
        m_titles.emplace_back(chart, title);
        // The time axis takes as many ticks as its plot's width holds: follow the plot
        // (its size settles after the panel's, when the chart view lays the chart out).
        // Each chart remembers its own width: two charts of one panel never trade refreshes.
        connect(chart, &QChart::plotAreaChanged, this,
                [this, seen = qreal{0}](const QRectF& area) mutable {
                    if (std::abs(area.width() - seen) >= 1.0) {
                        seen = area.width();
                        m_rangeMoved = true;
                        scheduleRefresh();
                    }
                });
    }
    applyCompact();
}

void ChartPanel::applyCompact() {
    // Called on every resize: each setter only when its value changes, since any of them
    // makes Qt Charts lay the chart out again.
    QStringList titles;
    for (const auto& [chart, title] : m_titles) {
        const QString wantedTitle = m_compact ? QString() : title;
        if (chart->title() != wantedTitle) {
            chart->setTitle(wantedTitle);
        }
        titles << title;
        // Compact: the legend beside the plot, unless its entries would not fit down it.
        const QFontMetrics metrics(chart->legend()->font());
        const auto entries = static_cast<int>(chart->legend()->markers().size());
        const bool beside = m_compact && entries * metrics.height() * 3 / 2 < height() - 8;
        const Qt::Alignment side = beside ? Qt::AlignRight : Qt::AlignBottom;
        if (chart->legend()->alignment() != side) {
            chart->legend()->setAlignment(side);
        }
        // Compact margins are thin, but leave half a label at the right for the last tick's.
        const int half = metrics.horizontalAdvance(QStringLiteral("000 ms")) / 2;
        const QMargins margins = m_compact ? QMargins(2, 2, half, 2) : QMargins(10, 10, 10, 10);
        if (chart->margins() != margins) {
            chart->setMargins(margins);
        }
        for (QAbstractAxis* axis : chart->axes()) {
            if (axis->isTitleVisible() == m_compact) {
                axis->setTitleVisible(!m_compact);
            }
        }
    }
    setToolTip(m_compact ? titles.join(QStringLiteral("  |  ")) : QString());
}

void ChartPanel::setUpChart(QChart* chart, QChartView* chartView) {
    chart->setBackgroundRoundness(0);
    chartView->setRenderHint(QPainter::Antialiasing);
}

void ChartPanel::setUpValueAxis(QValueAxis* axis, const QString& title) {
    axis->setTitleText(title);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0.0);
}

void ChartPanel::styleCharts(std::initializer_list<QChart*> charts,
                             std::initializer_list<QAbstractAxis*> axes) const {
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const auto theme = dark ? QChart::ChartThemeDark : QChart::ChartThemeLight;
    for (QChart* chart : charts) {
        chart->setTheme(theme);
    }
    // The theme resets fonts: set ours again.
    const QFont base = scaled(font(), m_view->presentation() ? 1.6 : 1.0);
    QFont title = scaled(base, 1.2);
    title.setBold(true);
    for (QChart* chart : charts) {
        chart->setTitleFont(title);
        chart->legend()->setFont(base);
    }
    for (QAbstractAxis* axis : axes) {
        axis->setLabelsFont(base);
        axis->setTitleFont(base);
    }
}

void ChartPanel::setLabelFormat(QValueAxis* axis, const QString& format) {
    if (axis->labelFormat() != format) {
        axis->setLabelFormat(format);
    }
}

ChartPanel::MsRange ChartPanel::followTimeAxis(const QChart* chart, QValueAxis* axis,
                                               std::uint64_t originNs) const {
    const TimeScale& scale = m_view->scale();
    const MsRange range{.from = SeriesDecimator::toMs(scale.startNs(), originNs),
                        .to = SeriesDecimator::toMs(scale.endNs(), originNs)};
    // As many intervals as labels like "0000.0" fit across the chart twice over (at most 6):
    // a half-width chart or presentation mode's larger font takes fewer.
    const int label = QFontMetrics(axis->labelsFont()).horizontalAdvance(QStringLiteral("0000.0"));
    const int intervals =
        std::clamp(static_cast<int>(chart->plotArea().width()) / std::max(1, 2 * label), 3, 6);
    const double step = AxisTicks::niceStep(range.to - range.from, intervals);
    axis->setTickInterval(step);
    setLabelFormat(axis, QStringLiteral("%.%1f").arg(AxisTicks::decimals(step)));
    axis->setRange(range.from, range.to);
    return range;
}

} // namespace taskscope::ui
