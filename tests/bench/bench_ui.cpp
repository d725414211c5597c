// Window benchmark: how long a big trace takes to open, what it costs in memory, how long
// the timeline takes to paint it (whole and zoomed), how long its resource rows take on a
// trace of a million lock operations, and whether a live run of a busy server keeps the
// window responsive. Runs offscreen (no display needed).
// Prints one line per figure, `bench ui/<case> <value> <unit>`, each followed by the
// issue's target as a `# target` comment; it never passes or fails.
//
//   build/release/tests/bench/taskscope_bench_ui [--events N] [--live-seconds S]
//                                                [--live-only | --no-live]
//                                                [--locks N | --locks-only N]

#include "bench_support.hpp"
#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "widgets/timeline_view.hpp"

#include <QApplication>
#include <QImage>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace taskscope;
using namespace taskscope::bench;

constexpr int frameWidth = 1920;
constexpr int frameHeight = 1080;

void figure(const char* name, double value, int decimals, const char* unit, const char* target) {
    std::printf("bench ui/%s %.*f %s\n# target %s\n", name, decimals, value, unit, target);
    std::fflush(stdout);
}

/// With TASKSCOPE_BENCH_PHASES set, prints when a part ran on the CLOCK_MONOTONIC clock, to
/// profile it alone: `perf record -k CLOCK_MONOTONIC ...`, then `perf report --time a,b`.
void phase(const char* name, clock_type::time_point from) {
    if (std::getenv("TASKSCOPE_BENCH_PHASES") == nullptr) {
        return;
    }
    const auto at = [](clock_type::time_point t) {
        return std::chrono::duration<double>(t.time_since_epoch()).count();
    };
    std::printf("# phase %s %.6f,%.6f\n", name, at(from), at(clock_type::now()));
}

/// What the worker lanes draw for the visible range: rectangles, and how many of them are
/// translucent (a folded column less than fully busy is drawn with alpha).
struct DrawCounts {
    std::size_t items = 0;
    std::size_t translucent = 0;
    void add(const ui::TraceDocument& document, const ui::TimeScale& scale) {
        std::vector<ui::DrawItem> out;
        const auto& lanes = document.model().lanes();
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            if (lanes[i].kind != trace::track_kind::worker) {
                continue;
            }
            document.summary(i).drawList(lanes[i], scale, out);
            items += out.size();
            translucent += static_cast<std::size_t>(std::ranges::count_if(
                out, [](const ui::DrawItem& item) { return item.occupancy < 1.0f; }));
        }
    }
};

struct Frames {
    std::vector<double> ms;
    [[nodiscard]] double max() const { return ms.empty() ? 0 : *std::ranges::max_element(ms); }
};

double renderMs(ui::TimelineView& view, QImage& image) {
    const auto started = clock_type::now();
    view.render(&image);
    return ms_since(started);
}

/// Where the document's bytes go: each column's used and reserved bytes per event.
void memoryBreakdown(const ui::TraceDocument& document) {
    const analysis::model& m = document.model();
    const auto n = static_cast<double>(m.event_count());
    std::string line = "# memory (used/reserved B/event):";
    const auto add = [&](const char* name, std::size_t used, std::size_t reserved) {
        char part[96];
        std::snprintf(part, sizeof part, " %s %.1f/%.1f", name, static_cast<double>(used) / n,
                      static_cast<double>(reserved) / n);
        line += part;
    };
    const auto column = [&](const char* name, const auto& c) {
        add(name, c.size() * sizeof(typename std::decay_t<decltype(c)>::value_type),
            c.capacity_bytes());
    };
    std::size_t pollsUsed = 0, pollsReserved = 0, depthUsed = 0, depthReserved = 0;
    std::size_t spansUsed = 0, spansReserved = 0, summaries = 0;
    for (std::size_t i = 0; i < m.lanes().size(); ++i) {
        const analysis::lane& l = m.lanes()[i];
        pollsUsed += l.polls.size() * sizeof(analysis::poll_span);
        pollsReserved += l.polls.capacity_bytes();
        depthUsed += l.depth.size() * sizeof(analysis::depth_point);
        depthReserved += l.depth.capacity_bytes();
        for (const auto* c : {&l.blocks, &l.jobs, &l.parked}) {
            spansUsed += c->size() * sizeof(analysis::span);
            spansReserved += c->capacity_bytes();
        }
        summaries += document.summary(i).memoryBytes();
    }
    add("polls", pollsUsed, pollsReserved);
    add("lane_depth", depthUsed, depthReserved);
    add("spans", spansUsed, spansReserved);
    column("wakes", m.wakes());
    column("requests", m.requests());
    column("reactor", m.reactor_events());
    column("tasks", m.tasks());
    column("steals", m.steals());
    column("global_depth", m.global_depth());
    add("summaries", summaries, summaries);
    std::printf("%s\n", line.c_str());
}

