// The chat server driven from the control panel, as a teacher would: start it, fire a load
// with a stalled reader, and find its subscribers, its group's broadcast, the lags and the
// per-group delivery latency in the window.

#include "document/trace_document.hpp"
#include "sessions/live_session.hpp"
#include "ui_test_support.hpp"
#include "widgets/control_panel.hpp"

#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <algorithm>
#include <catch2/catch.hpp>

using taskscope::ui::ControlPanel;
using taskscope::ui::MainWindow;
using taskscope::ui::testing::runUntil;
namespace analysis = taskscope::analysis;
namespace trace = taskscope::trace;

namespace {

/// The resource named `name` of kind `kind`, or nullptr.
const analysis::resource_info* findResource(const analysis::model& m, trace::resource_kind kind,
                                            const std::string& name) {
    for (const analysis::resource_info& r : m.resources().all()) {
        if (r.kind == kind && r.announced && m.name(r.name) == name) {
            return &r;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("the panel's chat server: a stalled reader lags, and the window shows its subscribers, "
          "the group's broadcast, the lags and the group's delivery latency",
          "[window][chat]") {
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    taskscope::ui::LiveOptions live;
    live.workers = 2;
    REQUIRE(w.startLive(live));
    ControlPanel& panel = *w.controls();
    CHECK(panel.chatServerButton()->text() == QStringLiteral("Start chat server"));

    panel.chatCapacity()->setValue(16);
    panel.chatBacklog()->setCurrentIndex(panel.chatBacklog()->findData(QStringLiteral("ring")));
    panel.chatServerButton()->click();
    REQUIRE(w.session()->chatRunning());
    CHECK(panel.chatServerButton()->text() == QStringLiteral("Stop chat server"));
    CHECK_FALSE(panel.chatCapacity()->isEnabled()); // fixed while it runs
    CHECK(w.session()->chatOptions().capacity == 16);

    panel.chatPosters()->setValue(2);
    panel.chatPostRate()->setValue(1000); // 2 MB: more than the sockets' buffers hold
    panel.chatMessageBytes()->setValue(1000);
    panel.chatFastReaders()->setValue(2);
    panel.chatSlowReaders()->setValue(1);
    panel.chatSlowRate()->setValue(0); // stalled
    CHECK(panel.chatSlowRate()->text() == QStringLiteral("stalled"));
    panel.chatSeconds()->setValue(1);
    QSignalSpy finished(w.session(), &taskscope::ui::LiveSession::loadFinished);
    panel.chatFireButton()->click();
    REQUIRE(runUntil([&] { return finished.count() == 1; }));
    const QString summary = panel.chatResult()->text();
    INFO(summary.toStdString());
    CHECK(summary.startsWith(QStringLiteral("chat: 2 posters at 1000/s, 2 fast and 1 stalled")));
    CHECK(summary.contains(QStringLiteral("fast readers got")));
    CHECK(summary.contains(QStringLiteral("slow readers got")));
    CHECK(summary.contains(QStringLiteral("missed"))); // 16 messages of room, a stalled reader
    CHECK(summary.contains(QStringLiteral("the server held at most")));
    CHECK(w.session()->chatStats().lag_notices > 0);

    // The window: the group's broadcast as a resource with its lags, the subscriber tasks,
    // and each delivery as a request on the group's route.
    const analysis::model& m = w.document()->model();
    const analysis::resource_info* group = nullptr;
    REQUIRE(runUntil([&] {
        group = findResource(m, trace::resource_kind::broadcast, "lobby");
        return group != nullptr && !group->lags.empty();
    }));
    CHECK(group->capacity == 16);
    CHECK(std::is_sorted(group->lags.begin(), group->lags.end(),
                         [](const auto& a, const auto& b) { return a.time_ns < b.time_ns; }));
    const bool subscribers = std::any_of(m.tasks().begin(), m.tasks().end(), [&](const auto& t) {
        return m.name(t.name).rfind("subscriber lobby", 0) == 0;
    });
    CHECK(subscribers);
    const auto route = std::find_if(m.routes().begin(), m.routes().end(),
                                    [&](trace::name_id id) { return m.name(id) == "lobby"; });
    REQUIRE(route != m.routes().end());
    const auto routeIndex = static_cast<std::uint16_t>(route - m.routes().begin());
    const bool delivered =
        std::any_of(m.requests().begin(), m.requests().end(),
                    [&](const auto& r) { return r.route_index == routeIndex && !r.client; });
    CHECK(delivered);

    panel.chatServerButton()->click();
    CHECK_FALSE(w.session()->chatRunning());
    CHECK(panel.chatServerButton()->text() == QStringLiteral("Start chat server"));
    CHECK(panel.chatCapacity()->isEnabled());
}

TEST_CASE("firing a chat load with no chat server starts one with the panel's settings",
          "[window][chat]") {
    MainWindow w;
    w.setQuietErrors(true);
    taskscope::ui::LiveOptions live;
    live.workers = 1;
    REQUIRE(w.startLive(live));
    ControlPanel& panel = *w.controls();
    panel.chatBacklog()->setCurrentIndex(
        panel.chatBacklog()->findData(QStringLiteral("unbounded")));
    panel.chatPosters()->setValue(1);
    panel.chatFastReaders()->setValue(1);
    panel.chatSlowReaders()->setValue(0);
    panel.chatSeconds()->setValue(1);
    QSignalSpy finished(w.session(), &taskscope::ui::LiveSession::loadFinished);
    panel.fireChat();
    REQUIRE(w.session()->chatRunning());
    CHECK(w.session()->chatOptions().backlog == taskscope::net::backlog_mode::unbounded);
    REQUIRE(runUntil([&] { return finished.count() == 1; }));
    const QString summary = panel.chatResult()->text();
    INFO(summary.toStdString());
    CHECK(summary.contains(QStringLiteral("fast readers got")));
    CHECK_FALSE(summary.contains(QStringLiteral("slow readers"))); // none were asked for
    CHECK_FALSE(summary.contains(QStringLiteral("missed")));       // unbounded drops nothing

    // Restarting the runtime stops the chat server with it, and the panel says so.
    REQUIRE(w.startLive(live));
    CHECK_FALSE(w.session()->chatRunning());
    CHECK(panel.chatServerButton()->text() == QStringLiteral("Start chat server"));
}
