#include "widgets/timeline_view.hpp"

#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "look/style.hpp"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace taskscope::ui {

namespace {

constexpr int rulerHeight = 26;
constexpr int workerHeight = 34;
constexpr int reactorHeight = 22;
constexpr int blockingHeight = 22;
constexpr int outsideHeight = 24;
constexpr int requestsHeight = 56;
constexpr int labelWidthBase = 124;

QString formatOffset(double ns) {
    if (std::abs(ns) < 0.5) {
        return QStringLiteral("0");
    }
    return QString::fromStdString(
        analysis::format_duration(static_cast<std::uint64_t>(std::max(0.0, ns)), 1));
}

/// `over` laid on `under` with opacity `alpha`, as one opaque colour.
QColor mix(const QColor& under, const QColor& over, float alpha) {
    const float a = std::clamp(alpha, 0.0f, 1.0f);
    const auto channel = [a](int u, int o) {
        return static_cast<int>(static_cast<float>(u) + (static_cast<float>(o - u)) * a + 0.5f);
    };
    return QColor(channel(under.red(), over.red()), channel(under.green(), over.green()),
                  channel(under.blue(), over.blue()));
}

void drawArrow(QPainter& p, QPointF from, QPointF to, const QColor& color, double width) {
    QPen pen(color, width);
    p.setPen(pen);
    QPainterPath path(from);
    const double bend = std::max(12.0, std::abs(to.y() - from.y()) * 0.5);
    path.cubicTo(from + QPointF(bend, 0), to - QPointF(bend, 0), to);
    p.setBrush(Qt::NoBrush);
    p.drawPath(path);
    const QPointF dir(1, 0);
    const double head = 5 * width;
    QPolygonF tip;
    tip << to << to - head * dir + QPointF(0, head * 0.6)
        << to - head * dir - QPointF(0, head * 0.6);
    p.setBrush(color);
    p.drawPolygon(tip);
}

} // namespace

TimelineView::TimelineView(TraceDocument* document, ViewState* view, QWidget* parent)
    : QWidget(parent)
    , m_document(document)
    , m_view(view) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    connect(document, &TraceDocument::changed, this, &TimelineView::onDocumentChanged);
    connect(document, &TraceDocument::reset, this, &TimelineView::onDocumentReset);
    connect(view, &ViewState::rangeChanged, this, qOverload<>(&QWidget::update));
    connect(view, &ViewState::selectionChanged, this, qOverload<>(&QWidget::update));
    connect(view, &ViewState::playheadChanged, this, qOverload<>(&QWidget::update));
    connect(view, &ViewState::presentationChanged, this, [this] {
        updateGeometry();
        syncWidth();
        update();
    });
}

double TimelineView::scale() const {
    return m_view->presentation() ? 1.5 : 1.0;
}

int TimelineView::labelWidth() const {
    // Wide enough for the longest lane name in the font in use (presentation mode and
    // a projector's fonts are larger), never narrower than the base. Asked several times a
    // frame and per mouse move: measured once per font and scale.
    QFont painted = font(); // as paintEvent draws the labels
    painted.setPointSizeF(painted.pointSizeF() * scale());
    if (m_labelWidth == 0 || painted != m_labelFont) {
        const QFontMetrics metrics(painted);
        int widest = 0;
        for (const char* name : {"reactor & timers", "outside thread 00", "blocking pool 00",
                                 "HTTP requests", "worker 00"}) {
            widest = std::max(widest, metrics.horizontalAdvance(QString::fromLatin1(name)));
        }
        m_labelFont = painted;
        m_labelWidth = std::max(static_cast<int>(labelWidthBase * scale()), widest + 18);
    }
    return m_labelWidth;
}

std::vector<TimelineView::Row> TimelineView::rows() const {
    return layoutRows(true);
}

