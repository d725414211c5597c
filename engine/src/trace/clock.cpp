#include "taskscope/trace/clock.hpp"

#include <chrono>
#include <fstream>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace taskscope::trace {
namespace detail {

bool tsc_usable() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    // CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every P/C-state.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) {
        return false;
    }
    __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
    if ((edx & (1u << 8)) != 0) {
        return true;
    }
    // Hypervisors often hide the bit; Linux then still reports a stable TSC clocksource.
    std::ifstream source("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string name;
    return static_cast<bool>(source >> name) && name == "tsc";
#else
    return false;
#endif
}

const bool g_use_tsc = tsc_usable();

std::uint64_t steady_ticks() noexcept {
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}
static_assert(std::is_same_v<std::chrono::steady_clock::duration, std::chrono::nanoseconds>);

} // namespace detail

std::int64_t steady_now_ns() noexcept {
    return std::chrono::steady_clock::now().time_since_epoch().count();
}

namespace {
clock_calibration calibrate() noexcept {
    clock_calibration c;
    c.uses_tsc = detail::g_use_tsc;
    if (!c.uses_tsc) {
        c.ref_ticks = detail::steady_ticks();
        c.ref_steady_ns = static_cast<std::int64_t>(c.ref_ticks);
        return c;
    }
    // Two (steady, ticks) pairs about 2 ms apart give the rate; each pair is read with the
    // TSC on both sides of the steady_clock call and the tighter bracket is kept.
    const auto sample = [](std::uint64_t& ticks, std::int64_t& ns) {
        std::uint64_t best = ~std::uint64_t{0};
        for (int i = 0; i < 5; ++i) {
            const std::uint64_t a = now_ticks();
            const std::int64_t s = steady_now_ns();
            const std::uint64_t b = now_ticks();
            if (b - a < best) {
                best = b - a;
                ticks = a + (b - a) / 2;
                ns = s;
            }
        }
    };
    std::uint64_t t0 = 0, t1 = 0;
    std::int64_t s0 = 0, s1 = 0;
    sample(t0, s0);
    do {
        sample(t1, s1);
    } while (s1 - s0 < 2'000'000);
    c.ticks_per_ns = static_cast<double>(t1 - t0) / static_cast<double>(s1 - s0);
    c.ref_ticks = t1;
    c.ref_steady_ns = s1;
    return c;
}
} // namespace

const clock_calibration& calibration() noexcept {
    static const clock_calibration c = calibrate();
    return c;
}

std::int64_t ticks_to_steady_ns(std::uint64_t ticks) noexcept {
    const clock_calibration& c = calibration();
    const auto delta = static_cast<double>(static_cast<std::int64_t>(ticks - c.ref_ticks));
    return c.ref_steady_ns + static_cast<std::int64_t>(delta / c.ticks_per_ns);
}

} // namespace taskscope::trace
