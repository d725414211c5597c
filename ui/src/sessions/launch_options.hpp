#pragma once
// The window's command line: what to show at start (live, a FILE, a --lesson or --attach), what to
// fire, and whether to save a screenshot and exit. Parsing is a function of the arguments
// alone, so every rule is tested without starting a window.

#include "look/theme.hpp"
#include "sessions/live_session.hpp"

#include <QCommandLineParser>
#include <QSize>
#include <QString>
#include <QStringList>
#include <optional>
#include <variant>

namespace taskscope::ui {

struct LaunchOptions {
    LiveOptions live;                ///< the engine's settings when running live
    QString file;                    ///< a .tstrace to open instead of running live
    QString lesson;                  ///< a lesson to run at start
    double lessonScale = 1.0;        ///< the lesson's durations times this
    QStringList fireTargets;         ///< fired in order once running
    std::size_t fireCount = 10;      ///< requests per target
    std::size_t fireConcurrency = 2; ///< connections per target
    bool fireHttp2 = false;          ///< fire over HTTP/2
    std::size_t fireStreams = 10;    ///< with fireHttp2: streams at once per connection
    QString screenshot;              ///< save a PNG of the window and exit
    int screenshotAfterMs = 2000;    ///< live run time before the screenshot
    std::optional<QSize> size;       ///< the window's size
    bool presentation = false;       ///< larger text for a projector
    std::optional<Theme> theme;      ///< unset: the theme chosen last time
    QString tab;                 ///< the bottom tab to show: latency, tasks, resources, findings
    double replayAtSeconds = -1; ///< replay the trace with the playhead here (< 0: no)
    QString attach;              ///< HOST:PORT of a running program to watch instead
    std::optional<std::uint64_t> keepNs;     ///< a live run keeps this much time (0: all)
    std::optional<std::uint64_t> keepEvents; ///< ... and at most this many events (0: any)
};

/// "90s", "10m", "1h", "2.5m", "all" (0): how long a live window keeps, in ns; nothing for
/// anything else.
[[nodiscard]] std::optional<std::uint64_t> parseKeepDuration(const QString& text);

/// Declares the options (for --help) and reads them back, checked.
class LaunchParser {
public:
    LaunchParser();

    /// The parser itself: main() lets it handle --help, --version and unknown options.
    [[nodiscard]] QCommandLineParser& parser() noexcept { return m_parser; }

    /// The options after parser().parse() or process(), or what is wrong with the first
    /// bad one (a sentence naming the option and what it takes).
    [[nodiscard]] std::variant<LaunchOptions, QString> read() const;

private:
    QCommandLineParser m_parser;
};

/// Parses `arguments` (the program name first, as QCoreApplication::arguments() gives
/// them): the options, or a message for an unknown or bad option.
[[nodiscard]] std::variant<LaunchOptions, QString> parseLaunchOptions(const QStringList& arguments);

} // namespace taskscope::ui
