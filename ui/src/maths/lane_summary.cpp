#include "maths/lane_summary.hpp"

#include <algorithm>
#include <cmath>

namespace taskscope::ui {

namespace {

void merge(LaneSummary::Bucket& into, const LaneSummary::Bucket& b) {
    into.busyNs += b.busyNs;
    into.blocked = into.blocked || b.blocked;
    if (b.longestNs > into.longestNs) {
        into.longestNs = b.longestNs;
        into.task = b.task;
    }
}

/// Accumulates what falls into one pixel column, then becomes one DrawItem.
struct ColumnFold {
    long column = -1;
    std::uint64_t busyNs = 0;
    std::uint64_t longestNs = 0;
    analysis::task_ref task = analysis::no_task;
    bool blocked = false;
    std::uint32_t polls = 0;
    std::uint32_t lastPoll = UINT32_MAX;
    double coveredNs = 0; ///< time the folded buckets span (0: a pixel's worth)

    void flush(const TimeScale& scale, std::vector<DrawItem>& out) {
        if (column < 0 || polls == 0) {
            column = -1;
            return;
        }
        // Busy time over the time the folded buckets cover: a column holding one bucket of a
        // poll that fills it is fully busy, even if the bucket is narrower than the column.
        const double covered = coveredNs > 0 ? coveredNs : scale.nsPerPixel();
        const float occupancy =
            static_cast<float>(std::min(1.0, static_cast<double>(busyNs) / std::max(1.0, covered)));
        // A long poll spans many columns: draw it as one rectangle, not a comb of columns
        // whose shades differ only by where bucket edges fall.
        if (!out.empty() && polls > 1 && out.back().x1 == static_cast<double>(column) &&
            out.back().task == task && out.back().blocked == blocked &&
            out.back().occupancy >= 0.8f && occupancy >= 0.8f) {
            out.back().x1 += 1.0;
            out.back().occupancy = std::max(out.back().occupancy, occupancy);
            out.back().pollIndex = UINT32_MAX;
            *this = ColumnFold{};
            return;
        }
        DrawItem item;
        item.x0 = static_cast<double>(column);
        item.x1 = item.x0 + 1.0;
        item.task = task;
        item.blocked = blocked;
        item.occupancy = occupancy;
        item.pollIndex = polls == 1 ? lastPoll : UINT32_MAX;
        out.push_back(item);
        *this = ColumnFold{};
    }
    void add(long c, std::uint64_t busy, std::uint64_t longest, analysis::task_ref t, bool b,
             std::uint32_t count, std::uint32_t poll, const TimeScale& scale,
             std::vector<DrawItem>& out, double covered = 0) {
        if (c != column) {
            flush(scale, out);
            column = c;
        }
        coveredNs += covered;
        busyNs += busy;
        blocked = blocked || b;
        if (longest >= longestNs) {
            longestNs = longest;
            task = t;
        }
        polls += count;
        lastPoll = poll;
    }
};

} // namespace

void LaneSummary::reset(std::uint64_t originNs) {
    m_origin = originNs;
    m_pollsDone = 0;
    m_levels.clear();
}

std::size_t LaneSummary::memoryBytes() const noexcept {
    std::size_t n = 0;
    for (const auto& level : m_levels) {
        n += level.capacity() * sizeof(Bucket);
    }
    return n;
}

void LaneSummary::addPoll(const analysis::poll_span& p) {
    if (m_levels.empty()) {
        m_levels.emplace_back();
    }
    auto& level0 = m_levels[0];
    const std::uint64_t begin = std::max(p.begin_ns, m_origin) - m_origin;
    const std::uint64_t end = std::max(p.end_ns, p.begin_ns) - m_origin;
    const std::uint64_t duration = end - begin;
    const std::size_t first = begin / baseBucketNs;
    const std::size_t last = end == begin ? first : (end - 1) / baseBucketNs;
    if (last >= level0.size()) {
        level0.resize(last + 1);
    }
    for (std::size_t b = first; b <= last; ++b) {
        const std::uint64_t lo = std::max<std::uint64_t>(begin, b * baseBucketNs);
        const std::uint64_t hi = std::min<std::uint64_t>(end, (b + 1) * baseBucketNs);
        Bucket& bucket = level0[b];
        bucket.busyNs += hi > lo ? hi - lo : 0;
        bucket.blocked = bucket.blocked || (p.flags & analysis::poll_flags::blocked) != 0;
        if (duration >= bucket.longestNs) {
            bucket.longestNs = duration;
            bucket.task = p.task;
        }
    }
}

void LaneSummary::rebuildAbove(std::size_t firstDirty) {
    for (std::size_t l = 1;; ++l) {
        if (m_levels[l - 1].size() <= 1) {
            m_levels.resize(l); // the top level is a single bucket
            return;
        }
        if (l == m_levels.size()) {
            m_levels.emplace_back(); // (may move the levels: take references after this)
        }
        const auto& below = m_levels[l - 1];
        auto& level = m_levels[l];
        firstDirty /= 2;
        level.resize((below.size() + 1) / 2);
        for (std::size_t b = firstDirty; b < level.size(); ++b) {
            Bucket merged = below[2 * b];
            if (2 * b + 1 < below.size()) {
                merge(merged, below[2 * b + 1]);
            }
            level[b] = merged;
        }
    }
}

void LaneSummary::update(const analysis::lane& lane) {
    const std::size_t before = m_levels.empty() ? 0 : m_levels[0].size();
    std::size_t firstDirty = SIZE_MAX;
    if (lane.polls.size() - m_pollsDone > 4096) {
        // Many polls at once (an opened file): the buckets they reach, in one allocation
        // rather than a vector that doubles (and copies) its way to millions of buckets.
        const analysis::poll_span& last = lane.polls.back();
        const std::uint64_t end = last.end_ns == analysis::open_end ? last.begin_ns : last.end_ns;
        if (end > m_origin) {
            if (m_levels.empty()) {
                m_levels.emplace_back();
            }
            m_levels[0].reserve((end - m_origin) / baseBucketNs + 1);
        }
    }
    while (m_pollsDone < lane.polls.size()) {
        const analysis::poll_span& p = lane.polls[m_pollsDone];
        if (p.end_ns == analysis::open_end) {
            break; // still running: the view draws it up to now, the summary waits
        }
        if (p.begin_ns >= m_origin) {
            firstDirty = std::min<std::size_t>(firstDirty, (p.begin_ns - m_origin) / baseBucketNs);
        }
        addPoll(p);
        ++m_pollsDone;
    }
    if (firstDirty != SIZE_MAX || (!m_levels.empty() && m_levels[0].size() != before)) {
        rebuildAbove(std::min(firstDirty, before));
    }
}

void LaneSummary::drawList(const analysis::lane& lane, const TimeScale& scale,
                           std::vector<DrawItem>& out) const {
    out.clear();
    const double nsPerPixel = scale.nsPerPixel();
    const double viewStart = scale.startNs();
    const double viewEnd = scale.endNs();

    if (nsPerPixel >= static_cast<double>(baseBucketNs) && !m_levels.empty()) {
        // Zoomed out: the coarsest level whose buckets are at most a pixel wide.
        auto l = static_cast<std::size_t>(
            std::floor(std::log2(nsPerPixel / static_cast<double>(baseBucketNs))));
        l = std::min(l, m_levels.size() - 1);
        const double width = static_cast<double>(baseBucketNs << l);
        const auto& level = m_levels[l];
        const double origin = static_cast<double>(m_origin);
        const auto first = static_cast<std::size_t>(std::max(0.0, (viewStart - origin) / width));
        ColumnFold fold;
        for (std::size_t b = first; b < level.size(); ++b) {
            const double t = origin + static_cast<double>(b) * width;
            if (t >= viewEnd) {
                break;
            }
            const Bucket& bucket = level[b];
            if (bucket.busyNs == 0) {
                continue;
            }
            const auto column = static_cast<long>(std::floor(scale.xOf(std::max(t, viewStart))));
            fold.add(column, bucket.busyNs, bucket.longestNs, bucket.task, bucket.blocked, 2,
                     UINT32_MAX, scale, out, width);
        }
        fold.flush(scale, out);
    } else {
        // Zoomed in: the polls themselves; those under a pixel fold into their column.
        const auto& polls = lane.polls;
        // Polls on a lane do not overlap, so their ends are ordered like their begins.
        auto it = std::partition_point(polls.begin(), polls.end(), [&](const auto& p) {
            return p.end_ns != analysis::open_end && static_cast<double>(p.end_ns) < viewStart;
        });
        ColumnFold fold;
        for (; it != polls.end(); ++it) {
            const analysis::poll_span& p = *it;
            if (static_cast<double>(p.begin_ns) >= viewEnd) {
                break;
            }
            const double endNs = p.end_ns == analysis::open_end
                                     ? static_cast<double>(std::max(p.begin_ns, scale.lastNs()))
                                     : static_cast<double>(p.end_ns);
            const double x0 = scale.xOf(static_cast<double>(p.begin_ns));
            const double x1 = scale.xOf(endNs);
            const auto index = static_cast<std::uint32_t>(it.index());
            const bool blocked = (p.flags & analysis::poll_flags::blocked) != 0;
            if (x1 - x0 >= 1.0) {
                fold.flush(scale, out);
                out.push_back({.x0 = x0,
                               .x1 = x1,
                               .task = p.task,
                               .occupancy = 1.0f,
                               .blocked = blocked,
                               .pollIndex = index});
            } else {
                const auto duration = static_cast<std::uint64_t>(endNs) - p.begin_ns;
                fold.add(static_cast<long>(std::floor(x0)), duration, duration, p.task, blocked, 1,
                         index, scale, out);
            }
        }
        fold.flush(scale, out);
    }
}

} // namespace taskscope::ui
