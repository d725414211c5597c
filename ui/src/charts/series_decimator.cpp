#include "charts/series_decimator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <ranges>

namespace taskscope::ui {

namespace {

/// The first point of `series` at or after `ns`.
std::size_t firstAtOrAfter(const SeriesDecimator::Series& series, double ns) {
    const auto it = std::lower_bound(series.begin(), series.end(), ns,
                                     [](const analysis::depth_point& p, double t) {
                                         return static_cast<double>(p.time_ns) < t;
                                     });
    return it.index();
}

/// One pixel column's first, lowest, highest and last point.
struct ColumnExtremes {
    long column = -1;
    std::size_t first = 0;
    std::size_t lowest = 0;
    std::size_t highest = 0;
    std::size_t last = 0;

    void flush(std::vector<std::size_t>& out) {
        if (column < 0) {
            return;
        }
        std::array<std::size_t, 4> keep{first, lowest, highest, last};
        std::sort(keep.begin(), keep.end());
        const auto end = std::unique(keep.begin(), keep.end());
        out.insert(out.end(), keep.begin(), end);
        column = -1;
    }
};

/// Per pixel column, the first, lowest, highest and last of `indices` (in time order).
template <typename Indices>
std::vector<std::size_t> keepExtremes(const SeriesDecimator::Series& series, const Indices& indices,
                                      double startNs, double endNs, int columns) {
    std::vector<std::size_t> out;
    const long lastColumn = std::max(columns, 1) - 1;
    const double span = std::max(endNs - startNs, 1.0);
    const double perNs = static_cast<double>(lastColumn + 1) / span;
    ColumnExtremes current;
    for (const std::size_t i : indices) {
        if (i >= series.size()) {
            continue;
        }
        const analysis::depth_point& p = series[i];
        const double x = std::floor((static_cast<double>(p.time_ns) - startNs) * perNs);
        const auto column = static_cast<long>(std::clamp(x, 0.0, static_cast<double>(lastColumn)));
        if (column != current.column) {
            current.flush(out);
            current = {column, i, i, i, i};
            continue;
        }
        if (p.depth < series[current.lowest].depth) {
            current.lowest = i;
        }
        if (p.depth > series[current.highest].depth) {
            current.highest = i;
        }
        current.last = i;
    }
    current.flush(out);
    return out;
}

} // namespace

SeriesDecimator::IndexRange SeriesDecimator::visibleRange(const Series& series, double startNs,
                                                          double endNs) {
    const std::size_t inside = firstAtOrAfter(series, startNs);
    const std::size_t after = firstAtOrAfter(series, std::max(startNs, endNs));
    return {inside > series.first_kept() ? inside - 1 : inside, std::min(after + 1, series.size())};
}

std::vector<std::size_t> SeriesDecimator::decimate(const Series& series, IndexRange range,
                                                   double startNs, double endNs, int columns) {
    return keepExtremes(series, std::views::iota(range.first, std::min(range.last, series.size())),
                        startNs, endNs, columns);
}

std::vector<std::size_t>
SeriesDecimator::decimateCandidates(const Series& series,
                                    const std::vector<std::size_t>& candidates, double startNs,
                                    double endNs, int columns) {
    return keepExtremes(series, candidates, startNs, endNs, columns);
}

void DepthSummary::update(const SeriesDecimator::Series& series) {
    if (m_levels.empty()) {
        m_base = series.first_kept(); // blocks count from the first point kept
    }
    const std::size_t end = series.size() > lateWindow ? series.size() - lateWindow : 0;
    const std::size_t final = end > m_base ? end - m_base : 0; // relative to m_base
    if (final < baseBlock) {
        return;
    }
    if (m_levels.empty()) {
        m_levels.emplace_back();
    }
    // The blocks above that each new pair completes, at once: a block reads its halves'
    // extremes from the series while they are still in the cache (level by level, every
    // level above the first read millions of points from all over the series again).
    const auto completeAbove = [&] {
        for (std::size_t level = 1;; ++level) {
            if (m_levels[level - 1].size() < 2) {
                return;
            }
            if (m_levels.size() <= level) {
                m_levels.emplace_back(); // (may move the levels: take references after this)
            }
            const std::vector<Extremes>& below = m_levels[level - 1];
            std::vector<Extremes>& blocks = m_levels[level];
            if (below.size() < 2 * (blocks.size() + 1)) {
                return; // nothing new here, so nothing new above
            }
            const std::size_t half = baseBlock << (level - 1);
            while (below.size() >= 2 * (blocks.size() + 1)) {
                // From the two halves one level down.
                const std::size_t b = blocks.size();
                const Extremes& left = below[2 * b];
                const Extremes& right = below[2 * b + 1];
                const std::size_t from = m_base + b * 2 * half;
                const auto depth = [&](std::size_t offset) { return series[from + offset].depth; };
                Extremes e{};
                e.lowest = depth(right.lowest + half) < depth(left.lowest)
                               ? right.lowest + static_cast<std::uint32_t>(half)
                               : left.lowest;
                e.highest = depth(right.highest + half) > depth(left.highest)
                                ? right.highest + static_cast<std::uint32_t>(half)
                                : left.highest;
                blocks.push_back(e);
            }
        }
    };
    completeAbove();
    for (std::size_t b = m_levels[0].size(); (b + 1) * baseBlock <= final; ++b) {
        Extremes e{};
        const std::size_t from = m_base + b * baseBlock;
        for (std::size_t i = 1; i < baseBlock; ++i) {
            if (series[from + i].depth < series[from + e.lowest].depth) {
                e.lowest = static_cast<std::uint32_t>(i);
            }
            if (series[from + i].depth > series[from + e.highest].depth) {
                e.highest = static_cast<std::uint32_t>(i);
            }
        }
        m_levels[0].push_back(e);
        if (b % 2 == 1) {
            completeAbove();
        }
    }
}

void DepthSummary::candidates(const SeriesDecimator::Series& series, std::size_t first,
                              std::size_t last, std::size_t blockPoints,
                              std::vector<std::size_t>& out) const {
    std::size_t i = first;
    while (i < last) {
        // The largest summarised block that starts here, fits, and is small enough.
        std::size_t level = i >= m_base ? m_levels.size() : 0;
        while (level > 0) {
            const std::size_t size = baseBlock << (level - 1);
            const std::size_t block = (i - m_base) / size;
            if (size <= blockPoints && (i - m_base) % size == 0 && i + size <= last &&
                block < m_levels[level - 1].size()) {
                break;
            }
            --level;
        }
        if (level == 0) {
            out.push_back(i++);
            continue;
        }
        const std::size_t size = baseBlock << (level - 1);
        const Extremes& e = m_levels[level - 1][(i - m_base) / size];
        std::array<std::size_t, 4> keep{i, i + e.lowest, i + e.highest, i + size - 1};
        std::sort(keep.begin(), keep.end());
        out.insert(out.end(), keep.begin(), std::unique(keep.begin(), keep.end()));
        i += size;
    }
    (void)series;
}

void SeriesDecimator::stepTo(QList<QPointF>& line, double x, double y) {
    if (!line.isEmpty() && line.back().y() != y) {
        line.append(QPointF(x, line.back().y()));
    }
    line.append(QPointF(x, y));
}

void SeriesDecimator::appendSteps(const Series& series, IndexRange range, std::uint64_t originNs,
                                  QList<QPointF>& line) {
    for (std::size_t i = range.first; i < std::min(range.last, series.size()); ++i) {
        stepTo(line, toMs(static_cast<double>(series[i].time_ns), originNs),
               static_cast<double>(series[i].depth));
    }
}

void SeriesDecimator::appendPoints(const Series& series, std::span<const std::size_t> indices,
                                   std::uint64_t originNs, QList<QPointF>& line) {
    for (const std::size_t i : indices) {
        if (i < series.size()) {
            line.append(QPointF(toMs(static_cast<double>(series[i].time_ns), originNs),
                                static_cast<double>(series[i].depth)));
        }
    }
}

} // namespace taskscope::ui
