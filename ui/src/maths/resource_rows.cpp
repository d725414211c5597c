#include "maths/resource_rows.hpp"

#include <algorithm>
#include <cmath>

namespace taskscope::ui {

namespace {

double endOf(const analysis::hold_span& h, std::uint64_t lastNs) {
    return static_cast<double>(
        h.end_ns == analysis::resource_open_end ? std::max(lastNs, h.begin_ns) : h.end_ns);
}

} // namespace

void holdDrawList(const analysis::column<analysis::hold_span>& holds, const TimeScale& scale,
                  std::uint64_t lastNs, std::vector<HoldItem>& out) {
    out.clear();
    const double start = scale.startNs();
    const double end = scale.endNs();
    // A mutex's holds do not overlap, so their ends are in order too (an open one is last).
    auto it = std::partition_point(holds.begin(), holds.end(), [&](const analysis::hold_span& h) {
        return endOf(h, lastNs) < start;
    });
    double drawnTo = -1.0; // pixels [.., drawnTo) are drawn
    while (it != holds.end()) {
        const analysis::hold_span& h = *it;
        if (static_cast<double>(h.begin_ns) > end) {
            break;
        }
        const double x0 = std::max(std::floor(scale.xOf(static_cast<double>(h.begin_ns))), drawnTo);
        const double x1 = std::max(x0 + 1.0, std::ceil(scale.xOf(endOf(h, lastNs))));
        out.push_back({.x0 = x0,
                       .x1 = std::min(x1, scale.width() + 1.0),
                       .task = h.task,
                       .hold = it.index(),
                       .acrossAwait = h.across_await,
                       .folded = false});
        if (x1 > scale.width()) {
            break;
        }
        drawnTo = x1;
        // The holds beginning inside pixels already drawn are folded into them, except the
        // last of them when it is still held at pixel x1: the rest of it is drawn next.
        const double next = scale.nsAt(x1);
        auto after = std::partition_point(it + 1, holds.end(), [&](const analysis::hold_span& n) {
            return static_cast<double>(n.begin_ns) < next;
        });
        if (after - it > 1 && endOf(*(after - 1), lastNs) > next) {
            --after;
        }
        out.back().folded = after - it > 1;
        it = after;
    }
}

const analysis::hold_span* holdAt(const analysis::column<analysis::hold_span>& holds, double ns,
                                  std::uint64_t lastNs) {
    const auto it = std::partition_point(holds.begin(), holds.end(), [&](const auto& h) {
        return static_cast<double>(h.begin_ns) <= ns;
    });
    if (it == holds.begin()) {
        return nullptr;
    }
    const analysis::hold_span& h = *(it - 1);
    return endOf(h, lastNs) > ns ? &h : nullptr;
}

std::uint32_t levelAt(const analysis::column<analysis::depth_point>& series, double ns) {
    const auto it = std::partition_point(series.begin(), series.end(), [&](const auto& p) {
        return static_cast<double>(p.time_ns) <= ns;
    });
    return it == series.begin() ? 0 : (it - 1)->depth;
}

void columnMaxima(const analysis::column<analysis::depth_point>& series,
                  std::span<const std::size_t> indices, const TimeScale& scale, int columns,
                  std::uint64_t lastNs, std::vector<std::uint32_t>& out) {
    out.assign(static_cast<std::size_t>(std::max(columns, 0)), 0);
    if (columns <= 0) {
        return;
    }
    // Nothing is known after the trace's end: those columns stay empty.
    const double lastX = std::ceil(scale.xOf(static_cast<double>(lastNs)));
    const auto endColumn = static_cast<long>(std::clamp(lastX, 0.0, static_cast<double>(columns)));
    std::uint32_t level = 0; // before the first point: nothing queued, nobody waiting
    long filled = 0;         // columns [0, filled) have seen the level carried into them
    for (const std::size_t i : indices) {
        if (i >= series.size()) {
            continue;
        }
        const analysis::depth_point& p = series[i];
        const double x = std::floor(scale.xOf(static_cast<double>(p.time_ns)));
        if (x >= static_cast<double>(endColumn)) {
            break;
        }
        const long column = x < 0 ? -1 : static_cast<long>(x);
        // The level before p holds up to p, so also at the left edge of p's column.
        for (; filled <= column; ++filled) {
            auto& c = out[static_cast<std::size_t>(filled)];
            c = std::max(c, level);
        }
        level = p.depth;
        if (column >= 0) {
            auto& c = out[static_cast<std::size_t>(column)];
            c = std::max(c, level);
        }
    }
    for (; filled < endColumn; ++filled) {
        auto& c = out[static_cast<std::size_t>(filled)];
        c = std::max(c, level);
    }
}

} // namespace taskscope::ui
