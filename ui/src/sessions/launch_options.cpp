#include "sessions/launch_options.hpp"

#include "taskscope/lessons/lessons.hpp"
#include "taskscope/trace_server.hpp"

namespace taskscope::ui {
namespace {

QCommandLineOption option(const char* name, const char* help, const char* value = nullptr,
                          const char* fallback = nullptr) {
    if (value == nullptr) {
        return {QString::fromLatin1(name), QString::fromUtf8(help)};
    }
    return {QString::fromLatin1(name), QString::fromUtf8(help), QString::fromLatin1(value),
            fallback == nullptr ? QString() : QString::fromLatin1(fallback)};
}

/// A whole number in [low, high], or nothing.
std::optional<long long> number(const QString& text, long long low, long long high) {
    bool ok = false;
    const long long n = text.toLongLong(&ok);
    if (!ok || n < low || n > high) {
        return std::nullopt;
    }
    return n;
}

} // namespace

std::optional<std::uint64_t> parseKeepDuration(const QString& text) {
    const QString t = text.trimmed().toLower();
    if (t == QLatin1String("all") || t == QLatin1String("0")) {
        return 0;
    }
    double unit = 0;
    if (t.endsWith(QLatin1Char('s'))) {
        unit = 1e9;
    } else if (t.endsWith(QLatin1Char('m'))) {
        unit = 60e9;
    } else if (t.endsWith(QLatin1Char('h'))) {
        unit = 3600e9;
    } else {
        return std::nullopt;
    }
    bool ok = false;
    const double amount = t.chopped(1).toDouble(&ok);
    // At least a second, at most a week.
    if (!ok || !(amount * unit >= 1e9) || amount * unit > 7 * 24 * 3600e9) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(amount * unit);
}

LaunchParser::LaunchParser() {
    m_parser.setApplicationDescription(
        QStringLiteral("taskscope: watch a real async executor schedule, live or from a "
                       ".tstrace file.\nWith no FILE the engine runs inside the window with an "
                       "HTTP server on a local port; fire requests from the panel."));
    m_parser.addHelpOption();
    m_parser.addVersionOption();
    m_parser.addPositionalArgument(QStringLiteral("FILE"),
                                   QStringLiteral("A .tstrace file to open instead of running "
                                                  "live"),
                                   QStringLiteral("[FILE]"));
    const QString workers =
        QStringLiteral("Worker threads, 1 to %1 (default 2)").arg(runtime_options::max_workers);
    m_parser.addOptions({
        {QStringLiteral("workers"), workers, QStringLiteral("N"), QStringLiteral("2")},
        option("port", "Port of the built-in HTTP server (default: any free port)", "P", "0"),
        option("sleep-mode", "How /sleep waits: async, blocking or offload (default async)", "MODE",
               "async"),
        option("accept-mode", "spawn, concurrent or inline (default spawn)", "MODE", "spawn"),
        option("fire",
               "Fire requests at TARGET once running, e.g. /sleep?ms=300 (repeatable, "
               "in order)",
               "TARGET"),
        option("count", "Requests per --fire (default 10)", "N", "10"),
        option("concurrency", "Connections per --fire (default 2)", "N", "2"),
        option("http2", "Fire over HTTP/2 (cleartext, prior knowledge): streams multiplexed on "
                        "each connection"),
        option("streams", "With --http2: requests at once on each connection (default 10)", "N",
               "10"),
        option("screenshot",
               "Save a PNG of the window and exit (after --after ms of live run, or once FILE "
               "is loaded or the lesson has ended)",
               "PNG"),
        option("after", "Milliseconds before --screenshot (default 2000)", "MS", "2000"),
        option("size", "Window size, e.g. 1920x1080 (a projector)", "WxH"),
        option("presentation", "Larger text and lines for a projector"),
        option("theme",
               "system, light or dark (default: the last chosen in View > Theme, else system); "
               "not kept for the next start",
               "THEME"),
        option("tab", "The tab shown below the charts: latency, tasks, resources or findings",
               "TAB"),
        option("lesson",
               "Run this lesson at start (taskscope-cli lessons lists them); --screenshot waits "
               "for its end",
               "NAME"),
        option("scale",
               "The lesson's durations times S, 0.05 to 2 (default 1: the classic "
               "numbers)",
               "S", "1"),
        option("attach",
               "Watch a running program that serves its trace at HOST:PORT (started with "
               "TASKSCOPE_LISTEN=HOST:PORT); --screenshot waits --after ms once attached",
               "HOST:PORT"),
        option("keep",
               "How much of a live run or an attached program the window keeps: the last "
               "DURATION (90s, 10m, 1h) or all (default: as chosen in View > Keep, else 10m); "
               "older events are let go so memory stays flat",
               "DURATION"),
        option("keep-events",
               "At most N events kept of a live run, 0 for any number (default: as chosen in "
               "View > Keep, else 20000000)",
               "N"),
        option("replay-at",
               "Once FILE is loaded or the lesson has ended, replay it with the playhead at "
               "SECONDS into the trace",
               "SECONDS"),
    });
}

std::variant<LaunchOptions, QString> LaunchParser::read() const {
    const QCommandLineParser& p = m_parser;
    LaunchOptions o;
    const auto value = [&p](const char* name) { return p.value(QString::fromLatin1(name)); };
    const auto isSet = [&p](const char* name) { return p.isSet(QString::fromLatin1(name)); };

    const auto workers =
        number(value("workers"), 1, static_cast<long long>(runtime_options::max_workers));
    if (!workers) {
        return QStringLiteral("--workers takes a number from 1 to %1")
            .arg(runtime_options::max_workers);
    }
    o.live.workers = static_cast<std::size_t>(*workers);
    const auto port = number(value("port"), 0, 65535);
    if (!port) {
        return QStringLiteral("--port takes a number from 0 to 65535");
    }
    o.live.port = static_cast<std::uint16_t>(*port);
    const auto sleep = net::parse_sleep_mode(value("sleep-mode").toStdString());
    if (!sleep) {
        return QStringLiteral("--sleep-mode takes async, blocking or offload");
    }
    o.live.sleep = *sleep;
    const auto accept = net::parse_accept_mode(value("accept-mode").toStdString());
    if (!accept) {
        return QStringLiteral("--accept-mode takes spawn, concurrent or inline");
    }
    o.live.accept = *accept;

    o.fireTargets = p.values(QStringLiteral("fire"));
    for (const QString& target : o.fireTargets) {
        if (!target.startsWith(QLatin1Char('/'))) {
            return QStringLiteral("--fire takes a path on the built-in server, e.g. / or "
                                  "/sleep?ms=300 (got \"%1\")")
                .arg(target);
        }
    }
    const auto count = number(value("count"), 1, 1'000'000);
    if (!count) {
        return QStringLiteral("--count takes a number from 1 to 1000000");
    }
    o.fireCount = static_cast<std::size_t>(*count);
    const auto concurrency = number(value("concurrency"), 1, 1000);
    if (!concurrency) {
        return QStringLiteral("--concurrency takes a number from 1 to 1000");
    }
    o.fireConcurrency = static_cast<std::size_t>(*concurrency);
    o.fireHttp2 = isSet("http2");
    const auto streams = number(value("streams"), 1, 100);
    if (!streams) {
        return QStringLiteral("--streams takes a number from 1 to 100");
    }
    if (isSet("streams") && !o.fireHttp2) {
        return QStringLiteral("--streams needs --http2 (streams are HTTP/2's)");
    }
    o.fireStreams = static_cast<std::size_t>(*streams);

    o.screenshot = value("screenshot");
    const auto after = number(value("after"), 0, 3'600'000);
    if (!after) {
        return QStringLiteral("--after takes milliseconds, 0 to 3600000");
    }
    o.screenshotAfterMs = static_cast<int>(*after);
    if (isSet("size")) {
        const QStringList parts = value("size").split(QLatin1Char('x'));
        const auto w = parts.size() == 2 ? number(parts[0], 640, 16384) : std::nullopt;
        const auto h = parts.size() == 2 ? number(parts[1], 400, 16384) : std::nullopt;
        if (!w || !h) {
            return QStringLiteral("--size takes WIDTHxHEIGHT, at least 640x400");
        }
        o.size = QSize(static_cast<int>(*w), static_cast<int>(*h));
    }
    o.presentation = isSet("presentation");
    if (isSet("theme")) {
        o.theme = parseTheme(value("theme"));
        if (!o.theme) {
            return QStringLiteral("--theme takes system, light or dark");
        }
    }

    if (isSet("tab")) {
        o.tab = value("tab").toLower();
        if (!QStringList{"latency", "tasks", "resources", "findings"}.contains(o.tab)) {
            return QStringLiteral("--tab takes latency, tasks, resources or findings");
        }
    }

    const QStringList positional = p.positionalArguments();
    if (positional.size() > 1) {
        return QStringLiteral("open one FILE at a time");
    }
    if (!positional.isEmpty()) {
        o.file = positional.front();
    }
    o.lesson = value("lesson");
    if (!o.lesson.isEmpty() && lessons::find(o.lesson.toStdString()) == nullptr) {
        return QStringLiteral("there is no lesson \"%1\" (taskscope-cli lessons lists them)")
            .arg(o.lesson);
    }
    if (!o.lesson.isEmpty() && !o.file.isEmpty()) {
        return QStringLiteral("give a FILE or a --lesson, not both");
    }
    bool ok = false;
    o.lessonScale = value("scale").toDouble(&ok);
    if (!ok || o.lessonScale < 0.05 || o.lessonScale > 2) {
        return QStringLiteral("--scale takes a number from 0.05 to 2");
    }
    if (isSet("replay-at")) {
        o.replayAtSeconds = value("replay-at").toDouble(&ok);
        if (!ok || o.replayAtSeconds < 0) {
            return QStringLiteral("--replay-at takes seconds into the trace, e.g. 1.5");
        }
        if (o.lesson.isEmpty() && o.file.isEmpty()) {
            return QStringLiteral("--replay-at needs a FILE or a --lesson to replay");
        }
    }
    if (isSet("attach")) {
        o.attach = value("attach").trimmed();
        try {
            (void)host_port::parse(o.attach.toStdString());
        } catch (const std::invalid_argument& e) {
            return QStringLiteral("--attach: %1").arg(QString::fromUtf8(e.what()));
        }
        if (!o.lesson.isEmpty() || !o.file.isEmpty() || o.replayAtSeconds >= 0) {
            return QStringLiteral("--attach watches a running program: drop the FILE, --lesson "
                                  "or --replay-at");
        }
    }
    if (isSet("keep")) {
        o.keepNs = parseKeepDuration(value("keep"));
        if (!o.keepNs) {
            return QStringLiteral("--keep takes a duration from 1s to a week (90s, 10m, 1h) or "
                                  "all (got \"%1\")")
                .arg(value("keep"));
        }
    }
    if (isSet("keep-events")) {
        const auto events = number(value("keep-events"), 0, 4'000'000'000LL);
        if (!events || (*events != 0 && *events < 10'000)) {
            return QStringLiteral("--keep-events takes a number of events from 10000 up, or 0 "
                                  "for any number");
        }
        o.keepEvents = static_cast<std::uint64_t>(*events);
    }
    if (!o.fireTargets.isEmpty() &&
        (!o.lesson.isEmpty() || !o.file.isEmpty() || !o.attach.isEmpty())) {
        return QStringLiteral(
            "--fire runs against the live engine: drop the FILE, --lesson or --attach");
    }
    return o;
}

std::variant<LaunchOptions, QString> parseLaunchOptions(const QStringList& arguments) {
    LaunchParser launch;
    if (!launch.parser().parse(arguments)) {
        return launch.parser().errorText();
    }
    return launch.read();
}

} // namespace taskscope::ui
