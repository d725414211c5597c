// The window's command line, read without starting a window: defaults, every option, and a
// clear sentence for each kind of bad input.

#include "sessions/launch_options.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/main_window.hpp"

#include <QComboBox>
#include <QSpinBox>
#include <catch2/catch.hpp>

namespace {

using taskscope::ui::LaunchOptions;
using taskscope::ui::parseLaunchOptions;

std::variant<LaunchOptions, QString> parse(std::initializer_list<const char*> args) {
    QStringList list{QStringLiteral("taskscope")};
    for (const char* a : args) {
        list << QString::fromUtf8(a);
    }
    return parseLaunchOptions(list);
}

LaunchOptions good(std::initializer_list<const char*> args) {
    auto result = parse(args);
    if (const QString* error = std::get_if<QString>(&result)) {
        FAIL("unexpected error: " << error->toStdString());
    }
    return std::get<LaunchOptions>(result);
}

std::string bad(std::initializer_list<const char*> args) {
    auto result = parse(args);
    REQUIRE(std::holds_alternative<QString>(result));
    return std::get<QString>(result).toStdString();
}

} // namespace

TEST_CASE("no arguments: a live run on two workers, async sleep, nothing fired", "[launch]") {
    const LaunchOptions o = good({});
    CHECK(o.live.workers == 2);
    CHECK(o.live.port == 0);
    CHECK(o.live.sleep == taskscope::net::sleep_mode::async);
    CHECK(o.live.accept == taskscope::net::accept_mode::spawn);
    CHECK(o.file.isEmpty());
    CHECK(o.lesson.isEmpty());
    CHECK(o.fireTargets.isEmpty());
    CHECK(o.fireCount == 10);
    CHECK(o.fireConcurrency == 2);
    CHECK(o.screenshot.isEmpty());
    CHECK_FALSE(o.size.has_value());
    CHECK_FALSE(o.theme.has_value());
    CHECK(o.replayAtSeconds < 0);
}

TEST_CASE("every option reaches its field", "[launch]") {
    const LaunchOptions o = good({"--workers",
                                  "64",
                                  "--port",
                                  "8080",
                                  "--sleep-mode",
                                  "blocking",
                                  "--accept-mode",
                                  "inline",
                                  "--fire",
                                  "/sleep?ms=300",
                                  "--fire",
                                  "/",
                                  "--count",
                                  "200",
                                  "--concurrency",
                                  "16",
                                  "--screenshot",
                                  "w.png",
                                  "--after",
                                  "500",
                                  "--size",
                                  "1920x1080",
                                  "--presentation",
                                  "--theme",
                                  "dark"});
    CHECK(o.live.workers == 64);
    CHECK(o.live.port == 8080);
    CHECK(o.live.sleep == taskscope::net::sleep_mode::blocking);
    CHECK(o.live.accept == taskscope::net::accept_mode::inline_each);
    CHECK(o.fireTargets == QStringList{QStringLiteral("/sleep?ms=300"), QStringLiteral("/")});
    CHECK(o.fireCount == 200);
    CHECK(o.fireConcurrency == 16);
    CHECK(o.screenshot == QStringLiteral("w.png"));
    CHECK(o.screenshotAfterMs == 500);
    CHECK(o.size == QSize(1920, 1080));
    CHECK(o.presentation);
    CHECK(o.theme == taskscope::ui::Theme::dark);

    const LaunchOptions file = good({"run.tstrace", "--replay-at", "1.5"});
    CHECK(file.file == QStringLiteral("run.tstrace"));
    CHECK(file.replayAtSeconds == 1.5);
    const LaunchOptions lesson = good({"--lesson", "three-sleeps", "--scale", "0.25"});
    CHECK(lesson.lesson == QStringLiteral("three-sleeps"));
    CHECK(lesson.lessonScale == 0.25);
}

TEST_CASE("the window offers the workers the command line and the runtime take", "[launch]") {
    const auto most = std::to_string(taskscope::runtime_options::max_workers);
    CHECK(good({"--workers", most.c_str()}).live.workers ==
          taskscope::runtime_options::max_workers);
    const auto over = std::to_string(taskscope::runtime_options::max_workers + 1);
    CHECK(bad({"--workers", over.c_str()}) == "--workers takes a number from 1 to " + most);
    CHECK(bad({"--workers", "0"}) == "--workers takes a number from 1 to " + most);
    CHECK(bad({"--workers", "two"}) == "--workers takes a number from 1 to " + most);
}

