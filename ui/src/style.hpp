#pragma once
// Every colour the views share, in one place, so a route, a worker or a finding has the
// same colour in the timeline, the charts and the legends.

#include <QColor>
#include <cstddef>

namespace taskscope::ui {

class Style {
public:
    /// The colour of route `routeIndex` (its place in analysis::model::routes()), in the
    /// requests lane, the latency scatter and its legend alike. Never red: the p99 line
    /// and blocking keep that.
    [[nodiscard]] static QColor routeColor(std::size_t routeIndex);
    /// The p99 line's red.
    [[nodiscard]] static QColor p99Color();
};

} // namespace taskscope::ui
