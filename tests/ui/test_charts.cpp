// The queue-depth and latency charts: hand-built traces in, exact series, points,
// percentiles and routes out; the decimator and the histogram's bucketing checked exactly;
// both widgets rendered to images; live batches extending what is drawn.

#include "charts/latency_chart.hpp"
#include "charts/queue_depth_chart.hpp"
#include "charts/series_decimator.hpp"
#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "maths/axis_ticks.hpp"
#include "maths/latency_histogram.hpp"
#include "maths/request_decimator.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"

#include <QColor>
#include <QImage>
#include <QPalette>
#include <QPointF>
#include <QStringList>
#include <QTest>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace taskscope;
using trace::event;
using trace::event_kind;
using trace::poll_result;
using trace::track_kind;
using ui::AxisTicks;
using ui::DepthSummary;
using ui::LatencyChart;
using ui::LatencyHistogram;
using ui::QueueDepthChart;
using ui::RequestDecimator;
using ui::SeriesDecimator;
using ui::TraceDocument;
using ui::ViewState;

constexpr std::uint64_t ms = 1'000'000;

// ---- building events: the makers of trace/event_types.hpp ------------------------------

namespace make = trace::make;

std::unique_ptr<analysis::model> modelOf(const std::vector<event>& events,
                                         std::vector<std::string> names = {}) {
    auto m = std::make_unique<analysis::model>();
    if (!names.empty()) {
        m->set_names(std::move(names));
    }
    m->consume(events);
    m->finish();
    return m;
}

void adopt(TraceDocument& document, const std::vector<event>& events,
           std::vector<std::string> names = {}) {
    document.adopt(modelOf(events, std::move(names)), trace::run_info{}, QStringLiteral("test"),
                   QString());
}

/// What the timeline does when a trace opens: show all of it.
void showAll(ViewState& view, const TraceDocument& document) {
    view.scale().setBounds(document.firstNs(), document.lastNs());
    view.scale().showAll();
    view.notifyRangeChanged();
}

SeriesDecimator::Series seriesOf(const std::vector<analysis::depth_point>& points) {
    SeriesDecimator::Series s;
    for (const auto& p : points) {
        s.push_back(p);
    }
    return s;
}

std::vector<std::string> toStd(const QStringList& list) {
    std::vector<std::string> out;
    for (const QString& s : list) {
        out.push_back(s.toStdString());
    }
    return out;
}

void checkPoints(const QList<QPointF>& got, const std::vector<QPointF>& want) {
    REQUIRE(static_cast<std::size_t>(got.size()) == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO("point " << i << ": (" << got[static_cast<qsizetype>(i)].x() << ", "
                      << got[static_cast<qsizetype>(i)].y() << ")");
        CHECK(got[static_cast<qsizetype>(i)].x() == Approx(want[i].x()));
        CHECK(got[static_cast<qsizetype>(i)].y() == Approx(want[i].y()));
    }
}

/// Pixels of `image` that differ from `other` (same size).
int differingPixels(const QImage& image, const QImage& other) {
    int n = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            n += image.pixel(x, y) != other.pixel(x, y) ? 1 : 0;
        }
    }
    return n;
}

/// Pixels of `image` unlike its top-left corner (the background).
int nonBackgroundPixels(const QImage& image) {
    const QRgb background = image.pixel(0, 0);
    int n = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            n += image.pixel(x, y) != background ? 1 : 0;
        }
    }
    return n;
}

/// Average lightness of `image`, 0 (black) to 255 (white).
double meanLightness(const QImage& image) {
    double sum = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            sum += QColor(image.pixel(x, y)).lightness();
        }
    }
    return sum / (image.width() * image.height());
}

QImage imageOf(QWidget& widget) {
    QCoreApplication::processEvents();
    return widget.grab().toImage().convertToFormat(QImage::Format_RGB32);
}

// Origin of the hand-made traces: the charts count time from the first event.
constexpr std::uint64_t base = 2 * ms;

/// Two workers, an unannounced thread (track 2) and the global queue:
///   worker 0: 3 at 1 ms, 5 at 3 ms, 4 at 4 ms, 2 at 5 ms
///   worker 1: 1 at 6 ms
///   global:   1 at 1 ms, 2 at 2 ms, 0 at 7 ms
/// and a marker at 10 ms, the trace's end.
std::vector<event> depthTrace() {
    return {
        make::track_started(base, 0, track_kind::worker, 0),
        make::track_started(base, 1, track_kind::worker, 1),
        make::task_spawned(base, 0, 1),
        make::poll_begin(base + 1 * ms, 0, 1, 3),
        make::global_push(base + 1 * ms, 2, 7, 1, 1),
        make::poll_end(base + 2 * ms, 0, 1, poll_result::pending, 3), // same depth: no new point
        make::global_push(base + 2 * ms, 2, 8, 1, 2),
        make::queue_depth(base + 3 * ms, 2, 0, 5),
        make::poll_begin(base + 4 * ms, 0, 1, 4),
        make::poll_end(base + 5 * ms, 0, 1, poll_result::pending, 2),
        make::queue_depth(base + 6 * ms, 2, 1, 1),
        make::global_pop(base + 7 * ms, 0, 7, 0),
        make::marker(base + 10 * ms, 2, 0, 1),
    };
}

