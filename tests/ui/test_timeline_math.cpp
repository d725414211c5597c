// The timeline's maths without a window: time <-> pixel, zoom, pan, follow-live, and the
// level-of-detail summaries a lane is drawn from.

#include "maths/lane_summary.hpp"
#include "maths/time_scale.hpp"

#include <catch2/catch.hpp>
#include <random>

namespace {

using taskscope::analysis::lane;
using taskscope::analysis::poll_span;
using taskscope::ui::DrawItem;
using taskscope::ui::LaneSummary;
using taskscope::ui::TimeScale;

TimeScale scale(double width, std::uint64_t first, std::uint64_t last, double start, double end) {
    TimeScale s;
    s.setWidth(width);
    s.setBounds(first, last);
    s.setVisible(start, end);
    return s;
}

poll_span poll(std::uint64_t begin, std::uint64_t end, std::uint32_t task, std::uint8_t flags = 0) {
    poll_span p;
    p.begin_ns = begin;
    p.end_ns = end;
    p.task = task;
    p.flags = flags;
    return p;
}

double drawn_busy_ns(const std::vector<DrawItem>& items, const TimeScale& s) {
    double ns = 0;
    for (const DrawItem& d : items) {
        ns += (d.x1 - d.x0) * s.nsPerPixel() * static_cast<double>(d.occupancy);
    }
    return ns;
}

} // namespace

TEST_CASE("time and pixels map both ways", "[timeline]") {
    const TimeScale s = scale(1000, 0, 10'000'000, 1'000'000, 3'000'000);
    CHECK(s.nsPerPixel() == Approx(2000));
    CHECK(s.xOf(1'000'000) == Approx(0));
    CHECK(s.xOf(3'000'000) == Approx(1000));
    CHECK(s.xOf(2'000'000) == Approx(500));
    CHECK(s.nsAt(250) == Approx(1'500'000));
    for (double x : {0.0, 1.5, 333.3, 999.0}) {
        CHECK(s.xOf(s.nsAt(x)) == Approx(x));
    }
}

TEST_CASE("zoom keeps the time under the cursor in place", "[timeline]") {
    TimeScale s = scale(1000, 0, 10'000'000, 2'000'000, 4'000'000);
    const double anchor = s.nsAt(300);
    s.zoom(0.5, 300);
    CHECK(s.spanNs() == Approx(1'000'000));
    CHECK(s.nsAt(300) == Approx(anchor));
    s.zoom(4.0, 300);
    CHECK(s.spanNs() == Approx(4'000'000));
    CHECK(s.nsAt(300) == Approx(anchor));
}

TEST_CASE("zoom stops at a microsecond and at the whole trace", "[timeline]") {
    TimeScale s = scale(1000, 0, 10'000'000, 0, 10'000'000);
    for (int i = 0; i < 100; ++i) {
        s.zoom(0.5, 500);
    }
    CHECK(s.spanNs() == Approx(TimeScale::minimumSpanNs));
    for (int i = 0; i < 100; ++i) {
        s.zoom(2.0, 500);
    }
    CHECK(s.spanNs() <= 10'000'000 * 1.11);
    CHECK(s.startNs() <= 0);
    CHECK(s.endNs() >= 10'000'000);
    s.zoom(0.0, 10); // nonsense factors change nothing
    s.zoom(-1.0, 10);
    CHECK(s.spanNs() <= 10'000'000 * 1.11);
}

TEST_CASE("pan moves by pixels and stays near the trace", "[timeline]") {
    TimeScale s = scale(1000, 0, 10'000'000, 4'000'000, 5'000'000);
    s.pan(100);
    CHECK(s.startNs() == Approx(4'100'000));
    s.pan(-1'000'000); // far before the start: clamped, with a small margin
    CHECK(s.startNs() >= -0.051 * s.spanNs());
    CHECK(s.startNs() < 0.0);
    s.pan(1'000'000); // far past the end
    CHECK(s.endNs() <= 10'000'000 + 0.951 * s.spanNs());
    CHECK(s.spanNs() == Approx(1'000'000));
}

TEST_CASE("follow-live slides with the trace's end until the user pans back", "[timeline]") {
    TimeScale s = scale(1000, 0, 10'000'000, 0, 2'000'000);
    s.setFollowing(true);
    CHECK(s.following());
    s.setBounds(0, 20'000'000);
    CHECK(s.endNs() > 20'000'000);
    CHECK(s.nsAt(950) == Approx(20'000'000).margin(1));
    CHECK(s.spanNs() == Approx(2'000'000));
    s.zoom(0.5, 200); // zooming keeps the present at the right
    CHECK(s.following());
    CHECK(s.nsAt(950) == Approx(20'000'000).margin(1));
    s.pan(-50); // looking back stops following ...
    CHECK_FALSE(s.following());
    const double start = s.startNs();
    s.setBounds(0, 30'000'000); // ... so new data does not move the view
    CHECK(s.startNs() == Approx(start));
}