std::vector<TimelineView::Row> TimelineView::layoutRows(bool fillHeight) const {
    std::vector<Row> out;
    const auto& lanes = m_document->model().lanes();
    int y = static_cast<int>(rulerHeight * scale());
    double workerStretch = 1.0; // worker lanes share the height left over, up to 3x
    const auto add = [&](Row::Kind kind, int lane, int height, QString label) {
        const double stretch = kind == Row::Kind::worker ? workerStretch : 1.0;
        const int h = static_cast<int>(height * scale() * stretch);
        out.push_back({kind, lane, y, h, std::move(label), out.size() % 2 == 1});
        y += h;
    };
    std::vector<int> workers;
    std::vector<int> pool;
    std::vector<int> outside; // threads outside the runtime, drawn when they blocked
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        if (lanes[i].kind == trace::track_kind::worker) {
            workers.push_back(static_cast<int>(i));
        } else if (lanes[i].kind == trace::track_kind::blocking) {
            pool.push_back(static_cast<int>(i));
        } else if (lanes[i].kind == trace::track_kind::external && !lanes[i].blocks.empty()) {
            outside.push_back(static_cast<int>(i));
        }
    }
    const auto byIndex = [&](int a, int b) {
        return lanes[static_cast<std::size_t>(a)].index < lanes[static_cast<std::size_t>(b)].index;
    };
    std::sort(workers.begin(), workers.end(), byIndex);
    std::sort(pool.begin(), pool.end(), byIndex);
    std::sort(outside.begin(), outside.end(), byIndex);
    if (fillHeight && !workers.empty()) {
        const double fixed =
            (rulerHeight + reactorHeight +
             blockingHeight * static_cast<double>(std::max<std::size_t>(pool.size(), 1)) +
             outsideHeight * static_cast<double>(outside.size()) + requestsHeight) *
            scale();
        const double natural = workerHeight * scale() * static_cast<double>(workers.size());
        const double room = height() - fixed - 4;
        workerStretch = std::clamp(room / natural, 1.0, 4.0);
    }
    for (int lane : workers) {
        add(Row::Kind::worker, lane, workerHeight,
            QString::fromStdString(lanes[static_cast<std::size_t>(lane)].label()));
    }
    add(Row::Kind::reactor, -1, reactorHeight, QStringLiteral("reactor & timers"));
    for (int lane : pool) {
        add(Row::Kind::blocking, lane, blockingHeight,
            QString::fromStdString(lanes[static_cast<std::size_t>(lane)].label()));
    }
    if (pool.empty()) {
        add(Row::Kind::blocking, -1, blockingHeight, QStringLiteral("blocking pool"));
    }
    for (int lane : outside) {
        add(Row::Kind::outside, lane, outsideHeight,
            QString::fromStdString(lanes[static_cast<std::size_t>(lane)].label()));
    }
    add(Row::Kind::requests, -1, requestsHeight, QStringLiteral("HTTP requests"));
    return out;
}

QSize TimelineView::sizeHint() const {
    const auto r = layoutRows(false);
    const int height = r.empty() ? 200 : r.back().top + r.back().height + 4;
    return {900, height};
}

QSize TimelineView::minimumSizeHint() const {
    return {400, sizeHint().height()}; // below that the scroll area scrolls
}

void TimelineView::syncWidth() {
    m_view->scale().setWidth(std::max(1, width() - labelWidth()));
}

void TimelineView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    syncWidth();
}

void TimelineView::onDocumentChanged() {
    TimeScale& s = m_view->scale();
    s.setBounds(m_document->firstNs(), m_document->lastNs());
    updateGeometry();
    if (s.following()) {
        m_view->notifyRangeChanged();
    } else {
        update();
    }
}

void TimelineView::onDocumentReset() {
    syncWidth();
    TimeScale& s = m_view->scale();
    s.setBounds(m_document->firstNs(), m_document->lastNs());
    m_view->selectTask(analysis::no_task);
    if (m_document->isLive()) {
        s.followLive(2e9); // two seconds: requests and sleeps of a demo fit, polls are visible
        emit followingChanged(true);
    } else {
        s.showAll();
        s.setFollowing(false);
        emit followingChanged(false);
    }
    updateGeometry();
    m_view->notifyRangeChanged();
}

void TimelineView::showAll() {
    m_view->scale().showAll();
    setFollowing(false);
    m_view->notifyRangeChanged();
}

void TimelineView::setFollowing(bool on) {
    if (m_view->scale().following() != on) {
        m_view->scale().setFollowing(on && m_document->isLive());
        emit followingChanged(m_view->scale().following());
        m_view->notifyRangeChanged();
    }
}

// ---- painting ----