/// Cases 1 to 4: open a big file, its memory, and painting it whole and zoomed.
void openAndRender(std::size_t events) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("taskscope-bench-ui-" + std::to_string(::getpid()) + ".tstrace");
    auto started = clock_type::now();
    writeTrace(path, events);
    std::printf("# wrote it in %.1f s\n", seconds_since(started));

    // The window's objects exist before the file opens, as in MainWindow.
    ui::TraceDocument document;
    ui::ViewState view;
    ui::TimelineView timeline(&document, &view);
    timeline.resize(frameWidth, frameHeight);
    QImage image(frameWidth, frameHeight, QImage::Format_ARGB32_Premultiplied);
    timeline.render(&image); // fonts, glyph caches: paid once at start-up, not per file

    // 1. Open: what MainWindow::openFile does (reading on its loader thread, here on this
    // one), then adopt on the GUI thread, which builds the lane summaries.
    const std::uint64_t rssBefore = rss_bytes();
    started = clock_type::now();
    auto model = std::make_unique<analysis::model>();
    trace::file_reader reader(path);
    const trace::run_info info = reader.info();
    trace::read_all(reader, [&](std::span<const event> chunk, const auto& names) {
        model->set_names(names);
        model->consume(chunk);
        return true;
    });
    model->finish();
    const double readS = seconds_since(started);
    const auto adoptStarted = clock_type::now();
    document.adopt(std::move(model), info, QString::fromStdString(path.string()),
                   QString::fromStdString(reader.report().warning));
    const double adoptS = seconds_since(adoptStarted);
    const double openS = seconds_since(started);
    const std::uint64_t rssAfter = rss_bytes();

    const analysis::model& m = document.model();
    const auto n = static_cast<double>(m.event_count());
    std::printf("# opened: %llu events, %llu polls, %zu requests, %zu tasks, %zu wakes, "
                "%zu reactor events, %zu steals, %llu blocks, %llu pool jobs, %zu lanes\n",
                static_cast<unsigned long long>(m.event_count()),
                static_cast<unsigned long long>(m.poll_count()), m.requests().size(),
                m.tasks().size(), m.wakes().size(), m.reactor_events().size(), m.steals().size(),
                static_cast<unsigned long long>(m.block_count()),
                static_cast<unsigned long long>(m.blocking_jobs()), m.lanes().size());
    std::printf("# open: read_all into the model %.3f s, adopt (lane summaries) %.3f s\n", readS,
                adoptS);
    phase("open_10m", started);
    figure("open_10m", openS, 3, "s", "open_10m <= 1 s");

    // 2. Memory.
    memoryBreakdown(document);
    figure("memory_per_event", static_cast<double>(document.memoryBytes()) / n, 1, "B/event",
           "memory_per_event <= 32 B/event (TraceDocument::memoryBytes / events)");
    figure("memory_rss_per_event",
           static_cast<double>(rssAfter > rssBefore ? rssAfter - rssBefore : 0) / n, 1, "B/event",
           "memory_rss_per_event <= 32 B/event (VmRSS growth over the open / events)");

    // 3. The whole trace on a 1920x1080 timeline.
    timeline.showAll();
    renderMs(timeline, image); // the first paint of this document, not counted
    Frames full;
    const auto fullStarted = clock_type::now();
    for (int i = 0; i < 20; ++i) {
        full.ms.push_back(renderMs(timeline, image));
    }
    phase("render_full", fullStarted);
    DrawCounts fullItems;
    fullItems.add(document, view.scale());
    std::printf("# full view: worker lanes draw %zu rectangles, %zu of them translucent\n",
                fullItems.items, fullItems.translucent);
    figure("render_full_median", median(full.ms), 2, "ms", "render_full_median <= 16 ms");
    figure("render_full_max", full.max(), 2, "ms", "render_full_max <= 16 ms");

    // 4. Twenty windows of 1 ms .. 1 s at random places.
    std::mt19937_64 random(7);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto first = static_cast<double>(m.first_ns());
    const auto last = static_cast<double>(m.last_ns());
    Frames zoomed;
    DrawCounts zoomedItems;
    const auto zoomedStarted = clock_type::now();
    for (int i = 0; i < 20; ++i) {
        const double span = 1e6 * std::pow(1000.0, unit(random)); // log-uniform 1 ms .. 1 s
        const double start = first + unit(random) * std::max(0.0, last - first - span);
        view.setVisible(start, start + span);
        zoomed.ms.push_back(renderMs(timeline, image));
        zoomedItems.add(document, view.scale());
    }
    phase("render_zoomed", zoomedStarted);
    std::printf("# zoomed views: worker lanes draw %zu rectangles a frame, %zu of them "
                "translucent\n",
                zoomedItems.items / zoomed.ms.size(), zoomedItems.translucent / zoomed.ms.size());
    figure("render_zoomed_median", median(zoomed.ms), 2, "ms", "render_zoomed_median <= 16 ms");
    figure("render_zoomed_max", zoomed.max(), 2, "ms", "render_zoomed_max <= 16 ms");
    std::filesystem::remove(path);
}

