#include "widgets/queue_strip.hpp"

#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "look/style.hpp"
#include "widgets/timeline_view.hpp"

#include <QHelpEvent>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

namespace taskscope::ui {

namespace {

constexpr int rowHeightBase = 24;
constexpr int labelWidthBase = 104;
constexpr int chipWidthBase = 92;
constexpr int gapBase = 4;
/// Drawn per queue at most; the rest is counted ("+ 240 more").
constexpr std::size_t maxChips = 48;

QString ordinal(std::size_t n) {
    const std::size_t mod100 = n % 100;
    const char* suffix = "th";
    if (mod100 < 11 || mod100 > 13) {
        switch (n % 10) {
        case 1:
            suffix = "st";
            break;
        case 2:
            suffix = "nd";
            break;
        case 3:
            suffix = "rd";
            break;
        default:
            break;
        }
    }
    return QString::number(n) + QString::fromLatin1(suffix);
}

} // namespace

QueueStrip::QueueStrip(TraceDocument* document, ViewState* view, QWidget* parent)
    : QWidget(parent)
    , m_document(document)
    , m_view(view) {
    setMouseTracking(true);
    // Preferred, not Minimum: with many workers the splitter may squeeze the strip (rows
    // beyond its height are cut) rather than push the window off the screen.
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    connect(document, &TraceDocument::changed, this, qOverload<>(&QWidget::update));
    connect(document, &TraceDocument::reset, this, [this] {
        updateGeometry();
        update();
    });
    connect(view, &ViewState::selectionChanged, this, qOverload<>(&QWidget::update));
    connect(view, &ViewState::presentationChanged, this, [this] {
        updateGeometry();
        update();
    });
}

void QueueStrip::setSource(const analysis::queue_tracker* queues, const QString& caption,
                           const QString& hint) {
    // A replay calls this every frame with the same source: re-lay out only on a change.
    const bool relayout = queues != m_queues;
    m_queues = queues;
    m_caption = caption;
    m_hint = hint;
    if (relayout) {
        updateGeometry();
    }
    update();
}

double QueueStrip::scale() const {
    return m_view->presentation() ? 1.5 : 1.0;
}

int QueueStrip::rowHeight() const {
    return static_cast<int>(rowHeightBase * scale());
}

std::vector<QueueStrip::Row> QueueStrip::rows() const {
    std::vector<Row> out;
    if (m_queues == nullptr) {
        return out;
    }
    using analysis::queue_id;
    for (std::uint32_t w = 0; w < m_queues->workers(); ++w) {
        Row row;
        row.label = QStringLiteral("worker %1").arg(w);
        row.running = m_queues->running(w);
        const auto lifo = m_queues->contents(queue_id::lifo(w), 1);
        row.lifo = lifo.empty() ? 0 : lifo.front().task;
        for (const auto& t : m_queues->contents(queue_id::local(w), maxChips)) {
            row.queued.push_back(t.task);
        }
        const auto pinned = m_queues->contents(queue_id::pinned(w), maxChips);
        for (const auto& t : pinned) {
            if (row.queued.size() < maxChips) {
                row.queued.push_back(t.task);
            }
        }
        row.total = m_queues->size(queue_id::local(w)) + m_queues->size(queue_id::pinned(w)) +
                    (row.lifo != 0 ? 1u : 0u);
        out.push_back(std::move(row));
    }
    Row global;
    global.label = tr("global queue");
    for (const auto& t : m_queues->contents(queue_id::global(), maxChips)) {
        global.queued.push_back(t.task);
    }
    global.total = m_queues->size(queue_id::global());
    out.push_back(std::move(global));
    return out;
}

int QueueStrip::minimumRowHeight() const {
    QFont font = this->font();
    font.setPointSizeF(font.pointSizeF() * scale());
    return QFontMetrics(font).height() + 6;
}

int QueueStrip::rowCount() const {
    // The title, then each worker and the global queue (or the hint's two lines).
    return m_queues != nullptr ? static_cast<int>(m_queues->workers()) + 2 : 3;
}

QSize QueueStrip::sizeHint() const {
    return {800, rowHeight() * std::min(rowCount(), 10) + 8};
}

QSize QueueStrip::minimumSizeHint() const {
    // Every row at its smallest readable height (up to ten): the splitter cannot cut the
    // global queue or a worker off.
    return {300, minimumRowHeight() * std::min(rowCount(), 10) + 4};
}

QString QueueStrip::chipText(std::uint64_t task) const {
    const analysis::model& m = m_document->model();
    const analysis::task_ref ref = m.find_task(task);
    if (ref == analysis::no_task) {
        return QStringLiteral("#%1").arg(task);
    }
    return QString::fromStdString(m.task_label(ref));
}

QString QueueStrip::fittedChipText(std::uint64_t task, const QFontMetrics& metrics,
                                   int width) const {
    // The whole "name#id" if it fits, else the id (what tells chips apart) and as much of
    // the name as fits after it.
    const QString full = chipText(task);
    if (metrics.horizontalAdvance(full) <= width) {
        return full;
    }
    const qsizetype hash = full.lastIndexOf(QLatin1Char('#'));
    if (hash < 0) {
        return metrics.elidedText(full, Qt::ElideRight, width);
    }
    const QString id = full.mid(hash);
    const QString name = full.left(hash);
    const int room = width - metrics.horizontalAdvance(id + QLatin1Char(' '));
    return room < metrics.horizontalAdvance(QStringLiteral("ab…"))
               ? id
               : id + QLatin1Char(' ') + metrics.elidedText(name, Qt::ElideRight, room);
}

void QueueStrip::paintEvent(QPaintEvent* /*event*/) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    QFont font = p.font();
    font.setPointSizeF(font.pointSizeF() * scale());
    p.setFont(font);
    m_chips.clear();
    m_overflow.clear();

