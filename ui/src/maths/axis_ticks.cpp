#include "maths/axis_ticks.hpp"

#include <algorithm>
#include <cmath>

namespace taskscope::ui {

double AxisTicks::niceStep(double span, int ticks) noexcept {
    const double rough = span / static_cast<double>(std::max(ticks, 1));
    if (!(rough > 0.0) || !std::isfinite(rough)) {
        return 1.0;
    }
    const double power = std::pow(10.0, std::floor(std::log10(rough)));
    const double m = rough / power;
    // 1e-9: a rough step a rounding error above a round one stays round.
    const double mantissa = m <= 1.0 + 1e-9   ? 1.0
                            : m <= 2.0 + 1e-9 ? 2.0
                            : m <= 5.0 + 1e-9 ? 5.0
                                              : 10.0;
    return mantissa * power;
}

double AxisTicks::integerStep(double top, int ticks) noexcept {
    return std::max(1.0, niceStep(top, ticks));
}

double AxisTicks::topAbove(double top, double step) noexcept {
    const double s = step > 0.0 ? step : 1.0;
    return s * (std::floor(std::max(top, 0.0) / s) + 1.0);
}

int AxisTicks::decimals(double step) noexcept {
    if (!(step > 0.0) || !std::isfinite(step) || step >= 1.0) {
        return 0;
    }
    return std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 9);
}

} // namespace taskscope::ui
