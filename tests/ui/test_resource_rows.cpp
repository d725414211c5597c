// The timeline's resource rows: what they draw per pixel (a mutex's holds, a channel's
// depth, the tasks waiting), which resources get a row, selecting one, the tooltips that
// name what a task waited for, and executor lanes. Hand-made traces, checked exactly.

#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "look/style.hpp"
#include "maths/resource_rows.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/event_types.hpp"
#include "widgets/main_window.hpp"
#include "widgets/timeline_view.hpp"

#include <QAction>
#include <QApplication>
#include <QImage>
#include <QMenu>
#include <QMenuBar>
#include <QTest>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>

namespace {

using namespace taskscope;
using analysis::depth_point;
using analysis::hold_span;
using trace::resource_kind;
using trace::resource_op;
using ui::TimelineView;
using ui::TimeScale;
namespace make = trace::make;

constexpr std::uint16_t w0 = 0;
constexpr std::uint16_t w1 = 1;

TimeScale scaleOf(double width, double start, double end) {
    TimeScale s;
    s.setWidth(width);
    s.setBounds(static_cast<std::uint64_t>(start), static_cast<std::uint64_t>(end));
    s.setVisible(start, end);
    return s;
}

/// A TimelineView on a hand-made trace, shown (offscreen) and painted once.
struct Scene {
    ui::TraceDocument document;
    ui::ViewState view;
    TimelineView timeline{&document, &view};

    explicit Scene(const std::vector<trace::event>& events,
                   const std::vector<std::string>& names = {}) {
        auto m = std::make_unique<analysis::model>();
        if (!names.empty()) {
            m->set_names(names);
        }
        m->consume(events);
        m->finish();
        document.adopt(std::move(m), trace::run_info{}, QStringLiteral("test"), QString());
        timeline.resize(1200, 800);
        timeline.show();
        QApplication::processEvents();
        (void)image();
    }
    [[nodiscard]] const analysis::model& model() const { return document.model(); }
    [[nodiscard]] QImage image() { return timeline.grab().toImage(); }
    [[nodiscard]] std::vector<TimelineView::Row> rowsOf(TimelineView::Row::Kind kind) const {
        std::vector<TimelineView::Row> out;
        for (const auto& row : timeline.rows()) {
            if (row.kind == kind) {
                out.push_back(row);
            }
        }
        return out;
    }
    /// Pixels of `color` in the rows of `kind`.
    [[nodiscard]] int pixelsOf(const QImage& image, TimelineView::Row::Kind kind,
                               const QColor& color) const {
        int n = 0;
        for (const auto& row : rowsOf(kind)) {
            for (int y = row.top; y < row.top + row.height; ++y) {
                for (int x = timeline.labelWidth(); x < image.width(); ++x) {
                    n += image.pixel(x, y) == color.rgb() ? 1 : 0;
                }
            }
        }
        return n;
    }
};

std::vector<trace::event> twoWorkers() {
    return {make::track_started(0, w0, trace::track_kind::worker, 0),
            make::track_started(0, w1, trace::track_kind::worker, 1)};
}

trace::event waitFor(std::uint64_t t, std::uint16_t track, std::uint64_t task, std::uint32_t r,
                     resource_op op, std::uint64_t holder = 0) {
    return make::raw(t, track, trace::event_kind::resource_wait, task, holder, r,
                     static_cast<std::uint8_t>(op));
}

// Names: 1 "log", 2 "jobs".
const std::vector<std::string> names{"task", "log", "jobs"};
constexpr std::uint32_t mutexId = 7;

/// Task 1 holds mutex 'log' from 20 to 100 (suspended across it); task 2 waits for it
/// from 41, is granted it at 100 and lets go at 110; task 3 runs between, touching nothing.
///   worker 0: [15,30] task 1, [60,70] task 3, [90,110] task 1
///   worker 1: [40,42] task 2 (waits), [105,120] task 2 (holds)
std::vector<trace::event> contendedMutex() {
    auto ev = twoWorkers();
    const auto add = [&](trace::event e) { ev.push_back(e); };
    add(make::resource_created(1, w0, mutexId, resource_kind::mutex, 1, 1));
    for (std::uint64_t t = 1; t <= 3; ++t) {
        add(make::task_spawned(2, w0, t));
    }
    add(make::poll_begin(15, w0, 1));
    add(make::resource_depth(20, w0, 1, mutexId, resource_op::lock, 1));
    add(make::poll_end(30, w0, 1, trace::poll_result::pending));
    add(make::poll_begin(40, w1, 2));
    add(waitFor(41, w1, 2, mutexId, resource_op::lock, 1));
    add(make::poll_end(42, w1, 2, trace::poll_result::pending));
    add(make::poll_begin(60, w0, 3));
    add(make::poll_end(70, w0, 3, trace::poll_result::pending));
    add(make::poll_begin(90, w0, 1));
    add(make::resource_released(100, w0, 1, mutexId, 1));
    add(make::resource_ready(100, w0, 2, mutexId, resource_op::lock, 59));
    add(make::wake(100, w0, 2, 1, trace::wake_source::channel));
    add(make::poll_begin(105, w1, 2));
    add(make::resource_released(110, w1, 2, mutexId, 0));
    add(make::poll_end(110, w0, 1, trace::poll_result::ready));
    add(make::poll_end(120, w1, 2, trace::poll_result::ready));
    add(make::marker(200, w0, 0));
    return ev;
}

QString label(const analysis::model& m, std::uint64_t task) {
    return QString::fromStdString(m.task_label(m.find_task(task)));
}

} // namespace

