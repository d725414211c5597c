#include "style.hpp"

#include <array>

namespace taskscope::ui {

namespace {

// Tableau 10 less its red: distinct on light and dark backgrounds.
constexpr std::array<QRgb, 9> routeColours{0x4e79a7, 0xf28e2b, 0x59a14f, 0xb07aa1, 0x76b7b2,
                                           0xedc948, 0x9c755f, 0xff9da7, 0xbab0ac};

} // namespace

QColor Style::routeColor(std::size_t routeIndex) {
    return QColor::fromRgb(routeColours[routeIndex % routeColours.size()]);
}

QColor Style::p99Color() {
    return QColor::fromRgb(0xe15759);
}

} // namespace taskscope::ui
