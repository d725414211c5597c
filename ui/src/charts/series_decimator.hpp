#pragma once
// What a queue-depth chart draws of a series that may hold millions of points: the points
// that matter for the visible time range, at most a few per pixel column, shaped as steps
// (a queue keeps its depth until the next change). Plain code, so it is unit-tested; the
// chart only hands the result to Qt Charts.

#include "taskscope/analysis/model.hpp"

#include <QList>
#include <QPointF>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace taskscope::ui {

class SeriesDecimator {
public:
    using Series = analysis::column<analysis::depth_point>;

    /// A series is decimated when it has more points in view than this many per column (the
    /// charts use columns two pixels wide).
    static constexpr int pointsPerPixel = 4;

    /// Points [first, last) of a series.
    struct IndexRange {
        std::size_t first = 0;
        std::size_t last = 0;
        [[nodiscard]] std::size_t size() const noexcept { return last - first; }
        friend bool operator==(const IndexRange&, const IndexRange&) = default;
    };

    /// The points of `series` (ordered by time) that [startNs, endNs) needs: the ones inside,
    /// the last one before (the depth at the left edge) and the first one after.
    [[nodiscard]] static IndexRange visibleRange(const Series& series, double startNs,
                                                 double endNs);

    /// The points of `range` worth drawing when [startNs, endNs) spans `columns` pixel columns:
    /// per column its first, lowest, highest and last point, each once, in time order. The
    /// lowest and highest keep every spike; the first and last keep the level right where a
    /// column meets its neighbours. Points outside the range count to the nearest column.
    [[nodiscard]] static std::vector<std::size_t>
    decimate(const Series& series, IndexRange range, double startNs, double endNs, int columns);
    /// The same, choosing among `candidates` (indices in time order) instead of every point.
    [[nodiscard]] static std::vector<std::size_t>
    decimateCandidates(const Series& series, const std::vector<std::size_t>& candidates,
                       double startNs, double endNs, int columns);

    /// Extends a step line to (x, y): along the line's last level to x, then up or down to y.
    static void stepTo(QList<QPointF>& line, double x, double y);
    /// Extends `line` with the points of `range`, x in ms since `originNs`.
    static void appendSteps(const Series& series, IndexRange range, std::uint64_t originNs,
                            QList<QPointF>& line);
    /// Extends `line` with the points `indices` of `series` as they are, without steps: for
    /// decimated points, a few a pixel column, where a step's flat part is narrower than a
    /// pixel anyway (and doubling the points doubles what Qt Charts lays out).
    static void appendPoints(const Series& series, std::span<const std::size_t> indices,
                             std::uint64_t originNs, QList<QPointF>& line);

    /// Milliseconds since `originNs`: the charts' time axis.
    [[nodiscard]] static double toMs(double ns, std::uint64_t originNs) noexcept {
        return (ns - static_cast<double>(originNs)) / 1e6;
    }
};

/// A depth series' lowest and highest point per block, on levels of blocks of 32, 64, 128
/// ... points, so a view of millions of points reads a few per pixel column instead of all
/// of them: each block stands for its first, lowest, highest and last point, which are the
/// ones SeriesDecimator::decimate keeps anyway. Kept for blocks that can no longer change
/// (a late point is inserted at most 256 places from the end), extended as the series grows.
class DepthSummary {
public:
    static constexpr std::size_t baseBlock = 32;
    /// A late point is inserted at most this far from the end (analysis::add_depth_point).
    static constexpr std::size_t lateWindow = analysis::late_window;

    void reset() noexcept { m_levels.clear(); }
    /// Summarises the blocks of `series` that became final since the last call.
    void update(const SeriesDecimator::Series& series);
    /// Indices of points standing for range [first, last) of `series`, in time order: whole
    /// blocks of at most `blockPoints` points by their first, lowest, highest and last point,
    /// the rest point by point.
    void candidates(const SeriesDecimator::Series& series, std::size_t first, std::size_t last,
                    std::size_t blockPoints, std::vector<std::size_t>& out) const;

private:
    struct Extremes {
        std::uint32_t lowest; ///< offsets in the block
        std::uint32_t highest;
    };
    std::vector<std::vector<Extremes>> m_levels; ///< m_levels[l][b]: block b of baseBlock << l
    std::size_t m_base = 0; ///< the series index block 0 starts at (its first kept point)
};

} // namespace taskscope::ui
