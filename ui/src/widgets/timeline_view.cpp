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
#include <numeric>

namespace taskscope::ui {

namespace {

constexpr int rulerHeight = 26;
constexpr int workerHeight = 34;
constexpr int reactorHeight = 22;
constexpr int blockingHeight = 22;
constexpr int outsideHeight = 24;
constexpr int requestsHeight = 56;
constexpr int resourceHeight = 26;
constexpr int labelWidthBase = 124;
/// Wake arrows are named by their resource while fewer than this many are drawn.
constexpr int namedArrowLimit = 30;

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
    // Resource summaries count blocks from the points they first saw: those may be gone.
    connect(document, &TraceDocument::forgotten, this, [this] { m_resourceSummaries.clear(); });
    connect(view, &ViewState::rangeChanged, this, qOverload<>(&QWidget::update));
    connect(view, &ViewState::selectionChanged, this, qOverload<>(&QWidget::update));
    connect(view, &ViewState::resourceSelectionChanged, this, [this] {
        updateGeometry(); // the selected resource may take a row
        update();
    });
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
        for (const char* name :
             {"reactor & timers", "outside thread 00", "blocking pool 00", "requests", "worker 00",
              "own executor 00", "semaphore 'permits'"}) {
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
    const auto add = [&](Row::Kind kind, int lane, int height, QString label,
                         std::uint32_t resource = 0) {
        const double stretch =
            kind == Row::Kind::worker || kind == Row::Kind::executor ? workerStretch : 1.0;
        const int h = static_cast<int>(height * scale() * stretch);
        out.push_back({kind, lane, y, h, std::move(label), out.size() % 2 == 1, resource});
        y += h;
    };
    std::vector<int> workers;
    std::vector<int> executors; // threads running a home-made executor loop: worker-like
    std::vector<int> pool;
    std::vector<int> outside; // threads outside the runtime, drawn when they blocked
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        if (lanes[i].kind == trace::track_kind::worker) {
            workers.push_back(static_cast<int>(i));
        } else if (lanes[i].kind == trace::track_kind::executor) {
            executors.push_back(static_cast<int>(i));
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
    std::sort(executors.begin(), executors.end(), byIndex);
    std::sort(pool.begin(), pool.end(), byIndex);
    std::sort(outside.begin(), outside.end(), byIndex);
    const std::vector<std::uint32_t> resources = resourceRowIds();
    // A trace of locks and channels without requests (a lesson) gives their room to its
    // resources.
    const int requestsRow = m_document->model().requests().empty() && !resources.empty()
                                ? blockingHeight
                                : requestsHeight;
    const std::size_t threads = workers.size() + executors.size();
    if (fillHeight && threads > 0) {
        const double fixed =
            (rulerHeight + reactorHeight +
             blockingHeight * static_cast<double>(std::max<std::size_t>(pool.size(), 1)) +
             outsideHeight * static_cast<double>(outside.size()) + requestsRow +
             resourceHeight * static_cast<double>(resources.size())) *
            scale();
        const double natural = workerHeight * scale() * static_cast<double>(threads);
        const double room = height() - fixed - 4;
        workerStretch = std::clamp(room / natural, 1.0, 4.0);
    }
    for (int lane : workers) {
        add(Row::Kind::worker, lane, workerHeight,
            QString::fromStdString(lanes[static_cast<std::size_t>(lane)].label()));
    }
    for (int lane : executors) {
        add(Row::Kind::executor, lane, workerHeight,
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
    add(Row::Kind::requests, -1, requestsRow, QStringLiteral("requests"));
    const analysis::model& m = m_document->model();
    for (const std::uint32_t id : resources) {
        add(Row::Kind::resource, -1, resourceHeight, QString::fromStdString(m.resource_label(id)),
            id);
    }
    return out;
}

std::vector<std::uint32_t> TimelineView::resourceRowIds() const {
    const auto& all = m_document->model().resources().all();
    std::vector<std::uint32_t> ids;
    const auto shown = static_cast<std::size_t>(std::max(m_resourceRows, 0));
    // Channels first (their depth is the story: a queue filling up), then locks, then
    // notifies and oneshots, which hold nothing; each in the order the trace met them. A chat
    // server's per-connection socket locks and stop signals would otherwise push its groups'
    // queues out of view.
    const auto rank = [](trace::resource_kind kind) {
        switch (kind) {
        case trace::resource_kind::mpsc:
        case trace::resource_kind::broadcast:
            return 0;
        case trace::resource_kind::mutex:
        case trace::resource_kind::semaphore:
            return 1;
        case trace::resource_kind::notify:
        case trace::resource_kind::oneshot:
            break;
        }
        return 2;
    };
    for (int pass = 0; pass <= 2 && ids.size() < shown; ++pass) {
        for (const analysis::resource_info& r : all) {
            if (ids.size() == shown) {
                break;
            }
            if (rank(r.kind) == pass) {
                ids.push_back(r.id);
            }
        }
    }
    const std::uint32_t selected = m_view->selectedResource();
    if (!ids.empty() && selected != 0 && std::find(ids.begin(), ids.end(), selected) == ids.end() &&
        m_document->model().resources().find(selected) != nullptr) {
        ids.back() = selected; // the selected one is always in view
    }
    return ids;
}

void TimelineView::setResourceRows(int rows) {
    rows = std::max(rows, 0);
    if (rows != m_resourceRows) {
        m_resourceRows = rows;
        updateGeometry();
        update();
    }
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
    s.setBounds(m_document->keptFromNs(), m_document->lastNs());
    updateGeometry();
    if (s.following()) {
        m_view->notifyRangeChanged();
    } else {
        update();
    }
}

void TimelineView::onDocumentReset() {
    m_resourceSummaries.clear(); // they summarised the series of the model now gone
    m_view->selectResource(0);
    syncWidth();
    TimeScale& s = m_view->scale();
    s.setBounds(m_document->keptFromNs(), m_document->lastNs());
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
    m_resourcePolls = resourcePolls();
    const std::uint32_t selectedResource = m_view->selectedResource();
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
        case Row::Kind::executor:
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
        case Row::Kind::resource:
            paintResource(p, row);
            break;
        }
        p.restore();
        p.setPen(palette().text().color());
        if (row.kind == Row::Kind::resource) {
            // Resource names vary in length: elided to the label column; the selected one
            // gets a bar beside its name.
            if (row.resource == selectedResource) {
                p.fillRect(QRectF(0, row.top + 2, 3 * scale(), row.height - 4),
                           Style::selectionColor(palette()));
            }
            p.drawText(QRect(6, row.top, label - 10, row.height), Qt::AlignVCenter | Qt::AlignLeft,
                       QFontMetrics(font).elidedText(row.label, Qt::ElideRight, label - 10));
        } else {
            p.drawText(QRect(6, row.top, label - 10, row.height), Qt::AlignVCenter | Qt::AlignLeft,
                       row.label);
        }
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
        paintLetGo(p, all.back().top + all.back().height);
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

void TimelineView::paintLetGo(QPainter& p, int bottom) const {
    // Before the kept window: what the retention let go, shaded and said so.
    const std::uint64_t keptFrom = m_document->keptFromNs();
    if (keptFrom <= m_document->firstNs()) {
        return;
    }
    const TimeScale& s = m_view->scale();
    const double x = s.xOf(static_cast<double>(keptFrom));
    if (x <= 0) {
        return;
    }
    const int top = static_cast<int>(rulerHeight * scale());
    const QRectF gone(0, top, std::min(x, s.width()), bottom - top);
    p.fillRect(gone, QBrush(palette().mid().color(), Qt::BDiagPattern));
    p.setPen(QPen(palette().text().color(), 1.5 * scale(), Qt::DashLine));
    p.drawLine(QPointF(x, top), QPointF(x, bottom));
    const QString text =
        tr("kept from %1: older events were let go (View > Keep of a live run)")
            .arg(formatOffset(static_cast<double>(keptFrom - m_document->firstNs())));
    const QFontMetrics metrics(p.font());
    const QRectF box(std::max(4.0, x - metrics.horizontalAdvance(text) - 12), top + 4,
                     metrics.horizontalAdvance(text) + 8, metrics.height() + 4);
    p.fillRect(box, palette().window());
    p.setPen(palette().text().color());
    p.drawText(box, Qt::AlignCenter, text);
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
        const analysis::task_info* t = m.task(item.task);
        const std::uint64_t id = t != nullptr ? t->id : item.task;
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
    paintResourcePolls(p, row);
    for (const analysis::resource_info& r : m.resources().all()) {
        paintLags(p, r, top, row.lane);
    }
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

int TimelineView::requestStack(const analysis::request_span& r) noexcept {
    if (!r.http2) {
        return static_cast<int>(r.request_id % requestStacks);
    }
    constexpr int perConnection = requestStacks / 2;
    const int band = static_cast<int>(r.connection() % 2);
    return band * perConnection + static_cast<int>((r.stream() / 2) % perConnection);
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
    if (m.has_http2_requests()) { // the two connection bands of HTTP/2 streams
        p.setPen(QPen(mix(background, palette().text().color(), 0.25f), 1));
        const double y = row.top + 2 + (stacks / 2) * rowHeight - 0.5;
        p.drawLine(QPointF(0, y), QPointF(width(), y));
    }
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
        const int stack = requestStack(r);
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
        struct Named {
            QPointF head;
            std::uint32_t resource;
        };
        std::vector<Named> named; // arrows whose wake came from a resource
        const auto& wakes = m.wakes();
        for (std::size_t i = wakes.first_kept(); i < wakes.size(); ++i) {
            const analysis::wake_link& w = wakes[i];
            if (w.woken != focus || !w.caused.valid() || drawn > 400) {
                continue;
            }
            const auto& targetPolls = m.lanes()[w.caused.lane].polls;
            if (w.caused.index < targetPolls.first_kept()) {
                continue; // the poll it caused was let go
            }
            const analysis::poll_span& target = targetPolls[w.caused.index];
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
            const QPointF head(s.xOf(t1), *y1);
            drawArrow(p, QPointF(s.xOf(t0), *y0), head, Style::wakeColor(palette()), width);
            ++drawn;
            if (w.source == trace::wake_source::channel) {
                if (const std::uint32_t resource = m.resource_of_wake(i)) {
                    named.push_back({head, resource});
                }
            }
        }
        // Few enough to read: each names the resource that woke it, just before its head.
        if (drawn < namedArrowLimit && !named.empty()) {
            QFont small = p.font();
            small.setPointSizeF(small.pointSizeF() * 0.85);
            p.save();
            p.setFont(small);
            const QFontMetricsF metrics(small);
            QColor box = palette().base().color();
            box.setAlpha(220);
            for (const Named& n : named) {
                const QString text = QString::fromStdString(m.resource_label(n.resource));
                // Before the head, or after it when that would leave the view.
                const double w = metrics.horizontalAdvance(text) + 6;
                const double before = n.head.x() - w - 4 * scale();
                const QRectF r(before >= 0 ? before : n.head.x() + 4 * scale(),
                               n.head.y() - metrics.height() - 4 * scale(), w, metrics.height());
                p.setPen(Qt::NoPen);
                p.setBrush(box);
                p.drawRoundedRect(r, 3, 3);
                p.setPen(Style::wakeColor(palette()));
                p.drawText(r, Qt::AlignCenter, text);
            }
            p.restore();
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

// ---- resources ----

TimelineView::ResourceDrawing TimelineView::resourceDrawing(std::uint32_t resource) const {
    ResourceDrawing d;
    const analysis::model& m = m_document->model();
    const analysis::resource_info* r = m.resources().find(resource);
    if (r == nullptr) {
        return d;
    }
    const TimeScale& s = m_view->scale();
    const int columns = std::max(1, static_cast<int>(std::ceil(s.width())));
    ResourceSummaries& summaries = m_resourceSummaries[resource];
    // Per column the highest level: every point in view when there are few, otherwise whole
    // blocks by their extremes (at least four blocks a column), as the queue-depth chart.
    const auto perColumn = [&](const SeriesDecimator::Series& series, DepthSummary& summary,
                               std::vector<std::uint32_t>& out) {
        const auto range = SeriesDecimator::visibleRange(series, s.startNs(), s.endNs());
        std::vector<std::size_t> indices;
        const auto limit = static_cast<std::size_t>(columns) * SeriesDecimator::pointsPerPixel;
        if (range.size() <= limit) {
            indices.resize(range.size());
            std::iota(indices.begin(), indices.end(), range.first);
        } else {
            summary.update(series);
            indices.reserve(limit * 4);
            summary.candidates(series, range.first, range.last,
                               range.size() / static_cast<std::size_t>(columns) / 4, indices);
        }
        columnMaxima(series, indices, s, columns, m.last_ns(), out);
    };
    if (r->kind == trace::resource_kind::mutex) {
        holdDrawList(r->holds, s, m.last_ns(), d.holds);
    } else {
        perColumn(r->depths, summaries.depth, d.depth);
    }
    perColumn(r->waiters, summaries.waiters, d.waiters);
    d.bounded = r->capacity != trace::unbounded_capacity && r->capacity > 0;
    d.scaleTo = d.bounded ? r->capacity : std::max<std::uint64_t>(r->max_depth, 1);
    return d;
}

void TimelineView::paintResource(QPainter& p, const Row& row) const {
    const analysis::model& m = m_document->model();
    const analysis::resource_info* r = m.resources().find(row.resource);
    if (r == nullptr) {
        return;
    }
    const ResourceDrawing d = resourceDrawing(row.resource);
    const double top = row.top + 2;
    const double h = row.height - 4;
    p.save(); // the close's clip, until the lags and the selection
    if (r->closed) {
        // Nothing after its close: a closed channel's last depth is not held for ever.
        const double closedX = m_view->scale().xOf(static_cast<double>(r->closed_ns));
        p.setClipRect(QRectF(0, row.top, std::max(0.0, closedX + 1), row.height),
                      Qt::IntersectClip);
    }
    const double band = std::max(3.0, std::round(h * 0.2)); // tasks waiting: at the bottom
    const double areaHeight = h - band - 1;
    if (r->kind == trace::resource_kind::mutex) {
        const QFontMetrics metrics(p.font());
        const double mark = std::max(2.0, std::round(3 * scale()));
        for (const HoldItem& item : d.holds) {
            const QColor color = Style::taskColor(item.task);
            const QRectF rect(item.x0, top, item.x1 - item.x0, areaHeight);
            p.fillRect(rect, color);
            if (item.acrossAwait) { // held while its task was suspended: others could not run
                p.fillRect(QRectF(rect.x(), rect.y(), rect.width(), mark),
                           Style::heldAcrossAwaitColor());
            }
            if (rect.width() > 50 * scale()) {
                const analysis::task_ref holder = m.find_task(item.task);
                if (holder != analysis::no_task) {
                    p.setPen(Style::textOn(color));
                    p.drawText(rect.adjusted(3, item.acrossAwait ? mark : 0, -3, 0),
                               Qt::AlignVCenter | Qt::AlignLeft,
                               metrics.elidedText(QString::fromStdString(m.task_label(holder)),
                                                  Qt::ElideRight,
                                                  static_cast<int>(rect.width()) - 6));
                }
            }
        }
    } else {
        // The depth as an area scaled to the capacity; a full bounded channel in the alarm-ish
        // colour. Runs of equal columns are one rectangle.
        const bool alarms = d.bounded && r->kind == trace::resource_kind::mpsc;
        const auto heightOf = [&](std::uint32_t level) {
            const double share =
                std::min(1.0, static_cast<double>(level) / static_cast<double>(d.scaleTo));
            return level == 0 ? 0.0 : std::max(1.0, std::round(areaHeight * share));
        };
        const QColor normal = Style::resourceDepthColor(palette());
        const QColor full = Style::resourceFullColor();
        std::size_t c = 0;
        while (c < d.depth.size()) {
            const double height = heightOf(d.depth[c]);
            const bool atCapacity = alarms && d.depth[c] >= d.scaleTo;
            std::size_t next = c + 1;
            while (next < d.depth.size() && heightOf(d.depth[next]) == height &&
                   (alarms && d.depth[next] >= d.scaleTo) == atCapacity) {
                ++next;
            }
            if (height > 0) {
                p.fillRect(QRectF(static_cast<double>(c), top + areaHeight - height,
                                  static_cast<double>(next - c), height),
                           atCapacity ? full : normal);
            }
            c = next;
        }
    }
    // The band where tasks wait on it.
    const QColor waiting = Style::resourceWaitersColor();
    std::size_t c = 0;
    while (c < d.waiters.size()) {
        if (d.waiters[c] == 0) {
            ++c;
            continue;
        }
        std::size_t next = c + 1;
        while (next < d.waiters.size() && d.waiters[next] > 0) {
            ++next;
        }
        p.fillRect(
            QRectF(static_cast<double>(c), top + h - band, static_cast<double>(next - c), band),
            waiting);
        c = next;
    }
    p.restore();
    paintLags(p, *r, top, -1);
    if (row.resource == m_view->selectedResource()) {
        p.setPen(QPen(Style::selectionColor(palette()), scale()));
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRectF(0.5, row.top + 0.5, width() - labelWidth() - 1.0, row.height - 2.0));
    }
}

void TimelineView::paintLags(QPainter& p, const analysis::resource_info& r, double top,
                             int lane) const {
    if (r.lags.empty()) {
        return;
    }
    const TimeScale& s = m_view->scale();
    const auto timeOf = [](const analysis::lag_mark& l) { return l.time_ns; };
    const auto from = std::lower_bound(
        r.lags.begin(), r.lags.end(), static_cast<std::uint64_t>(std::max(0.0, s.startNs())),
        [&](const analysis::lag_mark& l, std::uint64_t t) { return timeOf(l) < t; });
    const double w = 5 * scale();
    p.setPen(Qt::NoPen);
    p.setBrush(Style::lintColor(analysis::lint_kind::lagged_receiver));
    double lastX = -1e9;
    for (auto it = from; it != r.lags.end(); ++it) {
        const double t = static_cast<double>(it->time_ns);
        if (t > s.endNs()) {
            break;
        }
        if (lane >= 0 && it->track != lane) {
            continue;
        }
        const double x = s.xOf(t);
        if (x - lastX < 1.0) {
            continue;
        }
        lastX = x;
        p.drawConvexPolygon(
            QPolygonF{QPointF(x - w, top), QPointF(x + w, top), QPointF(x, top + w * 1.6)});
    }
}

std::vector<TimelineView::ResourcePoll> TimelineView::resourcePolls() const {
    std::vector<ResourcePoll> out;
    const analysis::model& m = m_document->model();
    const analysis::resource_info* r = m.resources().find(m_view->selectedResource());
    if (r == nullptr) {
        return out;
    }
    const TimeScale& s = m_view->scale();
    const double start = std::max(0.0, s.startNs());
    const double end = s.endNs();
    const auto lastNs = static_cast<double>(m.last_ns());
    std::vector<int> lanes; // where tasks are polled: the workers and home-made executors
    for (std::size_t i = 0; i < m.lanes().size(); ++i) {
        const auto kind = m.lanes()[i].kind;
        if (kind == trace::track_kind::worker || kind == trace::track_kind::executor) {
            lanes.push_back(static_cast<int>(i));
        }
    }
    const auto endOf = [&](const analysis::poll_span& p) {
        return p.end_ns == analysis::open_end ? lastNs : static_cast<double>(p.end_ns);
    };
    const auto firstEndingAfter = [&](const analysis::lane& lane, double t) {
        return std::partition_point(lane.polls.begin(), lane.polls.end(),
                                    [&](const analysis::poll_span& p) { return endOf(p) < t; });
    };
    // The polls of task `t` in [from, to], a bounded number a lane.
    const auto pollsIn = [&](analysis::task_ref t, double from, double to, bool holder) {
        for (const int l : lanes) {
            const analysis::lane& lane = m.lanes()[static_cast<std::size_t>(l)];
            auto it = firstEndingAfter(lane, from);
            for (int k = 0; it != lane.polls.end() && k < 256 && out.size() < maxResourcePolls &&
                            static_cast<double>(it->begin_ns) <= to;
                 ++it, ++k) {
                if (it->task == t) {
                    out.push_back({l, static_cast<std::uint32_t>(it.index()), holder});
                }
            }
        }
    };
    // The poll of task `t` running at `at`; or, `after`, its first poll beginning at `at` or
    // later (within a few polls a lane).
    const auto pollAt = [&](analysis::task_ref t, double at, bool after) {
        std::optional<ResourcePoll> best;
        double bestBegin = 0;
        for (const int l : lanes) {
            const analysis::lane& lane = m.lanes()[static_cast<std::size_t>(l)];
            auto it = firstEndingAfter(lane, at);
            for (int k = 0; it != lane.polls.end() && k < (after ? 64 : 1); ++it, ++k) {
                const auto begin = static_cast<double>(it->begin_ns);
                if (it->task != t || (!after && begin > at)) {
                    continue;
                }
                if (after && begin < at) {
                    continue;
                }
                if (!best || begin < bestBegin) {
                    best = ResourcePoll{l, static_cast<std::uint32_t>(it.index()), false};
                    bestBegin = begin;
                }
                break;
            }
        }
        return best;
    };
    constexpr std::size_t spansPerFrame = 200; // a sample across the view, not every one
    // Holders: a mutex's holds one per pixel column (so a zoomed-out view samples all of it),
    // other resources' holds from the first in view.
    std::vector<std::size_t> holds;
    if (r->kind == trace::resource_kind::mutex) {
        std::vector<HoldItem> items;
        holdDrawList(r->holds, s, m.last_ns(), items);
        const std::size_t stride = std::max<std::size_t>(1, items.size() / spansPerFrame);
        for (std::size_t i = 0; i < items.size(); i += stride) {
            holds.push_back(items[i].hold);
        }
    } else {
        const auto [first, last] = r->holds_overlapping(static_cast<std::uint64_t>(start),
                                                        static_cast<std::uint64_t>(end));
        for (std::size_t i = first; i < last && holds.size() < spansPerFrame; ++i) {
            holds.push_back(i);
        }
    }
    for (const std::size_t i : holds) {
        const analysis::hold_span& h = r->holds[i];
        const double holdEnd =
            h.end_ns == analysis::resource_open_end ? lastNs : static_cast<double>(h.end_ns);
        const analysis::task_ref t = m.find_task(h.task);
        if (t != analysis::no_task && holdEnd >= start && static_cast<double>(h.begin_ns) <= end) {
            pollsIn(t, std::max(start, static_cast<double>(h.begin_ns)), std::min(end, holdEnd),
                    true);
        }
    }
    // Waiters: the poll in which a wait began, and the one after it was granted.
    const auto earliest =
        static_cast<std::uint64_t>(std::max(0.0, start - static_cast<double>(r->longest_wait_ns)));
    const auto [first, last] = r->waits_beginning_in(earliest, static_cast<std::uint64_t>(end));
    const std::size_t stride = std::max<std::size_t>(1, (last - first) / spansPerFrame);
    for (std::size_t i = first; i < last && out.size() < maxResourcePolls; i += stride) {
        const analysis::wait_span& w = r->waits[i];
        const analysis::task_ref t = m.find_task(w.task);
        if (t == analysis::no_task) {
            continue;
        }
        const auto begin = static_cast<double>(w.begin_ns);
        if (begin >= start && begin <= end) {
            if (const auto p = pollAt(t, begin, false)) {
                out.push_back(*p);
            }
        }
        if (w.end_ns != analysis::resource_open_end) {
            const auto granted = static_cast<double>(w.end_ns);
            if (granted <= end && granted >= start - static_cast<double>(r->longest_wait_ns)) {
                const auto p = pollAt(t, granted, true);
                if (p &&
                    static_cast<double>(
                        m.lanes()[static_cast<std::size_t>(p->lane)].polls[p->poll].begin_ns) <=
                        end &&
                    endOf(m.lanes()[static_cast<std::size_t>(p->lane)].polls[p->poll]) >= start) {
                    out.push_back(*p);
                }
            }
        }
    }
    std::sort(out.begin(), out.end(), [](const ResourcePoll& a, const ResourcePoll& b) {
        return std::tie(a.lane, a.poll, a.holder) < std::tie(b.lane, b.poll, b.holder);
    });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (out.size() > maxResourcePolls) {
        out.resize(maxResourcePolls);
    }
    return out;
}

void TimelineView::paintResourcePolls(QPainter& p, const Row& row) const {
    // Sorted by lane: this lane's are one run.
    const auto first =
        std::partition_point(m_resourcePolls.begin(), m_resourcePolls.end(),
                             [&](const ResourcePoll& r) { return r.lane < row.lane; });
    const auto last = std::partition_point(
        first, m_resourcePolls.end(), [&](const ResourcePoll& r) { return r.lane == row.lane; });
    if (first == last) {
        return;
    }
    const analysis::model& m = m_document->model();
    const analysis::lane& lane = m.lanes()[static_cast<std::size_t>(row.lane)];
    const TimeScale& s = m_view->scale();
    const double top = row.top + 3;
    const double h = row.height - 6;
    const double pen = 2 * scale();
    p.setBrush(Qt::NoBrush);
    for (auto it = first; it != last; ++it) {
        const analysis::poll_span& poll = lane.polls[it->poll];
        const double end = poll.end_ns == analysis::open_end ? static_cast<double>(m.last_ns())
                                                             : static_cast<double>(poll.end_ns);
        const double x0 = s.xOf(static_cast<double>(poll.begin_ns));
        const QRectF r(x0, top, std::max(3.0, s.xOf(end) - x0), h);
        // Holders outlined at the edge, waiters inside it: a poll that did both shows both.
        const double inset = it->holder ? pen / 2 : pen * 1.5;
        p.setPen(
            QPen(it->holder ? Style::resourceHolderColor() : Style::resourceWaiterColor(), pen));
        p.drawRect(
            r.adjusted(inset, inset, -std::min(inset, r.width() / 2), -std::min(inset, h / 2)));
    }
}

QString TimelineView::resourceToolTip(std::uint32_t resource, double ns) const {
    const analysis::model& m = m_document->model();
    const analysis::resource_info* r = m.resources().find(resource);
    if (r == nullptr) {
        return {};
    }
    const auto taskName = [&](std::uint64_t id) {
        const analysis::task_ref t = m.find_task(id);
        return (t != analysis::no_task ? QString::fromStdString(m.task_label(t))
                                       : tr("task #%1").arg(id))
            .toHtmlEscaped();
    };
    QString text = QStringLiteral("<b>%1</b>")
                       .arg(QString::fromStdString(m.resource_label(resource)).toHtmlEscaped());
    const bool bounded = r->capacity != trace::unbounded_capacity;
    const std::uint32_t depth = levelAt(r->depths, ns);
    switch (r->kind) {
    case trace::resource_kind::mutex:
        if (const analysis::hold_span* h = holdAt(r->holds, ns, m.last_ns())) {
            text += tr("<br>held by %1 since %2")
                        .arg(taskName(h->task),
                             formatOffset(static_cast<double>(h->begin_ns - m.first_ns())));
            if (h->end_ns != analysis::resource_open_end) {
                text += tr(", for %1")
                            .arg(QString::fromStdString(
                                analysis::format_duration(h->end_ns - h->begin_ns, 2)));
            }
            if (h->across_await) {
                text += tr("<br><span style='color:%1'>held across an await</span>")
                            .arg(Style::heldAcrossAwaitColor().name());
            }
        } else {
            text += tr("<br>free");
        }
        break;
    case trace::resource_kind::semaphore:
        text += bounded ? tr("<br>%1 of %2 permits held").arg(depth).arg(r->capacity)
                        : tr("<br>%1 permits held").arg(depth);
        break;
    case trace::resource_kind::mpsc:
    case trace::resource_kind::oneshot:
        text += bounded ? tr("<br>%1 of %2 queued").arg(depth).arg(r->capacity)
                        : tr("<br>%1 queued").arg(depth);
        if (bounded && r->kind == trace::resource_kind::mpsc && depth >= r->capacity) {
            text +=
                tr(" <span style='color:%1'>(full)</span>").arg(Style::resourceFullColor().name());
        }
        break;
    case trace::resource_kind::broadcast:
        text += bounded
                    ? tr("<br>slowest receiver %1 behind, of %2 kept").arg(depth).arg(r->capacity)
                    : tr("<br>slowest receiver %1 behind").arg(depth);
        break;
    case trace::resource_kind::notify:
        break;
    }
    const std::uint32_t waiting = levelAt(r->waiters, ns);
    if (waiting > 0) {
        // Which: the waits that began before `ns` and had not ended, looked for among the
        // latest to begin (bounded).
        const auto at = static_cast<std::uint64_t>(std::max(0.0, ns));
        const auto [first, last] = r->waits_beginning_in(0, at);
        std::vector<const analysis::wait_span*> found;
        for (std::size_t i = last, looked = 0; i > first && looked < 4096 && found.size() < waiting;
             --i, ++looked) {
            const analysis::wait_span& w = r->waits[i - 1];
            if (w.begin_ns <= at && (w.end_ns == analysis::resource_open_end || w.end_ns > at)) {
                found.push_back(&w);
            }
        }
        std::sort(found.begin(), found.end(),
                  [](const auto* a, const auto* b) { return a->begin_ns < b->begin_ns; });
        QStringList names;
        const std::size_t named = std::min<std::size_t>(found.size(), 3);
        for (std::size_t i = 0; i < named; ++i) {
            names << taskName(found[i]->task);
        }
        if (waiting > named && named > 0) {
            names << tr("%1 more").arg(waiting - named);
        }
        text += tr("<br><span style='color:%1'>%2 waiting</span>")
                    .arg(Style::resourceWaitersColor().name(),
                         waiting == 1 ? tr("1 task") : tr("%1 tasks").arg(waiting));
        if (!names.isEmpty()) {
            text += QStringLiteral(": ") + names.join(QStringLiteral(", "));
        }
    } else {
        text += tr("<br>nobody waiting");
    }
    text += tr("<br>at %1").arg(formatOffset(ns - static_cast<double>(m.first_ns())));
    return text;
}

QString TimelineView::pollToolTip(int laneIndex, std::uint32_t poll) const {
    const analysis::model& m = m_document->model();
    const analysis::lane& lane = m.lanes()[static_cast<std::size_t>(laneIndex)];
    const analysis::poll_span& p = lane.polls[poll];
    const bool open = (p.flags & analysis::poll_flags::end_lost) != 0;
    QString text =
        tr("<b>%1</b><br>poll on %2: %3, %4%5")
            .arg(QString::fromStdString(m.task_label(p.task)).toHtmlEscaped(),
                 QString::fromStdString(lane.label()),
                 QString::fromStdString(analysis::format_duration(p.duration_ns(m.last_ns()), 2)),
                 QString::fromStdString(std::string(trace::to_string(p.result))),
                 open ? tr(" (its end was not recorded)") : QString());
    if ((p.flags & analysis::poll_flags::blocked) != 0) {
        text += tr("<br><span style='color:%1'>blocked its worker</span>")
                    .arg(Style::blockedColor().name());
    }
    if ((p.flags & analysis::poll_flags::woke_self) != 0) {
        text += tr("<br>woke itself during the poll");
    }
    // Ended pending because it waited on a resource: for what, how long, held by whom.
    const analysis::task_info* task = m.task(p.task);
    if (p.result == trace::poll_result::pending && p.end_ns != analysis::open_end &&
        task != nullptr) {
        const analysis::resource_table& resources = m.resources();
        if (const auto found = resources.wait_begun_by(task->id, p.begin_ns, p.end_ns)) {
            const analysis::wait_span& w = resources.find(found->resource)->waits[found->index];
            const QString what =
                QString::fromStdString(m.resource_label(found->resource)).toHtmlEscaped();
            const QString waited = w.end_ns == analysis::resource_open_end
                                       ? tr("waited to the end of the trace")
                                       : tr("waited %1")
                                             .arg(QString::fromStdString(analysis::format_duration(
                                                 w.end_ns - w.begin_ns, 2)));
            QString line;
            switch (w.op) {
            case trace::resource_op::send:
                line = tr("then %1 for room in %2").arg(waited, what);
                break;
            case trace::resource_op::recv:
                line = tr("then %1 for a message on %2").arg(waited, what);
                break;
            case trace::resource_op::notified:
                line = tr("then %1 to be notified by %2").arg(waited, what);
                break;
            default:
                line = tr("then %1 for %2").arg(waited, what);
                if (w.holder != 0) {
                    const analysis::task_ref holder = m.find_task(w.holder);
                    line +=
                        tr(" held by %1")
                            .arg(holder != analysis::no_task
                                     ? QString::fromStdString(m.task_label(holder)).toHtmlEscaped()
                                     : tr("task #%1").arg(w.holder));
                }
                break;
            }
            text += QStringLiteral("<br><span style='color:%1'>%2</span>")
                        .arg(Style::resourceWaitersColor().name(), line);
        }
    }
    // A broadcast receiver that found, in this poll, that it had missed messages.
    if (task != nullptr) {
        const std::uint64_t id = task->id;
        const std::uint64_t end = p.end_ns == analysis::open_end ? m.last_ns() : p.end_ns;
        for (const analysis::resource_info& r : m.resources().all()) {
            const auto from = std::lower_bound(
                r.lags.begin(), r.lags.end(), p.begin_ns,
                [](const analysis::lag_mark& l, std::uint64_t t) { return l.time_ns < t; });
            for (auto it = from; it != r.lags.end() && it->time_ns <= end; ++it) {
                if (it->task == id && it->track == laneIndex) {
                    text += QStringLiteral("<br><span style='color:%1'>%2</span>")
                                .arg(Style::lintColor(analysis::lint_kind::lagged_receiver).name(),
                                     tr("lagged: missed %1 %2 of %3")
                                         .arg(it->missed)
                                         .arg(it->missed == 1 ? tr("message") : tr("messages"))
                                         .arg(QString::fromStdString(m.resource_label(r.id))
                                                  .toHtmlEscaped()));
                }
            }
        }
    }
    text += tr("<br>at %1").arg(formatOffset(static_cast<double>(p.begin_ns - m.first_ns())));
    return text;
}

// ---- interaction ----

TimelineView::Hit TimelineView::hitTest(QPoint at) const {
    Hit hit;
    const int x = at.x() - labelWidth();
    if (x < 0) {
        return hit;
    }
    for (const Row& row : rows()) {
        if ((row.kind != Row::Kind::worker && row.kind != Row::Kind::executor) ||
            at.y() < row.top || at.y() >= row.top + row.height) {
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

const TimelineView::Row* TimelineView::rowAt(const std::vector<Row>& all, QPoint at) const {
    if (at.x() < labelWidth()) {
        return nullptr;
    }
    for (const Row& row : all) {
        if (at.y() >= row.top && at.y() < row.top + row.height) {
            return &row;
        }
    }
    return nullptr;
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
            if (r.client != client || requestStack(r) != stack) {
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
    const QString which = QString::fromStdString(analysis::request_label(r.request_id, r.http2));
    QString text =
        tr("<b>%1</b><br>%2, %3")
            .arg(QString::fromStdString(m.name(r.route)).toHtmlEscaped(), which,
                 r.client ? tr("as the load generator saw it") : tr("as the server saw it"));
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
    const std::vector<Row> all = rows();
    const Row* row = rowAt(all, event->pos());
    if (hit.lane >= 0) {
        hover = m.lanes()[static_cast<std::size_t>(hit.lane)].polls[hit.poll].task;
        QToolTip::showText(event->globalPosition().toPoint(), pollToolTip(hit.lane, hit.poll),
                           this);
    } else if (row != nullptr && row->kind == Row::Kind::resource) {
        const double ns = m_view->scale().nsAt(event->position().x() - labelWidth());
        QToolTip::showText(event->globalPosition().toPoint(), resourceToolTip(row->resource, ns),
                           this);
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
        const std::vector<Row> all = rows();
        if (const Row* row = rowAt(all, event->pos()); row && row->kind == Row::Kind::resource) {
            // A resource row selects its resource (again: clears it).
            m_view->selectResource(row->resource == m_view->selectedResource() ? 0 : row->resource);
            return;
        }
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
        m_view->selectResource(0);
        return;
    default:
        QWidget::keyPressEvent(event);
        return;
    }
    m_view->notifyRangeChanged();
}

} // namespace taskscope::ui
