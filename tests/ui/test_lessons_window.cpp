// Lessons and replay in the real window: every lesson started from the picker shows its
// explanation and fills the timeline; replay steps a committed lesson trace and the queue
// strip shows the run queues at the playhead; the live strip follows a running lesson.

#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "sessions/lesson_session.hpp"
#include "sessions/live_session.hpp"
#include "sessions/replay_controller.hpp"
#include "taskscope/lessons/lessons.hpp"
#include "ui_test_support.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/lesson_panel.hpp"
#include "widgets/main_window.hpp"
#include "widgets/queue_strip.hpp"
#include "widgets/replay_bar.hpp"
#include "widgets/timeline_view.hpp"

#include <QApplication>
#include <QComboBox>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTest>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextDocument>
#include <QToolButton>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>
#include <unistd.h>

namespace {

using namespace taskscope;
using taskscope::ui::MainWindow;

using taskscope::ui::testing::runUntil;

template <class Button>
Button* buttonNamed(QWidget* parent, const QString& text) {
    for (Button* b : parent->findChildren<Button*>()) {
        if (b->text() == text) {
            return b;
        }
    }
    return nullptr;
}

QString qstr(std::string_view s) {
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

} // namespace

TEST_CASE("every lesson starts from the picker, explains itself and fills the timeline",
          "[lessons]") {
    MainWindow window;
    window.setQuietErrors(true);
    window.resize(1600, 1000);
    window.show();
    ui::LessonPanel* panel = window.lessonPanel();
    QComboBox* picker = panel->findChild<QComboBox*>();
    REQUIRE(picker != nullptr);
    // "Choose a lesson…" first: a window that runs no lesson explains none.
    REQUIRE(picker->count() == static_cast<int>(lessons::catalogue().size()) + 1);
    CHECK(panel->currentLesson().isEmpty());
    CHECK_FALSE(buttonNamed<QPushButton>(panel, QStringLiteral("Run lesson"))->isEnabled());
    CHECK(panel->summary().startsWith(
        QStringLiteral("%1 classic demonstrations").arg(lessons::catalogue().size())));

    for (int i = 1; i < picker->count(); ++i) {
        const lessons::lesson_info& info = lessons::catalogue()[static_cast<std::size_t>(i - 1)];
        INFO(info.name);
        picker->setCurrentIndex(i);
        // The explanation beside the timeline is this lesson's, before anything runs.
        CHECK(panel->currentLesson() == qstr(info.name));
        CHECK(panel->explanation().contains(QStringLiteral("Predict")));
        CHECK(panel->explanation().contains(qstr(info.title)));

        panel->setScale(0.05);
        QSignalSpy finished(window.lesson(), &ui::LessonSession::finished);
        QPushButton* run = buttonNamed<QPushButton>(panel, QStringLiteral("Run lesson"));
        REQUIRE(run != nullptr);
        QTest::mouseClick(run, Qt::LeftButton);
        CHECK(window.lesson()->running());
        // Events arrive while it runs (its runtime's first events come within a phase).
        CHECK(runUntil([&] { return window.document()->model().event_count() > 0; }));
        REQUIRE(runUntil([&] { return finished.count() == 1; }));
        CHECK(finished.front().at(1).toString().isEmpty()); // no error
        CHECK(window.document()->info().lesson == info.name);
        // One line per phase, then "done".
        const QStringList lines = panel->phaseLines();
        REQUIRE(lines.size() >= 3);
        CHECK(lines.front().startsWith(QStringLiteral("phase ")));
        CHECK(lines.back().startsWith(QStringLiteral("done")));
        // The timeline has worker lanes with polls, and the phases are marked.
        std::size_t polls = 0;
        for (const auto& lane : window.document()->model().lanes()) {
            polls += lane.polls.size();
        }
        CHECK(polls > 0);
        CHECK(window.document()->model().markers().size() >= 2);
    }
}

TEST_CASE("replay steps a lesson trace and the queue strip shows the queues at the playhead",
          "[replay]") {
    MainWindow window;
    window.setQuietErrors(true);
    window.resize(1600, 1000);
    window.show();
    const auto file = std::filesystem::path(TASKSCOPE_TEST_DATA) / "lesson-work-stealing.tstrace";
    QSignalSpy opened(&window, &MainWindow::fileOpened);
    window.openFile(QString::fromStdString(file.string()));
    REQUIRE(runUntil([&] { return opened.count() == 1; }));
    REQUIRE(opened.front().at(0).toBool());
    // Before replaying, an opened trace's strip explains how to see its queues.
    CHECK(window.queueStrip()->source() == nullptr);
    CHECK(window.queueStrip()->hint().contains(QStringLiteral("Replay")));

    REQUIRE(window.startReplay());
    CHECK(window.replayBar()->isVisible());
    CHECK(window.queueStrip()->source() != nullptr);
    CHECK(window.view()->playheadNs() >= 0);

    // Step through the first polls with the bar's button: the playhead only moves forward,
    // and the strip shows the polled task on its worker.
    QToolButton* nextPoll =
        buttonNamed<QToolButton>(window.replayBar(), QStringLiteral("Next poll"));
    REQUIRE(nextPoll != nullptr);
    qint64 before = window.view()->playheadNs();
    for (int i = 0; i < 20; ++i) {
        QTest::mouseClick(nextPoll, Qt::LeftButton);
        const auto& last = window.replay()->cursor()->last();
        REQUIRE(last);
        CHECK(last->kind == trace::event_kind::poll_begin);
        CHECK(window.view()->playheadNs() >= before);
        before = window.view()->playheadNs();
        bool shown = false;
        for (const auto& row : window.queueStrip()->rows()) {
            shown = shown || row.running == last->task;
        }
        CHECK(shown);
    }

    // Next steal: the thief's queue holds what it stole.
    QToolButton* nextSteal =
        buttonNamed<QToolButton>(window.replayBar(), QStringLiteral("Next steal"));
    REQUIRE(nextSteal != nullptr);
    QTest::mouseClick(nextSteal, Qt::LeftButton);
    const auto& steal = window.replay()->cursor()->last();
    REQUIRE(steal);
    REQUIRE(steal->kind == trace::event_kind::steal);
    const auto rows = window.queueStrip()->rows();
    REQUIRE(rows.size() == 3); // two workers and the global queue
    std::size_t queued = 0;
    for (const auto& row : rows) {
        queued += row.total;
    }
    CHECK(queued + 1 >= steal->arg2); // all it moved but the one it runs at once
    CHECK(window.replay()->lastStep().contains(QStringLiteral("steals")));
    // The bar and the strip show one state: the thief runs the task the bar names.
    const auto thief = std::find_if(rows.begin(), rows.end(),
                                    [&](const auto& row) { return row.running == steal->task; });
    CHECK(thief != rows.end());
    CHECK(window.queueStrip()->caption().endsWith(window.replayBar()->timeLabel()->text()));

    // Steps read as sentences, never as event names; the buttons stay where they are
    // however long the sentence.
    const QRect playAt = window.replayBar()->playButton()->geometry();
    const QRect sliderAt = window.replayBar()->slider()->geometry();
    for (int i = 0; i < 200; ++i) {
        window.replay()->stepWake();
        window.replay()->stepPoll();
        QApplication::processEvents();
        INFO(window.replay()->lastStep().toStdString());
        for (int kind = 0; kind <= static_cast<int>(trace::event_kind::events_dropped); ++kind) {
            const auto name = trace::to_string(static_cast<trace::event_kind>(kind));
            if (name.find('_') != std::string_view::npos) { // "worker_park", not "wake"
                CHECK_FALSE(window.replay()->lastStep().contains(
                    QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()))));
            }
        }
        CHECK(window.replayBar()->playButton()->geometry() == playAt);
        CHECK(window.replayBar()->slider()->geometry() == sliderAt);
        CHECK(window.replayBar()->stepLabel()->toolTip() == window.replay()->lastStep());
    }
    window.replay()->rewind();

    // The timeline draws the playhead in the highlight colour at its time.
    ui::TimelineView* timeline = window.timeline();
    const QImage image = timeline->grab().toImage();
    const int x = timeline->labelWidth() + static_cast<int>(window.view()->scale().xOf(
                                               static_cast<double>(window.view()->playheadNs())));
    const QColor highlight = timeline->palette().highlight().color();
    int lit = 0;
    for (int dx = -2; dx <= 2; ++dx) {
        for (int y = 40; y < image.height() - 10; y += 10) {
            if (x + dx >= 0 && x + dx < image.width() &&
                QColor(image.pixel(x + dx, y)) == highlight) {
                ++lit;
            }
        }
    }
    CHECK(lit > 3);

    // Play at 10x reaches the end and stops by itself; closing the bar ends the replay.
    window.replay()->setSpeed(10);
    window.replay()->play();
    CHECK(runUntil([&] { return !window.replay()->playing(); }));
    window.replay()->close();
    CHECK_FALSE(window.replayBar()->isVisible());
    CHECK(window.view()->playheadNs() == -1);
}

