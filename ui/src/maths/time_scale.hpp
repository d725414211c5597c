#pragma once
// The visible stretch of a trace and how it maps onto pixels: one object shared by the
// timeline, the queue-depth chart and the latency chart, so every view shows the same time.

#include <cstdint>

namespace taskscope::ui {

class TimeScale {
public:
    /// The narrowest visible span: below a microsecond there is nothing left to separate.
    static constexpr double minimumSpanNs = 1000.0;

    /// Width of the drawing area in pixels.
    void setWidth(double pixels);
    [[nodiscard]] double width() const noexcept { return m_width; }

    /// The trace's extent: zoom and pan stay within it (with a little room either side).
    void setBounds(std::uint64_t firstNs, std::uint64_t lastNs);
    [[nodiscard]] std::uint64_t firstNs() const noexcept { return m_first; }
    [[nodiscard]] std::uint64_t lastNs() const noexcept { return m_last; }

    /// Shows [startNs, endNs) (clamped to the bounds); stops following.
    void setVisible(double startNs, double endNs);
    /// Shows the whole trace.
    void showAll();
    [[nodiscard]] double startNs() const noexcept { return m_start; }
    [[nodiscard]] double endNs() const noexcept { return m_start + m_span; }
    [[nodiscard]] double spanNs() const noexcept { return m_span; }
    [[nodiscard]] double nsPerPixel() const noexcept { return m_span / m_width; }

    [[nodiscard]] double xOf(double ns) const noexcept { return (ns - m_start) / nsPerPixel(); }
    [[nodiscard]] double nsAt(double x) const noexcept { return m_start + x * nsPerPixel(); }

    /// Zooms by `factor` (< 1 in, > 1 out) keeping the time under pixel `anchorX` in place.
    void zoom(double factor, double anchorX);
    /// Moves the view by `pixels` (positive: later). Moving back into the past stops
    /// following the live end.
    void pan(double pixels);

    /// Follow-live: the view keeps its span and slides so its end is the trace's end.
    void setFollowing(bool on);
    /// Follows the live end showing `spanNs` (even before the trace is that long).
    void followLive(double spanNs);
    [[nodiscard]] bool following() const noexcept { return m_following; }

private:
    void clamp();

    double m_width = 1000.0;
    std::uint64_t m_first = 0;
    std::uint64_t m_last = 1'000'000;
    double m_start = 0.0;
    double m_span = 1'000'000.0;
    bool m_following = false;
};

} // namespace taskscope::ui