TEST_CASE("show all frames the whole trace", "[timeline]") {
    TimeScale s = scale(800, 1000, 9000, 4000, 5000);
    s.showAll();
    CHECK(s.startNs() < 1000);
    CHECK(s.endNs() > 9000);
    CHECK(s.xOf(1000) > 0);
    CHECK(s.xOf(9000) < 800);
}

TEST_CASE("level 0 buckets hold the time each poll spent in them", "[timeline]") {
    lane l;
    const std::uint64_t b = LaneSummary::baseBucketNs;
    l.polls.push_back(poll(10, 110, 1));         // inside bucket 0
    l.polls.push_back(poll(b - 50, b + 150, 2)); // across buckets 0 and 1
    l.polls.push_back(poll(3 * b, 6 * b, 3, 1)); // three whole buckets, blocked
    LaneSummary summary;
    summary.reset(0);
    summary.update(l);
    // Only buckets with polling in them are stored: bucket 2 is not.
    REQUIRE(summary.level(0).size() == 5);
    CHECK(summary.level(0).back().index == 5);
    CHECK(summary.bucket(0, 0).busyNs == 150);
    CHECK(summary.bucket(0, 0).task == 2); // the longest poll touching the bucket gives the colour
    CHECK(summary.bucket(0, 1).busyNs == 150);
    CHECK(summary.bucket(0, 2).busyNs == 0);
    CHECK(summary.bucket(0, 3).busyNs == b);
    CHECK(summary.bucket(0, 5).busyNs == b);
    CHECK(summary.bucket(0, 4).blocked);
    CHECK_FALSE(summary.bucket(0, 1).blocked);
    // Each level above merges pairs, up to a single bucket.
    REQUIRE(summary.levelCount() == 4);
    CHECK(summary.level(1).size() == 3);
    CHECK(summary.bucket(1, 0).busyNs == 300);
    CHECK(summary.level(3).size() == 1);
    CHECK(summary.bucket(3, 0).busyNs == 300 + 3 * b);
    CHECK(summary.bucket(3, 0).task == 3);
}

TEST_CASE("a summary extended poll by poll equals one built at once", "[timeline]") {
    std::mt19937_64 random(7);
    lane l;
    std::uint64_t t = 0;
    for (int i = 0; i < 5000; ++i) {
        t += random() % 200'000;
        const std::uint64_t d = 1 + random() % 300'000;
        l.polls.push_back(poll(t, t + d, static_cast<std::uint32_t>(random() % 9)));
        t += d;
    }
    LaneSummary once;
    once.reset(0);
    once.update(l);

    lane growing;
    LaneSummary live;
    live.reset(0);
    for (std::size_t i = 0; i < l.polls.size(); ++i) {
        poll_span open = l.polls[i];
        open.end_ns = taskscope::analysis::open_end;
        growing.polls.push_back(open); // arrives open ...
        live.update(growing);
        growing.polls.back() = l.polls[i]; // ... and closes later
        if (i % 37 == 0) {
            live.update(growing);
        }
    }
    live.update(growing);
    REQUIRE(live.levelCount() == once.levelCount());
    for (std::size_t level = 0; level < once.levelCount(); ++level) {
        REQUIRE(live.level(level).size() == once.level(level).size());
        for (std::size_t b = 0; b < once.level(level).size(); ++b) {
            CHECK(live.level(level)[b].index == once.level(level)[b].index);
            CHECK(live.level(level)[b].busyNs == once.level(level)[b].busyNs);
            CHECK(live.level(level)[b].task == once.level(level)[b].task);
        }
    }
}