/// 100 finished server requests with latencies 1..100 ms in a shuffled order, alternating
/// between "/" (name 1) and "/sleep?ms=5" (name 2), plus one that never finishes.
std::vector<event> requestTrace(bool withClient) {
    std::vector<event> events{make::track_started(base, 0, track_kind::worker, 0)};
    for (std::uint64_t i = 0; i < 100; ++i) {
        const std::uint64_t begin = base + i * 10 * ms;
        const std::uint64_t latency = ((i * 37) % 100 + 1) * ms;
        const auto route = static_cast<trace::name_id>(i % 2 == 0 ? 1 : 2);
        events.push_back(
            make::request_begin(begin, 0, i + 1, i + 1, route, trace::request_side::server));
        events.push_back(
            make::request_end(begin + latency, 0, i + 1, 100, 200, trace::request_side::server));
    }
    events.push_back(make::request_begin(base + 5 * ms, 0, 500, 500, 1,
                                         trace::request_side::server)); // never ends
    if (withClient) {
        // What the load generator saw: 10, 20 and 30 ms on "/sleep?ms=5", one unfinished.
        for (std::uint64_t i = 0; i < 3; ++i) {
            const std::uint64_t begin = base + i * 100 * ms;
            events.push_back(
                make::request_begin(begin, 0, 1000 + i, 1000 + i, 2, trace::request_side::client));
            events.push_back(make::request_end(begin + (i + 1) * 10 * ms, 0, 1000 + i, 100, 200,
                                               trace::request_side::client));
        }
        events.push_back(
            make::request_begin(base + 400 * ms, 0, 2000, 2000, 1, trace::request_side::client));
    }
    return events;
}

const std::vector<std::string> routeNames{"task", "/", "/sleep?ms=5"};

} // namespace

// ---- the decimator --------------------------------------------------------------------

TEST_CASE("decimator: the visible points plus one either side", "[charts]") {
    std::vector<analysis::depth_point> points;
    for (std::uint32_t i = 0; i < 10; ++i) {
        points.push_back({i * 10u, i});
    }
    const auto s = seriesOf(points);
    using Range = SeriesDecimator::IndexRange;
    CHECK(SeriesDecimator::visibleRange(s, 25, 55) == Range{2, 7});
    CHECK(SeriesDecimator::visibleRange(s, 30, 60) == Range{2, 7});
    CHECK(SeriesDecimator::visibleRange(s, 0, 100) == Range{0, 10});
    CHECK(SeriesDecimator::visibleRange(s, 200, 300) == Range{9, 10}); // the level at the edge
    CHECK(SeriesDecimator::visibleRange(s, -50, -10) == Range{0, 1});
    CHECK(SeriesDecimator::visibleRange(seriesOf({}), 0, 100) == Range{0, 0});
}

TEST_CASE("decimator: first, lowest, highest and last point of each pixel column", "[charts]") {
    // 18 points 10 ns apart, 3 columns of 60 ns: six points per column.
    const std::vector<std::uint32_t> depths{4, 2, 7, 1, 8, 3,  // lowest 3, highest 4
                                            5, 5, 5, 5, 5, 5,  // flat: first and last
                                            9, 0, 2, 0, 9, 1}; // ties keep the earliest
    std::vector<analysis::depth_point> points;
    for (std::size_t i = 0; i < depths.size(); ++i) {
        points.push_back({i * 10, depths[i]});
    }
    const auto s = seriesOf(points);
    const SeriesDecimator::IndexRange all{0, s.size()};
    CHECK(SeriesDecimator::decimate(s, all, 0, 180, 3) ==
          std::vector<std::size_t>{0, 3, 4, 5, 6, 11, 12, 13, 17});

    // Points outside [60, 120) count to the nearest column.
    CHECK(SeriesDecimator::decimate(s, all, 60, 120, 2) ==
          std::vector<std::size_t>{0, 3, 4, 8, 9, 12, 13, 17});
    // Only the range given is read.
    CHECK(SeriesDecimator::decimate(s, {6, 12}, 0, 180, 3) == std::vector<std::size_t>{6, 11});
}