TEST_CASE("replay without a trace file says what to do", "[replay]") {
    MainWindow window;
    window.setQuietErrors(true);
    CHECK_FALSE(window.startReplay());
    CHECK(window.lastError().contains(QStringLiteral("lesson")));
}

TEST_CASE("while a lesson runs the queue strip shows its live queues", "[lessons]") {
    MainWindow window;
    window.setQuietErrors(true);
    window.show();
    QSignalSpy finished(window.lesson(), &ui::LessonSession::finished);
    REQUIRE(window.runLesson(QStringLiteral("spawn-vs-await"), 0.05));
    CHECK(window.queueStrip()->source() == &window.document()->liveQueues());
    CHECK(window.queueStrip()->caption() == QStringLiteral("now"));
    REQUIRE(runUntil([&] { return finished.count() == 1; }));
    CHECK(window.document()->liveQueues().knows_queues());
    CHECK(window.queueStrip()->rows().size() == 2); // one worker, the global queue
    CHECK(window.queueStrip()->caption().contains(QStringLiteral("end of the lesson")));
    // The finished lesson can be replayed (its recording) and saved.
    REQUIRE(window.startReplay());
    CHECK(window.replay()->stepPoll());
}

TEST_CASE("a live run taking over the window leaves a running lesson behind cleanly", "[lessons]") {
    MainWindow window;
    window.setQuietErrors(true);
    window.show();
    QSignalSpy finished(window.lesson(), &ui::LessonSession::finished);
    REQUIRE(window.runLesson(QStringLiteral("three-sleeps"), 0.25)); // phases of 0.5-1.5 s
    REQUIRE(runUntil([&] { return window.document()->model().event_count() > 0; }));
    ui::LiveOptions live;
    live.workers = 1;
    REQUIRE(window.startLive(live));
    CHECK(finished.count() == 1); // at once: the panel is free again
    CHECK_FALSE(window.lesson()->running());
    CHECK(window.lessonPanel()->phaseLines().last().contains(QStringLiteral("another trace")));
    // The lesson's thread goes on to the end of its phase; none of it reaches the live run.
    QTest::qWait(1500);
    for (const auto& m : window.document()->model().markers()) {
        CHECK_FALSE(window.document()->model().name(m.name).starts_with("phase "));
    }
    CHECK(window.document()->info().lesson.empty());
    // A new lesson can start while the old one's thread is still winding down.
    QSignalSpy again(window.lesson(), &ui::LessonSession::finished);
    REQUIRE(window.runLesson(QStringLiteral("work-stealing"), 0.05));
    REQUIRE(runUntil([&] { return again.count() == 1; }));
    CHECK(window.document()->info().lesson == "work-stealing");
}