void TimelineView::paintEvent(QPaintEvent*) {
    syncWidth();
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    QFont font = p.font();
    font.setPointSizeF(font.pointSizeF() * scale());
    p.setFont(font);

    const std::vector<Row> all = rows();
    const int label = labelWidth();
    for (const Row& row : all) {
        const QRect band(0, row.top, width(), row.height);
        if (row.shaded) {
            p.fillRect(band, palette().alternateBase());
        }
        p.save();
        p.setClipRect(QRect(label, row.top, width() - label, row.height));
        p.translate(label, 0);
        switch (row.kind) {
        case Row::Kind::worker:
            paintWorker(p, row);
            break;
        case Row::Kind::reactor:
            paintReactor(p, row);
            break;
        case Row::Kind::blocking:
            paintBlocking(p, row);
            break;
        case Row::Kind::outside:
            paintOutside(p, row);
            break;
        case Row::Kind::requests:
            paintRequests(p, row);
            break;
        }
        p.restore();
        p.setPen(palette().text().color());
        p.drawText(QRect(6, row.top, label - 10, row.height), Qt::AlignVCenter | Qt::AlignLeft,
                   row.label);
        p.setPen(palette().mid().color());
        p.drawLine(0, row.top + row.height - 1, width(), row.top + row.height - 1);
    }
    p.setPen(palette().mid().color());
    p.drawLine(label - 1, 0, label - 1, height());
    paintRuler(p);
    p.save();
    p.setRenderHint(QPainter::Antialiasing);
    p.setClipRect(QRect(label, 0, width() - label, height()));
    p.translate(label, 0);
    paintArrows(p, all);
    p.restore();
    // Markers and the playhead last: the replay's veil fades future arrows like the slices.
    if (!all.empty()) {
        p.save();
        p.setClipRect(QRect(label, 0, width() - label, height()));
        p.translate(label, 0);
        paintMarkers(p, all.back().top + all.back().height);
        p.restore();
    }

    if (m_document->model().event_count() == 0) {
        p.setPen(palette().placeholderText().color());
        p.drawText(rect(), Qt::AlignCenter,
                   m_document->isLive()
                       ? tr("Waiting for events: fire some requests from the panel on the left.")
                       : tr("No trace loaded: File > Open, or start a live run."));
    }
}

void TimelineView::paintRuler(QPainter& p) const {
    const TimeScale& s = m_view->scale();
    const int h = static_cast<int>(rulerHeight * scale());
    const int label = labelWidth();
    p.fillRect(QRect(0, 0, width(), h), palette().window());
    const double origin = static_cast<double>(m_document->firstNs());
    // A step of 1, 2 or 5 times a power of ten, at least ~90 px apart.
    const double minStep = s.nsPerPixel() * 90 * scale();
    double step = std::pow(10.0, std::floor(std::log10(std::max(minStep, 1.0))));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (step * m >= minStep) {
            step *= m;
            break;
        }
    }
    p.setPen(palette().text().color());
    const double first = std::ceil((s.startNs() - origin) / step) * step;
    // Labels in the step's unit with as many decimals as the step needs ("2.61 s", "2.62 s").
    const double unit = step >= 1e9 ? 1e9 : step >= 1e6 ? 1e6 : step >= 1e3 ? 1e3 : 1.0;
    const QString suffix = step >= 1e9   ? QStringLiteral(" s")
                           : step >= 1e6 ? QStringLiteral(" ms")
                           : step >= 1e3 ? QStringLiteral(" \u00b5s")
                                         : QStringLiteral(" ns");
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step / unit) + 1e-9)));
    for (double t = first; origin + t < s.endNs(); t += step) {
        const double x = label + s.xOf(origin + t);
        p.drawLine(QPointF(x, h - 6), QPointF(x, h));
        const QString text = std::abs(t) < 0.5 ? QStringLiteral("0")
                                               : QString::number(t / unit, 'f', decimals) + suffix;
        p.drawText(QPointF(x + 3, h - 8), text);
    }
    p.drawText(QRect(6, 0, label - 10, h), Qt::AlignVCenter | Qt::AlignLeft,
               m_view->scale().following() ? tr("time (live)") : tr("time"));
    p.setPen(palette().mid().color());
    p.drawLine(0, h - 1, width(), h - 1);
}

