// The real window, driven as a teacher drives it: fire requests, switch sleep modes, open
// files (good, damaged, wrong), and look at what the timeline draws.

#include "charts/latency_chart.hpp"
#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "look/style.hpp"
#include "maths/request_decimator.hpp"
#include "models/resource_table_model.hpp"
#include "models/task_table_model.hpp"
#include "taskscope/sync.hpp"
#include "taskscope/time.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "ui_test_support.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/main_window.hpp"
#include "widgets/queue_strip.hpp"
#include "widgets/timeline_view.hpp"

#include <QApplication>
#include <QComboBox>
#include <QHeaderView>
#include <QImage>
#include <QLineEdit>
#include <QProgressDialog>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableView>
#include <QTest>
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <thread>

namespace {

using namespace taskscope;
using taskscope::ui::MainWindow;

using taskscope::ui::testing::histogramTotal;
using taskscope::ui::testing::runUntil;

/// Finished client-side requests to `route` in the window's trace.
std::vector<analysis::request_span> requestsTo(const MainWindow& w, const std::string& route) {
    std::vector<analysis::request_span> out;
    const analysis::model& m = w.document()->model();
    for (const analysis::request_span& r : m.requests()) {
        if (r.client && r.finished() && m.name(r.route) == route) {
            out.push_back(r);
        }
    }
    return out;
}

/// The first finished server-side request to `route` (without its query).
analysis::request_span serverRequestTo(const MainWindow& w, const std::string& route) {
    const analysis::model& m = w.document()->model();
    for (const analysis::request_span& r : m.requests()) {
        if (!r.client && r.finished() && m.name(r.route) == route) {
            return r;
        }
    }
    return {};
}

bool serverBegan(const MainWindow& w, const std::string& route) {
    const analysis::model& m = w.document()->model();
    for (const analysis::request_span& r : m.requests()) {
        if (!r.client && m.name(r.route) == route.substr(0, route.find('?'))) {
            return true;
        }
    }
    return false;
}

void fire(MainWindow& w, const QString& target, int count, int concurrency) {
    ui::ControlPanel* c = w.controls();
    const int index = target.startsWith(QStringLiteral("/sleep")) ? 1
                      : target.startsWith(QStringLiteral("/cpu")) ? 2
                                                                  : 0;
    c->route()->setCurrentIndex(index);
    if (index != 0) {
        c->routeMs()->setValue(target.section(QLatin1Char('='), 1).toInt());
    }
    c->count()->setValue(count);
    c->concurrency()->setValue(concurrency);
    QTest::mouseClick(c->fireButton(), Qt::LeftButton);
}

std::filesystem::path sample() {
    return std::filesystem::path(TASKSCOPE_TEST_DATA) / "demo-blocking.tstrace";
}

std::filesystem::path temp(const std::string& name) {
    return std::filesystem::temp_directory_path() /
           ("taskscope-ui-test-" + std::to_string(::getpid()) + "-" + name);
}

/// Pixels in a timeline row's drawing area that are neither of the row backgrounds.
int paintedPixels(const QImage& image, const ui::TimelineView& view,
                  const ui::TimelineView::Row& row) {
    const QRgb base = view.palette().base().color().rgb();
    const QRgb alternate = view.palette().alternateBase().color().rgb();
    int painted = 0;
    for (int y = row.top + 2; y < row.top + row.height - 2; ++y) {
        for (int x = view.labelWidth() + 1; x < image.width(); ++x) {
            const QRgb p = image.pixel(x, y);
            painted += (p != base && p != alternate) ? 1 : 0;
        }
    }
    return painted;
}

} // namespace

TEST_CASE("firing 10 requests fills the latency chart and the task table", "[window]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    REQUIRE(w.startLive({.workers = 2}));
    const int tasksBefore = w.taskModel()->rowCount();
    fire(w, QStringLiteral("/"), 10, 2);
    REQUIRE(runUntil([&] { return requestsTo(w, "/").size() == 10; }));
    // Every request counts in the histogram; the scatter keeps at most a few per pixel
    // column, and ten requests fired at once may share one.
    REQUIRE(runUntil([&] { return histogramTotal(*w.latencyChart()) == 10; }));
    REQUIRE(runUntil(
        [&] { return w.latencyChart()->pointCount() >= ui::RequestDecimator::maxPerColumn; }));
    CHECK(w.latencyChart()->pointCount() <= 10);
    w.taskModel()->refresh();
    CHECK(w.taskModel()->rowCount() > tasksBefore);
    CHECK(w.latencyChart()->routes().contains(QStringLiteral("/")));
    CHECK(w.lastError().isEmpty());
}

