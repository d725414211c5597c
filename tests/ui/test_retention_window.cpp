// A long live run in the whole window: the document keeps only its retention, and every
// view, the task table, the findings and the status bar follow the kept window without
// reading what was let go (ASan in CI turns any such read into a failure). Events come from
// the benchmarks' synthetic server, appended as the live session's pump would.

#include "bench/bench_support.hpp"
#include "charts/latency_chart.hpp"
#include "charts/queue_depth_chart.hpp"
#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "models/task_table_model.hpp"
#include "ui_test_support.hpp"
#include "widgets/main_window.hpp"
#include "widgets/timeline_view.hpp"

#include <QLabel>
#include <QStatusBar>
#include <QTabWidget>
#include <catch2/catch.hpp>

namespace {

using namespace taskscope;
using namespace taskscope::ui;

std::vector<trace::event> next(bench::HttpLikeStream& stream, std::size_t count) {
    std::vector<trace::event> events;
    stream.next(events, count);
    return events;
}

} // namespace

TEST_CASE("a live run longer than its retention: the window keeps the last events, says where "
          "they start, and its memory stops growing",
          "[retention]") {
    MainWindow window;
    window.setQuietErrors(true);
    window.resize(1600, 1000);
    window.show();
    window.setRetention(Retention{.keepNs = 0, .keepEvents = 300'000}, false);
    TraceDocument& document = *window.document();
    document.startLive(trace::run_info{});
    bench::HttpLikeStream stream(5);

    std::size_t early = 0; // the most memory held in the rounds just after the retention filled
    std::size_t late = 0;  // ... and in the last rounds
    bool selectedGone = false;
    for (int round = 0; round < 40; ++round) {
        document.append(next(stream, 40'000));
        QApplication::processEvents();
        if (round % 8 == 3) {
            // Every panel paints what is kept: the timeline, the queue strip, both charts.
            for (int tab = 0; tab < window.tabs()->count(); ++tab) {
                window.tabs()->setCurrentIndex(tab);
                (void)window.grab();
            }
            window.timeline()->showAll();
            (void)window.grab();
        }
        if (round == 12) {
            // A connection task early in the kept window, soon to be let go once it ended.
            const analysis::model& m = document.model();
            for (std::size_t row = 0; row < m.task_rows(); ++row) {
                const analysis::task_ref t = m.task_of_row(row);
                if (m.task(t)->ended_ns != analysis::open_end) {
                    window.view()->selectTask(t);
                    break;
                }
            }
            REQUIRE(window.view()->selectedTask() != analysis::no_task);
        }
        if (round > 12 && window.view()->selectedTask() == analysis::no_task) {
            selectedGone = true;
        }
        if (round >= 10 && round < 20) {
            early = std::max(early, document.memoryBytes());
        }
        if (round >= 30) {
            late = std::max(late, document.memoryBytes());
        }
    }

    const analysis::model& m = document.model();
    CHECK(document.forgottenEvents() > 1'000'000);
    CHECK(document.keptEvents() <= 300'000ull * 51 / 50 + 40'000);
    CHECK(document.keptEvents() >= 300'000 - 40'000);
    CHECK(document.keptFromNs() > document.firstNs());
    CHECK(m.kept_from_ns() == document.keptFromNs());
    // A task of the kept window that ended before its start was deselected with it.
    CHECK(selectedGone);

    // The timeline's range starts where the kept window does.
    CHECK(window.view()->scale().firstNs() == document.keptFromNs());
    // The task table holds exactly the kept tasks, each alive in the kept window.
    TaskTableModel& tasks = *window.taskModel();
    REQUIRE(tasks.rowCount() == static_cast<int>(m.task_rows()));
    for (int row = 0; row < tasks.rowCount(); ++row) {
        const analysis::task_info* t = m.task(tasks.taskAt(row));
        REQUIRE(t != nullptr);
        CHECK((t->ended_ns == analysis::open_end || t->ended_ns >= m.kept_from_ns()));
        CHECK(tasks.rowOf(tasks.taskAt(row)) == row);
    }
    // The accept loop, alive since the start, is still there and selectable.
    const analysis::task_ref accept = m.find_task(1);
    REQUIRE(accept != analysis::no_task);
    window.view()->selectTask(accept);
    CHECK(tasks.rowOf(accept) >= 0);

    // The task table and the status bar say where the kept window starts.
    bool noted = false;
    for (const QLabel* label : window.findChildren<QLabel*>()) {
        if (label->isVisible() && label->text().contains(QStringLiteral("kept window starts"))) {
            noted = true;
        }
    }
    window.tabs()->setCurrentIndex(1); // Tasks
    QApplication::processEvents();
    for (const QLabel* label : window.findChildren<QLabel*>()) {
        noted = noted || (label->isVisible() &&
                          label->text().contains(QStringLiteral("kept window starts")));
    }
    CHECK(noted);
    bool statusSays = false;
    for (const QLabel* label : window.statusBar()->findChildren<QLabel*>()) {
        statusSays = statusSays || label->text().contains(QStringLiteral("kept from"));
    }
    CHECK(statusSays);

    // The latency chart counts only kept requests (once its refresh timer has run).
    window.tabs()->setCurrentIndex(0);
    CHECK(testing::runUntil([&] {
        return testing::histogramTotal(*window.latencyChart()) == m.request_latencies().size();
    }));

    // Memory stopped growing once the kept window was full.
    CAPTURE(early, late);
    CHECK(late <= early + early / 4);
}

TEST_CASE("keeping everything lets nothing go", "[retention]") {
    TraceDocument document;
    document.setRetention(Retention{.keepNs = 0, .keepEvents = 0});
    document.startLive(trace::run_info{});
    bench::HttpLikeStream stream(9);
    for (int round = 0; round < 10; ++round) {
        document.append(next(stream, 50'000));
    }
    CHECK(document.forgottenEvents() == 0);
    CHECK(document.keptEvents() == 500'000);
    CHECK(document.keptFromNs() == document.firstNs());
    CHECK(document.model().requests().first_kept() == 0);
}

TEST_CASE("a time retention keeps the last seconds of trace time", "[retention]") {
    TraceDocument document;
    document.setRetention(Retention{.keepNs = 200'000'000, .keepEvents = 0}); // 0.2 s
    document.startLive(trace::run_info{});
    bench::HttpLikeStream stream(13); // about a million events a second of trace time
    for (int round = 0; round < 20; ++round) {
        document.append(next(stream, 50'000));
        const std::uint64_t kept = document.lastNs() - document.keptFromNs();
        CHECK(kept <= 200'000'000ull * 51 / 50 + 60'000'000); // a batch of slack at most
    }
    CHECK(document.forgottenEvents() > 0);
    CHECK(document.lastNs() - document.keptFromNs() >= 200'000'000ull - 60'000'000);
}

TEST_CASE("a live run that would outgrow 32-bit indices starts a fresh model and goes on",
          "[retention]") {
    TraceDocument document;
    document.setRetention(Retention{.keepNs = 0, .keepEvents = 0}); // keep everything ...
    document.setIndexLimit(60'000); // ... but refuse indices past 60,000 (tests only)
    document.startLive(trace::run_info{});
    QSignalSpy resets(&document, &TraceDocument::reset);
    bench::HttpLikeStream stream(23);
    for (int round = 0; round < 30; ++round) {
        document.append(next(stream, 20'000));
        CHECK(document.model().largest_index() <= 60'000);
    }
    CHECK(resets.count() >= 2);
    CHECK(document.forgottenEvents() > 0);
    CHECK(document.forgottenEvents() + document.keptEvents() == 600'000);
    CHECK(document.model().event_count() == document.keptEvents());
    // Names still resolve in the fresh model (the process's, as when live): tasks spawned
    // since it started are named.
    const analysis::model& m = document.model();
    bool named = false;
    for (std::size_t row = 0; row < m.task_rows() && !named; ++row) {
        named = m.task_label(m.task_of_row(row)).rfind("handle_connection#", 0) == 0;
    }
    CHECK(named);
}