// ---- the per-pixel maths ----------------------------------------------------------------

TEST_CASE("resource rows: a million holds of a mutex draw at most one item a pixel column, "
          "covering exactly the pixels the holds cover",
          "[timeline][resources]") {
    analysis::column<hold_span> holds;
    std::mt19937_64 random(11);
    std::uint64_t t = 1000;
    for (int i = 0; i < 1'000'000; ++i) {
        t += random() % 500; // free for a while, or handed on at once
        const std::uint64_t length = 1 + random() % 2000;
        holds.push_back({.begin_ns = t,
                         .end_ns = t + length,
                         .task = 1 + random() % 4,
                         .across_await = random() % 7 == 0});
        t += length;
    }
    // Whole nanoseconds a pixel, so the test's pixel of a time is the code's.
    const double end = 1000.0 * std::ceil(static_cast<double>(t + 1000) / 1000.0);
    const TimeScale s = scaleOf(1000, 0, end);
    std::vector<ui::HoldItem> items;
    ui::holdDrawList(holds, s, t + 1000, items);
    CHECK(items.size() <= 1001);
    std::vector<bool> drawn(1002, false);
    double previous = -1;
    for (const ui::HoldItem& item : items) {
        REQUIRE(item.x1 > item.x0);
        CHECK(item.x0 >= previous); // left to right, never overlapping
        previous = item.x1;
        const hold_span& h = holds[item.hold];
        CHECK(item.task == h.task); // the holder's colour
        CHECK(item.acrossAwait == h.across_await);
        CHECK(static_cast<double>(h.begin_ns) < s.nsAt(item.x1));
        CHECK(static_cast<double>(h.end_ns) > s.nsAt(item.x0));
        for (auto x = static_cast<long>(item.x0); x < static_cast<long>(item.x1); ++x) {
            drawn[static_cast<std::size_t>(x + 1)] = true;
        }
    }
    // Every pixel a hold reaches is drawn, and nothing else.
    std::vector<bool> held(1002, false);
    for (const hold_span& h : holds) {
        const auto x0 = static_cast<long>(std::floor(s.xOf(static_cast<double>(h.begin_ns))));
        const auto x1 =
            std::max(x0 + 1, static_cast<long>(std::ceil(s.xOf(static_cast<double>(h.end_ns)))));
        for (long x = x0; x < x1; ++x) {
            held[static_cast<std::size_t>(x + 1)] = true;
        }
    }
    CHECK(drawn == held);

    // Zoomed in on twenty holds, each is its own item from its first pixel.
    const TimeScale zoomed = scaleOf(1000, static_cast<double>(holds[5000].begin_ns),
                                     static_cast<double>(holds[5019].end_ns));
    ui::holdDrawList(holds, zoomed, t + 1000, items);
    REQUIRE(items.size() == 20);
    for (std::size_t i = 0; i < items.size(); ++i) {
        CHECK(items[i].hold == 5000 + i);
        CHECK(items[i].x0 == std::max(-1.0, std::floor(zoomed.xOf(
                                                static_cast<double>(holds[5000 + i].begin_ns)))));
    }
}