TEST_CASE("one worker in blocking mode: a sleep blocks the worker and delays the next request",
          "[window]") {
    for (const bool blocking : {true, false}) {
        DYNAMIC_SECTION((blocking ? "blocking" : "async") << " sleep mode") {
            MainWindow w;
            w.setQuietErrors(true);
            w.show();
            REQUIRE(w.startLive(
                {.workers = 1,
                 .sleep = blocking ? net::sleep_mode::blocking : net::sleep_mode::async}));
            fire(w, QStringLiteral("/sleep?ms=300"), 1, 1);
            // Fire "/" once the server is inside the sleep, as a student clicking twice.
            REQUIRE(runUntil([&] { return serverBegan(w, "/sleep?ms=300"); }));
            fire(w, QStringLiteral("/"), 1, 1);
            REQUIRE(runUntil([&] {
                return requestsTo(w, "/").size() == 1 && requestsTo(w, "/sleep?ms=300").size() == 1;
            }));
            const analysis::model& m = w.document()->model();
            const int worker = m.worker_lane(0);
            REQUIRE(worker >= 0);
            const auto& blocks = m.lanes()[static_cast<std::size_t>(worker)].blocks;
            const analysis::request_span quick = requestsTo(w, "/").front();
            const analysis::request_span slow = requestsTo(w, "/sleep?ms=300").front();
            if (blocking) {
                REQUIRE(blocks.size() == 1);
                // "/" could only be answered after the worker came back from the sleep.
                CHECK(quick.end_ns >= blocks[0].end_ns);
                CHECK(quick.latency_ns() + (quick.begin_ns - slow.begin_ns) >=
                      blocks[0].end_ns - blocks[0].begin_ns);
            } else {
                CHECK(blocks.empty());
                // Answered while the sleep was waiting: on the one worker, a "/" that reached
                // the server before the sleep ended is answered within that poll, before the
                // sleep's task is polled again. (A loaded machine may deliver "/" only after
                // the sleep ended; then there is nothing to compare.)
                const analysis::request_span quickServer = serverRequestTo(w, "/");
                const analysis::request_span slowServer = serverRequestTo(w, "/sleep");
                if (quickServer.begin_ns < slowServer.end_ns) {
                    CHECK(quickServer.end_ns < slowServer.end_ns);
                } else {
                    WARN("\"/\" reached the server only after the sleep ended");
                }
            }

            // The timeline draws the block in the alarm colour on the worker's lane.
            w.resize(1400, 900);
            QApplication::processEvents();
            ui::TimelineView* view = w.timeline();
            view->showAll();
            const QImage image = view->grab().toImage();
            const QRgb alarm = ui::Style::blockedColor().rgb();
            int alarmPixels = 0;
            for (const auto& row : view->rows()) {
                if (row.lane != worker) {
                    continue;
                }
                for (int y = row.top; y < row.top + row.height; ++y) {
                    for (int x = view->labelWidth(); x < image.width(); ++x) {
                        alarmPixels += image.pixel(x, y) == alarm ? 1 : 0;
                    }
                }
            }
            if (blocking) {
                CHECK(alarmPixels > 500);
            } else {
                CHECK(alarmPixels == 0);
            }
        }
    }
}

TEST_CASE("an opened sample trace draws poll slices in every worker lane", "[window]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    w.show();
    QSignalSpy opened(&w, &MainWindow::fileOpened);
    w.openFile(QString::fromStdString(sample().string()));
    REQUIRE(runUntil([&] { return opened.count() == 1; }));
    REQUIRE(opened.front().front().toBool());
    CHECK_FALSE(w.document()->isLive());
    CHECK(w.document()->model().event_count() > 1000);
    QApplication::processEvents();
    ui::TimelineView* view = w.timeline();
    const QImage image = view->grab().toImage();
    int workers = 0;
    for (const auto& row : view->rows()) {
        if (row.kind == ui::TimelineView::Row::Kind::worker) {
            ++workers;
            INFO("lane " << row.label.toStdString());
            CHECK(paintedPixels(image, *view, row) > 200);
        }
    }
    CHECK(workers == 2);
}