void TimelineView::paintWorker(QPainter& p, const Row& row) {
    const analysis::model& m = m_document->model();
    const analysis::lane& lane = m.lanes()[static_cast<std::size_t>(row.lane)];
    const TimeScale& s = m_view->scale();
    const int top = row.top + 3;
    const int h = row.height - 6;
    const analysis::task_ref selected = m_view->selectedTask();
    m_document->summary(static_cast<std::size_t>(row.lane)).drawList(lane, s, m_items);
    const QFontMetrics metrics(p.font());
    // Rows alternate backgrounds; a partly busy column is the task colour mixed into it.
    // (Mixed here, opaque: translucent fills of tall rows take a slow path in Qt.)
    const QColor background =
        row.shaded ? palette().alternateBase().color() : palette().base().color();
    for (const DrawItem& item : m_items) {
        const std::uint64_t id = item.task < m.tasks().size() ? m.tasks()[item.task].id : item.task;
        QColor color = Style::taskColor(id);
        if (item.occupancy < 1.0f) {
            color = mix(background, color, 0.35f + 0.65f * item.occupancy);
        }
        const QRectF r(item.x0, top, std::max(1.0, item.x1 - item.x0), h);
        p.fillRect(r, color);
        if (item.task == selected && selected != analysis::no_task) {
            p.setPen(QPen(Style::selectionColor(palette()), 2 * scale()));
            p.setBrush(Qt::NoBrush);
            p.drawRect(r.adjusted(1, 1, -1, -1));
        }
        // Wide enough to read: name the task (for a merged item, the one that ran longest).
        if (item.task != analysis::no_task && r.width() > 40 * scale()) {
            p.setPen(Qt::black);
            const QString text =
                metrics.elidedText(QString::fromStdString(m.task_label(item.task)), Qt::ElideRight,
                                   static_cast<int>(r.width()) - 6);
            // Above the red block band when the poll blocked, so both stay readable.
            const QRectF textRect =
                item.blocked ? QRectF(r.x(), r.y(), r.width(), r.height() * 0.45) : r;
            p.drawText(textRect.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft, text);
        }
    }
    // Blocking spans on top, in the alarm colour: the worker could run nothing else.
    paintBlocks(p, lane, top + h * 0.45, h * 0.55);
}

void TimelineView::paintBlocks(QPainter& p, const analysis::lane& lane, double top,
                               double height) const {
    const analysis::model& m = m_document->model();
    const TimeScale& s = m_view->scale();
    for (const analysis::span& b : lane.blocks) {
        const double end = b.end_ns == analysis::open_end ? static_cast<double>(m.last_ns())
                                                          : static_cast<double>(b.end_ns);
        if (end < s.startNs() || static_cast<double>(b.begin_ns) > s.endNs()) {
            continue;
        }
        const double x0 = s.xOf(static_cast<double>(b.begin_ns));
        const QRectF r(x0, top, std::max(2.0, s.xOf(end) - x0), height);
        p.fillRect(r, Style::blockedColor());
        if (r.width() > 70 * scale()) {
            p.setPen(Style::textOn(Style::blockedColor()));
            p.drawText(r.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft,
                       tr("blocked %1")
                           .arg(QString::fromStdString(analysis::format_duration(
                               static_cast<std::uint64_t>(end) - b.begin_ns))));
        }
    }
}

void TimelineView::paintReactor(QPainter& p, const Row& row) const {
    const analysis::model& m = m_document->model();
    const TimeScale& s = m_view->scale();
    const auto& events = m.reactor_events();
    // Roughly in time order: find the visible start, then fold ticks per pixel column.
    auto it = std::partition_point(events.begin(), events.end(), [&](const analysis::instant& e) {
        return static_cast<double>(e.time_ns) < s.startNs();
    });
    const int h = row.height - 6;
    while (it != events.end()) {
        const double t = static_cast<double>(it->time_ns);
        if (t > s.endNs()) {
            break;
        }
        const double column = std::floor(s.xOf(t));
        const bool timer = it->kind == trace::event_kind::timer_fired;
        p.fillRect(QRectF(column, row.top + 3 + (timer ? 0 : h / 2), std::max(1.0, scale()), h / 2),
                   timer ? Style::timerColor() : Style::socketColor());
        // One tick per pixel column: jump past the rest of this column's instants.
        const double next = s.nsAt(column + 1.0);
        it = std::partition_point(it, events.end(), [next](const analysis::instant& e) {
            return static_cast<double>(e.time_ns) < next;
        });
    }
}

