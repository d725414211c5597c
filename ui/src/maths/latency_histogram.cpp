#include "maths/latency_histogram.hpp"

#include "taskscope/analysis/model.hpp"

#include <algorithm>
#include <cmath>

namespace taskscope::ui {

LatencyHistogram::Spacing LatencyHistogram::spacingFor(std::uint64_t minNs,
                                                       std::uint64_t maxNs) noexcept {
    return minNs > 0 && maxNs / minNs >= 10 ? Spacing::logarithmic : Spacing::linear;
}

std::vector<std::uint64_t> LatencyHistogram::edges(std::uint64_t minNs, std::uint64_t maxNs,
                                                   int buckets, Spacing spacing) {
    // One below the largest value, so the exclusive end does not wrap.
    const std::uint64_t hi = std::min(std::max(minNs, maxNs), UINT64_MAX - 1);
    const std::uint64_t lo = std::min(minNs, hi);
    const std::uint64_t end = hi + 1;
    const std::uint64_t n =
        std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max(buckets, 1)), end - lo);
    const double count = static_cast<double>(n);
    const double base = static_cast<double>(std::max<std::uint64_t>(lo, 1));
    const double ratio = static_cast<double>(end) / base;

    std::vector<std::uint64_t> out(n + 1);
    out.front() = lo;
    out.back() = end;
    for (std::uint64_t i = 1; i < n; ++i) {
        const double share = static_cast<double>(i) / count;
        const double edge = spacing == Spacing::logarithmic
                                ? base * std::pow(ratio, share)
                                : static_cast<double>(lo) + static_cast<double>(end - lo) * share;
        // Rounding may leave two edges equal where buckets are a few ns wide: keep every
        // bucket at least 1 ns and leave room for the ones after it.
        const auto rounded = static_cast<std::uint64_t>(std::llround(edge));
        out[i] = std::clamp(rounded, out[i - 1] + 1, end - (n - i));
    }
    return out;
}

std::vector<LatencyHistogram::Bucket>
LatencyHistogram::build(std::span<const std::uint64_t> sortedNs, int buckets) {
    if (sortedNs.empty()) {
        return {};
    }
    return build(sortedNs, buckets, spacingFor(sortedNs.front(), sortedNs.back()));
}

std::vector<LatencyHistogram::Bucket>
LatencyHistogram::build(std::span<const std::uint64_t> sortedNs, int buckets, Spacing spacing) {
    if (sortedNs.empty()) {
        return {};
    }
    const std::vector<std::uint64_t> e = edges(sortedNs.front(), sortedNs.back(), buckets, spacing);
    std::vector<Bucket> out;
    out.reserve(e.size() - 1);
    auto from = sortedNs.begin();
    for (std::size_t i = 0; i + 1 < e.size(); ++i) {
        const auto to = std::lower_bound(from, sortedNs.end(), e[i + 1]);
        out.push_back({e[i], e[i + 1], static_cast<std::uint64_t>(to - from)});
        from = to;
    }
    return out;
}

std::string LatencyHistogram::edgeLabel(std::uint64_t ns) {
    const double v = static_cast<double>(ns);
    const double inUnit = ns >= 1'000'000'000 ? v / 1e9 : ns >= 1'000'000 ? v / 1e6 : v / 1e3;
    // 9.95 and up would round to "10.0": no decimal from there.
    return analysis::format_duration(ns, inUnit < 9.95 ? 1 : 0);
}

} // namespace taskscope::ui
