#pragma once
// What the charts share: the document and the view state they show, a rebuild when a trace
// opens, a refresh at most ten times a second as live events arrive or the visible range
// moves (an axis that moves makes Qt Charts re-lay out every series, so charts follow the
// timeline at their refresh rate, not every frame), and their style (a dark
// or light chart theme after the palette, larger fonts in presentation mode). A chart derives
// from it, sets up its charts in its constructor, calls initialize() last and implements the
// hooks.

#include <QElapsedTimer>
#include <QString>
#include <QTimer>
#include <QWidget>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QChart;
class QChartView;
class QEvent;
class QResizeEvent;
class QValueAxis;
QT_END_NAMESPACE

namespace taskscope::ui {

class TraceDocument;
class ViewState;

class ChartPanel : public QWidget {
    Q_OBJECT
public:
    /// `refreshSlot`: charts shown together take different slots, so their refreshes after
    /// a move of the range land in different frames.
    ChartPanel(TraceDocument* document, ViewState* view, int refreshSlot,
               QWidget* parent = nullptr);

protected:
    /// A span of the time axis, in ms since the trace's first event.
    struct MsRange {
        double from = 0.0;
        double to = 0.0;
    };

    /// Call last in the derived constructor: applies the style, then builds the charts.
    void initialize();
    /// Starts a refresh() unless one is pending: at most ten a second.
    void scheduleRefresh();

    /// Builds the charts from the whole document: at first, when a trace opens, and when
    /// refresh() finds it cannot extend them.
    virtual void rebuild() = 0;
    /// Takes in what the document gained since the last rebuild() or refresh().
    virtual void refresh() = 0;
    /// The view's visible range moved (called at the next refresh, before refresh()).
    virtual void onRangeChanged() = 0;
    /// The palette, the font or presentation mode changed: theme, fonts and pens again.
    virtual void applyStyle() = 0;
    /// The document let its oldest events go: drop what is held of them (the next
    /// refresh() follows).
    virtual void onForgotten() {}

    void changeEvent(QEvent* event) override;
    /// Fits the charts to the panel's height (see compact()); derived panels that override
    /// it call it first.
    void resizeEvent(QResizeEvent* event) override;

    /// Sets `chart`'s title, kept while the panel is compact (and shown in its tooltip).
    void setChartTitle(QChart* chart, const QString& title);
    /// Below a readable height (a small window, a projector's large fonts) the charts drop
    /// their titles and axis titles, move their legends beside the plot and use thin
    /// margins: the plot and its tick labels keep the room.
    [[nodiscard]] bool compact() const noexcept { return m_compact; }
    /// The height under which the panel is compact, in the font in use.
    [[nodiscard]] int compactBelow() const;
    /// How many intervals a value axis may be cut into at the panel's height (1 to 5): with
    /// the label at 0 and the one above the top value, its labels stand two lines apart and
    /// never crowd into "…".
    [[nodiscard]] int valueTicks() const;

    [[nodiscard]] TraceDocument* traceDocument() const noexcept { return m_document; }
    [[nodiscard]] ViewState* viewState() const noexcept { return m_view; }

    /// Square corners, and antialiased drawing in its view.
    static void setUpChart(QChart* chart, QChartView* chartView);
    /// A value axis titled `title` with dynamic ticks anchored at 0.
    static void setUpValueAxis(QValueAxis* axis, const QString& title);
    /// The dark or light theme after the palette for `charts`, then the fonts the theme
    /// reset (larger in presentation mode) for their titles and legends and for `axes`.
    void styleCharts(std::initializer_list<QChart*> charts,
                     std::initializer_list<QAbstractAxis*> axes) const;
    /// Sets `axis`'s label format unless it has it already: Qt Charts lays the whole chart
    /// out again on every setLabelFormat(), even with the format it had.
    static void setLabelFormat(QValueAxis* axis, const QString& format);
    /// Sets the time axis `axis` to the view's visible range, in ms since `originNs`, with
    /// nice ticks; returns that range.
    MsRange followTimeAxis(const QChart* chart, QValueAxis* axis, std::uint64_t originNs) const;

private:
    void rebuildNow();
    void refreshNow();

    TraceDocument* m_document;
    ViewState* m_view;
    int m_settleMs; ///< the least a refresh waits
    QTimer m_refreshTimer;
    QElapsedTimer m_sinceRefresh;
    bool m_rangeMoved = false;
    bool m_compact = false;
    std::vector<std::pair<QChart*, QString>> m_titles;

    void applyCompact();
    void updateCompact();
};

} // namespace taskscope::ui