    if (rowCount() != m_laidOutRows) { // a worker appeared: ask for room for its row
        m_laidOutRows = rowCount();
        updateGeometry();
        QMetaObject::invokeMethod(this, &QueueStrip::rowCountChanged, Qt::QueuedConnection);
    }
    // Rows shrink to fit the strip's height, down to the smallest that still reads.
    const int h =
        std::clamp((height() - 4) / std::max(1, rowCount()), minimumRowHeight(), rowHeight());
    // Wide enough for "global queue" and "worker 00" in the font drawn with.
    const int labelWidth =
        std::max(static_cast<int>(labelWidthBase * scale()),
                 std::max(p.fontMetrics().horizontalAdvance(tr("global queue")),
                          p.fontMetrics().horizontalAdvance(QStringLiteral("worker 00"))) +
                     2 * static_cast<int>(gapBase * scale()));
    const int chipWidth = static_cast<int>(chipWidthBase * scale());
    const int gap = static_cast<int>(gapBase * scale());

    // Caption row: what the strip shows.
    p.setPen(palette().text().color());
    QString title = tr("Run queues");
    if (!m_caption.isEmpty()) {
        title += QStringLiteral(" — ") + m_caption;
    }
    p.drawText(QRect(gap, 0, width() - 2 * gap, h), Qt::AlignLeft | Qt::AlignVCenter, title);
    // The legend, right-aligned, only where it fits beside the title (else in the tooltip).
    const QString legend = tr("each worker: the task it polls  |  its LIFO slot, then its "
                              "queue, next to run first");
    const int room = width() - 2 * gap - p.fontMetrics().horizontalAdvance(title) - 4 * gap;
    if (p.fontMetrics().horizontalAdvance(legend) <= room) {
        p.setPen(palette().placeholderText().color());
        p.drawText(QRect(gap, 0, width() - 2 * gap, h), Qt::AlignRight | Qt::AlignVCenter, legend);
    }
    m_legendShown = p.fontMetrics().horizontalAdvance(legend) <= room;
    m_legend = legend;
    if (m_queues == nullptr || !m_queues->knows_queues()) {
        p.setPen(palette().placeholderText().color());
        const QString text =
            m_queues == nullptr
                ? m_hint
                : tr("This trace does not record which queue a task waits in (it was recorded "
                     "by an older taskscope); the timeline still shows every poll.");
        p.drawText(QRect(gap, h, width() - 2 * gap, height() - h),
                   Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, text);
        return;
    }