/// Case 6: `locks` lock operations on one async mutex (four tasks on two workers taking
/// turns, every third one handing it to a task that waited for it) and a bounded channel's
/// depth after each: the timeline with its resource rows painted whole, with the mutex
/// selected (its holders' and waiters' polls outlined) and zoomed, against the same frames
/// without resource rows.
void resourcesRender(std::size_t locks) {
    namespace make = trace::make;
    using trace::resource_op;
    constexpr std::uint32_t mutex = 1;
    constexpr std::uint32_t channel = 2;
    std::vector<event> ev;
    ev.push_back(make::track_started(0, 0, trace::track_kind::worker, 0));
    ev.push_back(make::track_started(0, 1, trace::track_kind::worker, 1));
    ev.push_back(make::resource_created(1, 0, mutex, trace::resource_kind::mutex, 0, 1));
    ev.push_back(make::resource_created(1, 0, channel, trace::resource_kind::mpsc, 0, 64));
    std::uint64_t t = 1000;
    for (std::size_t i = 0; i < locks; ++i) {
        const auto track = static_cast<std::uint16_t>(i % 2);
        const auto other = static_cast<std::uint16_t>(1 - track);
        const std::uint64_t holder = 1 + i % 4;
        const std::uint64_t waiter = 5 + i % 4;
        const bool handed = i % 3 == 0;
        ev.push_back(make::poll_begin(t, track, holder));
        ev.push_back(make::resource_depth(t + 5, track, holder, mutex, resource_op::lock, 1));
        if (handed) {
            ev.push_back(make::poll_begin(t + 10, other, waiter));
            ev.push_back(make::raw(t + 15, other, trace::event_kind::resource_wait, waiter, holder,
                                   mutex, static_cast<std::uint8_t>(resource_op::lock)));
            ev.push_back(make::poll_end(t + 20, other, waiter, trace::poll_result::pending));
        }
        ev.push_back(
            make::resource_depth(t + 30, track, holder, channel, resource_op::send, i % 65));
        ev.push_back(make::resource_released(t + 50, track, holder, mutex, handed ? 1 : 0));
        if (handed) {
            ev.push_back(make::resource_ready(t + 50, track, waiter, mutex, resource_op::lock, 35));
            ev.push_back(make::wake(t + 51, track, waiter, holder, trace::wake_source::channel));
        }
        ev.push_back(make::poll_end(t + 60, track, holder, trace::poll_result::pending));
        if (handed) {
            ev.push_back(make::poll_begin(t + 65, other, waiter));
            ev.push_back(make::resource_released(t + 80, other, waiter, mutex, 0));
            ev.push_back(make::poll_end(t + 85, other, waiter, trace::poll_result::pending));
        }
        t += 100;
    }
    auto model = std::make_unique<analysis::model>();
    model->consume(ev);
    model->finish();
    const std::size_t events = ev.size();
    std::vector<event>().swap(ev);
    ui::TraceDocument document;
    ui::ViewState view;
    ui::TimelineView timeline(&document, &view);
    timeline.resize(frameWidth, frameHeight);
    QImage image(frameWidth, frameHeight, QImage::Format_ARGB32_Premultiplied);
    document.adopt(std::move(model), trace::run_info{}, QStringLiteral("locks"), QString());
    const auto* r = document.model().resources().find(mutex);
    std::printf("# locks: %zu events, %zu holds, %zu waits, %zu channel depths\n", events,
                r->holds.size(), r->waits.size(),
                document.model().resources().find(channel)->depths.size());
    const auto frames = [&](const char* name, const char* target, auto&& before) {
        Frames f;
        std::mt19937_64 random(3);
        for (int i = 0; i < 21; ++i) {
            before(random);
            const double ms = renderMs(timeline, image);
            if (i > 0) { // the first paint builds the depth summaries
                f.ms.push_back(ms);
            }
        }
        figure(name, median(f.ms), 2, "ms", target);
    };
    const auto whole = [&](auto&) { timeline.showAll(); };
    const auto zoomed = [&](std::mt19937_64& random) {
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const auto first = static_cast<double>(document.model().first_ns());
        const auto last = static_cast<double>(document.model().last_ns());
        const double span = 1e5 * std::pow(1e4, unit(random)); // log-uniform 0.1 ms .. 1 s
        const double start = first + unit(random) * std::max(0.0, last - first - span);
        view.setVisible(start, start + span);
    };
    timeline.setResourceRows(0);
    frames("locks_render_full_no_rows_median", "(the same frame without resource rows)", whole);
    timeline.setResourceRows(6);
    frames("locks_render_full_median", "locks_render_full_median <= 16 ms", whole);
    view.selectResource(mutex);
    frames("locks_render_full_selected_median", "locks_render_full_selected_median <= 16 ms",
           whole);
    std::printf("# whole view, mutex selected: %zu polls outlined\n",
                timeline.resourcePolls().size());
    frames("locks_render_zoomed_selected_median", "locks_render_zoomed_selected_median <= 16 ms",
           zoomed);
}

