#include "series_decimator.hpp"

#include <algorithm>
#include <array>
#include <cmath>

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

} // namespace

SeriesDecimator::IndexRange SeriesDecimator::visibleRange(const Series& series, double startNs,
                                                          double endNs) {
    const std::size_t inside = firstAtOrAfter(series, startNs);
    const std::size_t after = firstAtOrAfter(series, std::max(startNs, endNs));
    return {inside > 0 ? inside - 1 : 0, std::min(after + 1, series.size())};
}

std::vector<std::size_t> SeriesDecimator::decimate(const Series& series, IndexRange range,
                                                   double startNs, double endNs, int columns) {
    std::vector<std::size_t> out;
    const long lastColumn = std::max(columns, 1) - 1;
    const double span = std::max(endNs - startNs, 1.0);
    const double perNs = static_cast<double>(lastColumn + 1) / span;
    ColumnExtremes current;
    for (std::size_t i = range.first; i < std::min(range.last, series.size()); ++i) {
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

void SeriesDecimator::appendSteps(const Series& series, std::span<const std::size_t> indices,
                                  std::uint64_t originNs, QList<QPointF>& line) {
    for (const std::size_t i : indices) {
        if (i < series.size()) {
            stepTo(line, toMs(static_cast<double>(series[i].time_ns), originNs),
                   static_cast<double>(series[i].depth));
        }
    }
}

} // namespace taskscope::ui