TEST_CASE("decimator: at most four points per column and every extreme kept", "[charts]") {
    std::vector<analysis::depth_point> points;
    for (std::uint32_t i = 0; i < 10'000; ++i) {
        points.push_back({std::uint64_t{i} * 100, (i * 7919u) % 101u});
    }
    points[4321].depth = 500; // a spike
    points[7777].depth = 0;
    const auto s = seriesOf(points);
    const auto keep = SeriesDecimator::decimate(s, {0, s.size()}, 0, 1'000'000, 50);
    CHECK(keep.size() <= 200);
    CHECK(std::is_sorted(keep.begin(), keep.end()));
    CHECK(std::find(keep.begin(), keep.end(), std::size_t{4321}) != keep.end());
    CHECK(keep.front() == 0);
    CHECK(keep.back() == 9'999);
}

TEST_CASE("decimator: step lines in ms since the origin, decimated points as they are",
          "[charts]") {
    const auto s = seriesOf({{1 * ms, 2}, {3 * ms, 5}, {4 * ms, 5}, {6 * ms, 1}});
    QList<QPointF> line;
    SeriesDecimator::appendSteps(s, SeriesDecimator::IndexRange{0, 4}, 1 * ms, line);
    checkPoints(line, {{0, 2}, {2, 2}, {2, 5}, {3, 5}, {5, 5}, {5, 1}});

    // A few points a pixel column: no steps (their flat parts would be under a pixel).
    const std::vector<std::size_t> picked{0, 2};
    QList<QPointF> thin;
    SeriesDecimator::appendPoints(s, picked, 0, thin);
    checkPoints(thin, {{1, 2}, {4, 5}});
}

TEST_CASE("depth summary: blocks stand for their extremes, the columns come out the same",
          "[charts]") {
    // 100,000 random depths, one every microsecond: the summarised candidates give every
    // pixel column the same lowest and highest depth as reading every point.
    std::mt19937 random(11);
    SeriesDecimator::Series s;
    for (std::uint32_t i = 0; i < 100'000; ++i) {
        s.push_back({std::uint64_t{i} * 1000, static_cast<std::uint32_t>(random() % 50)});
    }
    DepthSummary summary;
    summary.update(s);
    const std::size_t last = s.size();
    for (const int columns : {37, 400}) {
        INFO(columns << " columns");
        std::vector<std::size_t> candidates;
        summary.candidates(s, 0, last, last / static_cast<std::size_t>(columns) / 4, candidates);
        CHECK(candidates.size() < last / 4); // whole blocks stood in
        CHECK(std::is_sorted(candidates.begin(), candidates.end()));
        const auto fast = SeriesDecimator::decimateCandidates(s, candidates, 0, 1e8, columns);
        const auto every = SeriesDecimator::decimate(s, {0, last}, 0, 1e8, columns);
        const auto extremes = [&](const std::vector<std::size_t>& kept) {
            std::map<long, std::pair<std::uint32_t, std::uint32_t>> byColumn;
            for (const std::size_t i : kept) {
                const long column =
                    static_cast<long>(static_cast<double>(s[i].time_ns) / 1e8 * columns);
                auto [it, fresh] = byColumn.try_emplace(column, s[i].depth, s[i].depth);
                it->second.first = std::min(it->second.first, s[i].depth);
                it->second.second = std::max(it->second.second, s[i].depth);
            }
            return byColumn;
        };
        CHECK(extremes(fast) == extremes(every));
    }
    // The last 256 points may still change (a late event is inserted there): never summarised.
    std::vector<std::size_t> tail;
    summary.candidates(s, last - 300, last, 1'000'000, tail);
    CHECK(tail.size() >= DepthSummary::lateWindow);
}

// ---- the latency scatter's points ----------------------------------------------------------

namespace {

/// `count` server-side requests one every `gapNs` from `base`: route 1, every fifth on
/// route 2; latencies from 1 to 1000 us, one in 997 a slow one of 50 ms.
std::unique_ptr<analysis::model> manyRequests(std::uint64_t count, std::uint64_t gapNs) {
    std::vector<event> events{make::track_started(base, 0, track_kind::worker, 0)};
    events.reserve(2 * count + 1);
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t begin = base + i * gapNs;
        const std::uint64_t latency = i % 997 == 500 ? 50 * ms : ((i * 7919) % 1000 + 1) * 1000;
        const auto route = static_cast<trace::name_id>(i % 5 == 0 ? 2 : 1);
        // Each request on a task of its own, ended right away: the model pairs them by task.
        events.push_back(
            make::request_begin(begin, 0, i + 1, i + 1, route, trace::request_side::server));
        events.push_back(
            make::request_end(begin + latency, 0, i + 1, 100, 200, trace::request_side::server));
    }
    return modelOf(events, routeNames);
}

} // namespace

TEST_CASE("request decimator: the ranks a column keeps", "[charts]") {
    CHECK(RequestDecimator::ranksKept(0).empty());
    CHECK(RequestDecimator::ranksKept(3) == std::vector<std::size_t>{0, 1, 2});
    CHECK(RequestDecimator::ranksKept(8) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7});
    // Nine: the percentiles coincide, and spread ranks fill the eight places.
    const auto nine = RequestDecimator::ranksKept(9);
    CHECK(nine.size() == 8);
    CHECK(std::adjacent_find(nine.begin(), nine.end(), std::greater_equal<>()) == nine.end());
    CHECK(nine.front() == 0);
    CHECK(nine.back() == 8);
    // A thousand: fastest, p50, p75, p90, p95, p99, p99.9 (nearest rank), slowest.
    CHECK(RequestDecimator::ranksKept(1000) ==
          std::vector<std::size_t>{0, 499, 749, 899, 949, 989, 998, 999});
}