TEST_CASE("resource rows: a long hold beginning inside a pixel already drawn is drawn to its "
          "end, and one still open reaches the trace's end",
          "[timeline][resources]") {
    analysis::column<hold_span> holds;
    holds.push_back({.begin_ns = 0, .end_ns = 10, .task = 1});
    holds.push_back({.begin_ns = 10, .end_ns = 20, .task = 2});
    holds.push_back({.begin_ns = 20, .end_ns = 1000, .task = 3});
    holds.push_back({.begin_ns = 1500, .task = 4}); // still held
    const TimeScale s = scaleOf(20, 0, 2000);       // 100 ns a pixel
    std::vector<ui::HoldItem> items;
    ui::holdDrawList(holds, s, 1800, items);
    REQUIRE(items.size() == 3);
    CHECK(items[0].task == 1);
    CHECK(items[0].folded); // task 2's hold shares its pixel
    CHECK(items[0].x0 == 0);
    CHECK(items[0].x1 == 1);
    CHECK(items[1].task == 3);
    CHECK(items[1].x0 == 1);
    CHECK(items[1].x1 == 10);
    CHECK(items[2].task == 4);
    CHECK(items[2].x0 == 15);
    CHECK(items[2].x1 == 18);
    CHECK(ui::holdAt(holds, 500, 1800)->task == 3);
    CHECK(ui::holdAt(holds, 1200, 1800) == nullptr);
    CHECK(ui::holdAt(holds, 1700, 1800)->task == 4);
}

