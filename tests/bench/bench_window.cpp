// The whole window, as a user meets it: the real MainWindow at 1920x1080 (offscreen) with
// every panel, opening real files and driving a live run from its own control panel.
//
//   open   a recording of --requests HTTP requests, made by `taskscope-cli record` (the
//          path a user takes); the work-stealing lesson at scale 1 (`taskscope-cli
//          lesson`); the synthetic trace of --events events. Each is timed from the open
//          to its first complete frame, then every frame of 20 zoom and pan steps and of
//          switching the bottom tabs, while a timer probe notes the event loop's longest
//          stall (chart refreshes run on timers, after the frame).
//   live   --live-requests "/" requests at concurrency 16 fired from the panel, the probe
//          measuring the event loop's worst delay until they are answered.
//   long   a long live session: the window attached (File > Attach, as a user watches their
//          own program) to a program serving --long-rate synthetic events a second for
//          --long-seconds, with the default retention (View > Keep). Resident memory is
//          sampled every --sample-seconds (`bench live/rss_after_<t>s`); once the kept
//          window is full it must stay flat. Not in a default run (it takes minutes).
//
// Prints `bench window/<case> <value> <unit>` lines, each with its target as a comment;
// it never passes or fails. The recordings take a while to make: --keep DIR keeps them in
// DIR and reuses them on the next run.
//
//   build/release/tests/bench/taskscope_bench_window [--requests N] [--events N]
//       [--live-requests N] [--keep DIR] [--only open|live|long]
//       [--long-seconds S] [--long-rate EVENTS_PER_S] [--sample-seconds S]
//       [--long-keep-events N]

#include "bench_support.hpp"
#include "charts/queue_depth_chart.hpp"
#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "sessions/attach_session.hpp"
#include "sessions/live_session.hpp"
#include "taskscope/trace_server.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/lesson_panel.hpp"
#include "widgets/main_window.hpp"
#include "widgets/queue_strip.hpp"
#include "widgets/timeline_view.hpp"

#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QPixmap>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTimer>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifndef TASKSCOPE_CLI
#error "TASKSCOPE_CLI names the taskscope-cli executable"
#endif

namespace {

using namespace taskscope;
using namespace taskscope::bench;

constexpr int frameWidth = 1920;
constexpr int frameHeight = 1080;

void figure(const std::string& name, double value, int decimals, const char* unit,
            const char* target) {
    std::printf("bench window/%s %.*f %s\n# target %s\n", name.c_str(), decimals, value, unit,
                target);
    std::fflush(stdout);
}

/// The event loop's longest stall: a timer asks to run every millisecond and notes how late
/// each run is. A stall is what a user feels as a frozen window.
class StallProbe {
public:
    StallProbe() {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(1);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const double gap = static_cast<double>(m_since.nsecsElapsed()) / 1e6;
            m_since.restart();
            m_worst = std::max(m_worst, gap);
            if (gap > 50.0) {
                ++m_over50;
            }
        });
    }
    void start() {
        m_worst = 0;
        m_over50 = 0;
        m_since.start();
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    [[nodiscard]] double worstMs() const noexcept { return m_worst; }
    [[nodiscard]] int over50() const noexcept { return m_over50; }

private:
    QTimer m_timer;
    QElapsedTimer m_since;
    double m_worst = 0;
    int m_over50 = 0;
};

/// Counts frames as a screen would show them: a frame is one repaint of a window (an
/// UpdateRequest to a top-level widget), and its cost is the time the GUI thread was busy since the
/// frame before, handling events and painting (time spent waiting for events does not count). With
/// TASKSCOPE_BENCH_WIDGETS set it also names every event that kept the loop busy over 15 ms.
class FrameCountingApplication : public QApplication {
public:
    using QApplication::QApplication;

    bool notify(QObject* receiver, QEvent* event) override {
        if (m_depth++ > 0) {
            const bool done = QApplication::notify(receiver, event);
            --m_depth;
            return done;
        }
        const auto started = clock_type::now();
        const QEvent::Type type = event->type();
        // Read before the event is handled: handling it may delete the receiver.
        const auto* widget = qobject_cast<const QWidget*>(receiver);
        const bool windowPaint =
            type == QEvent::UpdateRequest && widget != nullptr && widget->isWindow();
        const char* className = receiver->metaObject()->className();
        const bool done = QApplication::notify(receiver, event);
        const double ms = ms_since(started);
        --m_depth;
        m_busyMs += ms;
        if (windowPaint) {
            m_frames.push_back(m_busyMs - m_busyAtFrame);
            m_busyAtFrame = m_busyMs;
        }
        if (m_verbose && ms > 15.0) {
            std::fprintf(stderr, "# SLOW EVENT %.1f ms: %s event %d\n", ms, className,
                         static_cast<int>(type));
        }
        return done;
    }

