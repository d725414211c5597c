#include "maths/time_scale.hpp"

#include <algorithm>
#include <cmath>

namespace taskscope::ui {

namespace {
// The view may run this share of its span past either end of the trace, so the first and
// last slices are not glued to the window's edges.
constexpr double margin = 0.05;
} // namespace

void TimeScale::setWidth(double pixels) {
    m_width = std::max(1.0, pixels);
}

void TimeScale::setBounds(std::uint64_t firstNs, std::uint64_t lastNs) {
    m_first = firstNs;
    m_last = std::max(lastNs, firstNs + 1);
    if (m_following) {
        m_start = static_cast<double>(m_last) - m_span * (1.0 - margin);
    }
    clamp();
}

void TimeScale::setVisible(double startNs, double endNs) {
    m_following = false;
    m_start = std::min(startNs, endNs);
    m_span = std::max(std::abs(endNs - startNs), minimumSpanNs);
    clamp();
}

void TimeScale::showAll() {
    const double extent = static_cast<double>(m_last - m_first);
    m_span = std::max(extent * (1.0 + 2 * margin), minimumSpanNs);
    m_start = static_cast<double>(m_first) - extent * margin;
    clamp();
}

void TimeScale::zoom(double factor, double anchorX) {
    if (!(factor > 0.0) || !std::isfinite(factor)) {
        return;
    }
    const double anchor = nsAt(anchorX);
    const double span = std::max(m_span * factor, minimumSpanNs);
    m_start = anchor - (anchor - m_start) * (span / m_span);
    m_span = span;
    clamp();
    if (m_following) {
        // Zooming keeps following only while the present stays the view's right end.
        m_start = static_cast<double>(m_last) - m_span * (1.0 - margin);
        clamp();
    }
}

void TimeScale::pan(double pixels) {
    if (pixels < 0.0) {
        m_following = false;
    }
    m_start += pixels * nsPerPixel();
    clamp();
}

void TimeScale::setFollowing(bool on) {
    m_following = on;
    if (on) {
        m_start = static_cast<double>(m_last) - m_span * (1.0 - margin);
        clamp();
    }
}

void TimeScale::followLive(double spanNs) {
    m_following = true;
    m_span = std::max(spanNs, minimumSpanNs);
    m_start = static_cast<double>(m_last) - m_span * (1.0 - margin);
    clamp();
}

void TimeScale::clamp() {
    const double extent = static_cast<double>(m_last - m_first);
    const double widest = std::max(extent * (1.0 + 2 * margin), minimumSpanNs);
    // Following a live run keeps the span the user chose even while the trace is shorter
    // (it fills from the left, then scrolls); otherwise zooming out stops at the whole trace.
    m_span =
        m_following ? std::max(m_span, minimumSpanNs) : std::clamp(m_span, minimumSpanNs, widest);
    const double lowest = static_cast<double>(m_first) - m_span * margin;
    const double highest = static_cast<double>(m_last) - m_span * (1.0 - margin);
    m_start = std::clamp(m_start, lowest, std::max(lowest, highest));
}

} // namespace taskscope::ui
