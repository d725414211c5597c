#pragma once
// The run queues as a strip of task chips: for each worker the task it is polling, its
// LIFO slot (the next to run) and its queue, next to run first; then the global queue.
// While live it shows the present; during a replay, the playhead. Clicking a chip selects
// its task in every view; hovering names it and says how long it has been waiting.

#include "taskscope/analysis/queue_tracker.hpp"

#include <QFontMetrics>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <vector>

namespace taskscope::ui {

class TraceDocument;
class ViewState;

class QueueStrip : public QWidget {
    Q_OBJECT
public:
    QueueStrip(TraceDocument* document, ViewState* view, QWidget* parent = nullptr);

    /// Shows `queues` (owned elsewhere, alive until the next call) under `caption`, e.g.
    /// "live" or "replay at 1.250 s"; nullptr shows `hint` instead.
    void setSource(const analysis::queue_tracker* queues, const QString& caption,
                   const QString& hint = {});
    [[nodiscard]] const analysis::queue_tracker* source() const noexcept { return m_queues; }
    [[nodiscard]] const QString& caption() const noexcept { return m_caption; }
    [[nodiscard]] const QString& hint() const noexcept { return m_hint; }

    /// A row as drawn (for tests and tooltips).
    struct Row {
        QString label;                     ///< "worker 0", "global queue"
        std::uint64_t running = 0;         ///< the task being polled (0: none)
        std::uint64_t lifo = 0;            ///< the LIFO slot's task (0: empty)
        std::vector<std::uint64_t> queued; ///< next to run first, as many as are drawn
        std::size_t total = 0;             ///< tasks waiting in the row's queues in all
    };
    [[nodiscard]] std::vector<Row> rows() const;
    /// What a row says of the tasks it has no room to draw: "+ 9,873 more", or "412 waiting"
    /// when it draws none.
    [[nodiscard]] static QString overflowText(std::size_t total, std::size_t drawn);
    /// Those texts as last painted, top to bottom (rows with room for all have none).
    [[nodiscard]] const std::vector<QString>& overflowShown() const noexcept { return m_overflow; }
signals:
    /// It has more or fewer rows than when it was laid out: it wants another height.
    void rowCountChanged();

public:
    /// Whether the legend fitted beside the title (else hovering the title shows it).
    [[nodiscard]] bool legendShown() const noexcept { return m_legendShown; }

    [[nodiscard]] QSize sizeHint() const override;
    [[nodiscard]] QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    struct Chip {
        QRect rect;
        std::uint64_t task = 0;
        QString role; ///< "polling", "LIFO slot", "queued 3rd"
    };
    [[nodiscard]] double scale() const;
    [[nodiscard]] int rowHeight() const;
    /// The smallest row that still reads (the font's height and a margin).
    [[nodiscard]] int minimumRowHeight() const;
    /// The rows this strip shows: a title and one per worker and the global queue.
    [[nodiscard]] int rowCount() const;
    [[nodiscard]] QString chipText(std::uint64_t task) const;
    [[nodiscard]] QString fittedChipText(std::uint64_t task, const QFontMetrics& metrics,
                                         int width) const;
    [[nodiscard]] const Chip* chipAt(QPoint at) const;

    TraceDocument* m_document;
    ViewState* m_view;
    const analysis::queue_tracker* m_queues = nullptr;
    QString m_caption;
    QString m_hint;
    std::vector<Chip> m_chips; ///< as last painted, for clicks and tooltips
    std::vector<QString> m_overflow;
    QString m_legend;
    int m_laidOutRows = 0;     ///< rowCount() when the height was last asked for
    bool m_legendShown = true; ///< the legend fitted beside the title when last painted
};

} // namespace taskscope::ui
