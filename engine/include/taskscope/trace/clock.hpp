#pragma once
// The trace clock: raw ticks are cheap to read (the TSC where it is invariant) and are
// turned into nanoseconds only when the trace hub drains a buffer.

#include <cstdint>

namespace taskscope::trace {

/// How raw ticks map to nanoseconds on this machine, measured once per process.
struct clock_calibration {
    bool uses_tsc = false;          ///< false: ticks are steady_clock nanoseconds
    double ticks_per_ns = 1.0;      ///< measured against std::chrono::steady_clock
    std::uint64_t ref_ticks = 0;    ///< a tick value ...
    std::int64_t ref_steady_ns = 0; ///< ... and the steady_clock time it was read at
};

/// The process-wide calibration (computed on first use, about 2 ms).
[[nodiscard]] const clock_calibration& calibration() noexcept;

/// Reads the raw trace clock. No system call, no lock.
[[nodiscard]] inline std::uint64_t now_ticks() noexcept;

/// steady_clock nanoseconds (since its epoch) for a raw tick value.
[[nodiscard]] std::int64_t ticks_to_steady_ns(std::uint64_t ticks) noexcept;

/// steady_clock nanoseconds now, as `std::chrono::steady_clock` counts them.
[[nodiscard]] std::int64_t steady_now_ns() noexcept;

namespace detail {
bool tsc_usable() noexcept;
extern const bool g_use_tsc;
std::uint64_t steady_ticks() noexcept;
} // namespace detail

#if defined(__x86_64__) || defined(__i386__)
inline std::uint64_t now_ticks() noexcept {
    if (detail::g_use_tsc) {
        return __builtin_ia32_rdtsc();
    }
    return detail::steady_ticks();
}
#else
inline std::uint64_t now_ticks() noexcept {
    return detail::steady_ticks();
}
#endif

} // namespace taskscope::trace