/// Case 5: a live run at a million events a second, taken in 16 ms batches the way
/// LiveSession::pump hands them to the document, with a frame painted after each.
void liveIngest(double seconds) {
    constexpr double rate = 1e6;
    const auto total = static_cast<std::size_t>(rate * seconds);
    std::vector<event> events;
    events.reserve(total);
    HttpLikeStream stream(4242);
    stream.next(events, total);

    ui::TraceDocument document;
    ui::ViewState view;
    ui::TimelineView timeline(&document, &view);
    timeline.resize(frameWidth, frameHeight);
    QImage image(frameWidth, frameHeight, QImage::Format_ARGB32_Premultiplied);
    timeline.render(&image);
    trace::run_info info;
    info.workers = HttpLikeStream::workers;
    document.startLive(info);

    constexpr auto frame = std::chrono::milliseconds(16);
    std::size_t fed = 0;
    double busyMs = 0;
    double worstMs = 0;
    double worstAppendMs = 0;
    double worstRenderMs = 0;
    std::size_t worstBatch = 0;
    std::vector<double> frameMs;
    const auto started = clock_type::now();
    auto tick = started + frame;
    while (fed < total) {
        std::this_thread::sleep_until(tick);
        const std::size_t due =
            std::min(total, static_cast<std::size_t>(seconds_since(started) * rate));
        if (due > fed) {
            const auto t0 = clock_type::now();
            document.append(std::span(events).subspan(fed, due - fed));
            const double appendMs = ms_since(t0);
            const double paintMs = renderMs(timeline, image);
            const double totalMs = appendMs + paintMs;
            frameMs.push_back(totalMs);
            busyMs += totalMs;
            if (totalMs > worstMs) {
                worstMs = totalMs;
                worstBatch = due - fed;
            }
            worstAppendMs = std::max(worstAppendMs, appendMs);
            worstRenderMs = std::max(worstRenderMs, paintMs);
            fed = due;
        }
        // A timer that fell behind fires again at once, and the inbox has grown meanwhile.
        tick = std::max(tick + frame, clock_type::now());
    }
    const double wallS = seconds_since(started);
    phase("live_ingest", started);
    std::printf("# live: %zu events in %zu batches over %.2f s; append+render median %.2f ms, "
                "busy %.0f%% of the wall time; worst batch %zu events (append max %.2f ms, "
                "render max %.2f ms); document %.1f B/event\n",
                fed, frameMs.size(), wallS, median(frameMs), 100.0 * busyMs / (wallS * 1000.0),
                worstBatch, worstAppendMs, worstRenderMs,
                static_cast<double>(document.memoryBytes()) / static_cast<double>(fed));
    figure("live_ingest_rate", static_cast<double>(fed) / wallS, 0, "events/s",
           "live_ingest_rate >= 1000000 events/s (fed at 1 M/s in 16 ms batches)");
    figure("live_capacity", static_cast<double>(fed) / (busyMs / 1000.0), 0, "events/s",
           "live_capacity >= 1000000 events/s (events per second of GUI-thread time spent in "
           "append + render; below the feed rate the window falls behind)");
    figure("live_max_frame", worstMs, 2, "ms",
           "live_max_frame <= 50 ms (longest append + render of one batch)");
}

} // namespace