TEST_CASE("a replay whose file disappears ends with a message, never a crash", "[replay]") {
    const auto original =
        std::filesystem::path(TASKSCOPE_TEST_DATA) / "lesson-work-stealing.tstrace";
    const auto copy = std::filesystem::temp_directory_path() /
                      ("taskscope-ui-replay-" + std::to_string(::getpid()) + ".tstrace");
    std::filesystem::copy_file(original, copy, std::filesystem::copy_options::overwrite_existing);
    MainWindow window;
    window.setQuietErrors(true);
    window.show();
    QSignalSpy opened(&window, &MainWindow::fileOpened);
    window.openFile(QString::fromStdString(copy.string()));
    REQUIRE(runUntil([&] { return opened.count() == 1; }));
    REQUIRE(window.startReplay());
    REQUIRE(window.replay()->stepSteal());
    std::filesystem::remove(copy);

    // Replay again: refused, and the running replay (and the strip's source) stay valid.
    CHECK_FALSE(window.startReplay());
    CHECK(window.replay()->active());
    window.queueStrip()->repaint();
    CHECK_FALSE(window.queueStrip()->rows().empty());
    // Seeking back needs the file: the replay ends with a message.
    window.replay()->seek(0);
    CHECK_FALSE(window.replay()->active());
    CHECK(window.queueStrip()->source() == nullptr);
    CHECK(window.lastError().contains(QStringLiteral("replay ended")));
}

