// Issue 17: the window watches a running program of the user's own (File > Attach,
// --attach): the program here is a runtime in this test process serving its trace, as
// TASKSCOPE_LISTEN makes an unchanged program do.

#include "document/trace_document.hpp"
#include "sessions/attach_session.hpp"
#include "taskscope/record.hpp"
#include "taskscope/taskscope.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "taskscope/trace_server.hpp"
#include "ui_test_support.hpp"
#include "widgets/control_panel.hpp"

#include <QComboBox>
#include <QCoreApplication>
#include <QSignalSpy>
#include <catch2/catch.hpp>

using namespace taskscope;
using taskscope::ui::AttachSession;
using taskscope::ui::DocumentSource;
using taskscope::ui::MainWindow;
using taskscope::ui::testing::runUntil;

namespace {

/// A request of the program's own protocol, served by a task of its own.
task<void> serve_one(std::uint64_t id) {
    static const trace::name_id route = trace::intern("/orders");
    record_request_begin(id, route, trace::request_side::server);
    co_await sleep_for(std::chrono::milliseconds(1));
    record_request_end(100, 200, trace::request_side::server);
}

task<void> serve_many(int n) {
    std::vector<join_handle<void>> running;
    for (int i = 0; i < n; ++i) {
        running.push_back(spawn(serve_one(static_cast<std::uint64_t>(i)), "order_handler"));
    }
    for (auto& r : running) {
        co_await r;
    }
}

std::size_t tasksNamed(const analysis::model& m, const std::string& name) {
    std::size_t n = 0;
    for (const analysis::task_info& t : m.tasks()) {
        n += m.name(t.name) == name && t.polls > 0 ? std::size_t{1} : std::size_t{0};
    }
    return n;
}

} // namespace

TEST_CASE("File > Attach watches a running program live and keeps its trace when it ends",
          "[window][attach]") {
    runtime_options options{.workers = 2};
    options.trace.listen = "127.0.0.1:0";
    auto program = std::make_unique<runtime>(options);
    const QString address = QString::fromStdString(program->served_trace()->address());

    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    QSignalSpy attached(&w, &MainWindow::attachFinished);
    w.attachTo(address);
    REQUIRE(runUntil([&] { return attached.count() == 1; }, std::chrono::seconds(20)));
    REQUIRE(attached.front().front().toBool());
    CHECK(w.source().kind == DocumentSource::Kind::attached);
    CHECK(w.source().address == address);
    CHECK(
        w.windowTitle().contains(QStringLiteral("pid %1").arg(QCoreApplication::applicationPid())));
    CHECK(MainWindow::recentAttachTargets().front() == address);
    // The panel shows the program's runtime, read-only, and no HTTP modes it cannot know.
    CHECK_FALSE(w.controls()->note().isEmpty());
    CHECK(w.controls()->sleepMode()->currentIndex() == -1);
    CHECK(w.controls()->acceptMode()->currentIndex() == -1);

    // The program works; the window shows its tasks and its requests as they happen.
    program->block_on(serve_many(40), "orders");
    REQUIRE(runUntil([&] { return tasksNamed(w.document()->model(), "order_handler") == 40; },
                     std::chrono::seconds(20)));
    REQUIRE(runUntil([&] { return w.document()->model().request_latencies().size() == 40; },
                     std::chrono::seconds(20)));
    CHECK(w.attachSession()->running());
    // File > Save the last minute: a trace of its own, with the handlers named.
    const std::filesystem::path last =
        std::filesystem::temp_directory_path() / "attach-test-last-minute.tstrace";
    const auto saved = w.attachSession()->saveLast(last);
    REQUIRE(saved.has_value());
    CHECK(*saved > 0);
    {
        const trace::loaded_trace minute = trace::read_trace_file(last);
        CHECK(minute.report.complete);
        std::size_t handlers = 0;
        for (const trace::event& e : minute.events) {
            if (e.kind == trace::event_kind::task_spawned &&
                minute.names.at(trace::task_spawned_view::from(e).name) == "order_handler") {
                ++handlers;
            }
        }
        CHECK(handlers == 40);
    }
    std::filesystem::remove(last);

    // The program ends: the window says so and keeps the trace, which can be saved and
    // replayed.
    QSignalSpy ended(w.attachSession(), &AttachSession::ended);
    program->shutdown();
    REQUIRE(runUntil([&] { return ended.count() == 1; }, std::chrono::seconds(20)));
    CHECK(ended.front().front().toString() == QStringLiteral("the program ended"));
    CHECK_FALSE(w.attachSession()->running());
    REQUIRE(w.source().hasFile());
    const trace::loaded_trace kept = trace::read_trace_file(w.source().file);
    CHECK(kept.report.complete);
    CHECK(kept.info.pid == static_cast<std::uint64_t>(QCoreApplication::applicationPid()));
    CHECK(tasksNamed(w.document()->model(), "order_handler") == 40);
    CHECK(w.startReplay());
}

TEST_CASE("attaching where no program serves its trace says what to check", "[window][attach]") {
    // A port that was free a moment ago.
    std::uint16_t port = 0;
    {
        sys::network_session net;
        const sys::socket_t s = sys::listen_at(*sys::parse_address("127.0.0.1", 0), 1, port);
        REQUIRE(s != sys::invalid_socket);
        sys::close_socket(s);
    }
    MainWindow w;
    w.setQuietErrors(true);
    QSignalSpy attached(&w, &MainWindow::attachFinished);
    w.attachTo(QStringLiteral("127.0.0.1:%1").arg(port));
    REQUIRE(runUntil([&] { return attached.count() == 1; }, std::chrono::seconds(20)));
    CHECK_FALSE(attached.front().front().toBool());
    CHECK(w.lastError().contains(
        QStringLiteral("connection refused (is the program running with TASKSCOPE_LISTEN set?)")));
    CHECK(w.source().kind != DocumentSource::Kind::attached);
}

TEST_CASE("an attach session's temporary recordings go with it: none is left behind",
          "[window][attach]") {
    runtime_options options{.workers = 1};
    options.trace.listen = "127.0.0.1:0";
    auto program = std::make_unique<runtime>(options);
    const QString address = QString::fromStdString(program->served_trace()->address());
    taskscope::ui::TraceDocument document;
    std::filesystem::path first;
    std::filesystem::path second;
    {
        AttachSession session(&document);
        QSignalSpy attached(&session, &AttachSession::attached);
        session.attach(address);
        REQUIRE(runUntil([&] { return attached.count() == 1; }, std::chrono::seconds(20)));
        first = session.recording();
        CHECK(std::filesystem::exists(first));
        // Attaching again: once the new stream replaces the document, the old file goes.
        session.attach(address);
        REQUIRE(runUntil([&] { return attached.count() == 2; }, std::chrono::seconds(20)));
        second = session.recording();
        CHECK(second != first);
        CHECK_FALSE(std::filesystem::exists(first));
        CHECK(std::filesystem::exists(second));
        session.detach();
    }
    CHECK_FALSE(std::filesystem::exists(second)); // the window closed: gone too
    program->shutdown();
}