TEST_CASE("request decimator: eight real requests at most a column and route, no outlier lost",
          "[charts]") {
    // 200,000 requests over 2 s in 100 columns: 2,000 a column, so the pyramid serves it.
    const auto m = manyRequests(200'000, 10'000);
    const auto& requests = m->requests();
    const double first = static_cast<double>(base);
    const double last = static_cast<double>(base + 200'000 * 10'000);
    constexpr int columns = 100;
    RequestDecimator decimator;
    const auto routes = decimator.decimate(*m, false, true, first, last, columns);
    CHECK(decimator.level() >= 0);
    CHECK(decimator.candidates() < requests.size() / 4);
    REQUIRE(routes.size() == 2);

    const double width = (last - first) / columns;
    const auto columnOf = [&](std::size_t i) {
        return static_cast<long>(std::floor(static_cast<double>(requests[i].begin_ns) / width) -
                                 std::floor(first / width));
    };
    std::map<long, std::uint64_t> slowestKept;
    std::set<std::uint32_t> kept;
    for (const auto& route : routes) {
        std::map<long, int> perColumn;
        for (const std::uint32_t i : route.requests) {
            INFO("request " << i);
            REQUIRE(i < requests.size());
            CHECK(requests[i].route == route.route); // a real request of that route
            CHECK(requests[i].finished());
            ++perColumn[columnOf(i)];
            slowestKept[columnOf(i)] = std::max(slowestKept[columnOf(i)], requests[i].latency_ns());
            kept.insert(i);
        }
        for (const auto& [column, n] : perColumn) {
            CHECK(n <= RequestDecimator::maxPerColumn);
        }
    }
    // The slowest and the fastest of all are drawn; and no column's slowest request is
    // slower than what is drawn in it or beside it.
    std::uint32_t slowest = 0;
    std::uint32_t fastest = 0;
    std::map<long, std::uint64_t> slowestOf;
    for (std::uint32_t i = 0; i < requests.size(); ++i) {
        slowest = requests[i].latency_ns() > requests[slowest].latency_ns() ? i : slowest;
        fastest = requests[i].latency_ns() < requests[fastest].latency_ns() ? i : fastest;
        slowestOf[columnOf(i)] = std::max(slowestOf[columnOf(i)], requests[i].latency_ns());
    }
    CHECK(kept.count(slowest) == 1);
    CHECK(kept.count(fastest) == 1);
    for (const auto& [column, worst] : slowestOf) {
        INFO("column " << column);
        const std::uint64_t drawn =
            std::max({slowestKept[column - 1], slowestKept[column], slowestKept[column + 1]});
        CHECK(drawn >= worst);
    }

    // Zoomed in to 500 requests over 1,000 columns: every one of them, read one by one.
    const double zoomedEnd = first + 500 * 10'000 - 1;
    const auto close = decimator.decimate(*m, false, true, first, zoomedEnd, 1000);
    CHECK(decimator.level() == -1);
    std::size_t shown = 0;
    for (const auto& route : close) {
        shown += route.requests.size();
    }
    CHECK(shown == 500);
}

TEST_CASE("request decimator: after a live window forgets its oldest requests, the same picks "
          "as a pyramid built afresh",
          "[charts][retention]") {
    auto m = manyRequests(200'000, 10'000);
    const double last = static_cast<double>(base + 200'000 * 10'000);
    RequestDecimator used; // built over every request, then told what went
    (void)used.decimate(*m, false, false, static_cast<double>(base), last, 100);
    m->forget_before(base + 60'000 * 10'000);
    REQUIRE(m->requests().first_kept() > 0);
    used.forgetBefore(m->requests().first_kept());
    RequestDecimator fresh;
    const double from = static_cast<double>(m->kept_from_ns());
    for (const int columns : {100, 400}) {
        const auto a = used.decimate(*m, false, false, from, last, columns);
        const auto b = fresh.decimate(*m, false, false, from, last, columns);
        REQUIRE(a.size() == b.size());
        for (std::size_t r = 0; r < a.size(); ++r) {
            CHECK(a[r].route == b[r].route);
            CHECK(a[r].requests == b[r].requests);
            for (const std::uint32_t i : a[r].requests) {
                CHECK(i >= m->requests().first_kept()); // nothing let go is drawn
            }
        }
    }
}

