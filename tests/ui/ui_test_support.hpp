#pragma once
// Shared by the window tests: let the event loop run until something holds; what a chart
// counts.

#include "charts/latency_chart.hpp"

#include <QApplication>
#include <chrono>
#include <functional>
#include <thread>

namespace taskscope::ui::testing {

/// Lets the window run until `done` holds; false after `limit` (a bound, not a measurement).
inline bool runUntil(const std::function<bool()>& done,
                     std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > give_up) {
            return false;
        }
        QApplication::processEvents(QEventLoop::AllEvents, 20);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    QApplication::processEvents();
    return true;
}

/// The requests the latency histogram counts, over all its buckets.
inline std::uint64_t histogramTotal(const LatencyChart& chart) {
    std::uint64_t total = 0;
    for (const auto& bucket : chart.histogram()) {
        total += bucket.count;
    }
    return total;
}

} // namespace taskscope::ui::testing