TEST_CASE("the window's source follows what it shows, and Save and Replay use its file",
          "[window][source]") {
    using Kind = ui::DocumentSource::Kind;
    MainWindow window;
    window.setQuietErrors(true);
    window.show();
    CHECK(window.source().kind == Kind::nothing);
    CHECK(window.windowTitle() == QStringLiteral("taskscope"));

    // Live, then a recording of it: the recording becomes the file behind the live run.
    ui::LiveOptions live;
    live.workers = 2;
    REQUIRE(window.startLive(live));
    CHECK(window.source().kind == Kind::live);
    CHECK_FALSE(window.source().hasFile());
    CHECK(window.windowTitle().startsWith(QStringLiteral("taskscope: live (2 workers")));
    CHECK_FALSE(window.startReplay()); // nothing recorded yet
    window.toggleRecording();
    REQUIRE(window.session()->recording());
    REQUIRE(runUntil([&] { return window.document()->model().event_count() > 0; }));
    window.toggleRecording();
    CHECK(window.source().kind == Kind::live);
    REQUIRE(window.source().hasFile());
    CHECK(std::filesystem::file_size(window.source().file) > 0);
    const std::filesystem::path recording = window.source().file;
    REQUIRE(window.startReplay());
    window.replay()->close();

    // A lesson replaces it whole: no file until the lesson has ended, then its recording.
    QSignalSpy finished(window.lesson(), &ui::LessonSession::finished);
    REQUIRE(window.runLesson(QStringLiteral("spawn-vs-await"), 0.05));
    CHECK(window.source().kind == Kind::lesson);
    CHECK(window.source().lesson == QStringLiteral("spawn-vs-await"));
    CHECK_FALSE(window.source().hasFile());
    CHECK(window.windowTitle() == QStringLiteral("taskscope: lesson spawn-vs-await"));
    REQUIRE(runUntil([&] { return finished.count() == 1; }));
    REQUIRE(window.source().hasFile());
    CHECK(window.source().file != recording);
    CHECK(window.source().file == window.lesson()->recording());

    // An opened file: the file is the source, the lesson's recording is forgotten.
    const auto sample = std::filesystem::path(TASKSCOPE_TEST_DATA) / "demo-blocking.tstrace";
    QSignalSpy opened(&window, &MainWindow::fileOpened);
    window.openFile(QString::fromStdString(sample.string()));
    REQUIRE(runUntil([&] { return opened.count() == 1; }));
    CHECK(window.source().kind == Kind::file);
    CHECK(window.source().file == sample);
    CHECK(window.windowTitle().startsWith(QStringLiteral("taskscope: demo-blocking.tstrace")));

    // Back to live: the old file is not behind the new run.
    REQUIRE(window.startLive(live));
    CHECK(window.source().kind == Kind::live);
    CHECK_FALSE(window.source().hasFile());
    std::filesystem::remove(recording);
}

TEST_CASE("an opened file shows its own run and lesson in the panels, read-only, and the way "
          "back to live",
          "[window][source]") {
    MainWindow window;
    window.setQuietErrors(true);
    window.show();
    ui::LiveOptions live;
    live.workers = 1; // differs from both files
    REQUIRE(window.startLive(live));
    CHECK(window.controls()->live());
    CHECK(window.controls()->note().isEmpty());
    CHECK(window.windowTitle().contains(QStringLiteral("(1 worker")));

    REQUIRE(ui::testing::openAndWait(window, ui::testing::testData("http-blocking.tstrace")));
    const trace::run_info& info = window.document()->info();
    REQUIRE(info.sleep_mode == "blocking");
    CHECK_FALSE(window.controls()->live());
    CHECK(window.controls()->sleepMode()->currentData().toString() == QStringLiteral("blocking"));
    CHECK(window.controls()->workers()->value() == static_cast<int>(info.workers));
    CHECK_FALSE(window.controls()->fireButton()->isEnabled());
    CHECK(window.controls()->note().contains(QStringLiteral("http-blocking.tstrace")));
    CHECK(window.controls()->note().contains(QStringLiteral("Ctrl+L")));
    CHECK(window.lessonPanel()->currentLesson().isEmpty()); // not a lesson's trace

    REQUIRE(
        ui::testing::openAndWait(window, ui::testing::testData("lesson-work-stealing.tstrace")));
    CHECK(window.lessonPanel()->currentLesson() == QStringLiteral("work-stealing"));

    // Back to live: the live settings again, and the controls act.
    REQUIRE(window.startLive(live));
    CHECK(window.controls()->live());
    CHECK(window.controls()->fireButton()->isEnabled());
    CHECK(window.controls()->workers()->value() == 1);
    CHECK(window.lessonPanel()->currentLesson().isEmpty());
}