TEST_CASE("a summary extended across gaps, and after forgetting, equals one built at once",
          "[timeline][retention]") {
    std::mt19937_64 random(17);
    lane l;
    std::uint64_t t = 0;
    for (int i = 0; i < 4000; ++i) {
        // Bursts and long idle gaps: new levels appear between updates.
        t += i % 50 == 0 ? 50'000'000 + random() % 500'000'000 : random() % 200'000;
        const std::uint64_t d = 1 + random() % 300'000;
        l.polls.push_back(poll(t, t + d, static_cast<std::uint32_t>(random() % 9)));
        t += d;
    }
    lane growing;
    LaneSummary live;
    live.reset(0);
    const std::uint64_t cut = t / 2;
    bool forgot = false;
    for (std::size_t i = 0; i < l.polls.size(); ++i) {
        growing.polls.push_back(l.polls[i]);
        if (i % 13 == 0 || i + 1 == l.polls.size()) {
            live.update(growing);
        }
        if (!forgot && l.polls[i].begin_ns > cut + 100'000'000) {
            // What a live window does past its retention: the lane forgets, then the summary.
            growing.polls.forget_before(static_cast<std::size_t>(
                std::partition_point(growing.polls.begin(), growing.polls.end(),
                                     [&](const poll_span& p) { return p.end_ns < cut; })
                    .index()));
            live.forgetBefore(cut);
            forgot = true;
        }
    }
    REQUIRE(forgot);
    live.update(growing);
    // Built at once from the polls kept.
    lane kept;
    for (const poll_span& p : growing.polls) {
        kept.polls.push_back(p);
    }
    LaneSummary once;
    once.reset(0);
    once.update(kept);
    REQUIRE(live.levelCount() == once.levelCount());
    for (std::size_t level = 0; level < once.levelCount(); ++level) {
        const std::uint64_t width = LaneSummary::baseBucketNs << level;
        // Buckets wholly after the cut hold the same; those across it may hold more.
        for (const LaneSummary::Bucket& b : once.level(level)) {
            if (b.index * width < cut) {
                continue;
            }
            const LaneSummary::Bucket same = live.bucket(level, b.index);
            INFO("level " << level << " bucket " << b.index);
            CHECK(same.busyNs == b.busyNs);
            CHECK(same.task == b.task);
        }
        for (const LaneSummary::Bucket& b : live.level(level)) {
            CHECK((b.index + 1) * width > cut); // nothing wholly before the cut stays
        }
    }
}

TEST_CASE("draw lists keep the busy time and stay within about one item per pixel", "[timeline]") {
    std::mt19937_64 random(11);
    lane l;
    std::uint64_t t = 0;
    std::uint64_t busy = 0;
    for (int i = 0; i < 200'000; ++i) {
        t += 1000 + random() % 20'000;
        const std::uint64_t d = 500 + random() % 5000;
        l.polls.push_back(poll(t, t + d, static_cast<std::uint32_t>(random() % 5)));
        busy += d;
        t += d;
    }
    LaneSummary summary;
    summary.reset(0);
    summary.update(l);
    std::vector<DrawItem> items;
    SECTION("zoomed out: from the summary levels") {
        const TimeScale s = scale(1920, 0, t, 0, static_cast<double>(t));
        summary.drawList(l, s, items);
        CHECK(items.size() <= 1921);
        CHECK(drawn_busy_ns(items, s) == Approx(static_cast<double>(busy)).epsilon(0.02));
        for (std::size_t i = 1; i < items.size(); ++i) {
            CHECK(items[i - 1].x1 <= items[i].x0 + 1e-9);
        }
    }
    SECTION("zoomed in: the polls themselves, wide ones one item each") {
        const double start = static_cast<double>(t) / 2;
        const TimeScale s = scale(1920, 0, t, start, start + 2'000'000);
        summary.drawList(l, s, items);
        std::size_t singles = 0;
        for (const DrawItem& d : items) {
            singles += d.single() ? 1u : 0u;
            if (d.single()) {
                const poll_span& p = l.polls[d.pollIndex];
                CHECK(d.x0 == Approx(s.xOf(static_cast<double>(p.begin_ns))).margin(1.0));
                CHECK(d.task == p.task);
            }
        }
        CHECK(singles > 50);
        CHECK(items.size() <= 1921);
    }
}

TEST_CASE("an open poll is drawn up to the trace's end", "[timeline]") {
    lane l;
    l.polls.push_back(poll(100, 200, 1));
    poll_span running = poll(1000, taskscope::analysis::open_end, 2);
    l.polls.push_back(running);
    LaneSummary summary;
    summary.reset(0);
    summary.update(l);
    const TimeScale s = scale(1000, 0, 5000, 0, 5000);
    std::vector<DrawItem> items;
    summary.drawList(l, s, items);
    REQUIRE(items.size() == 2);
    CHECK(items[1].task == 2);
    CHECK(items[1].x1 == Approx(s.xOf(5000)));
}

TEST_CASE("a long poll zoomed out is one labelled rectangle, not a comb of columns", "[timeline]") {
    lane l;
    l.polls.push_back(poll(1'000'000, 1'201'000'000, 3, taskscope::analysis::poll_flags::blocked));
    LaneSummary summary;
    summary.reset(0);
    summary.update(l);
    const TimeScale s = scale(1650, 0, 2'000'000'000, 0, 2'000'000'000);
    std::vector<DrawItem> items;
    summary.drawList(l, s, items);
    REQUIRE(items.size() <= 3); // the first and last columns may be partly busy
    CHECK(items.back().task == 3);
    CHECK(items.back().blocked);
    CHECK(items.back().x1 - items.front().x0 ==
          Approx(s.xOf(1'201'000'000) - s.xOf(1'000'000)).margin(2));
}