    /// Work done outside the event loop (a step the benchmark takes) counts too.
    void addBusy(double ms) { m_busyMs += ms; }
    /// Starts counting frames afresh.
    void resetFrames() {
        m_frames.clear();
        m_busyAtFrame = m_busyMs;
    }
    [[nodiscard]] const std::vector<double>& frames() const noexcept { return m_frames; }

private:
    int m_depth = 0;
    double m_busyMs = 0;
    double m_busyAtFrame = 0;
    std::vector<double> m_frames;
    bool m_verbose = std::getenv("TASKSCOPE_BENCH_WIDGETS") != nullptr;
};

FrameCountingApplication* frameCounter() {
    return static_cast<FrameCountingApplication*>(QCoreApplication::instance());
}

/// Runs the event loop until `done` holds (false after `limitS`).
bool runUntil(const std::function<bool()>& done, double limitS) {
    const auto started = clock_type::now();
    while (!done()) {
        if (seconds_since(started) > limitS) {
            return false;
        }
        QApplication::processEvents(QEventLoop::AllEvents, 5);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

/// Runs the event loop for `ms` milliseconds.
void runFor(double ms) {
    const auto started = clock_type::now();
    while (ms_since(started) < ms) {
        QApplication::processEvents(QEventLoop::AllEvents, 5);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

/// With TASKSCOPE_BENCH_WIDGETS set, how long each view of `window` takes to draw alone:
/// where a slow frame goes.
void widgetCosts(ui::MainWindow& window, const char* when) {
    if (std::getenv("TASKSCOPE_BENCH_WIDGETS") == nullptr) {
        return;
    }
    std::printf("# %s, each view drawn alone:", when);
    const std::pair<const char*, QWidget*> views[] = {
        {"timeline", window.timeline()},      {"queue_strip", window.queueStrip()},
        {"depth_chart", window.queueChart()}, {"tabs", window.tabs()},
        {"controls", window.controls()},      {"lesson", window.lessonPanel()}};
    for (const auto& [name, widget] : views) {
        const auto started = clock_type::now();
        (void)widget->grab();
        std::printf(" %s %.1f ms", name, ms_since(started));
    }
    std::printf("\n");
}

/// Every view of every window drawn from scratch: a complete frame, as at first show.
double completeFrameMs() {
    const auto started = clock_type::now();
    QApplication::processEvents();
    for (QWidget* w : QApplication::topLevelWidgets()) {
        if (w->isVisible()) {
            (void)w->grab();
        }
    }
    return ms_since(started);
}

int run(const std::vector<std::string>& args) {
    std::string command;
    for (const std::string& a : args) {
        command.append(command.empty() ? "'" : " '").append(a).append("'");
    }
    std::printf("# running %s\n", command.c_str());
    std::fflush(stdout);
    const int status = std::system((command + " > /dev/null").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/// A file in `dir`, made by `make` unless it is there already.
std::filesystem::path prepared(const std::filesystem::path& dir, const std::string& name,
                               const std::function<bool(const std::filesystem::path&)>& make) {
    const std::filesystem::path path = dir / name;
    if (std::filesystem::exists(path)) {
        std::printf("# reusing %s\n", path.c_str());
        return path;
    }
    const auto started = clock_type::now();
    if (!make(path)) {
        std::fprintf(stderr, "taskscope_bench_window: could not make %s\n", path.c_str());
        std::exit(1);
    }
    std::printf("# made %s in %.1f s (%.1f MB)\n", path.c_str(), seconds_since(started),
                static_cast<double>(std::filesystem::file_size(path)) / 1e6);
    return path;
}

/// One file: open it in a fresh window, then zoom, pan and switch tabs.
void openCase(const std::string& name, const std::filesystem::path& path) {
    ui::MainWindow window;
    window.setQuietErrors(true);
    window.resize(frameWidth, frameHeight);
    window.show();
    completeFrameMs(); // fonts, glyph caches, the first layout: paid at start-up, not per file
    runFor(200);

    StallProbe probe;
    const std::uint64_t rssBefore = rss_bytes();
    std::optional<bool> opened;
    QObject::connect(&window, &ui::MainWindow::fileOpened, [&](bool ok) { opened = ok; });
    probe.start();
    const auto started = clock_type::now();
    window.openFile(QString::fromStdString(path.string()));
    if (!runUntil([&] { return opened.has_value(); }, 600) || !*opened) {
        std::printf("# %s: the open failed: %s\n", name.c_str(),
                    window.lastError().toStdString().c_str());
        return;
    }
    const double loadedS = seconds_since(started);
    completeFrameMs();
    const double openS = seconds_since(started);
    widgetCosts(window, "after the open");
    const double openStallMs = probe.worstMs();
    const std::uint64_t rssAfter = rss_bytes();

    const analysis::model& m = window.document()->model();
    const auto events = static_cast<double>(m.event_count());
    std::printf("# %s: %zu requests never answered, the longest took %.1f ms\n", name.c_str(),
                m.open_request_count(), static_cast<double>(m.longest_request_ns()) / 1e6);
    std::printf("# %s: %llu events, %zu requests, %zu tasks, %zu findings; loaded in %.3f s, "
                "first frame %.3f s after the open; longest event-loop stall while opening "
                "%.1f ms\n",
                name.c_str(), static_cast<unsigned long long>(m.event_count()), m.requests().size(),
                m.tasks().size(), m.lints().size(), loadedS, openS, openStallMs);
    figure(name + "/open", openS, 3, "s",
           "open <= 1 s for 10 M events, <= 0.5 s for 1.5 M requests");
    // Below a million events the allocator's own slack outweighs the trace.
    if (events >= 1e6) {
        figure(name + "/rss_per_event",
               static_cast<double>(rssAfter > rssBefore ? rssAfter - rssBefore : 0) / events, 1,
               "B/event", "rss_per_event <= 32 B/event (VmRSS growth over the open)");
    }

    // Twenty steps a user takes: zoom in about the middle, pan, zoom back out, each given
    // 110 ms (the charts refresh at most ten times a second); then the bottom tabs. Every
    // frame the window paints meanwhile counts, charts' refreshes included.
    ui::ViewState& view = *window.view();
    FrameCountingApplication& counter = *frameCounter();
    counter.resetFrames();
    probe.start();
    for (int step = 0; step < 20; ++step) {
        const auto stepped = clock_type::now();
        const double start = view.scale().startNs();
        const double span = view.scale().spanNs();
        if (step < 8) {
            view.setVisible(start + span * 0.25, start + span * 0.75); // zoom in 2x
        } else if (step < 14) {
            view.setVisible(start + span * 0.3, start + span * 1.3); // pan right
        } else {
            view.setVisible(start - span * 0.5, start + span * 1.5); // zoom out 2x
        }
        counter.addBusy(ms_since(stepped));
        runFor(110);
    }
    QTabWidget* tabs = window.tabs();
    for (int round = 0; round < 2; ++round) {
        for (int tab = 0; tab < tabs->count(); ++tab) {
            const auto switched = clock_type::now();
            tabs->setCurrentIndex(tab);
            counter.addBusy(ms_since(switched));
            runFor(60);
        }
    }
    probe.stop();
    const std::vector<double> frames = counter.frames();
    if (std::getenv("TASKSCOPE_BENCH_WIDGETS") != nullptr) {
        std::printf("# %s: frames (ms):", name.c_str());
        for (const double f : frames) {
            std::printf(" %.1f", f);
        }
        std::printf("\n");
    }
    const double worst = frames.empty() ? 0.0 : *std::max_element(frames.begin(), frames.end());
    std::printf("# %s: %zu frames painted over 20 zoom/pan steps and the tabs twice, median "
                "%.1f ms, worst %.1f ms of GUI-thread work each; longest stall %.1f ms\n",
                name.c_str(), frames.size(), median(frames), worst, probe.worstMs());
    figure(name + "/frame_median", median(frames), 1, "ms", "frame_median <= 16 ms");
    figure(name + "/frame_max", worst, 1, "ms", "frame_max <= 50 ms");
    figure(name + "/stall_max", probe.worstMs(), 1, "ms",
           "stall_max <= 50 ms (the event loop's longest block)");
}

/// Fire `count` "/" requests at concurrency 16 from the panel of a live window.
void liveCase(std::size_t count) {
    ui::MainWindow window;
    window.setQuietErrors(true);
    window.resize(frameWidth, frameHeight);
    window.show();
    if (!window.startLive({})) {
        std::printf("# live: the engine did not start: %s\n",
                    window.lastError().toStdString().c_str());
        return;
    }
    completeFrameMs();
    runFor(300);

    ui::ControlPanel& panel = *window.controls();
    panel.route()->setCurrentIndex(panel.route()->findData(QStringLiteral("/")));
    panel.count()->setValue(static_cast<int>(count));
    panel.concurrency()->setValue(16);
    std::optional<QString> summary;
    QObject::connect(window.session(), &ui::LiveSession::loadFinished,
                     [&](const QString& s) { summary = s; });

    StallProbe probe;
    const std::uint64_t rssBefore = rss_bytes();
    const auto started = clock_type::now();
    probe.start();
    panel.fireButton()->click();
    const bool done = runUntil([&] { return summary.has_value(); }, 900);
    const double loadS = seconds_since(started);
    runFor(500); // the last events reach the window
    probe.stop();
    const double finalFrame = completeFrameMs();
    widgetCosts(window, "after the live run");

    const analysis::model& m = window.document()->model();
    const analysis::latency_summary latency = m.request_latency();
    const std::uint64_t rssAfter = rss_bytes();
    std::printf("# live: %s in %.1f s (%s); the window took %llu events, %llu requests "
                "answered as the client saw them; %d stalls over 50 ms; a frame at the end "
                "%.1f ms; memory grew %.1f MB\n",
                done ? "answered" : "NOT FINISHED", loadS,
                summary.value_or(QStringLiteral("no summary")).toStdString().c_str(),
                static_cast<unsigned long long>(m.event_count()),
                static_cast<unsigned long long>(latency.count), probe.over50(), finalFrame,
                static_cast<double>(rssAfter > rssBefore ? rssAfter - rssBefore : 0) / 1e6);
    figure("live/requests_per_s", static_cast<double>(latency.count) / loadS, 0, "req/s",
           "(answered while the window draws)");
    figure("live/stall_max", probe.worstMs(), 1, "ms", "live stall_max <= 50 ms");
}

/// The program watched by the long case (`--serve-synthetic RATE SECONDS`, run as a child
/// process): serves the synthetic server's events at RATE a second on a trace_server (as
/// TASKSCOPE_LISTEN does), prints "port N pid P", then a line a second; it stops after
/// SECONDS, or when the benchmark ends it (SIGTERM).
int serveSynthetic(double rate, double seconds) {
    std::signal(SIGPIPE, SIG_DFL);
    trace::run_info info;
    info.command = "synthetic server (taskscope benchmark)";
    trace_server server(info, trace_server_options{.address = "127.0.0.1:0"});
    std::printf("port %u pid %d\n", static_cast<unsigned>(server.port()),
                static_cast<int>(::getpid()));
    std::fflush(stdout);
    HttpLikeStream stream(21);
    std::vector<event> batch;
    const auto started = clock_type::now();
    double sent = 0;
    double lastBeat = 0;
    while (true) {
        const double now = seconds_since(started);
        if (now >= seconds) {
            break;
        }
        const auto due = static_cast<std::size_t>(now * rate - sent);
        if (due > 0) {
            batch.clear();
            stream.next(batch, due);
            server.consume(batch);
            sent += static_cast<double>(due);
        }
        if (now - lastBeat >= 1.0) {
            lastBeat = now;
            std::printf("sent %.0f missed %llu\n", sent,
                        static_cast<unsigned long long>(server.missed_by_viewers()));
            if (std::fflush(stdout) != 0) {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server.close();
    return 0;
}

/// Attaches the whole window to a program sending `rate` events a second for `seconds`,
/// keeping the default retention, and samples the window's resident memory.
void longCase(double seconds, double rate, double sampleSeconds,
              std::optional<std::uint64_t> keepEvents) {
    const std::string command = "exec /proc/" + std::to_string(::getpid()) +
                                "/exe --serve-synthetic " + std::to_string(rate) + " " +
                                std::to_string(seconds + 30);
    FILE* program = ::popen(command.c_str(), "r");
    char line[256] = {};
    unsigned port = 0;
    int pid = 0;
    if (program == nullptr || std::fgets(line, sizeof line, program) == nullptr ||
        std::sscanf(line, "port %u pid %d", &port, &pid) != 2) {
        std::printf("# long: the synthetic program did not start\n");
        return;
    }
    // Its heartbeat lines are read on a thread of their own (so its pipe never fills).
    std::atomic<double> programSent{0};
    std::atomic<unsigned long long> programMissed{0};
    std::thread reader([&] {
        char beat[256];
        while (std::fgets(beat, sizeof beat, program) != nullptr) {
            double sent = 0;
            unsigned long long missed = 0;
            if (std::sscanf(beat, "sent %lf missed %llu", &sent, &missed) == 2) {
                programSent = sent;
                programMissed = missed;
            }
        }
    });

    ui::MainWindow window;
    window.setQuietErrors(true);
    window.resize(frameWidth, frameHeight);
    window.show();
    if (keepEvents) {
        window.setRetention(
            {.keepNs = window.document()->retention().keepNs, .keepEvents = *keepEvents}, false);
    }
    const ui::Retention keep = window.document()->retention();
    std::printf("# long: the window attached to a program sending %.0f events/s for %.0f s, "
                "keeping %s\n",
                rate, seconds,
                (keep.keepEvents != 0 ? std::to_string(keep.keepEvents / 1'000'000) + " M events"
                                      : std::string("any number of events"))
                    .c_str());
    const std::uint64_t rssStart = rss_bytes();
    std::optional<bool> attached;
    QObject::connect(&window, &ui::MainWindow::attachFinished, [&](bool ok) { attached = ok; });
    window.attachTo(QStringLiteral("127.0.0.1:%1").arg(port));
    if (!runUntil([&] { return attached.has_value(); }, 30) || !*attached) {
        std::printf("# long: could not attach: %s\n", window.lastError().toStdString().c_str());
        ::kill(pid, SIGTERM);
        reader.join(); // its end of the pipe closed: the reader sees the end
        ::pclose(program);
        return;
    }
    StallProbe probe;
    probe.start();
    const auto started = clock_type::now();
    std::vector<std::pair<double, std::uint64_t>> samples; // (seconds, RSS) once full
    double fullAt = -1;
    for (double next = sampleSeconds; next <= seconds + 1e-9; next += sampleSeconds) {
        runUntil([&] { return seconds_since(started) >= next; }, next + 60);
        const ui::TraceDocument& d = *window.document();
        const std::uint64_t rss = rss_bytes();
        if (fullAt < 0 && d.forgottenEvents() > 0) {
            fullAt = next;
        }
        std::printf("bench live/rss_after_%.0fs %.1f MB\n# at %.0f s: %.1f M events taken "
                    "(%.2f M/s), %.1f M kept from %.1f s, %llu dropped for the window, the "
                    "window %zu behind; model and summaries %.1f MB\n",
                    next, static_cast<double>(rss) / 1e6, next,
                    static_cast<double>(d.model().event_count()) / 1e6,
                    static_cast<double>(d.model().event_count()) / 1e6 / next,
                    static_cast<double>(d.keptEvents()) / 1e6,
                    static_cast<double>(d.keptFromNs() - d.firstNs()) / 1e9,
                    static_cast<unsigned long long>(programMissed.load()),
                    window.attachSession()->backlog(), static_cast<double>(d.memoryBytes()) / 1e6);
        std::fflush(stdout);
        if (fullAt >= 0 && next >= fullAt + sampleSeconds) { // a sample after it filled
            samples.emplace_back(next, rss);
        }
    }
    probe.stop();
    const analysis::model& m = window.document()->model();
    std::printf("# long: %.1f M events sent, %.1f M taken by the window, %llu missed because "
                "the window read too slowly; resident memory %.1f MB before attaching\n",
                programSent.load() / 1e6, static_cast<double>(m.event_count()) / 1e6,
                programMissed.load(), static_cast<double>(rssStart) / 1e6);
    if (samples.size() >= 2) {
        const auto [low, high] =
            std::minmax_element(samples.begin(), samples.end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; });
        const double spread = 100.0 * static_cast<double>(high->second - low->second) /
                              static_cast<double>(low->second);
        std::printf("bench live/rss_spread_after_fill %.1f %%\n# target <= 10 %% (lowest %.1f MB "
                    "at %.0f s, highest %.1f MB at %.0f s, over the samples from %.0f s on)\n",
                    spread, static_cast<double>(low->second) / 1e6, low->first,
                    static_cast<double>(high->second) / 1e6, high->first, samples.front().first);
    } else {
        std::printf("# long: the kept window never filled (run longer or faster)\n");
    }
    figure("long/stall_max", probe.worstMs(), 1, "ms", "stall_max <= 50 ms while taking events in");
    window.attachSession()->detach();
    ::kill(pid, SIGTERM);
    reader.join(); // only then may the pipe be closed: the reader reads from it
    ::pclose(program);
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "--serve-synthetic") == 0) {
        return serveSynthetic(std::atof(argv[2]), std::atof(argv[3]));
    }
    std::size_t requests = 1'500'000;
    std::size_t events = 10'000'000;
    std::size_t liveRequests = 100'000;
    std::filesystem::path keep;
    std::string only;
    double longSeconds = 600;
    double longRate = 1e6;
    double sampleSeconds = 30;
    std::optional<std::uint64_t> longKeepEvents; // the window's own choice (View > Keep)
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--requests" && i + 1 < argc) {
            requests = std::stoull(argv[++i]);
        } else if (a == "--events" && i + 1 < argc) {
            events = std::stoull(argv[++i]);
        } else if (a == "--live-requests" && i + 1 < argc) {
            liveRequests = std::stoull(argv[++i]);
        } else if (a == "--keep" && i + 1 < argc) {
            keep = argv[++i];
        } else if (a == "--only" && i + 1 < argc) {
            only = argv[++i];
        } else if (a == "--long-seconds" && i + 1 < argc) {
            longSeconds = std::stod(argv[++i]);
        } else if (a == "--long-rate" && i + 1 < argc) {
            longRate = std::stod(argv[++i]);
        } else if (a == "--sample-seconds" && i + 1 < argc) {
            sampleSeconds = std::stod(argv[++i]);
        } else if (a == "--long-keep-events" && i + 1 < argc) {
            longKeepEvents = std::stoull(argv[++i]);
        } else {
            std::fprintf(stderr,
                         "usage: %s [--requests N] [--events N] [--live-requests N] [--keep DIR] "
                         "[--only open|live|long] [--long-seconds S] [--long-rate EVENTS_PER_S] "
                         "[--sample-seconds S] [--long-keep-events N]\n",
                         argv[0]);
            return 2;
        }
    }
    if (std::getenv("QT_QPA_PLATFORM") == nullptr) {
        ::setenv("QT_QPA_PLATFORM", "offscreen", 1);
    }
    int qtArgc = 1;
    FrameCountingApplication app(qtArgc, argv);
    std::printf("# taskscope whole-window benchmark: MainWindow at %dx%d, offscreen\n", frameWidth,
                frameHeight);

    const bool scratch = keep.empty();
    const std::filesystem::path dir =
        scratch ? std::filesystem::temp_directory_path() /
                      ("taskscope-bench-window-" + std::to_string(::getpid()))
                : keep;
    std::filesystem::create_directories(dir);
    if (only.empty() || only == "open") {
        const std::string requestsName = "http-" + std::to_string(requests) + ".tstrace";
        const auto http = prepared(dir, requestsName, [&](const std::filesystem::path& p) {
            return run({TASKSCOPE_CLI, "record", "-o", p.string(), "--workers", "2", "--load", "/",
                        "-n", std::to_string(requests), "-c", "16", "--max-seconds", "900"}) == 0;
        });
        const auto lesson =
            prepared(dir, "lesson-work-stealing.tstrace", [](const std::filesystem::path& p) {
                return run({TASKSCOPE_CLI, "lesson", "work-stealing", "-o", p.string()}) == 0;
            });
        const auto synthetic = prepared(dir, "synthetic-" + std::to_string(events) + ".tstrace",
                                        [&](const std::filesystem::path& p) {
                                            writeTrace(p, events);
                                            return true;
                                        });
        openCase("http_" + std::to_string(requests / 1000) + "k_requests", http);
        openCase("work_stealing_lesson", lesson);
        openCase("synthetic_" + std::to_string(events / 1'000'000) + "m_events", synthetic);
    }
    if (only.empty() || only == "live") {
        liveCase(liveRequests);
    }
    if (only == "long") {
        longCase(longSeconds, longRate, sampleSeconds, longKeepEvents);
    }
    if (scratch) {
        std::filesystem::remove_all(dir);
    }
    return 0;
}
