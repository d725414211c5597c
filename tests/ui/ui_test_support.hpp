#pragma once
// Shared by the window tests: let the event loop run until something holds; what a chart
// counts.

#include "charts/latency_chart.hpp"
#include "widgets/main_window.hpp"

#include <QApplication>
#include <QSignalSpy>
#include <chrono>
#include <filesystem>
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

/// A sample trace of tests/data.
inline std::filesystem::path testData(const char* name) {
    return std::filesystem::path(TASKSCOPE_TEST_DATA) / name;
}

/// Opens `file` in `window` as File > Open does and waits for the load: whether it opened.
inline bool openAndWait(MainWindow& window, const std::filesystem::path& file) {
    QSignalSpy opened(&window, &MainWindow::fileOpened);
    window.openFile(QString::fromStdString(file.string()));
    return runUntil([&] { return opened.count() == 1; }) && opened.front().front().toBool();
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