TEST_CASE("bad input names the option and what it takes", "[launch]") {
    CHECK(bad({"--port", "70000"}) == "--port takes a number from 0 to 65535");
    CHECK(bad({"--http2", "--streams", "0"}) == "--streams takes a number from 1 to 100");
    CHECK(bad({"--streams", "5"}) == "--streams needs --http2 (streams are HTTP/2's)");
    CHECK(bad({"--sleep-mode", "nap"}) == "--sleep-mode takes async, blocking or offload");
    CHECK(bad({"--accept-mode", "all"}) == "--accept-mode takes spawn, concurrent or inline");
    CHECK(bad({"--fire", "sleep?ms=3"}).starts_with("--fire takes a path"));
    CHECK(bad({"--count", "0"}) == "--count takes a number from 1 to 1000000");
    CHECK(bad({"--concurrency", "-1"}) == "--concurrency takes a number from 1 to 1000");
    CHECK(bad({"--after", "soon"}) == "--after takes milliseconds, 0 to 3600000");
    CHECK(bad({"--size", "100x100"}) == "--size takes WIDTHxHEIGHT, at least 640x400");
    CHECK(bad({"--size", "1920"}) == "--size takes WIDTHxHEIGHT, at least 640x400");
    CHECK(bad({"--theme", "pink"}) == "--theme takes system, light or dark");
    CHECK(bad({"--tab", "charts"}) == "--tab takes latency, tasks, resources or findings");
    CHECK(bad({"a.tstrace", "b.tstrace"}) == "open one FILE at a time");
    CHECK(bad({"--lesson", "no-such-lesson"}).starts_with("there is no lesson \"no-such-lesson\""));
    CHECK(bad({"--lesson", "three-sleeps", "a.tstrace"}) == "give a FILE or a --lesson, not both");
    CHECK(bad({"--lesson", "three-sleeps", "--scale", "5"}) ==
          "--scale takes a number from 0.05 to 2");
    CHECK(bad({"--replay-at", "1"}) == "--replay-at needs a FILE or a --lesson to replay");
    CHECK(bad({"a.tstrace", "--replay-at", "-2"}) ==
          "--replay-at takes seconds into the trace, e.g. 1.5");
    CHECK(bad({"a.tstrace", "--fire", "/"}).starts_with("--fire runs against the live engine"));
    CHECK(bad({"--no-such-option"}).find("no-such-option") != std::string::npos);
    CHECK(bad({"--attach", "6669"}).starts_with("--attach: '6669' is not HOST:PORT"));
    CHECK(bad({"--attach", "example.com:6669"}).find("numeric IPv4 or IPv6") != std::string::npos);
    CHECK(bad({"--attach", "127.0.0.1:6669", "a.tstrace"})
              .starts_with("--attach watches a running program"));
    CHECK(bad({"--attach", "127.0.0.1:6669", "--fire", "/"})
              .starts_with("--fire runs against the live engine"));
    CHECK(good({"--attach", " 127.0.0.1:6669 "}).attach == QStringLiteral("127.0.0.1:6669"));
}

TEST_CASE("the window shows the command line's --count, --concurrency, --http2 and --streams in "
          "its panel, and --tab",
          "[launch]") {
    const LaunchOptions o =
        good({"--count", "5", "--concurrency", "5", "--size", "1280x720", "--tab", "Resources"});
    taskscope::ui::MainWindow window;
    window.applyLaunchOptions(o);
    CHECK(window.tabs()->currentIndex() == 2); // --tab: the Resources tab shows
    CHECK(window.controls()->count()->value() == 5);
    CHECK(window.controls()->concurrency()->value() == 5);
    CHECK(window.controls()->protocol()->currentText() == QStringLiteral("HTTP/1.1"));
    CHECK(window.size() == QSize(1280, 720));
    const auto request = window.controls()->currentRequest();
    CHECK(request.count == 5);
    CHECK(request.concurrency == 5);
    CHECK_FALSE(request.http2);
    // --http2 and --streams: the panel's protocol and streams.
    const LaunchOptions h2 = good({"--http2", "--streams", "7", "--fire", "/"});
    CHECK(h2.fireHttp2);
    CHECK(h2.fireStreams == 7);
    window.applyLaunchOptions(h2);
    CHECK(window.controls()->protocol()->currentText() == QStringLiteral("HTTP/2"));
    CHECK(window.controls()->streams()->value() == 7);
    CHECK(window.controls()->streams()->isEnabled());
    CHECK(window.controls()->currentRequest().http2);
    CHECK(window.controls()->currentRequest().streams == 7);
}

TEST_CASE("keep options: --keep and --keep-events set what a live run keeps, for this start only",
          "[launch]") {
    using taskscope::ui::parseKeepDuration;
    CHECK(parseKeepDuration(QStringLiteral("90s")) == 90'000'000'000ull);
    CHECK(parseKeepDuration(QStringLiteral("10m")) == 600'000'000'000ull);
    CHECK(parseKeepDuration(QStringLiteral("1.5h")) == 5'400'000'000'000ull);
    CHECK(parseKeepDuration(QStringLiteral("all")) == 0u);
    CHECK_FALSE(parseKeepDuration(QStringLiteral("10")).has_value());   // a unit is needed
    CHECK_FALSE(parseKeepDuration(QStringLiteral("0.5s")).has_value()); // at least a second
    CHECK_FALSE(parseKeepDuration(QStringLiteral("9999h")).has_value());
    CHECK_FALSE(parseKeepDuration(QStringLiteral("ten minutes")).has_value());

    const LaunchOptions none = good({});
    CHECK_FALSE(none.keepNs.has_value());
    CHECK_FALSE(none.keepEvents.has_value());
    const LaunchOptions o = good({"--keep", "2m", "--keep-events", "5000000"});
    CHECK(o.keepNs == 120'000'000'000ull);
    CHECK(o.keepEvents == 5'000'000u);
    CHECK(good({"--keep-events", "0"}).keepEvents == 0u);
    CHECK(bad({"--keep", "forever"}).find("--keep takes a duration") != std::string::npos);
    CHECK(bad({"--keep-events", "12"}).find("--keep-events takes") != std::string::npos);

    // The window takes them without saving them as the menu's choice.
    const taskscope::ui::Retention saved = taskscope::ui::MainWindow::savedRetention();
    taskscope::ui::MainWindow window;
    window.applyLaunchOptions(o);
    CHECK(window.document()->retention().keepNs == 120'000'000'000ull);
    CHECK(window.document()->retention().keepEvents == 5'000'000u);
    CHECK(taskscope::ui::MainWindow::savedRetention() == saved);
}
