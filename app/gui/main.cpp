// taskscope: the window. Starts the engine live (or opens FILE), optionally fires requests,
// and can save a screenshot and exit (for documentation and for checking it under Xvfb or
// QT_QPA_PLATFORM=offscreen).

#include "control_panel.hpp"
#include "lesson_session.hpp"
#include "main_window.hpp"
#include "replay_controller.hpp"
#include "taskscope/lessons/lessons.hpp"
#include "theme.hpp"
#include "trace_document.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QScreen>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <unistd.h>

namespace {

bool hasDisplay() {
    return std::getenv("DISPLAY") != nullptr || std::getenv("WAYLAND_DISPLAY") != nullptr ||
           std::getenv("QT_QPA_PLATFORM") != nullptr;
}

bool wants(int argc, char** argv, const char* flag) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], flag) == 0) {
            return true;
        }
    }
    return false;
}

/// No display to open a window on (a server, a container, CI): run the headless demo
/// instead, which records a trace the window can open later.
int runHeadlessDemo(const char* argv0) {
    std::error_code ec;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        self = argv0;
    }
    const std::string cli = (self.parent_path() / "taskscope-cli").string();
    std::fprintf(stderr,
                 "taskscope: no display (DISPLAY and WAYLAND_DISPLAY are unset): running the "
                 "headless demo instead, recording taskscope-demo.tstrace.\n"
                 "  Open it later with: taskscope taskscope-demo.tstrace\n\n");
    const char* args[] = {"taskscope-cli", "demo", "-o", "taskscope-demo.tstrace", nullptr};
    execv(cli.c_str(), const_cast<char* const*>(args));
    std::fprintf(stderr, "taskscope: could not start %s: %s\n", cli.c_str(), std::strerror(errno));
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (!hasDisplay()) {
        if (wants(argc, argv, "--screenshot")) {
            setenv("QT_QPA_PLATFORM", "offscreen", 1); // a screenshot needs no screen
        } else if (argc == 1) {
            return runHeadlessDemo(argv[0]);
        } else if (!wants(argc, argv, "--help") && !wants(argc, argv, "-h") &&
                   !wants(argc, argv, "--version") && !wants(argc, argv, "--help-all")) {
            std::fprintf(stderr,
                         "taskscope: no display to open the window on (DISPLAY and "
                         "WAYLAND_DISPLAY are unset).\n  Run it on a desktop, add --screenshot "
                         "PNG to render the window without one, or use taskscope-cli.\n");
            return 2;
        } else {
            setenv("QT_QPA_PLATFORM", "offscreen", 1);
        }
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("taskscope"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("taskscope: watch a real async executor schedule, live or from a "
                       ".tstrace file.\nWith no FILE the engine runs inside the window with an "
                       "HTTP server on a local port; fire requests from the panel."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("FILE"),
                                 QStringLiteral("A .tstrace file to open instead of running live"),
                                 QStringLiteral("[FILE]"));
    const QCommandLineOption workers(QStringLiteral("workers"),
                                     QStringLiteral("Worker threads, 1 to 8 (default 2)"),
                                     QStringLiteral("N"), QStringLiteral("2"));
    const QCommandLineOption port(QStringLiteral("port"),
                                  QStringLiteral("Port of the built-in HTTP server (default: any "
                                                 "free port)"),
                                  QStringLiteral("P"), QStringLiteral("0"));
    const QCommandLineOption sleepMode(QStringLiteral("sleep-mode"),
                                       QStringLiteral("async, blocking or offload (default async)"),
                                       QStringLiteral("MODE"), QStringLiteral("async"));
    const QCommandLineOption acceptMode(
        QStringLiteral("accept-mode"),
        QStringLiteral("spawn, concurrent or inline (default spawn)"), QStringLiteral("MODE"),
        QStringLiteral("spawn"));
    const QCommandLineOption fire(QStringLiteral("fire"),
                                  QStringLiteral("Fire requests at TARGET once running, e.g. "
                                                 "/sleep?ms=300 (repeatable, in order)"),
                                  QStringLiteral("TARGET"));
    const QCommandLineOption count(QStringLiteral("count"),
                                   QStringLiteral("Requests per --fire (default 10)"),
                                   QStringLiteral("N"), QStringLiteral("10"));
    const QCommandLineOption concurrency(QStringLiteral("concurrency"),
                                         QStringLiteral("Connections per --fire (default 2)"),
                                         QStringLiteral("N"), QStringLiteral("2"));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a PNG of the window and exit (after --after ms of live run, or "
                       "once FILE is loaded)"),
        QStringLiteral("PNG"));
    const QCommandLineOption after(
        QStringLiteral("after"), QStringLiteral("Milliseconds before --screenshot (default 2000)"),
        QStringLiteral("MS"), QStringLiteral("2000"));
    const QCommandLineOption size(QStringLiteral("size"),
                                  QStringLiteral("Window size, e.g. 1920x1080 (a projector)"),
                                  QStringLiteral("WxH"));
    const QCommandLineOption presentation(QStringLiteral("presentation"),
                                          QStringLiteral("Larger text and lines for a projector"));
    const QCommandLineOption theme(
        QStringLiteral("theme"),
        QStringLiteral("system, light or dark (default: the last chosen in View > Theme, "
                       "else system); not kept for the next start"),
        QStringLiteral("THEME"));
    const QCommandLineOption lesson(
        QStringLiteral("lesson"),
        QStringLiteral("Run this lesson at start (taskscope-cli lessons lists them); "
                       "--screenshot waits for its end"),
        QStringLiteral("NAME"));
    const QCommandLineOption scale(QStringLiteral("scale"),
                                   QStringLiteral("The lesson's durations times S, 0.05 to 2 "
                                                  "(default 1: the classic numbers)"),
                                   QStringLiteral("S"), QStringLiteral("1"));
    const QCommandLineOption replayAt(
        QStringLiteral("replay-at"),
        QStringLiteral("Once FILE is loaded or the lesson has ended, replay it with the "
                       "playhead at SECONDS into the trace"),
        QStringLiteral("SECONDS"));
    parser.addOptions({workers, port, sleepMode, acceptMode, fire, count, concurrency, screenshot,
                       after, size, presentation, theme, lesson, scale, replayAt});
    parser.process(app);

    const auto fail = [](const QString& message) {
        std::fprintf(stderr, "taskscope: %s\n", qPrintable(message));
        return 2;
    };
    bool ok = false;
    taskscope::ui::LiveOptions live;
    const int workerCount = parser.value(workers).toInt(&ok);
    if (!ok || workerCount < 1 || workerCount > 8) {
        return fail(QStringLiteral("--workers takes a number from 1 to 8"));
    }
    live.workers = static_cast<std::size_t>(workerCount);
    const uint portNumber = parser.value(port).toUInt(&ok);
    if (!ok || portNumber > 65535) {
        return fail(QStringLiteral("--port takes a number from 0 to 65535"));
    }
    live.port = static_cast<std::uint16_t>(portNumber);
    const auto sleep = taskscope::net::parse_sleep_mode(parser.value(sleepMode).toStdString());
    if (!sleep) {
        return fail(QStringLiteral("--sleep-mode takes async, blocking or offload"));
    }
    live.sleep = *sleep;
    const auto accept = taskscope::net::parse_accept_mode(parser.value(acceptMode).toStdString());
    if (!accept) {
        return fail(QStringLiteral("--accept-mode takes spawn, concurrent or inline"));
    }
    live.accept = *accept;
    const int fireCount = parser.value(count).toInt(&ok);
    if (!ok || fireCount < 1) {
        return fail(QStringLiteral("--count takes a positive number"));
    }
    const int fireConcurrency = parser.value(concurrency).toInt(&ok);
    if (!ok || fireConcurrency < 1) {
        return fail(QStringLiteral("--concurrency takes a positive number"));
    }
    const int afterMs = parser.value(after).toInt(&ok);
    if (!ok || afterMs < 0) {
        return fail(QStringLiteral("--after takes milliseconds"));
    }
    if (parser.positionalArguments().size() > 1) {
        return fail(QStringLiteral("open one FILE at a time"));
    }
    const QString lessonName = parser.value(lesson);
    if (!lessonName.isEmpty() && taskscope::lessons::find(lessonName.toStdString()) == nullptr) {
        return fail(QStringLiteral("there is no lesson \"%1\" (taskscope-cli lessons lists them)")
                        .arg(lessonName));
    }
    if (!lessonName.isEmpty() && !parser.positionalArguments().isEmpty()) {
        return fail(QStringLiteral("give a FILE or a --lesson, not both"));
    }
    const double lessonScale = parser.value(scale).toDouble(&ok);
    if (!ok || lessonScale < 0.05 || lessonScale > 2) {
        return fail(QStringLiteral("--scale takes a number from 0.05 to 2"));
    }
    double replaySeconds = -1;
    if (parser.isSet(replayAt)) {
        replaySeconds = parser.value(replayAt).toDouble(&ok);
        if (!ok || replaySeconds < 0) {
            return fail(QStringLiteral("--replay-at takes seconds into the trace, e.g. 1.5"));
        }
        if (lessonName.isEmpty() && parser.positionalArguments().isEmpty()) {
            return fail(QStringLiteral("--replay-at needs a FILE or a --lesson to replay"));
        }
    }
    std::optional<taskscope::ui::Theme> look = taskscope::ui::savedTheme();
    if (parser.isSet(theme)) {
        look = taskscope::ui::parseTheme(parser.value(theme));
        if (!look) {
            return fail(QStringLiteral("--theme takes system, light or dark"));
        }
    }
    taskscope::ui::applyTheme(*look); // before the window: it is built in its colours

    taskscope::ui::MainWindow window;
    if (parser.isSet(size)) {
        const QStringList parts = parser.value(size).split(QLatin1Char('x'));
        const int w = parts.size() == 2 ? parts[0].toInt() : 0;
        const int h = parts.size() == 2 ? parts[1].toInt() : 0;
        if (w < 640 || h < 400) {
            return fail(QStringLiteral("--size takes WIDTHxHEIGHT, at least 640x400"));
        }
        window.resize(w, h);
    }
    if (parser.isSet(presentation)) {
        window.setPresentation(true);
    }
    const QString shot = parser.value(screenshot);
    if (!shot.isEmpty()) {
        window.setQuietErrors(true);
    }
    const auto takeScreenshot = [&window, shot] {
        window.repaint();
        const QImage image = window.grab().toImage();
        if (!image.save(shot)) {
            std::fprintf(stderr, "taskscope: could not write %s\n", qPrintable(shot));
            QApplication::exit(1);
            return;
        }
        std::printf("taskscope: saved %s (%dx%d)\n", qPrintable(shot), image.width(),
                    image.height());
        QApplication::exit(0);
    };
    window.show();
    // Once a trace is complete: replay at --replay-at if asked, then --screenshot if asked.
    const auto traceReady = [&window, takeScreenshot, shot, replaySeconds, afterMs] {
        if (replaySeconds >= 0 && window.startReplay()) {
            const auto first = window.document()->firstNs();
            window.replay()->seek(first + static_cast<std::uint64_t>(replaySeconds * 1e9));
        }
        if (!shot.isEmpty()) {
            QTimer::singleShot(std::min(afterMs, 500), takeScreenshot);
        }
    };

    if (!lessonName.isEmpty()) {
        QObject::connect(window.lesson(), &taskscope::ui::LessonSession::finished, &window,
                         [&window, traceReady, shot](bool, const QString& error) {
                             if (!error.isEmpty() && !shot.isEmpty()) {
                                 std::fprintf(stderr, "taskscope: %s\n", qPrintable(error));
                             }
                             traceReady();
                         });
        if (!window.runLesson(lessonName, lessonScale)) {
            return fail(window.lastError());
        }
    } else if (!parser.positionalArguments().isEmpty()) {
        QObject::connect(
            &window, &taskscope::ui::MainWindow::fileOpened, &window, [&, traceReady](bool opened) {
                if (!opened && !shot.isEmpty()) {
                    std::fprintf(stderr, "taskscope: %s\n", qPrintable(window.lastError()));
                }
                traceReady();
            });
        window.openFile(parser.positionalArguments().front());
    } else {
        if (!window.startLive(live) && !shot.isEmpty()) {
            return fail(window.lastError());
        }
        int delay = 200;
        for (const QString& target : parser.values(fire)) {
            taskscope::ui::FireRequest request;
            request.target = target;
            request.count = static_cast<std::size_t>(fireCount);
            request.concurrency = static_cast<std::size_t>(fireConcurrency);
            QTimer::singleShot(delay, &window,
                               [&window, request] { window.session()->fire(request); });
            delay += 150;
        }
        if (!shot.isEmpty()) {
            QTimer::singleShot(afterMs, takeScreenshot);
        }
    }
    return QApplication::exec();
}