TEST_CASE("the lesson text says how its durations change with the time scale", "[lessons]") {
    ui::LessonPanel panel;
    panel.setCurrentLesson(QStringLiteral("three-sleeps"));
    const lessons::lesson_info* info = lessons::find("three-sleeps");
    REQUIRE(info != nullptr);
    const auto summary = [&] { return panel.summary(); };
    CHECK(summary().contains(QStringLiteral("about %1 s)").arg(info->seconds)));
    panel.setScale(0.25);
    CHECK(summary().contains(
        QStringLiteral("about %1 s at 0.25×").arg(QString::number(info->seconds * 0.25, 'g', 2))));
    CHECK(panel.explanation().contains(QStringLiteral("0.25")));
    panel.setCurrentLesson(QString());
    CHECK(panel.currentLesson().isEmpty());
    CHECK(panel.explanation().contains(
        QString::fromUtf8(info->title.data(), static_cast<qsizetype>(info->title.size()))));
}

TEST_CASE("small things a class notices: help contents, the Open folder, icons, code size",
          "[window]") {
    // F1 opens with a contents line linking to each section.
    const QString help = MainWindow::shortcutsHelp();
    for (const char* section : {"timeline", "window", "replay"}) {
        INFO(section);
        CHECK(help.contains(QStringLiteral("href='#%1'").arg(QLatin1String(section))));
        CHECK(help.contains(QStringLiteral("name='%1'").arg(QLatin1String(section))));
    }

    MainWindow window;
    window.setQuietErrors(true);
    window.show();
    CHECK(window.openFolder().isEmpty()); // nothing open: the working folder
    const auto file = ui::testing::testData("lesson-work-stealing.tstrace");
    REQUIRE(ui::testing::openAndWait(window, file));
    CHECK(window.openFolder() == QString::fromStdString(file.parent_path().string()));

    // Play is the style's icon and a plain word: no glyph a font may lack.
    REQUIRE(window.startReplay());
    QToolButton* play = window.replayBar()->playButton();
    CHECK_FALSE(play->icon().isNull());
    CHECK(play->text() == QStringLiteral("Play"));
    const int width = play->width();
    // Slowest, from the start, and the text checked as play() sets it: a loaded machine's
    // late event loop could otherwise find the 70 ms trace played to its end (which turns
    // the button back to Play).
    window.replay()->setSpeed(ui::ReplayController::minSpeed);
    window.replay()->rewind();
    window.replay()->play();
    CHECK(play->text() == QStringLiteral("Pause"));
    QApplication::processEvents(); // a layout pass with the longer word
    CHECK(play->width() == width); // it does not move what is beside it
    window.replay()->pause();
    // In presentation mode's larger font the playhead's time still shows whole.
    window.setPresentation(true);
    QApplication::processEvents();
    window.replay()->seek(window.document()->firstNs() + 30'000'000);
    QApplication::processEvents();
    const QLabel* time = window.replayBar()->timeLabel();
    CHECK(time->text() == window.replay()->positionText());
    CHECK(time->fontMetrics().horizontalAdvance(time->text()) <= time->contentsRect().width());
    CHECK(play->fontMetrics().horizontalAdvance(QStringLiteral("Pause")) < play->width());
    window.setPresentation(false);

    // The lesson text's code spans are as large as its body text.
    ui::LessonPanel* panel = window.lessonPanel();
    panel->setCurrentLesson(QStringLiteral("three-sleeps"));
    const auto* browser = panel->findChild<QTextBrowser*>();
    REQUIRE(browser != nullptr);
    int code = 0;
    for (QTextBlock block = browser->document()->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextCharFormat format = it.fragment().charFormat();
            if (format.fontFixedPitch() || format.font().fixedPitch()) {
                ++code;
                CHECK(format.fontPointSize() == Approx(browser->font().pointSizeF()));
            }
        }
    }
    CHECK(code > 0);
}
