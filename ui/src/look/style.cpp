#include "look/style.hpp"

#include <array>
#include <cmath>

namespace taskscope::ui {

namespace {

// Tableau 10 less its red, which blocking and the p99 line keep: distinct on light and dark
// backgrounds.
constexpr std::array<QRgb, 9> categorical{0x4e79a7, 0xf28e2b, 0x59a14f, 0xb07aa1, 0x76b7b2,
                                          0xedc948, 0x9c755f, 0xff9da7, 0xbab0ac};
constexpr QRgb red = 0xd62728;

} // namespace

QColor Style::taskColor(std::uint64_t taskId) {
    // Golden-ratio hues: neighbouring ids get clearly different colours, always the same.
    const double hue = std::fmod(static_cast<double>(taskId) * 0.618033988749895, 1.0);
    return QColor::fromHslF(static_cast<float>(hue), 0.55f, 0.55f);
}

QColor Style::blockedColor() {
    return QColor::fromRgb(red);
}

QColor Style::wakeColor(const QPalette& palette) {
    const bool dark = palette.color(QPalette::Base).lightness() < 128;
    return dark ? QColor(0x99, 0x99, 0xff) : QColor(0x33, 0x33, 0x99);
}

QColor Style::stealColor() {
    return QColor::fromRgb(0xff7f0e);
}

QColor Style::timerColor() {
    return QColor::fromRgb(0x1f77b4);
}

QColor Style::socketColor() {
    return QColor::fromRgb(0x2ca02c);
}

QColor Style::blockingJobColor() {
    return QColor::fromRgb(0x8c564b);
}

QColor Style::workerColor(std::size_t index) {
    return QColor::fromRgb(categorical[index % categorical.size()]);
}

QColor Style::routeColor(std::size_t routeIndex) {
    return QColor::fromRgb(categorical[routeIndex % categorical.size()]);
}

QColor Style::histogramColor() {
    return QColor::fromRgb(categorical[0]);
}

QColor Style::p99Color() {
    return QColor::fromRgb(red);
}

QColor Style::lintColor(analysis::lint_kind kind) {
    switch (kind) {
    case analysis::lint_kind::blocked_worker:
        return blockedColor();
    case analysis::lint_kind::long_poll:
        return QColor::fromRgb(0xf57c00); // orange
    case analysis::lint_kind::busy_polling:
        return QColor::fromRgb(0x7b1fa2); // purple
    case analysis::lint_kind::lock_held_across_await:
        return QColor::fromRgb(0xc2185b); // pink
    case analysis::lint_kind::long_resource_wait:
        return QColor::fromRgb(0x00838f); // teal
    case analysis::lint_kind::channel_full:
        return QColor::fromRgb(0x5d4037); // brown
    case analysis::lint_kind::lagged_receiver:
        return QColor::fromRgb(0x9e9d24); // olive
    }
    return QColor(Qt::gray);
}

QColor Style::resourceDepthColor(const QPalette& palette) {
    const bool dark = palette.color(QPalette::Base).lightness() < 128;
    return dark ? QColor::fromRgb(0x6d7fb0) : QColor::fromRgb(0x9aaad6);
}

QColor Style::resourceFullColor() {
    return QColor::fromRgb(0xe8590c); // deep orange: alarming, yet not blocking's red
}

QColor Style::resourceWaitersColor() {
    return lintColor(analysis::lint_kind::long_resource_wait);
}

QColor Style::heldAcrossAwaitColor() {
    return lintColor(analysis::lint_kind::lock_held_across_await);
}

QColor Style::resourceHolderColor() {
    return QColor::fromRgb(0xd500f9); // vivid magenta: task hues are muted
}

QColor Style::resourceWaiterColor() {
    return QColor::fromRgb(0x00b8d4); // saturated cyan, the waiting band's family
}

QColor Style::selectionColor(const QPalette& palette) {
    return palette.color(QPalette::Text);
}

QColor Style::textOn(const QColor& fill) {
    return fill.lightness() > 140 ? QColor(Qt::black) : QColor(Qt::white);
}

} // namespace taskscope::ui