void TimelineView::paintBlocking(QPainter& p, const Row& row) const {
    if (row.lane < 0) {
        return;
    }
    const analysis::model& m = m_document->model();
    const analysis::lane& lane = m.lanes()[static_cast<std::size_t>(row.lane)];
    const TimeScale& s = m_view->scale();
    const QFontMetrics metrics(p.font());
    for (const analysis::span& job : lane.jobs) {
        const double end = job.end_ns == analysis::open_end ? static_cast<double>(m.last_ns())
                                                            : static_cast<double>(job.end_ns);
        if (end < s.startNs() || static_cast<double>(job.begin_ns) > s.endNs()) {
            continue;
        }
        const double x0 = s.xOf(static_cast<double>(job.begin_ns));
        const QRectF r(x0, row.top + 3, std::max(1.0, s.xOf(end) - x0), row.height - 6);
        p.fillRect(r, Style::blockingJobColor());
        if (r.width() > 40 * scale()) {
            p.setPen(Style::textOn(Style::blockingJobColor()));
            p.drawText(r.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft,
                       metrics.elidedText(QString::fromStdString(m.name(job.name)), Qt::ElideRight,
                                          static_cast<int>(r.width()) - 6));
        }
    }
}

void TimelineView::paintOutside(QPainter& p, const Row& row) const {
    // A thread outside the runtime (a program's main thread) blocking, as on a worker lane.
    paintBlocks(p, m_document->model().lanes()[static_cast<std::size_t>(row.lane)], row.top + 3,
                row.height - 6);
}

void TimelineView::paintMarkers(QPainter& p, int bottom) const {
    const analysis::model& m = m_document->model();
    const TimeScale& s = m_view->scale();
    const int ruler = static_cast<int>(rulerHeight * scale());
    const QFontMetrics metrics(p.font());
    // A lesson's phases: "phase NAME" starts one (a dashed line and its name under the
    // ruler); "end of NAME" closes it (a dotted line).
    static const QString phasePrefix = QStringLiteral("phase ");
    static const QString endPrefix = QStringLiteral("end of ");
    for (const analysis::instant& marker : m.markers()) {
        const double t = static_cast<double>(marker.time_ns);
        if (t < s.startNs() || t > s.endNs()) {
            continue;
        }
        const QString name = QString::fromStdString(m.name(marker.name));
        const bool begins = name.startsWith(phasePrefix);
        const double x = s.xOf(t);
        p.setPen(QPen(palette().text().color(), scale(), begins ? Qt::DashLine : Qt::DotLine));
        p.drawLine(QPointF(x, ruler), QPointF(x, bottom));
        if (begins) {
            const QString label = name.mid(phasePrefix.size());
            const QRectF box(x + 2, ruler + 1, metrics.horizontalAdvance(label) + 8,
                             metrics.height() + 2);
            p.fillRect(box, palette().window());
            p.setPen(palette().text().color());
            p.drawText(box, Qt::AlignCenter, label);
        } else if (!name.startsWith(endPrefix)) {
            p.setPen(palette().text().color());
            p.drawText(QPointF(x + 3, ruler + metrics.ascent() + 2), name);
        }
    }
    const qint64 playhead = m_view->playheadNs();
    if (playhead >= 0) {
        const double x = s.xOf(static_cast<double>(playhead));
        // What has not happened yet at the playhead is faded (one fill per frame).
        QColor veil = palette().base().color();
        veil.setAlpha(150);
        p.fillRect(QRectF(std::max(0.0, x), ruler, width(), bottom - ruler), veil);
        if (x >= -2 && x <= width()) {
            const QColor color = palette().highlight().color();
            p.setPen(QPen(color, 2 * scale()));
            p.drawLine(QPointF(x, 0), QPointF(x, bottom));
            const double w = 7 * scale();
            p.setBrush(color);
            p.setPen(Qt::NoPen);
            p.drawConvexPolygon(
                QPolygonF{QPointF(x - w, 0), QPointF(x + w, 0), QPointF(x, w * 1.4)});
        }
    }
}

