// Window benchmark: how long a big trace takes to open, what it costs in memory, how long
// the timeline takes to paint it (whole and zoomed), and whether a live run of a busy
// server keeps the window responsive. Runs offscreen (no display needed).
// Prints one line per figure, `bench ui/<case> <value> <unit>`, each followed by the
// issue's target as a `# target` comment; it never passes or fails.
//
//   build/release/tests/bench/taskscope_bench_ui [--events N] [--live-seconds S]
//                                                [--live-only | --no-live]

#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/names.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "timeline_view.hpp"
#include "trace_document.hpp"
#include "view_state.hpp"

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
using trace::event;
using trace::event_kind;
using clock_type = std::chrono::steady_clock;

constexpr int frameWidth = 1920;
constexpr int frameHeight = 1080;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

double ms_since(clock_type::time_point start) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

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

/// The resident set size of this process in bytes (VmRSS), 0 if unknown.
std::uint64_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stoull(line.substr(6)) * 1024;
        }
    }
    return 0;
}

double median(std::vector<double> values) {
    if (values.empty()) {
        return 0.0;
    }
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

/// A synthetic HTTP server on two workers and a blocking pool, in time order (as a trace
/// hub would deliver it, but strictly ordered). Each worker serves connections: socket
/// ready, wake, poll with a request inside, sometimes a blocking call inside the poll;
/// timers fire, workers steal and park, connections close and the accept loop spawns new
/// ones. The pool thread runs jobs and wakes the task that asked. About a million events
/// per second of trace time.
class HttpLikeStream {
public:
    static constexpr std::uint16_t workers = 2;

    explicit HttpLikeStream(std::uint64_t seed) : m_random(seed) {
        m_route = trace::intern("/");
        m_connName = trace::intern("handle_connection");
        m_acceptName = trace::intern("accept_loop");
        m_jobName = trace::intern("resize_image");
        // Every thread announces itself first.
        for (std::uint16_t w = 0; w < workers; ++w) {
            m_startup.push_back({0, 0, w, 0, w, event_kind::track_started,
                                 static_cast<std::uint8_t>(trace::track_kind::worker)});
        }
        m_startup.push_back({0, 0, 0, 0, poolTrack, event_kind::track_started,
                             static_cast<std::uint8_t>(trace::track_kind::blocking)});
        m_startup.push_back({1000, acceptTask, 0, m_acceptName, 0, event_kind::task_spawned, 0});
        m_connections.resize(64);
        for (auto& t : m_connections) {
            t = m_nextTask++;
            m_startup.push_back({1000, t, acceptTask, m_connName, 0, event_kind::task_spawned, 0});
        }
        for (std::uint16_t a = 0; a < actorCount; ++a) {
            m_actors[a].clock = 2000 + a * 777u;
        }
    }

    /// Appends the next `count` events to `out`.
    void next(std::vector<event>& out, std::size_t count) {
        for (std::size_t n = 0; n < count; ++n) {
            out.push_back(pop());
        }
    }

    [[nodiscard]] std::uint64_t polls() const noexcept { return m_polls; }
    [[nodiscard]] std::uint64_t requests() const noexcept { return m_requests; }

private:
    static constexpr std::uint16_t poolTrack = workers;
    static constexpr std::uint16_t actorCount = workers + 1;
    static constexpr std::uint64_t acceptTask = 1;

    struct Actor {
        std::uint64_t clock = 0;
        std::deque<event> queue;
    };

    std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
        return lo + m_random() % (hi - lo);
    }
    bool oneIn(std::uint64_t n) { return m_random() % n == 0; }

    event pop() {
        if (!m_startup.empty()) {
            const event e = m_startup.front();
            m_startup.pop_front();
            return e;
        }
        std::size_t best = 0;
        for (std::size_t a = 0; a < actorCount; ++a) {
            if (m_actors[a].queue.empty()) {
                episode(a);
            }
            if (m_actors[a].queue.front().time_ns < m_actors[best].queue.front().time_ns) {
                best = a;
            }
        }
        const event e = m_actors[best].queue.front();
        m_actors[best].queue.pop_front();
        return e;
    }

    void episode(std::size_t actor) {
        if (actor == poolTrack) {
            poolEpisode();
        } else {
            workerEpisode(static_cast<std::uint16_t>(actor));
        }
    }

    void workerEpisode(std::uint16_t w) {
        Actor& a = m_actors[w];
        auto& q = a.queue;
        std::uint64_t& t = a.clock;
        const auto put = [&](std::uint64_t task, std::uint64_t arg, std::uint32_t arg2,
                             event_kind kind, std::uint8_t detail) {
            q.push_back({t, task, arg, arg2, w, kind, detail});
        };
        const auto depth = [&] { return static_cast<std::uint32_t>(m_random() % 4); };

        t += uniform(300, 2000);
        if (oneIn(40)) { // nothing to do for a while
            put(0, 0, 0, event_kind::worker_park, 0);
            t += uniform(20'000, 200'000);
            put(0, 0, 0, event_kind::worker_unpark, 0);
        }
        const std::size_t slot = m_random() % m_connections.size();
        const std::uint64_t task = m_connections[slot];
        put(task, 7 + slot, 0, event_kind::io_ready, 1);
        t += uniform(200, 800);
        put(task, 0, 0, event_kind::wake, static_cast<std::uint8_t>(trace::wake_source::io));
        t += uniform(300, 2500);
        put(task, 0, depth(), event_kind::poll_begin, 0);
        ++m_polls;
        t += uniform(100, 500);
        put(task, m_nextRequest++, m_route, event_kind::request_begin, 0);
        ++m_requests;
        if (oneIn(2000)) { // a blocking call inside the poll: the worker can run nothing else
            const std::uint64_t blocked = uniform(100'000, 2'000'000);
            t += uniform(200, 1000);
            put(task, blocked, 0, event_kind::block_begin, 0);
            t += blocked;
            put(task, 0, 0, event_kind::block_end, 0);
        }
        t += uniform(1500, 6000);
        put(task, 2048, 200, event_kind::request_end, 0);
        t += uniform(200, 800);
        const bool closes = oneIn(64);
        put(task, 0, depth(), event_kind::poll_end,
            static_cast<std::uint8_t>(closes ? trace::poll_result::ready
                                             : trace::poll_result::pending));
        if (closes) { // the connection closed: the accept loop takes the next one
            const std::uint64_t next = m_nextTask++;
            m_connections[slot] = next;
            t += uniform(300, 1500);
            put(acceptTask, 3, 0, event_kind::io_ready, 1);
            t += uniform(200, 600);
            put(acceptTask, 0, 0, event_kind::wake,
                static_cast<std::uint8_t>(trace::wake_source::io));
            t += uniform(200, 800);
            put(acceptTask, 0, depth(), event_kind::poll_begin, 0);
            ++m_polls;
            t += uniform(500, 2000);
            put(next, acceptTask, m_connName, event_kind::task_spawned, 0);
            t += uniform(200, 600);
            put(acceptTask, 0, depth(), event_kind::poll_end, 0);
        }
        if (oneIn(16)) { // a keep-alive timer fires
            const std::uint64_t timed = m_connections[m_random() % m_connections.size()];
            t += uniform(300, 1500);
            put(timed, 0, 0, event_kind::timer_fired, 0);
            t += uniform(100, 400);
            put(timed, 0, 0, event_kind::wake,
                static_cast<std::uint8_t>(trace::wake_source::timer));
            t += uniform(300, 1500);
            put(timed, 0, depth(), event_kind::poll_begin, 0);
            ++m_polls;
            t += uniform(500, 3000);
            put(timed, t + 5'000'000, 0, event_kind::timer_armed, 0);
            t += uniform(100, 400);
            put(timed, 0, depth(), event_kind::poll_end, 0);
        }
        if (oneIn(32)) { // this worker ran dry and steals from the other
            t += uniform(200, 1000);
            put(m_connections[m_random() % m_connections.size()], (w + 1u) % workers,
                static_cast<std::uint32_t>(uniform(1, 5)), event_kind::steal, 0);
        }
    }

    void poolEpisode() {
        Actor& a = m_actors[poolTrack];
        std::uint64_t& t = a.clock;
        t += uniform(200'000, 20'000'000);
        const std::uint64_t job = m_nextJob++;
        const std::uint64_t spawner = m_connections[m_random() % m_connections.size()];
        a.queue.push_back(
            {t, job, spawner, m_jobName, poolTrack, event_kind::blocking_job_begin, 0});
        t += uniform(500'000, 5'000'000);
        a.queue.push_back({t, job, 0, 0, poolTrack, event_kind::blocking_job_end, 0});
        t += uniform(1000, 5000);
        a.queue.push_back({t, spawner, 0, 0, poolTrack, event_kind::wake,
                           static_cast<std::uint8_t>(trace::wake_source::blocking)});
    }

    std::mt19937_64 m_random;
    trace::name_id m_route = 0;
    trace::name_id m_connName = 0;
    trace::name_id m_acceptName = 0;
    trace::name_id m_jobName = 0;
    std::deque<event> m_startup;
    std::array<Actor, actorCount> m_actors{};
    std::vector<std::uint64_t> m_connections;
    std::uint64_t m_nextTask = 10;
    std::uint64_t m_nextJob = 1'000'000'000;
    std::uint64_t m_nextRequest = 1;
    std::uint64_t m_polls = 0;
    std::uint64_t m_requests = 0;
};

/// Writes `count` events of the synthetic server to `path` in hub-sized batches.
void writeTrace(const std::filesystem::path& path, std::size_t count) {
    trace::run_info info;
    info.command = "bench_ui synthetic http";
    info.workers = HttpLikeStream::workers;
    HttpLikeStream stream(42);
    trace::file_writer writer(path, info);
    std::vector<event> batch;
    constexpr std::size_t batchSize = 4096;
    std::uint64_t lastNs = 0;
    for (std::size_t at = 0; at < count; at += batchSize) {
        batch.clear();
        stream.next(batch, std::min(batchSize, count - at));
        lastNs = batch.back().time_ns;
        writer.consume(batch);
    }
    writer.close();
    std::printf("# trace: %zu events, %llu polls, %llu requests, %.2f s of trace time, "
                "%.1f MB on disk\n",
                count, static_cast<unsigned long long>(stream.polls()),
                static_cast<unsigned long long>(stream.requests()),
                static_cast<double>(lastNs) / 1e9,
                static_cast<double>(std::filesystem::file_size(path)) / 1e6);
    std::fflush(stdout);
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
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            events = std::stoull(argv[++i]);
        } else if (std::strcmp(argv[i], "--live-seconds") == 0 && i + 1 < argc) {
            liveSeconds = std::stod(argv[++i]);
        } else if (std::strcmp(argv[i], "--live-only") == 0) {
            open = false;
        } else if (std::strcmp(argv[i], "--no-live") == 0) {
            live = false;
        } else {
            std::fprintf(stderr,
                         "usage: %s [--events N] [--live-seconds S] [--live-only | --no-live]\n",
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
    if (live) {
        liveIngest(liveSeconds);
    }
    return 0;
}
