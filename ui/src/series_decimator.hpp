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

    /// A series is decimated when it has more points in view than this many per pixel column.
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

    /// Extends a step line to (x, y): along the line's last level to x, then up or down to y.
    static void stepTo(QList<QPointF>& line, double x, double y);
    /// Extends `line` with the points of `range`, x in ms since `originNs`.
    static void appendSteps(const Series& series, IndexRange range, std::uint64_t originNs,
                            QList<QPointF>& line);
    /// Extends `line` with the points `indices` of `series`.
    static void appendSteps(const Series& series, std::span<const std::size_t> indices,
                            std::uint64_t originNs, QList<QPointF>& line);

    /// Milliseconds since `originNs`: the charts' time axis.
    [[nodiscard]] static double toMs(double ns, std::uint64_t originNs) noexcept {
        return (ns - static_cast<double>(originNs)) / 1e6;
    }
};

} // namespace taskscope::ui