TEST_CASE("hovering a request in the requests lane names its route, latency, status and task",
          "[window]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    w.show();
    REQUIRE(ui::testing::openAndWait(w, ui::testing::testData("http-blocking.tstrace")));
    QApplication::processEvents();
    // The scatter's time axis, laid out for its settled width, has labels to read.
    CHECK(
        runUntil([&] { return w.latencyChart()->timeLabelCount() >= 2; }, std::chrono::seconds(5)));
    const ui::TimelineView* view = w.timeline();
    const analysis::model& m = w.document()->model();
    const auto rows = view->rows();
    const auto row = std::find_if(rows.begin(), rows.end(), [](const auto& r) {
        return r.kind == ui::TimelineView::Row::Kind::requests;
    });
    REQUIRE(row != rows.end());
    // The longest finished request of the side shown: wide enough to point at.
    std::size_t longest = m.requests().size();
    for (std::size_t i = 0; i < m.requests().size(); ++i) {
        const auto& r = m.requests()[i];
        if (r.finished() && r.client == m.has_client_requests() &&
            (longest == m.requests().size() ||
             r.latency_ns() > m.requests()[longest].latency_ns())) {
            longest = i;
        }
    }
    REQUIRE(longest < m.requests().size());
    const auto& r = m.requests()[longest];
    const ui::TimeScale& s = w.view()->scale();
    const double mid = static_cast<double>(r.begin_ns + r.end_ns) / 2.0;
    const double stackHeight = (row->height - 4) / double{ui::TimelineView::requestStacks};
    const QPoint at(
        view->labelWidth() + static_cast<int>(s.xOf(mid)),
        row->top + 2 +
            static_cast<int>(
                (static_cast<double>(r.request_id % ui::TimelineView::requestStacks) + 0.5) *
                stackHeight));
    const auto hit = view->requestAt(at);
    REQUIRE(hit);
    const auto& found = m.requests()[*hit];
    CHECK(found.request_id % ui::TimelineView::requestStacks ==
          r.request_id % ui::TimelineView::requestStacks);
    CHECK(static_cast<double>(found.begin_ns) <= mid + s.nsPerPixel());
    const QString tip = view->requestToolTip(*hit);
    CHECK(tip.contains(QString::fromStdString(m.name(found.route))));
    CHECK(tip.contains(QStringLiteral("status %1").arg(found.status)));
    CHECK(tip.contains(QString::fromStdString(analysis::format_duration(found.latency_ns(), 2))));
    if (found.task != analysis::no_task) {
        CHECK(tip.contains(QString::fromStdString(m.task_label(found.task)).toHtmlEscaped()));
    }
    // Off the row, nothing.
    CHECK_FALSE(view->requestAt(QPoint(at.x(), row->top - 5)));
}