TEST_CASE("resource rows: per pixel column the highest level of a step series, the level "
          "carried in included",
          "[timeline][resources]") {
    analysis::column<depth_point> series;
    std::mt19937_64 random(5);
    std::uint64_t t = 0;
    for (int i = 0; i < 3000; ++i) {
        t += random() % 2000;
        series.push_back({t, static_cast<std::uint32_t>(random() % 9)});
    }
    const double end = 500.0 * std::ceil((static_cast<double>(t) + 1000) / 500.0);
    const TimeScale s = scaleOf(500, 0, end); // whole nanoseconds a pixel
    std::vector<std::size_t> all(series.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    std::vector<std::uint32_t> columns;
    ui::columnMaxima(series, all, s, 500, static_cast<std::uint64_t>(end), columns);
    REQUIRE(columns.size() == 500);
    for (int c = 0; c < 500; ++c) {
        std::uint32_t expected = ui::levelAt(series, s.nsAt(c));
        for (const depth_point& p : series) {
            if (static_cast<int>(std::floor(s.xOf(static_cast<double>(p.time_ns)))) == c) {
                expected = std::max(expected, p.depth);
            }
        }
        INFO("column " << c);
        CHECK(columns[static_cast<std::size_t>(c)] == expected);
    }
    // After the trace's end nothing is drawn.
    ui::columnMaxima(series, all, s, 500, static_cast<std::uint64_t>(s.nsAt(100)), columns);
    CHECK(std::all_of(columns.begin() + 100, columns.end(), [](auto v) { return v == 0; }));
}

// ---- the rows ----------------------------------------------------------------------------

TEST_CASE("resource rows: a mutex row draws each holder in its colour, the hold across an "
          "await marked, and the wait at the bottom",
          "[timeline][resources]") {
    Scene scene(contendedMutex(), names);
    const auto rows = scene.rowsOf(TimelineView::Row::Kind::resource);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].resource == mutexId);
    CHECK(rows[0].label == QStringLiteral("mutex 'log'"));
    // Below every other row.
    CHECK(scene.timeline.rows().back().kind == TimelineView::Row::Kind::resource);

    const auto d = scene.timeline.resourceDrawing(mutexId);
    REQUIRE(d.holds.size() == 2);
    CHECK(d.holds[0].task == 1);
    CHECK(d.holds[0].acrossAwait); // task 1 suspended holding it
    CHECK(d.holds[1].task == 2);
    CHECK_FALSE(d.holds[1].acrossAwait);
    CHECK(d.depth.empty()); // a mutex shows its holders, not a depth
    const TimeScale& s = scene.view.scale();
    const auto column = [&](double ns) { return static_cast<std::size_t>(s.xOf(ns)); };
    CHECK(d.waiters[column(70)] == 1); // task 2 waits from 41 to 100
    CHECK(d.waiters[column(150)] == 0);
    CHECK(d.waiters[column(30)] == 0);

    const QImage image = scene.image();
    const auto& row = rows[0];
    const auto at = [&](double ns, double fraction) {
        return QColor(image.pixel(scene.timeline.labelWidth() + static_cast<int>(s.xOf(ns)),
                                  row.top + static_cast<int>(row.height * fraction)));
    };
    CHECK(at(95, 0.5).rgb() == ui::Style::taskColor(1).rgb()); // right of its holder's name
    CHECK(at(105, 0.5).rgb() == ui::Style::taskColor(2).rgb());
    CHECK(at(60, 0.15).rgb() == ui::Style::heldAcrossAwaitColor().rgb());
    CHECK(at(70, 0.88).rgb() == ui::Style::resourceWaitersColor().rgb());
    CHECK(at(150, 0.88).rgb() != ui::Style::resourceWaitersColor().rgb());

    // Hovering it says who holds it, since when, and who waits.
    const QString held = scene.timeline.resourceToolTip(mutexId, 60);
    CHECK(held.contains(QStringLiteral("held by ") + label(scene.model(), 1)));
    CHECK(held.contains(QStringLiteral("held across an await")));
    CHECK(held.contains(QStringLiteral("1 task waiting")));
    CHECK(held.contains(QStringLiteral(": ") + label(scene.model(), 2)));
    const QString free = scene.timeline.resourceToolTip(mutexId, 150);
    CHECK(free.contains(QStringLiteral("free")));
    CHECK(free.contains(QStringLiteral("nobody waiting")));
}

