#pragma once
// Where the charts put their axis ticks: at round values (1, 2 or 5 times a power of ten),
// and on whole numbers for counts. Plain code, so it is unit-tested.

namespace taskscope::ui {

class AxisTicks {
public:
    /// The smallest step of 1, 2 or 5 times a power of ten that cuts `span` into at most
    /// `ticks` intervals (1 for an empty span).
    [[nodiscard]] static double niceStep(double span, int ticks) noexcept;
    /// niceStep for counts: at least 1, so every tick is a whole number.
    [[nodiscard]] static double integerStep(double top, int ticks) noexcept;
    /// The first multiple of `step` above `top`: a count axis's end, leaving room over the
    /// highest value.
    [[nodiscard]] static double topAbove(double top, double step) noexcept;
    /// Digits after the point that multiples of `step` need (0 for 1, 1 for 0.5, ...).
    [[nodiscard]] static int decimals(double step) noexcept;
};

} // namespace taskscope::ui