int main(int argc, char** argv) {
    std::size_t events = 10'000'000;
    double liveSeconds = 5.0;
    bool open = true; // --live-only and --no-live are for profiling one part alone
    bool live = true;
    std::size_t locks = 1'000'000;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            events = std::stoull(argv[++i]);
        } else if (std::strcmp(argv[i], "--live-seconds") == 0 && i + 1 < argc) {
            liveSeconds = std::stod(argv[++i]);
        } else if (std::strcmp(argv[i], "--live-only") == 0) {
            open = false;
            locks = 0;
        } else if (std::strcmp(argv[i], "--no-live") == 0) {
            live = false;
        } else if (std::strcmp(argv[i], "--locks") == 0 && i + 1 < argc) {
            locks = std::stoull(argv[++i]);
        } else if (std::strcmp(argv[i], "--locks-only") == 0 && i + 1 < argc) {
            locks = std::stoull(argv[++i]);
            open = false;
            live = false;
        } else {
            std::fprintf(stderr,
                         "usage: %s [--events N] [--live-seconds S] [--live-only | --no-live] "
                         "[--locks N | --locks-only N]\n",
                         argv[0]);
            return 2;
        }
    }
    if (std::getenv("QT_QPA_PLATFORM") == nullptr) {
        ::setenv("QT_QPA_PLATFORM", "offscreen", 1);
    }
    int qtArgc = 1;
    QApplication app(qtArgc, argv);
    std::printf("# taskscope window benchmark, %dx%d timeline, offscreen\n", frameWidth,
                frameHeight);
    if (open) {
        openAndRender(events);
    }
    if (locks > 0) {
        resourcesRender(locks);
    }
    if (live) {
        liveIngest(liveSeconds);
    }
    return 0;
}