void TimelineView::paintRequests(QPainter& p, const Row& row) const {
    const analysis::model& m = m_document->model();
    const TimeScale& s = m_view->scale();
    const bool client = m.has_client_requests(); // what a user waited for, when known
    constexpr int stacks = requestStacks;
    const double rowHeight = (row.height - 4) / static_cast<double>(stacks);
    std::vector<double> lastX(stacks, -1.0);
    // Start at the first request that could still be running in view.
    const auto& requests = m.requests();
    const auto [first, last] = m.requests_beginning_in(
        s.startNs() - static_cast<double>(m.longest_request_ns()), s.endNs());
    const QColor background =
        row.shaded ? palette().alternateBase().color() : palette().base().color();
    // Requests are drawn on whole pixels: [floor(begin), max(floor(begin) + 1, ceil(end))).
    // One that ends inside what its stack has drawn is folded into it.
    constexpr std::size_t block = analysis::model::request_block_size;
    // Zoomed out, thousands of requests share a pixel column. A whole block of them that
    // ended inside what every stack has drawn already would only be folded one by one: jump
    // over it. A block ended there when its end's pixel is below the least drawn stack's,
    // that is when it ended before `coveredNs`: that pixel's left edge, a millionth of a pixel
    // early so that rounding never skips a block the pixel test would keep. One comparison
    // a block, not a conversion to pixels: a zoomed-out view checks a hundred blocks a column.
    const auto coveredBefore = [&] {
        return s.nsAt(*std::min_element(lastX.begin(), lastX.end())) - s.nsPerPixel() * 1e-6;
    };
    double coveredNs = coveredBefore();
    // A request still unanswered is drawn to the trace's end, so a block holding one ends
    // there. (The model keeps a block open for good once one of its requests lost its end:
    // about one block in six of the benchmarks' 10-million-event trace, whose whole view read
    // 247,000 requests one by one, now 544.)
    const auto lastNs = static_cast<double>(m.last_ns());
    const auto blockEnd = [&](std::size_t b) {
        const std::uint64_t end = m.request_block_end(b);
        return end == analysis::open_end ? lastNs : static_cast<double>(end);
    };
    for (std::size_t i = first; i < last;) {
        if (i % block == 0) {
            while (i < last && blockEnd(i / block) < coveredNs) {
                i += block;
            }
            if (i >= last) {
                break;
            }
        }
        const analysis::request_span& r = requests[i++];
        if (r.client != client) {
            continue;
        }
        const double end =
            r.finished() ? static_cast<double>(r.end_ns) : static_cast<double>(m.last_ns());
        if (end < s.startNs() || static_cast<double>(r.begin_ns) > s.endNs()) {
            continue;
        }
        const double x0 = std::floor(s.xOf(static_cast<double>(r.begin_ns)));
        const double x1 = std::max(x0 + 1.0, std::ceil(s.xOf(end)));
        const int stack = static_cast<int>(r.request_id % stacks);
        if (x1 <= lastX[static_cast<std::size_t>(stack)]) {
            continue; // folded: this pixel range of the stack is drawn already
        }
        lastX[static_cast<std::size_t>(stack)] = x1;
        coveredNs = coveredBefore();
        QColor color = Style::routeColor(r.route_index);
        if (!r.finished()) {
            color = mix(background, color, 0.5f); // still waiting for its answer
        }
        p.fillRect(QRectF(x0, row.top + 2 + stack * rowHeight, x1 - x0, rowHeight - 1), color);
    }
}

void TimelineView::paintArrows(QPainter& p, const std::vector<Row>& all) const {
    const analysis::model& m = m_document->model();
    const TimeScale& s = m_view->scale();
    std::vector<int> rowOfLane(m.lanes().size(), -1);
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].lane >= 0) {
            rowOfLane[static_cast<std::size_t>(all[i].lane)] = static_cast<int>(i);
        }
    }
    const auto centre = [&](std::size_t lane) -> std::optional<double> {
        if (lane >= rowOfLane.size() || rowOfLane[lane] < 0) {
            return std::nullopt;
        }
        const Row& r = all[static_cast<std::size_t>(rowOfLane[lane])];
        return r.top + r.height / 2.0;
    };
    const double width = 1.5 * scale();

    // Wake arrows into the polls of the selected (or hovered) task.
    const analysis::task_ref focus =
        m_view->selectedTask() != analysis::no_task ? m_view->selectedTask() : m_hoverTask;
    if (focus != analysis::no_task) {
        int drawn = 0;
        for (const analysis::wake_link& w : m.wakes()) {
            if (w.woken != focus || !w.caused.valid() || drawn > 400) {
                continue;
            }
            const analysis::poll_span& target = m.lanes()[w.caused.lane].polls[w.caused.index];
            const double t0 = static_cast<double>(w.time_ns);
            const double t1 = static_cast<double>(target.begin_ns);
            if (t1 < s.startNs() || t0 > s.endNs()) {
                continue;
            }
            const auto y0 = centre(w.from_lane);
            const auto y1 = centre(w.caused.lane);
            if (!y0 || !y1) {
                continue;
            }
            drawArrow(p, QPointF(s.xOf(t0), *y0), QPointF(s.xOf(t1), *y1),
                      Style::wakeColor(palette()), width);
            ++drawn;
        }
    }
    // Steal arrows (victim -> thief) when few enough are in view to read.
    std::vector<const analysis::steal_link*> visible;
    for (const analysis::steal_link& st : m.steals()) {
        const double t = static_cast<double>(st.time_ns);
        if (t >= s.startNs() && t <= s.endNs()) {
            visible.push_back(&st);
            if (visible.size() > 200) {
                return;
            }
        }
    }
    for (const analysis::steal_link* st : visible) {
        const auto y0 = centre(st->victim_lane);
        const auto y1 = centre(st->thief_lane);
        if (!y0 || !y1) {
            continue;
        }
        const double x = s.xOf(static_cast<double>(st->time_ns));
        drawArrow(p, QPointF(x - 6 * scale(), *y0), QPointF(x, *y1), Style::stealColor(), width);
    }
}