    const analysis::task_ref selected = m_view->selectedTask();
    const std::uint64_t selectedId =
        m_document->model().task(selected) != nullptr ? m_document->model().task(selected)->id : 0;
    const auto drawChip = [&](QRect r, std::uint64_t task, const QString& role, bool running) {
        const QColor fill = Style::taskColor(task);
        p.setPen(Qt::NoPen);
        p.setBrush(fill);
        p.drawRoundedRect(r, 4 * scale(), 4 * scale());
        if (running) {
            p.setPen(QPen(palette().text().color(), 2 * scale()));
            p.setBrush(Qt::NoBrush);
            p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 4 * scale(), 4 * scale());
        }
        if (task == selectedId) {
            p.setPen(QPen(palette().highlight().color(), 3 * scale()));
            p.setBrush(Qt::NoBrush);
            p.drawRoundedRect(r.adjusted(-1, -1, 1, 1), 4 * scale(), 4 * scale());
        }
        p.setPen(Style::textOn(fill));
        p.drawText(r.adjusted(4, 0, -4, 0), Qt::AlignCenter,
                   fittedChipText(task, p.fontMetrics(), r.width() - 8));
        m_chips.push_back({r, task, role});
    };

    int y = h;
    const std::vector<Row> all = rows();
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Row& row = all[i];
        if (i % 2 == 1) {
            p.fillRect(QRect(0, y, width(), h), palette().alternateBase());
        }
        p.setPen(palette().text().color());
        p.drawText(QRect(gap, y, labelWidth - gap, h), Qt::AlignLeft | Qt::AlignVCenter, row.label);
        int x = labelWidth;
        const QRect chipRect(0, y + 2, chipWidth, h - 4);
        const bool isWorker = i + 1 < all.size();
        if (isWorker) {
            if (row.running != 0) {
                drawChip(chipRect.translated(x, 0), row.running, tr("polling now"), true);
            } else {
                p.setPen(palette().placeholderText().color());
                p.drawText(chipRect.translated(x, 0), Qt::AlignCenter, tr("idle"));
            }
            x += chipWidth + 3 * gap;
            p.setPen(palette().mid().color());
            p.drawLine(x - 2 * gap, y + 3, x - 2 * gap, y + h - 3);
            if (row.lifo != 0) {
                drawChip(chipRect.translated(x, 0), row.lifo, tr("LIFO slot: runs next"), false);
                x += chipWidth + gap;
            }
        }
        std::size_t position = row.lifo != 0 ? 2 : 1;
        std::size_t drawn = row.lifo != 0 ? 1 : 0;
        for (const std::uint64_t task : row.queued) {
            if (x + chipWidth > width() - chipWidth) {
                break;
            }
            drawChip(chipRect.translated(x, 0), task,
                     tr("queued, %1 to run").arg(ordinal(position)), false);
            x += chipWidth + gap;
            ++position;
            ++drawn;
        }
        p.setPen(palette().text().color());
        if (row.total > drawn) {
            const QString more = overflowText(row.total, drawn);
            p.drawText(QRect(x + gap, y, width() - x - gap, h), Qt::AlignLeft | Qt::AlignVCenter,
                       more);
            m_overflow.push_back(more);
        } else if (row.total == 0) {
            p.setPen(palette().placeholderText().color());
            p.drawText(QRect(x + gap, y, width() - x - gap, h), Qt::AlignLeft | Qt::AlignVCenter,
                       tr("empty"));
        }
        y += h;
    }
}

QString QueueStrip::overflowText(std::size_t total, std::size_t drawn) {
    // Thousands grouped ("+ 9,873 more") whatever the locale's default says.
    QLocale locale;
    locale.setNumberOptions(locale.numberOptions() & ~QLocale::OmitGroupSeparator);
    return drawn == 0
               ? tr("%1 waiting").arg(locale.toString(static_cast<qulonglong>(total)))
               : tr("+ %1 more").arg(locale.toString(static_cast<qulonglong>(total - drawn)));
}

const QueueStrip::Chip* QueueStrip::chipAt(QPoint at) const {
    for (const Chip& c : m_chips) {
        if (c.rect.contains(at)) {
            return &c;
        }
    }
    return nullptr;
}

void QueueStrip::mousePressEvent(QMouseEvent* event) {
    if (const Chip* c = chipAt(event->position().toPoint())) {
        m_view->selectTask(m_document->model().find_task(c->task));
    }
}

bool QueueStrip::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        if (const Chip* c = chipAt(help->pos())) {
            QToolTip::showText(help->globalPos(),
                               QStringLiteral("<b>%1</b><br>%2").arg(chipText(c->task), c->role),
                               this);
        } else if (!m_legendShown && help->pos().y() < minimumRowHeight()) {
            QToolTip::showText(help->globalPos(), m_legend, this);
        } else {
            QToolTip::hideText();
        }
        return true;
    }
    return QWidget::event(event);
}

} // namespace taskscope::ui