TEST_CASE("request decimator: a request never answered costs a live chart its own blocks, "
          "not every block after it",
          "[charts]") {
    // A live model: 100,000 answered requests and, early on, one whose end never comes.
    std::vector<event> events{make::track_started(base, 0, track_kind::worker, 0)};
    events.push_back(make::request_begin(base + 5, 0, 999'999, 999'999, 1));
    for (std::uint64_t i = 0; i < 100'000; ++i) {
        const std::uint64_t begin = base + 10 + i * 10'000;
        events.push_back(make::request_begin(begin, 0, i + 1, i + 1, 1));
        events.push_back(make::request_end(begin + 3'000, 0, i + 1, 100, 200));
    }
    const auto m = modelOf(events, routeNames);
    RequestDecimator decimator;
    const double first = static_cast<double>(base);
    const double last = static_cast<double>(base + 100'000 * 10'000);
    (void)decimator.decimate(*m, false, false, first, last, 200); // live: not complete
    const std::size_t firstTime = decimator.blocksChosen();
    (void)decimator.decimate(*m, false, false, first, last, 200); // the next refresh
    const std::size_t again = decimator.blocksChosen() - firstTime;
    CAPTURE(firstTime, again);
    CHECK(firstTime > 1000);
    CHECK(again < 40); // the unanswered request's block on each level, and the view's edges
}

// ---- the histogram's buckets ------------------------------------------------------------

TEST_CASE("latency histogram: bucket edges", "[charts]") {
    using Spacing = LatencyHistogram::Spacing;
    CHECK(LatencyHistogram::edges(0, 99, 4, Spacing::linear) ==
          std::vector<std::uint64_t>{0, 25, 50, 75, 100});
    CHECK(LatencyHistogram::edges(1000, 999'999, 3, Spacing::logarithmic) ==
          std::vector<std::uint64_t>{1000, 10'000, 100'000, 1'000'000});
    // Fewer nanoseconds than buckets: one bucket per nanosecond.
    CHECK(LatencyHistogram::edges(5, 7, 20, Spacing::linear) ==
          std::vector<std::uint64_t>{5, 6, 7, 8});
    CHECK(LatencyHistogram::edges(5, 7, 20, Spacing::logarithmic) ==
          std::vector<std::uint64_t>{5, 6, 7, 8});
    CHECK(LatencyHistogram::edges(10, 10, 20, Spacing::linear) ==
          std::vector<std::uint64_t>{10, 11});

    const auto e = LatencyHistogram::edges(1 * ms, 100 * ms, 20, Spacing::logarithmic);
    REQUIRE(e.size() == 21);
    CHECK(e.front() == 1 * ms);
    CHECK(e.back() == 100 * ms + 1);
    CHECK(std::adjacent_find(e.begin(), e.end(), [](auto a, auto b) { return a >= b; }) == e.end());

    CHECK(LatencyHistogram::spacingFor(1000, 9999) == Spacing::linear);
    CHECK(LatencyHistogram::spacingFor(1000, 10'000) == Spacing::logarithmic);
    CHECK(LatencyHistogram::spacingFor(0, 5000) == Spacing::linear);
}

TEST_CASE("latency histogram: counts per bucket", "[charts]") {
    using Bucket = LatencyHistogram::Bucket;
    const std::vector<std::uint64_t> wide{1000, 5000, 9999, 10'000, 50'000, 999'999};
    CHECK(LatencyHistogram::build(wide, 3) ==
          std::vector<Bucket>{{1000, 10'000, 3}, {10'000, 100'000, 2}, {100'000, 1'000'000, 1}});
    const std::vector<std::uint64_t> narrow{0, 24, 25, 99};
    CHECK(LatencyHistogram::build(narrow, 4) ==
          std::vector<Bucket>{{0, 25, 2}, {25, 50, 1}, {50, 75, 0}, {75, 100, 1}});
    CHECK(LatencyHistogram::build(std::vector<std::uint64_t>{}, 20).empty());
    const std::vector<std::uint64_t> same{7, 7, 7};
    CHECK(LatencyHistogram::build(same) == std::vector<Bucket>{{7, 8, 3}});
}

TEST_CASE("latency histogram: edge labels", "[charts]") {
    CHECK(LatencyHistogram::edgeLabel(2'500'000) == "2.5 ms");
    CHECK(LatencyHistogram::edgeLabel(15'800'000) == "16 ms");
    CHECK(LatencyHistogram::edgeLabel(9'990'000) == "10 ms");
    CHECK(LatencyHistogram::edgeLabel(120'000) == "120 µs");
    CHECK(LatencyHistogram::edgeLabel(1'250'000'000) == "1.2 s");
}

// ---- axis ticks -----------------------------------------------------------------------------

TEST_CASE("axis ticks: round steps, whole steps for counts, decimals", "[charts]") {
    CHECK(AxisTicks::niceStep(10.0, 6) == Approx(2.0));
    CHECK(AxisTicks::niceStep(6.0, 6) == Approx(1.0));
    CHECK(AxisTicks::niceStep(11.0, 6) == Approx(2.0));
    CHECK(AxisTicks::niceStep(25.0, 6) == Approx(5.0));
    CHECK(AxisTicks::niceStep(40.0, 6) == Approx(10.0));
    CHECK(AxisTicks::niceStep(0.3, 6) == Approx(0.05));
    CHECK(AxisTicks::niceStep(1100.0, 6) == Approx(200.0));
    CHECK(AxisTicks::niceStep(0.0, 6) == 1.0);
    CHECK(AxisTicks::niceStep(-5.0, 6) == 1.0);

    CHECK(AxisTicks::integerStep(3.0, 6) == 1.0);
    CHECK(AxisTicks::integerStep(100.0, 6) == Approx(20.0));
    CHECK(AxisTicks::topAbove(3.0, 1.0) == Approx(4.0));
    CHECK(AxisTicks::topAbove(99.0, 20.0) == Approx(100.0));
    CHECK(AxisTicks::topAbove(100.0, 20.0) == Approx(120.0));
    CHECK(AxisTicks::topAbove(0.0, 1.0) == Approx(1.0));

    CHECK(AxisTicks::decimals(2.0) == 0);
    CHECK(AxisTicks::decimals(1.0) == 0);
    CHECK(AxisTicks::decimals(0.5) == 1);
    CHECK(AxisTicks::decimals(0.1) == 1);
    CHECK(AxisTicks::decimals(0.05) == 2);
    CHECK(AxisTicks::decimals(0.01) == 2);
}

// ---- the queue-depth chart ------------------------------------------------------------------

TEST_CASE("queue depth chart: a step line per worker and one for the global queue", "[charts]") {
    TraceDocument document;
    ViewState view;
    QueueDepthChart chart(&document, &view);
    CHECK(chart.seriesCount() == 1); // an empty document: the global queue only
    CHECK(chart.pointCount(0) == 0);

    adopt(document, depthTrace());
    showAll(view, document);
    REQUIRE(chart.seriesCount() == 3);
    CHECK(chart.seriesName(0).toStdString() == "worker 0");
    CHECK(chart.seriesName(1).toStdString() == "worker 1");
    CHECK(chart.seriesName(2).toStdString() == "global queue");
    // Each depth holds until the next one; the last holds until the trace's end (10 ms).
    checkPoints(chart.points(0), {{1, 3}, {3, 3}, {3, 5}, {4, 5}, {4, 4}, {5, 4}, {5, 2}, {10, 2}});
    checkPoints(chart.points(1), {{6, 1}, {10, 1}});
    checkPoints(chart.points(2), {{1, 1}, {2, 1}, {2, 2}, {7, 2}, {7, 0}, {10, 0}});
    CHECK(chart.pointCount(0) == 8);
    CHECK(chart.pointCount(1) == 2);
    CHECK(chart.pointCount(2) == 6);
    CHECK(chart.pointCount(3) == 0);
    CHECK(chart.pointCount(-1) == 0);

    // A new document replaces the old series.
    adopt(document,
          {make::track_started(0, 0, track_kind::worker, 0), make::queue_depth(1 * ms, 1, 0, 2)});
    CHECK(chart.seriesCount() == 2);
    CHECK(chart.pointCount(0) == 1);
}

TEST_CASE("queue depth chart: a long series is decimated to the width and cut to the view",
          "[charts]") {
    std::vector<event> events{make::track_started(0, 0, track_kind::worker, 0)};
    constexpr std::uint32_t count = 20'000;
    for (std::uint32_t i = 0; i < count; ++i) {
        events.push_back(make::queue_depth(std::uint64_t{i} * 1000, 1, 0, i % 7)); // always changes
    }
    TraceDocument document;
    ViewState view;
    QueueDepthChart chart(&document, &view);
    chart.resize(800, 400);
    adopt(document, events);
    showAll(view, document);
    REQUIRE(chart.seriesCount() == 2);
    CHECK(chart.pointCount(1) == 0); // no global queue in this trace
    // At most four kept points per pixel column, two drawn per kept point (a step).
    const qsizetype whole = chart.pointCount(0);
    CHECK(whole > 0);
    CHECK(whole <= 2 * SeriesDecimator::pointsPerPixel * 800 + 2);

    // Zoomed in to 100 points: all of them plus one either side, undecimated.
    view.setVisible(100'000, 200'000);
    REQUIRE(QTest::qWaitFor([&] { return chart.pointCount(0) != whole; }));
    CHECK(chart.pointCount(0) == 2 * 102 - 1);
    const QList<QPointF> zoomed = chart.points(0);
    CHECK(zoomed.front().x() == Approx(0.099));
    CHECK(zoomed.back().x() == Approx(0.200));
}

// ---- the latency chart --------------------------------------------------------------------

TEST_CASE("latency chart: a point per finished request, percentiles and routes", "[charts]") {
    TraceDocument document;
    ViewState view;
    LatencyChart chart(&document, &view);
    CHECK(chart.pointCount() == 0);
    CHECK(chart.routes().isEmpty());
    CHECK(chart.p50Ms() == 0.0);

    adopt(document, requestTrace(false), routeNames);
    showAll(view, document);
    CHECK_FALSE(chart.clientSide());
    // The points follow the range at the next refresh; a few per pixel column at most, so
    // 100 requests 10 ms apart are all shown.
    REQUIRE(QTest::qWaitFor([&] { return chart.pointCount() == 100; })); // not the unfinished one
    CHECK(toStd(chart.routes()) == std::vector<std::string>{"/", "/sleep?ms=5"});
    CHECK(chart.p50Ms() == Approx(50.0));
    CHECK(chart.p99Ms() == Approx(99.0));
    const auto summary = document.model().request_latency();
    CHECK(chart.p50Ms() == Approx(static_cast<double>(summary.p50_ns) / 1e6));
    CHECK(chart.p99Ms() == Approx(static_cast<double>(summary.p99_ns) / 1e6));

    const auto& buckets = chart.histogram();
    REQUIRE(buckets.size() == LatencyHistogram::defaultBuckets);
    CHECK(buckets.front().fromNs == 1 * ms);
    CHECK(buckets.back().toNs == 100 * ms + 1);
    std::uint64_t total = 0;
    for (const auto& b : buckets) {
        total += b.count;
    }
    CHECK(total == 100);
}

TEST_CASE("latency chart: client requests are shown when the trace has any", "[charts]") {
    TraceDocument document;
    ViewState view;
    LatencyChart chart(&document, &view);
    adopt(document, requestTrace(true), routeNames);
    showAll(view, document);
    CHECK(chart.clientSide());
    REQUIRE(QTest::qWaitFor([&] { return chart.pointCount() == 3; }));
    CHECK(toStd(chart.routes()) == std::vector<std::string>{"/sleep?ms=5"});
    CHECK(chart.p50Ms() == Approx(20.0));
    CHECK(chart.p99Ms() == Approx(30.0));
}

TEST_CASE("latency chart: a hint instead of empty axes until a request finishes", "[charts]") {
    TraceDocument document;
    ViewState view;
    LatencyChart chart(&document, &view);
    chart.resize(800, 400);
    // Drawn outside the middle band: an axis, a title, a legend (the hint is centred).
    const auto drawnOutsideMiddle = [&] {
        const QImage image = imageOf(chart);
        const QRgb background = chart.palette().color(QPalette::Window).rgb();
        int n = 0;
        for (int y = 0; y < image.height(); ++y) {
            if (y > 120 && y < 280) {
                continue;
            }
            for (int x = 0; x < image.width(); ++x) {
                n += image.pixel(x, y) != background ? 1 : 0;
            }
        }
        return n;
    };

    // An opened trace without HTTP: say so, draw no empty frame.
    adopt(document, depthTrace());
    CHECK(chart.showsEmptyHint());
    CHECK(chart.emptyHint().contains(QStringLiteral("no HTTP requests")));
    const QImage hint = imageOf(chart);
    CHECK(nonBackgroundPixels(hint) > 200); // the text
    CHECK(drawnOutsideMiddle() == 0);

    // An opened trace with requests: the charts.
    adopt(document, requestTrace(false), routeNames);
    CHECK_FALSE(chart.showsEmptyHint());
    CHECK(drawnOutsideMiddle() > 1000);

    // Live: tell how to get requests until the first one finishes.
    document.startLive(trace::run_info{});
    CHECK(chart.showsEmptyHint());
    CHECK(chart.emptyHint().contains(QStringLiteral("Fire requests")));
    const trace::name_id route = trace::intern("/charts-hint");
    const std::uint64_t t0 = 5 * ms;
    const std::vector<event> begun{
        make::track_started(t0, 0, track_kind::worker, 0),
        make::request_begin(t0 + 1 * ms, 0, 1, 1, route, trace::request_side::server)};
    document.append(begun);
    QTest::qWait(250); // past a refresh: an unfinished request has no latency to draw
    CHECK(chart.showsEmptyHint());
    const std::vector<event> ended{
        make::request_end(t0 + 4 * ms, 0, 1, 100, 200, trace::request_side::server)};
    document.append(ended);
    showAll(view, document);
    REQUIRE(QTest::qWaitFor([&] { return chart.pointCount() == 1; }));
    CHECK_FALSE(chart.showsEmptyHint());
    CHECK(drawnOutsideMiddle() > 1000);
}

// ---- what a person sees -----------------------------------------------------------------

TEST_CASE("queue depth chart: renders its lines", "[charts]") {
    TraceDocument document;
    ViewState view;
    QueueDepthChart chart(&document, &view);
    chart.resize(800, 400);
    const QImage empty = imageOf(chart);
    REQUIRE(empty.size() == QSize(800, 400));
    CHECK(nonBackgroundPixels(empty) > 1000); // axes, title and legend

    adopt(document, depthTrace());
    showAll(view, document);
    const QImage drawn = imageOf(chart);
    CHECK(differingPixels(drawn, empty) > 2000);

    view.setPresentation(true);
    CHECK(differingPixels(imageOf(chart), drawn) > 2000); // bigger fonts, thicker lines
}

TEST_CASE("latency chart: renders its points and histogram", "[charts]") {
    TraceDocument document;
    ViewState view;
    LatencyChart chart(&document, &view);
    chart.resize(800, 400);
    const QImage empty = imageOf(chart);
    REQUIRE(empty.size() == QSize(800, 400));
    CHECK(nonBackgroundPixels(empty) > 1000);

    adopt(document, requestTrace(false), routeNames);
    showAll(view, document);
    const QImage drawn = imageOf(chart);
    CHECK(differingPixels(drawn, empty) > 4000);
    // The histogram (the right third) has bars now.
    CHECK(differingPixels(drawn.copy(540, 0, 260, 400), empty.copy(540, 0, 260, 400)) > 1000);
}

TEST_CASE("charts: a dark window palette gives dark charts", "[charts]") {
    TraceDocument document;
    ViewState view;
    adopt(document, requestTrace(false), routeNames);
    showAll(view, document);
    QueueDepthChart depth(&document, &view);
    LatencyChart latency(&document, &view);
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(30, 30, 30));
    dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
    for (QWidget* chart : std::initializer_list<QWidget*>{&depth, &latency}) {
        chart->resize(800, 400);
        CHECK(meanLightness(imageOf(*chart)) > 160);
        chart->setPalette(dark);
        CHECK(meanLightness(imageOf(*chart)) < 96);
    }
}

// ---- live ---------------------------------------------------------------------------------

TEST_CASE("charts: live batches add points", "[charts]") {
    TraceDocument document;
    ViewState view;
    QueueDepthChart depth(&document, &view);
    LatencyChart latency(&document, &view);
    document.startLive(trace::run_info{});
    CHECK(depth.seriesCount() == 1);
    CHECK(latency.pointCount() == 0);

    const trace::name_id route = trace::intern("/charts-live");
    const std::uint64_t t0 = 5 * ms;
    const std::vector<event> first{
        make::track_started(t0, 0, track_kind::worker, 0),
        make::queue_depth(t0 + 1 * ms, 1, 0, 1),
        make::queue_depth(t0 + 2 * ms, 1, 0, 4),
        make::request_begin(t0 + 1 * ms, 0, 1, 1, route, trace::request_side::server),
        make::request_end(t0 + 3 * ms, 0, 1, 100, 200, trace::request_side::server),
        make::request_begin(t0 + 2 * ms, 0, 2, 2, route,
                            trace::request_side::server), // ends in the next batch
    };
    document.append(first);
    showAll(view, document); // as the timeline does while it follows the live end
    REQUIRE(QTest::qWaitFor([&] { return depth.seriesCount() == 2 && latency.pointCount() == 1; }));
    // 1, then 4, held to the trace's end so far (the request's end at 3 ms).
    checkPoints(depth.points(0), {{1, 1}, {2, 1}, {2, 4}, {3, 4}});
    CHECK(toStd(latency.routes()) == std::vector<std::string>{"/charts-live"});
    CHECK(latency.p50Ms() == Approx(2.0));

    const std::vector<event> second{
        make::queue_depth(t0 + 4 * ms, 1, 0, 2),
        make::queue_depth(t0 + 5 * ms, 1, 0, 3),
        make::request_end(t0 + 8 * ms, 0, 2, 100, 200, trace::request_side::server),
        make::request_begin(t0 + 8 * ms, 0, 3, 3, route, trace::request_side::server),
        make::request_end(t0 + 9 * ms, 0, 3, 100, 200, trace::request_side::server),
        make::marker(t0 + 12 * ms, 1, 0, 1),
    };
    document.append(second);
    showAll(view, document);
    REQUIRE(QTest::qWaitFor([&] { return latency.pointCount() == 3; }));
    REQUIRE(QTest::qWaitFor([&] { return depth.pointCount(0) > 4; }));
    // 1, 4, 2, 3 as steps, then 3 held to the end (12 ms).
    checkPoints(depth.points(0), {{1, 1}, {2, 1}, {2, 4}, {4, 4}, {4, 2}, {5, 2}, {5, 3}, {12, 3}});
    CHECK(latency.p50Ms() == Approx(2.0));
    CHECK(latency.p99Ms() == Approx(6.0));

    // Built incrementally, the lines equal the ones a chart opened now draws.
    QueueDepthChart fresh(&document, &view);
    REQUIRE(fresh.seriesCount() == depth.seriesCount());
    for (int s = 0; s < depth.seriesCount(); ++s) {
        CHECK(fresh.points(s) == depth.points(s));
    }
}