namespace {

/// Writes a synthetic trace of about `count` events: two workers polling 512 tasks in a
/// random order at random times (so the file does not compress to nothing).
void writeBigTrace(const std::filesystem::path& path, std::size_t count) {
    using trace::event;
    using trace::event_kind;
    trace::run_info info;
    info.command = "ui test: a big synthetic trace";
    info.workers = 2;
    trace::file_writer writer(path, info);
    constexpr std::uint64_t tasks = 512;
    std::vector<event> batch;
    for (std::uint16_t w = 0; w < 2; ++w) {
        batch.push_back(trace::make::track_started(0, w, trace::track_kind::worker, w));
    }
    for (std::uint64_t t = 1; t <= tasks; ++t) {
        batch.push_back(trace::make::task_spawned(10, 0, t));
    }
    std::mt19937_64 random(7);
    std::uint64_t now = 1000;
    for (std::size_t written = batch.size(); written < count; written += 2) {
        const auto track = static_cast<std::uint16_t>(written / 2 % 2);
        const std::uint64_t task = 1 + random() % tasks;
        const auto depth = static_cast<std::uint32_t>(random() % 8);
        now += 100 + random() % 400;
        batch.push_back(trace::make::poll_begin(now, track, task, depth));
        batch.push_back(trace::make::poll_end(now + 50 + random() % 200, track, task,
                                              trace::poll_result::pending, depth));
        if (batch.size() >= 4096) {
            writer.consume(batch);
            batch.clear();
        }
    }
    writer.consume(batch);
    writer.close();
}

/// Removes a file when the test ends, passed or failed.
struct RemovedAtEnd {
    std::filesystem::path path;
    ~RemovedAtEnd() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

} // namespace

TEST_CASE("a damaged file opens what is intact, a wrong file is refused, the window goes on",
          "[window]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    // Cut a trace of several chunks in the middle of one.
    const auto whole = temp("whole.tstrace");
    const RemovedAtEnd removeWhole{whole};
    writeBigTrace(whole, 400'000);
    const auto cut = temp("cut.tstrace");
    {
        std::ifstream in(whole, std::ios::binary);
        std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
        std::ofstream out(cut, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() * 2 / 3));
    }
    QSignalSpy opened(&w, &MainWindow::fileOpened);
    w.openFile(QString::fromStdString(cut.string()));
    REQUIRE(runUntil([&] { return opened.count() == 1; }));
    CHECK(opened.at(0).front().toBool());
    CHECK_FALSE(w.document()->warning().isEmpty());
    CHECK(w.lastError().contains(QStringLiteral("damaged")));

    const auto wrong = temp("wrong.tstrace");
    {
        std::ofstream out(wrong);
        out << "{\"traceEvents\": []}\n";
    }
    const auto eventsBefore = w.document()->model().event_count();
    w.openFile(QString::fromStdString(wrong.string()));
    REQUIRE(runUntil([&] { return opened.count() == 2; }));
    CHECK_FALSE(opened.at(1).front().toBool());
    CHECK(w.lastError().contains(QStringLiteral("not a taskscope trace")));
    CHECK(w.document()->model().event_count() == eventsBefore); // the old trace stays

    // A file whose header is intact but whose first chunk is cut: nothing to show, so the
    // trace shown stays, with its title and its source.
    const auto empty = temp("empty.tstrace");
    {
        std::ifstream in(sample(), std::ios::binary);
        std::vector<char> bytes(600);
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        std::ofstream out(empty, std::ios::binary);
        out.write(bytes.data(), in.gcount());
    }
    const QString title = w.windowTitle();
    w.openFile(QString::fromStdString(empty.string()));
    REQUIRE(runUntil([&] { return opened.count() == 3; }));
    CHECK_FALSE(opened.at(2).front().toBool());
    CHECK(w.lastError().contains(QStringLiteral("no readable events")));
    CHECK(w.document()->model().event_count() == eventsBefore);
    CHECK(w.windowTitle() == title);
    CHECK(w.source().file == cut);
    std::filesystem::remove(empty);

    // Still usable: go live and serve a request.
    REQUIRE(w.startLive({.workers = 1}));
    fire(w, QStringLiteral("/"), 2, 1);
    CHECK(runUntil([&] { return requestsTo(w, "/").size() == 2; }));
    std::filesystem::remove(cut);
    std::filesystem::remove(wrong);
}

TEST_CASE("opening a big file shows its progress, and Cancel keeps the trace shown", "[window]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    w.show();
    QSignalSpy opened(&w, &MainWindow::fileOpened);
    const QString samplePath = QString::fromStdString(sample().string());
    w.openFile(samplePath);
    REQUIRE(runUntil([&] { return opened.count() == 1; }));
    REQUIRE(opened.at(0).front().toBool());
    const auto eventsBefore = w.document()->model().event_count();
    const QString titleBefore = w.windowTitle();

    // Millions of events: reading them takes far longer than the dialog takes to appear in
    // any build, yet writing them stays within a few seconds under ASan.
    const RemovedAtEnd big{temp("big.tstrace")};
    writeBigTrace(big.path, 4'000'000);
    INFO("the big file: " << std::filesystem::file_size(big.path) << " bytes");
    REQUIRE(std::filesystem::file_size(big.path) > 8'000'000);

    w.openFile(QString::fromStdString(big.path.string()));
    QProgressDialog* progress = nullptr;
    for (QProgressDialog* dialog : w.findChildren<QProgressDialog*>()) {
        if (dialog->labelText().contains(QStringLiteral("big.tstrace"))) {
            progress = dialog;
        }
    }
    REQUIRE(progress != nullptr);
    // A person sees it after 300 ms; the test need not wait that long for the same dialog.
    progress->setMinimumDuration(0);
    REQUIRE(runUntil([&] { return progress->isVisible(); }));
    CHECK(progress->isModal());
    CHECK(progress->value() >= progress->minimum());
    CHECK(progress->value() <= progress->maximum());
    CHECK(opened.count() == 1); // still loading

    auto* cancel = progress->findChild<QPushButton*>();
    REQUIRE(cancel != nullptr);
    CHECK(cancel->text() == QStringLiteral("Cancel"));
    QTest::mouseClick(cancel, Qt::LeftButton);
    REQUIRE(runUntil([&] { return opened.count() == 2; }));
    CHECK_FALSE(opened.at(1).front().toBool());
    CHECK(w.lastError().contains(QStringLiteral("cancelled")));
    CHECK(w.statusBar()->currentMessage().contains(QStringLiteral("cancelled")));

    // The sample is still what the window shows, whole.
    QApplication::processEvents();
    CHECK(w.document()->source() == samplePath);
    CHECK(w.document()->model().event_count() == eventsBefore);
    CHECK(w.windowTitle() == titleBefore);
    ui::TimelineView* view = w.timeline();
    const QImage image = view->grab().toImage();
    for (const auto& row : view->rows()) {
        if (row.kind == ui::TimelineView::Row::Kind::worker) {
            INFO("lane " << row.label.toStdString());
            CHECK(paintedPixels(image, *view, row) > 200);
        }
    }

    // Usable: no dialog left in the way, and the next open works.
    CHECK(QApplication::activeModalWidget() == nullptr);
    for (const QProgressDialog* dialog : w.findChildren<QProgressDialog*>()) {
        CHECK_FALSE(dialog->isVisible());
    }
    w.openFile(samplePath);
    REQUIRE(runUntil([&] { return opened.count() == 3; }));
    CHECK(opened.at(2).front().toBool());
    CHECK(w.document()->model().event_count() == eventsBefore);
}

// ---- at the size of real work: every view bounded by pixels, not by events ---------------

namespace {

/// Writes `count` server-side requests on one worker, one every 20 us, to two routes; the
/// latencies spread from 10 us to 10 ms with a rare 80 ms one.
void writeRequestTrace(const std::filesystem::path& path, std::uint64_t count) {
    using trace::event;
    using trace::event_kind;
    trace::run_info info;
    info.command = "ui test: many requests";
    info.workers = 1;
    trace::file_writer writer(path, info);
    const trace::name_id fast = trace::intern("/");
    const trace::name_id slow = trace::intern("/sleep?ms=5");
    std::vector<event> batch{trace::make::track_started(0, 0, trace::track_kind::worker, 0)};
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t begin = 1000 + i * 20'000;
        const std::uint64_t latency = i % 4999 == 7 ? 80'000'000 : 10'000 + (i * 7919) % 10'000'000;
        batch.push_back(
            trace::make::request_begin(begin, 0, i + 1, i + 1, i % 3 == 0 ? slow : fast));
        batch.push_back(trace::make::request_end(begin + latency, 0, i + 1, 100, 200));
        if (batch.size() > 65'536) {
            std::sort(batch.begin(), batch.end(),
                      [](const event& a, const event& b) { return a.time_ns < b.time_ns; });
            writer.consume(batch);
            batch.clear();
        }
    }
    writer.consume(batch);
    writer.close();
}

/// The most points the scatter may hold: a few per pixel column and route.
qsizetype scatterBound(const ui::LatencyChart& chart) {
    return static_cast<qsizetype>(ui::RequestDecimator::maxPerColumn) * (chart.columns() + 2) *
           chart.routes().size();
}

} // namespace

