// taskscope: the window. Starts the engine live (or opens FILE), optionally fires requests,
// and can save a screenshot and exit (for documentation and for checking it under Xvfb or
// QT_QPA_PLATFORM=offscreen).

#include "document/trace_document.hpp"
#include "look/theme.hpp"
#include "sessions/launch_options.hpp"
#include "sessions/lesson_session.hpp"
#include "sessions/replay_controller.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/main_window.hpp"

#include <QApplication>
#include <QScreen>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <variant>

// Windows and macOS always have a desktop to draw on; an X11 or Wayland system may not
// (a server, a container, CI), and then runs the headless demo instead.
#if !defined(_WIN32) && !defined(__APPLE__)
#define TASKSCOPE_MAY_LACK_DISPLAY 1
#include <unistd.h>
#endif

namespace {

#if TASKSCOPE_MAY_LACK_DISPLAY
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
#endif

} // namespace

int main(int argc, char** argv) {
#if TASKSCOPE_MAY_LACK_DISPLAY
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
#endif
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("taskscope"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    taskscope::ui::LaunchParser launch;
    launch.parser().process(app); // --help, --version and unknown options end here
    const auto parsed = launch.read();
    if (const QString* error = std::get_if<QString>(&parsed)) {
        std::fprintf(stderr, "taskscope: %s\n", qPrintable(*error));
        return 2;
    }
    const taskscope::ui::LaunchOptions& options = std::get<taskscope::ui::LaunchOptions>(parsed);
    const auto fail = [](const QString& message) {
        std::fprintf(stderr, "taskscope: %s\n", qPrintable(message));
        return 2;
    };
    const taskscope::ui::Theme look = options.theme.value_or(taskscope::ui::savedTheme());
    taskscope::ui::applyTheme(look); // before the window: it is built in its colours

    taskscope::ui::MainWindow window;
    window.applyLaunchOptions(options);
    const QString shot = options.screenshot;
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
    const auto traceReady = [&window, takeScreenshot, shot, &options] {
        if (options.replayAtSeconds >= 0 && window.startReplay()) {
            const auto first = window.document()->firstNs();
            window.replay()->seek(first +
                                  static_cast<std::uint64_t>(options.replayAtSeconds * 1e9));
        }
        if (!shot.isEmpty()) {
            QTimer::singleShot(std::min(options.screenshotAfterMs, 500), takeScreenshot);
        }
    };

    if (!options.lesson.isEmpty()) {
        QObject::connect(window.lesson(), &taskscope::ui::LessonSession::finished, &window,
                         [&window, traceReady, shot](bool, const QString& error) {
                             if (!error.isEmpty() && !shot.isEmpty()) {
                                 std::fprintf(stderr, "taskscope: %s\n", qPrintable(error));
                             }
                             traceReady();
                         });
        if (!window.runLesson(options.lesson, options.lessonScale)) {
            return fail(window.lastError());
        }
    } else if (!options.file.isEmpty()) {
        QObject::connect(
            &window, &taskscope::ui::MainWindow::fileOpened, &window, [&, traceReady](bool opened) {
                if (!opened && !shot.isEmpty()) {
                    std::fprintf(stderr, "taskscope: %s\n", qPrintable(window.lastError()));
                }
                traceReady();
            });
        window.openFile(options.file);
    } else if (!options.attach.isEmpty()) {
        QObject::connect(&window, &taskscope::ui::MainWindow::attachFinished, &window,
                         [&window, shot, &options, takeScreenshot](bool attached) {
                             if (!attached && !shot.isEmpty()) {
                                 std::fprintf(stderr, "taskscope: %s\n",
                                              qPrintable(window.lastError()));
                                 QApplication::exit(1);
                                 return;
                             }
                             if (!shot.isEmpty()) {
                                 QTimer::singleShot(options.screenshotAfterMs, takeScreenshot);
                             }
                         });
        window.attachTo(options.attach);
    } else {
        if (!window.startLive(options.live) && !shot.isEmpty()) {
            return fail(window.lastError());
        }
        int delay = 200;
        for (const QString& target : options.fireTargets) {
            taskscope::ui::FireRequest request;
            request.target = target;
            request.count = options.fireCount;
            request.concurrency = options.fireConcurrency;
            request.http2 = options.fireHttp2;
            request.streams = options.fireStreams;
            QTimer::singleShot(delay, &window,
                               [&window, request] { window.session()->fire(request); });
            delay += 150;
        }
        if (!shot.isEmpty()) {
            QTimer::singleShot(options.screenshotAfterMs, takeScreenshot);
        }
    }
    return QApplication::exec();
}
