// HTTP/2 in the window: the Fire panel's protocol choice, and the requests lane grouping
// the streams of a connection, and how a replay names a stream.
#include "document/trace_document.hpp"
#include "sessions/replay_controller.hpp"
#include "ui_test_support.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/main_window.hpp"
#include "widgets/timeline_view.hpp"

#include <QComboBox>
#include <QCoreApplication>
#include <QPushButton>
#include <QSpinBox>
#include <QTest>
#include <catch2/catch.hpp>
#include <map>
#include <set>

namespace {

using namespace taskscope;
using taskscope::ui::MainWindow;
using taskscope::ui::testing::runUntil;

} // namespace

TEST_CASE("the Fire panel fires over HTTP/2, and the requests lane groups streams by connection",
          "[window]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1600, 900);
    w.show();
    REQUIRE(w.startLive({.workers = 1}));
    ui::ControlPanel* c = w.controls();
    CHECK_FALSE(c->streams()->isEnabled()); // HTTP/1.1 first: no streams
    c->protocol()->setCurrentIndex(1);
    REQUIRE(c->protocol()->currentText() == QStringLiteral("HTTP/2"));
    CHECK(c->streams()->isEnabled());
    c->route()->setCurrentIndex(1); // /sleep?ms=
    c->routeMs()->setValue(30);
    c->count()->setValue(12);
    c->concurrency()->setValue(2);
    c->streams()->setValue(6);
    QTest::mouseClick(c->fireButton(), Qt::LeftButton);

    const analysis::model& m = w.document()->model();
    const auto finished = [&](bool client) {
        std::size_t n = 0;
        for (const auto& r : m.requests()) {
            n += (r.client == client && r.finished() && r.status == 200) ? 1U : 0U;
        }
        return n;
    };
    REQUIRE(runUntil([&] { return finished(true) == 12 && finished(false) == 12; }));
    REQUIRE(runUntil([&] { return c->lastResult().contains(QStringLiteral("HTTP/2")); }));
    CHECK(c->lastResult().contains(QStringLiteral("2 connection(s), 6 stream(s) each")));

    // Both sides' requests are streams: two connections a side, odd stream ids, and every
    // stream drawn in its connection's band of the lane.
    constexpr int band = ui::TimelineView::requestStacks / 2;
    for (const bool client : {false, true}) {
        INFO((client ? "client" : "server"));
        std::map<std::uint32_t, std::set<std::uint32_t>> streamsOf;
        for (const auto& r : m.requests()) {
            if (r.client != client) {
                continue;
            }
            CHECK(r.http2);
            CHECK(r.stream() % 2 == 1);
            streamsOf[r.connection()].insert(r.stream());
            const int stack = ui::TimelineView::requestStack(r);
            CHECK(stack / band == static_cast<int>(r.connection() % 2));
        }
        CHECK(streamsOf.size() == 2);
        for (const auto& [connection, streams] : streamsOf) {
            CHECK(streams.size() == 6);
        }
    }
    CHECK(m.has_http2_requests());

    // A stream's tooltip names its connection and stream (hit-testing and painting place a
    // request by the same requestStack()).
    for (std::size_t i = m.requests().first_kept(); i < m.requests().size(); ++i) {
        const auto& r = m.requests()[i];
        const QString tip = w.timeline()->requestToolTip(i);
        CHECK(tip.contains(
            QStringLiteral("HTTP/2 connection %1, stream %2").arg(r.connection()).arg(r.stream())));
    }
    CHECK(w.lastError().isEmpty());
}

TEST_CASE("a replay step names an HTTP/2 request by its connection and stream", "[replay]") {
    namespace make = trace::make;
    analysis::model m;
    m.set_names({"handle_connection", "/", "/a%1b"});
    const std::vector<trace::event> events{
        make::track_started(1'000, 0, trace::track_kind::worker, 0),
        make::task_spawned(1'100, 0, 7, 0, 0),
        make::task_spawned(1'200, 0, 9, 0, 0),
    };
    m.consume(events);
    const QString task7 = QString::fromStdString(m.task_label(m.find_task(7)));
    const QString task9 = QString::fromStdString(m.task_label(m.find_task(9)));
    REQUIRE_FALSE(task7.isEmpty());

    using ui::ReplayController;
    // Each part lands in its own place, even when a name holds a "%1".
    CHECK(ReplayController::sentence(m, make::request_begin(2'000, 0, 7, 12, 2)) ==
          task7 + QStringLiteral(" starts serving request 12 to /a%1b"));
    CHECK(ReplayController::sentence(m, make::http2_request_begin(2'000, 0, 9, 1, 3, 1)) ==
          QStringLiteral("%1 starts serving HTTP/2 connection 1, stream 3 to /").arg(task9));
    CHECK(ReplayController::sentence(
              m, make::http2_request_begin(2'000, 0, 0, 2, 5, 1, trace::request_side::client)) ==
          QStringLiteral("the load generator sends HTTP/2 connection 2, stream 5 to /"));
}