// ---- interaction ----

TimelineView::Hit TimelineView::hitTest(QPoint at) const {
    Hit hit;
    const int x = at.x() - labelWidth();
    if (x < 0) {
        return hit;
    }
    for (const Row& row : rows()) {
        if (row.kind != Row::Kind::worker || at.y() < row.top || at.y() >= row.top + row.height) {
            continue;
        }
        const analysis::lane& lane =
            m_document->model().lanes()[static_cast<std::size_t>(row.lane)];
        const TimeScale& s = m_view->scale();
        // The poll under the cursor, or the nearest within two pixels.
        const double t0 = s.nsAt(x - 2);
        const double t1 = s.nsAt(x + 2);
        auto it = std::partition_point(lane.polls.begin(), lane.polls.end(), [&](const auto& p) {
            return p.end_ns != analysis::open_end && static_cast<double>(p.end_ns) < t0;
        });
        if (it != lane.polls.end() && static_cast<double>(it->begin_ns) <= t1) {
            hit.lane = row.lane;
            hit.poll = static_cast<std::uint32_t>(it.index());
        }
        break;
    }
    return hit;
}

std::optional<std::size_t> TimelineView::requestAt(QPoint at) const {
    const double x = at.x() - labelWidth();
    if (x < 0) {
        return std::nullopt;
    }
    for (const Row& row : rows()) {
        if (row.kind != Row::Kind::requests || at.y() < row.top || at.y() >= row.top + row.height) {
            continue;
        }
        const double rowHeight = (row.height - 4) / static_cast<double>(requestStacks);
        const int stack = static_cast<int>(std::floor((at.y() - row.top - 2) / rowHeight));
        const analysis::model& m = m_document->model();
        const TimeScale& s = m_view->scale();
        const bool client = m.has_client_requests();
        const double t = s.nsAt(x);
        const double slack = s.nsPerPixel(); // requests drawn a pixel wide at least
        const auto [first, last] = m.requests_beginning_in(
            t - static_cast<double>(m.longest_request_ns()) - slack, t + slack);
        const auto& requests = m.requests();
        // Bounded: hovering never walks more than a screenful of pixels' worth of requests.
        const std::size_t limit = std::min(last, first + 200'000);
        for (std::size_t i = first; i < limit; ++i) {
            const analysis::request_span& r = requests[i];
            if (r.client != client || static_cast<int>(r.request_id % requestStacks) != stack) {
                continue;
            }
            const double end =
                r.finished() ? static_cast<double>(r.end_ns) : static_cast<double>(m.last_ns());
            if (static_cast<double>(r.begin_ns) - slack <= t && t <= end + slack) {
                return i;
            }
        }
        return std::nullopt;
    }
    return std::nullopt;
}

QString TimelineView::requestToolTip(std::size_t index) const {
    const analysis::model& m = m_document->model();
    const analysis::request_span& r = m.requests()[index];
    QString text =
        tr("<b>%1</b><br>request %2, %3")
            .arg(QString::fromStdString(m.name(r.route)).toHtmlEscaped())
            .arg(r.request_id)
            .arg(r.client ? tr("as the load generator saw it") : tr("as the server saw it"));
    if (r.finished()) {
        text += tr("<br>latency %1, status %2")
                    .arg(QString::fromStdString(analysis::format_duration(r.latency_ns(), 2)))
                    .arg(r.status);
    } else {
        text += tr("<br>still waiting for its answer");
    }
    if (r.task != analysis::no_task) {
        text += (r.client ? tr("<br>sent by %1") : tr("<br>served by %1"))
                    .arg(QString::fromStdString(m.task_label(r.task)).toHtmlEscaped());
    }
    text += tr("<br>at %1").arg(formatOffset(static_cast<double>(r.begin_ns - m.first_ns())));
    return text;
}

void TimelineView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0) {
        return;
    }
    m_view->scale().zoom(std::pow(0.8, steps), event->position().x() - labelWidth());
    m_view->notifyRangeChanged();
    event->accept();
}

