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
    for (const Level& level : m_levels) {
        n += level.size() * sizeof(Bucket);
    }
    return n;
}

LaneSummary::Bucket LaneSummary::bucket(std::size_t l, std::uint64_t index) const {
    if (l >= m_levels.size()) {
        return {.index = index};
    }
    const Level& level = m_levels[l];
    const auto it = std::partition_point(level.begin(), level.end(),
                                         [index](const Bucket& b) { return b.index < index; });
    return it != level.end() && it->index == index ? *it : Bucket{.index = index};
}

namespace {

/// The bucket `index` of `level`, made if it has none: at the end (polls come in time
/// order), or in its place for the rare late one.
LaneSummary::Bucket& bucketFor(LaneSummary::Level& level, std::uint64_t index) {
    if (level.empty() || level.back().index < index) {
        level.push_back({.index = index});
        return level.back();
    }
    if (level.back().index == index) {
        return level.back();
    }
    const auto it = std::partition_point(level.begin(), level.end(),
                                         [index](const auto& b) { return b.index < index; });
    if (it != level.end() && it->index == index) {
        return *it;
    }
    return *level.insert(it, {.index = index});
}

} // namespace

void LaneSummary::addPoll(const analysis::poll_span& p) {
    if (m_levels.empty()) {
        m_levels.emplace_back();
    }
    Level& level0 = m_levels[0];
    const std::uint64_t begin = std::max(p.begin_ns, m_origin) - m_origin;
    const std::uint64_t end = std::max(std::max(p.end_ns, p.begin_ns), m_origin) - m_origin;
    const std::uint64_t duration = end - begin;
    const std::uint64_t first = begin / baseBucketNs;
    const std::uint64_t last = end == begin ? first : (end - 1) / baseBucketNs;
    for (std::uint64_t b = first; b <= last; ++b) {
        const std::uint64_t lo = std::max<std::uint64_t>(begin, b * baseBucketNs);
        const std::uint64_t hi = std::min<std::uint64_t>(end, (b + 1) * baseBucketNs);
        Bucket& bucket = bucketFor(level0, b);
        bucket.busyNs += hi > lo ? hi - lo : 0;
        bucket.blocked = bucket.blocked || (p.flags & analysis::poll_flags::blocked) != 0;
        if (duration >= bucket.longestNs) {
            bucket.longestNs = duration;
            bucket.task = p.task;
        }
    }
}

void LaneSummary::rebuildAbove(std::uint64_t firstDirty) {
    // Each level merges pairs of buckets of the one below, up to a level of one bucket.
    for (std::size_t l = 1;; ++l) {
        if (m_levels[l - 1].size() <= 1) {
            m_levels.resize(l); // the level below is a single bucket: the top
            return;
        }
        if (l == m_levels.size()) {
            m_levels.emplace_back(); // (may move the levels: take references after this)
        }
        const Level& below = m_levels[l - 1];
        Level& level = m_levels[l];
        // A level new (or emptied) is merged from the start, and so is every one above it.
        firstDirty = level.empty() ? 0 : firstDirty / 2;
        while (!level.empty() && level.back().index >= firstDirty) {
            level.pop_back();
        }
        auto it = std::partition_point(below.begin(), below.end(),
                                       [&](const Bucket& b) { return b.index < 2 * firstDirty; });
        for (; it != below.end(); ++it) {
            if (level.empty() || level.back().index != it->index / 2) {
                Bucket merged = *it;
                merged.index = it->index / 2;
                level.push_back(merged);
            } else {
                merge(level.back(), *it);
            }
        }
    }
}

void LaneSummary::update(const analysis::lane& lane) {
    m_pollsDone = std::max(m_pollsDone, lane.polls.first_kept());
    std::uint64_t firstDirty = UINT64_MAX;
    while (m_pollsDone < lane.polls.size()) {
        const analysis::poll_span& p = lane.polls[m_pollsDone];
        if (p.end_ns == analysis::open_end) {
            break; // still running: the view draws it up to now, the summary waits
        }
        firstDirty = std::min<std::uint64_t>(
            firstDirty, (std::max(p.begin_ns, m_origin) - m_origin) / baseBucketNs);
        addPoll(p);
        ++m_pollsDone;
    }
    if (firstDirty != UINT64_MAX) {
        rebuildAbove(firstDirty);
    }
}

void LaneSummary::forgetBefore(std::uint64_t cutNs) {
    if (cutNs <= m_origin) {
        return;
    }
    const std::uint64_t since = cutNs - m_origin;
    for (std::size_t l = 0; l < m_levels.size(); ++l) {
        const std::uint64_t width = baseBucketNs << l;
        Level& level = m_levels[l];
        while (!level.empty() && (level.front().index + 1) * width <= since) {
            level.pop_front();
        }
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
        const Level& level = m_levels[l];
        const double origin = static_cast<double>(m_origin);
        const auto first = static_cast<std::uint64_t>(std::max(0.0, (viewStart - origin) / width));
        ColumnFold fold;
        auto it = std::partition_point(level.begin(), level.end(),
                                       [first](const Bucket& b) { return b.index < first; });
        for (; it != level.end(); ++it) {
            const Bucket& bucket = *it;
            const double t = origin + static_cast<double>(bucket.index) * width;
            if (t >= viewEnd) {
                break;
            }
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