TEST_CASE("a trace of 100,000 requests opens with a scatter bounded by pixels and the model's "
          "percentiles",
          "[window][scale]") {
    const RemovedAtEnd file{temp("requests-100k.tstrace")};
    writeRequestTrace(file.path, 100'000);
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    w.show();
    QSignalSpy opened(&w, &MainWindow::fileOpened);
    w.openFile(QString::fromStdString(file.path.string()));
    REQUIRE(runUntil([&] { return opened.count() == 1; }));
    REQUIRE(opened.at(0).front().toBool());
    const analysis::model& m = w.document()->model();
    const ui::LatencyChart& chart = *w.latencyChart();
    REQUIRE(m.requests().size() == 100'000);

    // Every request counts in the histogram and the percentiles, which are the model's.
    REQUIRE(runUntil([&] { return histogramTotal(chart) == 100'000; }));
    const analysis::latency_summary summary = m.request_latency();
    CHECK(chart.p50Ms() == Approx(static_cast<double>(summary.p50_ns) / 1e6));
    CHECK(chart.p99Ms() == Approx(static_cast<double>(summary.p99_ns) / 1e6));
    // The scatter: real requests, at most eight a pixel column and route, the slowest drawn.
    REQUIRE(runUntil([&] { return chart.pointCount() > 0; }));
    CHECK(chart.routes().size() == 2);
    CHECK(chart.pointCount() <= scatterBound(chart));
    CHECK(chart.pointCount() < 100'000 / 4);
    INFO(chart.pointCount() << " points for " << chart.columns() << " columns");
}

TEST_CASE("firing 20,000 requests live keeps the scatter bounded and counts every answer",
          "[window][scale]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    w.show();
    REQUIRE(w.startLive({.workers = 2}));
    QSignalSpy finished(w.session(), &ui::LiveSession::loadFinished);
    fire(w, QStringLiteral("/"), 20'000, 16);
    REQUIRE(runUntil([&] { return finished.count() == 1; }, std::chrono::seconds(240)));
    const QString summary = finished.at(0).front().toString();
    INFO(summary.toStdString());
    REQUIRE(summary.contains(QStringLiteral("20000 answered")));
    CHECK_FALSE(summary.contains(QStringLiteral("errors")));

    // The histogram counts each answer once, as the model does; the scatter stays bounded.
    const ui::LatencyChart& chart = *w.latencyChart();
    REQUIRE(runUntil([&] { return histogramTotal(chart) == 20'000; }));
    CHECK(w.document()->model().request_latency().count == 20'000);
    CHECK(chart.clientSide());
    CHECK(chart.pointCount() <= scatterBound(chart));
}

TEST_CASE("the run-queue strip draws the chips that fit and counts the rest", "[window][scale]") {
    using trace::event;
    using trace::event_kind;
    ui::TraceDocument document;
    ui::ViewState view;
    ui::QueueStrip strip(&document, &view);
    document.startLive(trace::run_info{});
    // Worker 0 spawns 2,000 tasks into its own queue and 10,000 into the global one.
    std::vector<event> events{trace::make::track_started(0, 0, trace::track_kind::worker, 0)};
    for (std::uint64_t t = 1; t <= 12'000; ++t) {
        const auto kind = t <= 2000 ? trace::queue_kind::local : trace::queue_kind::global;
        events.push_back(trace::make::task_spawned(t * 10, 0, t, 0, 0, kind));
    }
    document.append(events);
    strip.setSource(&document.liveQueues(), QStringLiteral("now"));
    strip.resize(1400, 120);
    const QImage image = strip.grab().toImage();
    CHECK_FALSE(image.isNull());

    const std::vector<ui::QueueStrip::Row> rows = strip.rows();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].total == 2000);
    CHECK(rows[1].total == 10'000);
    // Each row says how many it had no room for, thousands grouped.
    REQUIRE(strip.overflowShown().size() == 2);
    for (std::size_t r = 0; r < 2; ++r) {
        const QString text = strip.overflowShown()[r];
        INFO(text.toStdString());
        REQUIRE(text.startsWith(QStringLiteral("+ ")));
        REQUIRE(text.endsWith(QStringLiteral(" more")));
        QString number = text.mid(2, text.size() - 7);
        const std::size_t hidden = number.remove(QLatin1Char(',')).toULongLong();
        CHECK(hidden < rows[r].total);
        CHECK(rows[r].total - hidden <= 48); // the chips drawn: what fits in 1,400 px
    }
    CHECK(strip.overflowShown()[1].contains(QLatin1Char(',')));
    CHECK(ui::QueueStrip::overflowText(10'000, 127) == QStringLiteral("+ 9,873 more"));
}

TEST_CASE("restarting the live engine keeps the server's port, so a URL on the board stays right",
          "[window]") {
    MainWindow w;
    w.setQuietErrors(true);
    ui::LiveOptions options;
    options.workers = 1;
    REQUIRE(w.startLive(options));
    const auto port = w.session()->port();
    REQUIRE(port != 0);
    options.workers = 2; // a change in the panel restarts the runtime too
    REQUIRE(w.startLive(options));
    CHECK(w.session()->port() == port);
    w.controls()->workers()->setValue(3);
    CHECK(w.session()->port() == port);
    CHECK(w.document()->info().workers == 3);
    CHECK(w.statusBar()->currentMessage().isEmpty());
}

TEST_CASE("at 1280x720 and in presentation mode nothing is cut: the queue strip's rows, the "
          "tasks table's names, the side panel and the lane labels",
          "[window][layout]") {
    for (const bool presenting : {false, true}) {
        INFO((presenting ? "presentation mode" : "normal"));
        MainWindow w;
        w.setQuietErrors(true);
        w.resize(1280, 720);
        w.show();
        ui::LiveOptions options;
        options.workers = 4;
        REQUIRE(w.startLive(options));
        w.setPresentation(presenting);
        REQUIRE(runUntil([&] { return w.document()->liveQueues().workers() == 4; }));
        QApplication::processEvents();

        // The strip is tall enough for every row at a readable height.
        ui::QueueStrip* strip = w.queueStrip();
        CHECK(strip->height() >= strip->minimumSizeHint().height());
        strip->repaint();
        CHECK(strip->rows().size() == 5); // four workers and the global queue

        // The side panel shows its controls whole: nothing cut at its right edge.
        QApplication::processEvents(); // the deferred fit after a font change
        QWidget* controls = w.controls();
        CHECK(controls->visibleRegion().boundingRect().width() >=
              controls->minimumSizeHint().width());

        // Lane labels fit their column.
        const ui::TimelineView* view = w.timeline();
        QFont painted = view->font(); // the lane labels are drawn 1.5 times larger presenting
        painted.setPointSizeF(painted.pointSizeF() * (presenting ? 1.5 : 1.0));
        const QFontMetrics metrics(painted);
        for (const auto& row : view->rows()) {
            INFO(row.label.toStdString());
            CHECK(metrics.horizontalAdvance(row.label) + 6 < view->labelWidth());
        }
        w.setPresentation(false);
    }
}

TEST_CASE("the tasks table gives its spare width to the task names", "[window][layout]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1920, 1080);
    w.show();
    w.tabs()->setCurrentIndex(1);
    QApplication::processEvents();
    const auto* table = w.tabs()->widget(1)->findChild<QTableView*>(); // the Tasks tab's
    REQUIRE(table != nullptr);
    const QHeaderView* header = table->horizontalHeader();
    const int name = header->sectionSize(ui::TaskTableModel::NameColumn);
    for (int c = 0; c < ui::TaskTableModel::ColumnCount; ++c) {
        if (c != ui::TaskTableModel::NameColumn) {
            INFO("column " << c);
            CHECK(header->sectionSize(c) < name);
        }
    }
}

TEST_CASE("the Resources tab and the timeline: a mutex contended by four tasks shows one holder "
          "at a time and four waits",
          "[window][resources]") {
    // A real run, recorded to a file as taskscope-cli does, then opened.
    const auto path = temp("mutex.tstrace");
    {
        const runtime_options options{.workers = 2};
        runtime rt(options);
        auto writer = std::make_shared<trace::file_writer>(
            path, trace::run_info_for(rt, options, "ui test: a contended mutex"));
        rt.trace().add_sink(writer);
        async_mutex<int> m(0, "contended");
        auto locker = [&]() -> task<void> {
            auto g = co_await m.lock();
            co_await taskscope::sleep_for(std::chrono::milliseconds(2));
            ++*g;
        };
        auto root = [&]() -> task<void> {
            auto first = co_await m.lock();
            std::vector<join_handle<void>> hs;
            for (int i = 0; i < 4; ++i) {
                hs.push_back(spawn(locker(), "locker"));
            }
            while (m.waiting() < 4) {
                co_await taskscope::yield_now();
            }
            first.unlock();
            for (auto& h : hs) {
                co_await h;
            }
        };
        rt.block_on(root(), "root");
        rt.shutdown();
        rt.trace().flush();
        writer->close();
    }
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    REQUIRE(ui::testing::openAndWait(w, path));
    ui::ResourceTableModel* model = w.resourceModel();
    model->refresh();
    REQUIRE(model->rowCount() == 1);
    const auto cell = [&](int column) {
        return model->data(model->index(0, column), Qt::DisplayRole).toString();
    };
    CHECK(cell(ui::ResourceTableModel::KindColumn) == QStringLiteral("mutex"));
    CHECK(cell(ui::ResourceTableModel::NameColumn) == QStringLiteral("contended"));
    CHECK(cell(ui::ResourceTableModel::WaitsColumn) == QStringLiteral("4"));
    CHECK(cell(ui::ResourceTableModel::WaitingColumn) == QStringLiteral("0"));
    CHECK(cell(ui::ResourceTableModel::NowColumn) == QStringLiteral("free"));
    // One holder at a time: the five holds follow each other.
    const analysis::resource_info& r = w.document()->model().resources().all().front();
    REQUIRE(r.holds.size() == 5);
    for (std::size_t i = 1; i < r.holds.size(); ++i) {
        CHECK(r.holds[i].begin_ns >= r.holds[i - 1].end_ns);
    }
    // The tab shows it, and the filter finds it by name and hides it for another.
    QTableView* table = w.resourceTable();
    CHECK(table->model()->rowCount() == 1);
    auto* search = table->parentWidget()->findChild<QLineEdit*>();
    REQUIRE(search != nullptr);
    search->setText(QStringLiteral("CONTENDED"));
    CHECK(table->model()->rowCount() == 1);
    search->setText(QStringLiteral("no such resource"));
    CHECK(table->model()->rowCount() == 0);
    search->clear();

    // The timeline gives it a row under the others: one holder at a time, each in its colour,
    // and the four waiting at once at the bottom.
    ui::TimelineView* view = w.timeline();
    const analysis::model& m = w.document()->model();
    QApplication::processEvents();
    REQUIRE(view->resourceRowIds() == std::vector<std::uint32_t>{r.id});
    const auto rows = view->rows();
    CHECK(rows.back().kind == ui::TimelineView::Row::Kind::resource);
    CHECK(rows.back().label == QStringLiteral("mutex 'contended'"));
    const auto drawing = view->resourceDrawing(r.id);
    std::set<std::uint64_t> drawnHolders;
    double drawnTo = -1;
    const ui::HoldItem* widest = nullptr;
    for (const ui::HoldItem& item : drawing.holds) {
        CHECK(item.x0 >= drawnTo); // one holder a pixel column
        drawnTo = item.x1;
        CHECK(item.task == r.holds[item.hold].task);
        drawnHolders.insert(item.task);
        widest = widest == nullptr || item.x1 - item.x0 > widest->x1 - widest->x0 ? &item : widest;
    }
    std::set<std::uint64_t> holders;
    for (const auto& h : r.holds) {
        holders.insert(h.task);
    }
    CHECK(holders.size() == 5);
    CHECK(drawnHolders == holders);
    CHECK(*std::max_element(drawing.waiters.begin(), drawing.waiters.end()) == 4);
    REQUIRE(widest != nullptr);
    const QImage image = view->grab().toImage();
    // Near its right end: its holder's name is written at its left.
    CHECK(QColor(image.pixel(view->labelWidth() + static_cast<int>(widest->x1) - 3,
                             rows.back().top + rows.back().height / 2))
              .rgb() == ui::Style::taskColor(widest->task).rgb());

    // Choosing it in the tab selects it: the polls outlined are its holders' and waiters'.
    table->selectRow(0);
    CHECK(w.view()->selectedResource() == r.id);
    const auto polls = view->resourcePolls();
    REQUIRE_FALSE(polls.empty());
    std::set<std::uint64_t> outlinedHolders;
    std::set<std::uint64_t> outlinedWaiters;
    for (const auto& p : polls) {
        const analysis::poll_span& poll = m.lanes()[static_cast<std::size_t>(p.lane)].polls[p.poll];
        const std::uint64_t task = m.tasks()[poll.task].id;
        if (p.holder) {
            outlinedHolders.insert(task);
            CHECK(std::any_of(r.holds.begin(), r.holds.end(), [&](const auto& h) {
                return h.task == task && h.begin_ns <= poll.end_ns && h.end_ns >= poll.begin_ns;
            }));
        } else {
            outlinedWaiters.insert(task);
            CHECK(std::any_of(r.waits.begin(), r.waits.end(), [&](const auto& wait) {
                return wait.task == task &&
                       ((wait.begin_ns >= poll.begin_ns && wait.begin_ns <= poll.end_ns) ||
                        poll.begin_ns >= wait.end_ns);
            }));
        }
    }
    CHECK(outlinedHolders == holders);
    std::set<std::uint64_t> waiters;
    for (const auto& wait : r.waits) {
        waiters.insert(wait.task);
    }
    CHECK(waiters.size() == 4);
    CHECK(outlinedWaiters == waiters);

    // Hovering the poll in which a locker began to wait names the mutex and its holder.
    const analysis::wait_span& wait = r.waits[0];
    bool hovered = false;
    for (std::size_t l = 0; l < m.lanes().size() && !hovered; ++l) {
        const auto& lanePolls = m.lanes()[l].polls;
        for (std::size_t i = 0; i < lanePolls.size(); ++i) {
            const auto& poll = lanePolls[i];
            if (m.tasks()[poll.task].id == wait.task && poll.begin_ns <= wait.begin_ns &&
                wait.begin_ns <= poll.end_ns) {
                const QString tip =
                    view->pollToolTip(static_cast<int>(l), static_cast<std::uint32_t>(i));
                INFO(tip.toStdString());
                CHECK(tip.contains(QStringLiteral("for mutex 'contended'")));
                if (wait.holder != 0) {
                    CHECK(tip.contains(
                        QStringLiteral("held by ") +
                        QString::fromStdString(m.task_label(m.find_task(wait.holder)))));
                }
                hovered = true;
                break;
            }
        }
    }
    CHECK(hovered);
    CHECK(wait.holder != 0); // the runtime records who held it

    // Escape on the timeline clears it, in the tab too.
    QTest::keyClick(view, Qt::Key_Escape);
    CHECK(w.view()->selectedResource() == 0);
    CHECK(table->selectionModel()->selectedRows().isEmpty());
    std::filesystem::remove(path);
}