void TimelineView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        m_dragging = true;
        m_dragFrom = event->pos();
        m_pressAt = event->pos();
        setCursor(Qt::ClosedHandCursor);
    }
}

void TimelineView::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragging) {
        const int dx = event->pos().x() - m_dragFrom.x();
        m_dragFrom = event->pos();
        if (dx != 0) {
            const bool wasFollowing = m_view->scale().following();
            m_view->scale().pan(-dx);
            if (wasFollowing && !m_view->scale().following()) {
                emit followingChanged(false);
            }
            m_view->notifyRangeChanged();
        }
        return;
    }
    const Hit hit = hitTest(event->pos());
    const analysis::model& m = m_document->model();
    analysis::task_ref hover = analysis::no_task;
    if (hit.lane >= 0) {
        const analysis::poll_span& p =
            m.lanes()[static_cast<std::size_t>(hit.lane)].polls[hit.poll];
        hover = p.task;
        const bool open = (p.flags & analysis::poll_flags::end_lost) != 0;
        QString text =
            tr("<b>%1</b><br>poll on %2: %3, %4%5")
                .arg(QString::fromStdString(m.task_label(p.task)).toHtmlEscaped(),
                     QString::fromStdString(m.lanes()[static_cast<std::size_t>(hit.lane)].label()),
                     QString::fromStdString(
                         analysis::format_duration(p.duration_ns(m.last_ns()), 2)),
                     QString::fromStdString(std::string(trace::to_string(p.result))),
                     open ? tr(" (its end was not recorded)") : QString());
        if ((p.flags & analysis::poll_flags::blocked) != 0) {
            text += tr("<br><span style='color:%1'>blocked its worker</span>")
                        .arg(Style::blockedColor().name());
        }
        if ((p.flags & analysis::poll_flags::woke_self) != 0) {
            text += tr("<br>woke itself during the poll");
        }
        text += tr("<br>at %1").arg(formatOffset(static_cast<double>(p.begin_ns - m.first_ns())));
        QToolTip::showText(event->globalPosition().toPoint(), text, this);
    } else if (const auto request = requestAt(event->pos())) {
        QToolTip::showText(event->globalPosition().toPoint(), requestToolTip(*request), this);
    } else {
        QToolTip::hideText();
    }
    if (hover != m_hoverTask) {
        m_hoverTask = hover;
        update();
    }
}

void TimelineView::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) {
        return;
    }
    m_dragging = false;
    unsetCursor();
    if ((event->pos() - m_pressAt).manhattanLength() < 4) {
        const Hit hit = hitTest(event->pos());
        m_view->selectTask(hit.lane >= 0 ? m_document->model()
                                               .lanes()[static_cast<std::size_t>(hit.lane)]
                                               .polls[hit.poll]
                                               .task
                                         : analysis::no_task);
    }
}

void TimelineView::leaveEvent(QEvent*) {
    if (m_hoverTask != analysis::no_task) {
        m_hoverTask = analysis::no_task;
        update();
    }
}

void TimelineView::keyPressEvent(QKeyEvent* event) {
    TimeScale& s = m_view->scale();
    const double centre = s.width() / 2;
    switch (event->key()) {
    case Qt::Key_W:
    case Qt::Key_Plus:
        s.zoom(0.7, centre);
        break;
    case Qt::Key_S:
    case Qt::Key_Minus:
        s.zoom(1.0 / 0.7, centre);
        break;
    case Qt::Key_A:
    case Qt::Key_Left: {
        const bool wasFollowing = s.following();
        s.pan(-s.width() * 0.15);
        if (wasFollowing && !s.following()) {
            emit followingChanged(false);
        }
        break;
    }
    case Qt::Key_D:
    case Qt::Key_Right:
        s.pan(s.width() * 0.15);
        break;
    case Qt::Key_F:
        setFollowing(!s.following());
        return;
    case Qt::Key_0:
    case Qt::Key_Home:
        showAll();
        return;
    case Qt::Key_Escape:
        m_view->selectTask(analysis::no_task);
        return;
    default:
        QWidget::keyPressEvent(event);
        return;
    }
    m_view->notifyRangeChanged();
}

} // namespace taskscope::ui