TEST_CASE("resource rows: a bounded channel's depth fills to its capacity, full in the alarm "
          "colour, from a million depth points",
          "[timeline][resources]") {
    constexpr std::uint32_t ch = 2;
    auto ev = twoWorkers();
    ev.push_back(make::resource_created(1, w0, ch, resource_kind::mpsc, 2, 64));
    // A sawtooth: filling to 64 and draining, 1,000,000 points; full in its second half only.
    std::uint64_t t = 10;
    for (int i = 0; i < 1'000'000; ++i) {
        const auto depth = static_cast<std::uint64_t>(i % 64) + (i >= 500'000 && i % 64 == 63);
        ev.push_back(make::resource_depth(t, w0, 1, ch, resource_op::send, depth));
        t += 10;
    }
    Scene scene(ev, names);
    const auto d = scene.timeline.resourceDrawing(ch);
    CHECK(d.bounded);
    CHECK(d.scaleTo == 64);
    REQUIRE(d.depth.size() == static_cast<std::size_t>(std::ceil(scene.view.scale().width())));
    const TimeScale& s = scene.view.scale();
    const auto column = [&](double ns) { return static_cast<std::size_t>(s.xOf(ns)); };
    // Every column in the trace reaches 62 or more (hundreds of sawteeth a column).
    for (std::size_t c = column(100) + 1; c + 1 < column(static_cast<double>(t)); ++c) {
        INFO("column " << c);
        CHECK(d.depth[c] >= 62);
        CHECK(d.depth[c] <= 64);
    }
    CHECK(d.depth[column(2'000'000)] < 64);
    CHECK(d.depth[column(8'000'000)] == 64);
    const QImage image = scene.image();
    CHECK(scene.pixelsOf(image, TimelineView::Row::Kind::resource, ui::Style::resourceFullColor()) >
          100);
}

TEST_CASE("resource rows: the first six resources by default, channels before locks before "
          "notifies, as many as chosen, the selected one always, none without resources",
          "[timeline][resources]") {
    auto ev = twoWorkers();
    for (std::uint32_t r = 1; r <= 8; ++r) {
        ev.push_back(make::resource_created(
            r, w0, 100 + r, r % 2 ? resource_kind::semaphore : resource_kind::mpsc, 1, 4));
    }
    ev.push_back(make::resource_created(9, w0, 109, resource_kind::notify, 1, 0));
    ev.push_back(make::marker(100, w0, 0));
    Scene scene(ev, names);
    using ids = std::vector<std::uint32_t>;
    // The channels (even ids) first, then the semaphores, each in the trace's order.
    CHECK(scene.timeline.resourceRowIds() == ids{102, 104, 106, 108, 101, 103});
    CHECK(scene.rowsOf(TimelineView::Row::Kind::resource).size() == 6);
    scene.timeline.setResourceRows(3);
    CHECK(scene.timeline.resourceRowIds() == ids{102, 104, 106});
    scene.view.selectResource(101);
    CHECK(scene.timeline.resourceRowIds() == ids{102, 104, 101});
    scene.view.selectResource(104);
    CHECK(scene.timeline.resourceRowIds() == ids{102, 104, 106});
    scene.timeline.setResourceRows(12);
    CHECK(scene.timeline.resourceRowIds() ==
          ids{102, 104, 106, 108, 101, 103, 105, 107, 109}); // the notify last
    scene.timeline.setResourceRows(0);
    CHECK(scene.rowsOf(TimelineView::Row::Kind::resource).empty());

    Scene none(twoWorkers());
    CHECK(none.rowsOf(TimelineView::Row::Kind::resource).empty());
    CHECK(none.timeline.rows().back().kind == TimelineView::Row::Kind::requests);
}

TEST_CASE("resource rows: View > Resource rows is kept for the next window",
          "[window][resources]") {
    {
        ui::MainWindow w;
        CHECK(w.timeline()->resourceRows() == 6);
        QAction* twelve = nullptr;
        for (QAction* menu : w.menuBar()->actions()) {
            for (QAction* item : menu->menu()->actions()) {
                if (item->menu() != nullptr &&
                    item->text().remove(QLatin1Char('&')) == QStringLiteral("Resource rows")) {
                    for (QAction* choice : item->menu()->actions()) {
                        twelve = choice->text() == QStringLiteral("12") ? choice : twelve;
                    }
                }
            }
        }
        REQUIRE(twelve != nullptr);
        twelve->trigger();
        CHECK(twelve->isChecked());
        CHECK(w.timeline()->resourceRows() == 12);
    }
    CHECK(ui::MainWindow::savedResourceRows() == 12);
    ui::MainWindow again;
    CHECK(again.timeline()->resourceRows() == 12);
    again.setResourceRows(6); // as the other tests expect it
    CHECK(ui::MainWindow::savedResourceRows() == 6);
}

TEST_CASE("resource rows: selecting a mutex outlines its holders' polls and its waiter's, "
          "clicking its row selects it, Escape clears it",
          "[timeline][resources]") {
    Scene scene(contendedMutex(), names);
    CHECK(scene.timeline.resourcePolls().empty());
    const QColor holder = ui::Style::resourceHolderColor();
    const QColor waiter = ui::Style::resourceWaiterColor();
    CHECK(scene.pixelsOf(scene.image(), TimelineView::Row::Kind::worker, holder) == 0);

    const auto row = scene.rowsOf(TimelineView::Row::Kind::resource).front();
    QTest::mouseClick(&scene.timeline, Qt::LeftButton, {},
                      QPoint(scene.timeline.labelWidth() + 40, row.top + row.height / 2));
    CHECK(scene.view.selectedResource() == mutexId);
    using P = TimelineView::ResourcePoll;
    // Task 1's two polls while it held it; task 2's poll that began the wait, and the one
    // it was granted it in (where it then held it). Task 3's poll is not among them.
    const std::vector<P> expected{
        {w0, 0, true}, {w0, 2, true}, {w1, 0, false}, {w1, 1, false}, {w1, 1, true}};
    CHECK(scene.timeline.resourcePolls() == expected);
    const QImage image = scene.image();
    CHECK(scene.pixelsOf(image, TimelineView::Row::Kind::worker, holder) > 20);
    CHECK(scene.pixelsOf(image, TimelineView::Row::Kind::worker, waiter) > 20);

    QTest::keyClick(&scene.timeline, Qt::Key_Escape);
    CHECK(scene.view.selectedResource() == 0);
    CHECK(scene.timeline.resourcePolls().empty());
}

TEST_CASE("resource rows: hovering a poll that went on to wait names what it waited for and "
          "who held it",
          "[timeline][resources]") {
    {
        Scene scene(contendedMutex(), names);
        const QString tip = scene.timeline.pollToolTip(w1, 0);
        INFO(tip.toStdString());
        CHECK(tip.contains(QStringLiteral("then waited %1 for mutex 'log' held by %2")
                               .arg(QString::fromStdString(analysis::format_duration(59, 2)),
                                    label(scene.model(), 1))));
        // A poll that waited for nothing says nothing of it.
        CHECK_FALSE(scene.timeline.pollToolTip(w0, 1).contains(QStringLiteral("waited")));
    }
    // On a channel: a receiver waits for a message, a sender for room.
    constexpr std::uint32_t ch = 2;
    auto ev = twoWorkers();
    ev.push_back(make::resource_created(1, w0, ch, resource_kind::mpsc, 2, 1));
    ev.push_back(make::poll_begin(10, w0, 1));
    ev.push_back(waitFor(12, w0, 1, ch, resource_op::recv));
    ev.push_back(make::poll_end(14, w0, 1, trace::poll_result::pending));
    ev.push_back(make::poll_begin(20, w1, 2));
    ev.push_back(make::resource_depth(21, w1, 2, ch, resource_op::send, 1));
    ev.push_back(make::resource_ready(22, w1, 1, ch, resource_op::recv, 10));
    ev.push_back(waitFor(23, w1, 2, ch, resource_op::send));
    ev.push_back(make::poll_end(24, w1, 2, trace::poll_result::pending));
    ev.push_back(make::marker(3000, w0, 0));
    Scene scene(ev, names);
    INFO(scene.timeline.pollToolTip(w0, 0).toStdString());
    INFO(scene.timeline.pollToolTip(w1, 0).toStdString());
    CHECK(scene.timeline.pollToolTip(w0, 0).contains(
        QStringLiteral("then waited %1 for a message on mpsc channel 'jobs'")
            .arg(QString::fromStdString(analysis::format_duration(10, 2)))));
    CHECK(scene.timeline.pollToolTip(w1, 0).contains(
        QStringLiteral("for room in mpsc channel 'jobs'")));
}

TEST_CASE("executor lanes: a thread running its own executor gets a worker-like row after the "
          "workers",
          "[timeline]") {
    auto ev = twoWorkers();
    ev.push_back(make::track_started(0, 2, trace::track_kind::executor, 0));
    for (std::uint64_t i = 0; i < 20; ++i) {
        ev.push_back(make::poll_begin(100 + i * 100, 2, 1 + i % 3));
        ev.push_back(make::poll_end(160 + i * 100, 2, 1 + i % 3, trace::poll_result::pending));
    }
    Scene scene(ev);
    const auto all = scene.timeline.rows();
    REQUIRE(all.size() >= 4);
    CHECK(all[0].kind == TimelineView::Row::Kind::worker);
    CHECK(all[1].kind == TimelineView::Row::Kind::worker);
    CHECK(all[2].kind == TimelineView::Row::Kind::executor);
    CHECK(all[2].label == QStringLiteral("own executor 0"));
    CHECK(all[2].lane == 2);
    CHECK(all[2].height == all[0].height);
    // Its polls are drawn, in their tasks' colours, and hovering one describes it.
    const QImage image = scene.image();
    CHECK(scene.pixelsOf(image, TimelineView::Row::Kind::executor, ui::Style::taskColor(1)) > 100);
    CHECK(scene.pixelsOf(image, TimelineView::Row::Kind::worker, ui::Style::taskColor(1)) == 0);
    CHECK(scene.timeline.pollToolTip(2, 0).contains(QStringLiteral("poll on own executor 0")));
}

TEST_CASE("a broadcast's lags: marked on its row and on the lane of the poll that found them, "
          "named in that poll's tooltip, and nothing drawn after its close",
          "[timeline][resources]") {
    constexpr std::uint32_t feed = 9;
    auto ev = twoWorkers();
    const auto add = [&](trace::event e) { ev.push_back(e); };
    add(make::resource_created(1, w0, feed, resource_kind::broadcast, 2, 4));
    add(make::task_spawned(2, w0, 1));
    add(make::task_spawned(2, w0, 2));
    add(make::resource_depth(3, w0, 2, feed, resource_op::send, 4)); // full from the start
    add(make::poll_begin(100, w1, 1));
    add(make::resource_lagged(105, w1, 1, feed, 37));
    add(make::poll_end(120, w1, 1, trace::poll_result::pending));
    add(make::poll_begin(130, w0, 2)); // a poll with no lag in it
    add(make::poll_end(140, w0, 2, trace::poll_result::pending));
    add(make::resource_closed(150, w0, feed));
    add(make::marker(300, w0, 0));
    Scene scene(ev, names);

    const analysis::resource_info* r = scene.model().resources().find(feed);
    REQUIRE(r != nullptr);
    REQUIRE(r->lags.size() == 1);
    CHECK(r->lags[0].time_ns == 105);
    CHECK(r->lags[0].missed == 37);
    CHECK(r->lags[0].track == w1);
    CHECK(r->closed_ns == 150);

    const QColor lag = ui::Style::lintColor(analysis::lint_kind::lagged_receiver);
    const QImage image = scene.image();
    CHECK(scene.pixelsOf(image, TimelineView::Row::Kind::resource, lag) > 0);
    // On worker 1's lane (where the receiver found out), not on worker 0's.
    int onW0 = 0;
    int onW1 = 0;
    for (const auto& row : scene.rowsOf(TimelineView::Row::Kind::worker)) {
        int n = 0;
        for (int y = row.top; y < row.top + row.height; ++y) {
            for (int x = scene.timeline.labelWidth(); x < image.width(); ++x) {
                n += image.pixel(x, y) == lag.rgb() ? 1 : 0;
            }
        }
        (row.lane == w0 ? onW0 : onW1) = n;
    }
    CHECK(onW0 == 0);
    CHECK(onW1 > 0);
    CHECK(scene.timeline.pollToolTip(w1, 0).contains(QStringLiteral("lagged: missed 37 messages")));
    CHECK_FALSE(scene.timeline.pollToolTip(w0, 0).contains(QStringLiteral("lagged")));

    // The depth area ends at the close (150 of 300).
    const auto rows = scene.rowsOf(TimelineView::Row::Kind::resource);
    REQUIRE(rows.size() == 1);
    const TimeScale& s = scene.view.scale();
    const QColor full = ui::Style::resourceDepthColor(scene.timeline.palette()); // no alarm
    int beforeClose = 0;
    int afterClose = 0;
    for (int y = rows[0].top; y < rows[0].top + rows[0].height; ++y) {
        for (int x = scene.timeline.labelWidth(); x < image.width(); ++x) {
            if (image.pixel(x, y) == full.rgb()) {
                // The close's own column may be drawn; none after it.
                const double closeX = s.xOf(150) + scene.timeline.labelWidth();
                (x <= closeX + 1 ? beforeClose : afterClose) += 1;
            }
        }
    }
    CHECK(beforeClose > 0);
    CHECK(afterClose == 0);
}
