#pragma once
// The latency histogram's buckets: plain code, so the bucketing is unit-tested and the
// chart only draws the counts.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace taskscope::ui {

class LatencyHistogram {
public:
    static constexpr int defaultBuckets = 20;

    /// Latencies in [fromNs, toNs).
    struct Bucket {
        std::uint64_t fromNs = 0;
        std::uint64_t toNs = 0;
        std::uint64_t count = 0;
        friend bool operator==(const Bucket&, const Bucket&) = default;
    };

    enum class Spacing { linear, logarithmic };

    /// Logarithmic when the largest latency is at least ten times the smallest (a tail many
    /// times the median is what a latency histogram must show), otherwise linear.
    [[nodiscard]] static Spacing spacingFor(std::uint64_t minNs, std::uint64_t maxNs) noexcept;

    /// Bucket edges covering [minNs, maxNs]: `buckets` + 1 strictly increasing values from
    /// minNs to maxNs + 1, fewer when the range holds fewer than `buckets` nanoseconds.
    [[nodiscard]] static std::vector<std::uint64_t> edges(std::uint64_t minNs, std::uint64_t maxNs,
                                                          int buckets, Spacing spacing);

    /// Counts `sortedNs` (ascending) into buckets from its smallest to its largest value,
    /// spaced by spacingFor(); empty for no latencies.
    [[nodiscard]] static std::vector<Bucket> build(std::span<const std::uint64_t> sortedNs,
                                                   int buckets = defaultBuckets);
    [[nodiscard]] static std::vector<Bucket> build(std::span<const std::uint64_t> sortedNs,
                                                   int buckets, Spacing spacing);

    /// A bucket edge short enough for an axis: "2.5 ms", "16 ms", "120 us", "1.2 s" (a
    /// decimal only below ten of the unit).
    [[nodiscard]] static std::string edgeLabel(std::uint64_t ns);
};

} // namespace taskscope::ui
