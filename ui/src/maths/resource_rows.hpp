#pragma once
// What a resource row of the timeline draws, per pixel column, in time proportional to the
// pixels and not to the events: a mutex's holds (a binary search jumps past everything that
// would fall into a pixel already drawn), and the per-column highest level of a depth series
// (a channel's queued messages, a semaphore's permits, the tasks waiting).

#include "maths/time_scale.hpp"
#include "taskscope/analysis/resources.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace taskscope::ui {

/// One rectangle of a mutex's row: a hold, in whole pixels [x0, x1).
struct HoldItem {
    double x0 = 0;
    double x1 = 0;
    std::uint64_t task = 0;   ///< the holder's id: the colour
    std::size_t hold = 0;     ///< its index in resource_info::holds
    bool acrossAwait = false; ///< the holder suspended while holding it
    bool folded = false;      ///< other, shorter holds share its last pixel column
};

/// The holds of `holds` (in begin order, not overlapping: a mutex's) that meet the visible
/// range of `scale`, left to right, at most one per pixel column: after drawing a hold up to
/// pixel x1 the next one drawn is the first that begins at or after that pixel (or the one
/// still held there). A hold still open is drawn to `lastNs`.
void holdDrawList(const analysis::column<analysis::hold_span>& holds, const TimeScale& scale,
                  std::uint64_t lastNs, std::vector<HoldItem>& out);

/// The holder of `holds` (as holdDrawList takes them) at `ns`, or nullptr.
[[nodiscard]] const analysis::hold_span* holdAt(const analysis::column<analysis::hold_span>& holds,
                                                double ns, std::uint64_t lastNs);

/// The level of a step series at `ns`: the depth of its last point at or before `ns` (0
/// before the first).
[[nodiscard]] std::uint32_t levelAt(const analysis::column<analysis::depth_point>& series,
                                    double ns);

/// Per pixel column of `scale` (out.size() == columns), the highest level the step series
/// reaches in it: the level carried in from the left and every point inside. `indices` are
/// the points to read, in time order: all of those in view, or a decimator's picks standing
/// for them (the lowest and highest of each block). Columns after `lastNs` stay 0.
void columnMaxima(const analysis::column<analysis::depth_point>& series,
                  std::span<const std::size_t> indices, const TimeScale& scale, int columns,
                  std::uint64_t lastNs, std::vector<std::uint32_t>& out);

} // namespace taskscope::ui
