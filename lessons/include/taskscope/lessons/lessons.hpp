#pragma once
// Lessons: the classic async demonstrations, rebuilt on taskscope's engine. Each runs on
// the calling thread (which plays the program's main thread), phase after phase, and puts
// everything it does into the trace of one runtime, so a recording shows all its phases
// on the same lanes. `taskscope-cli lesson NAME` and the window's lesson picker run them.
//
//     lessons::run_options options;
//     options.scale = 0.05; // every duration times 0.05
//     options.attach = [&](runtime& rt) { rt.trace().add_sink(file); return file; };
//     options.on_phase = [](const lessons::phase_report& p) { std::cout << p.line() << "\n"; };
//     lessons::run("three-sleeps", options);

#include "taskscope/runtime.hpp"
#include "taskscope/trace/trace_hub.hpp"

#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskscope::lessons {

struct lesson_info {
    std::string_view name;        ///< "three-sleeps": what `taskscope-cli lesson` takes
    std::string_view title;       ///< "Three sleeps"
    std::string_view summary;     ///< one line for `taskscope-cli lessons` and the picker
    std::string_view explanation; ///< Markdown: predict, look at, why, the fix
    double seconds = 0;           ///< how long it runs at scale 1, roughly
};

/// Every lesson, in teaching order.
[[nodiscard]] std::span<const lesson_info> catalogue() noexcept;
/// The lesson called `name`, or nullptr.
[[nodiscard]] const lesson_info* find(std::string_view name) noexcept;

/// One phase's outcome: how long it took and what it counted.
struct phase_report {
    std::string name;
    double seconds = 0;
    std::vector<std::pair<std::string, double>> counts; ///< e.g. {"result", 6}, {"polls", 2841}

    /// "phase sequential 6.003 result=6": the line `taskscope-cli lesson` prints.
    [[nodiscard]] std::string line() const;
    /// The count called `name`, or `fallback`.
    [[nodiscard]] double count(std::string_view name, double fallback = -1) const;
};

struct run_options {
    /// Multiplies every duration: 1 = the classic numbers ("6 s against 2 s"); tests use
    /// small scales. From 0.001 to 10.
    double scale = 1.0;
    /// Called once with the lesson's runtime, before its first task: add trace sinks here.
    /// Return the sink that should receive the load generator's view of its requests (the
    /// lessons with an HTTP server run their clients on a runtime of their own), or nullptr.
    std::function<std::shared_ptr<trace::trace_sink>(runtime&)> attach;
    /// Called on the lesson's thread after each phase.
    std::function<void(const phase_report&)> on_phase;
    /// Called on the lesson's thread as each phase begins.
    std::function<void(std::string_view phase)> on_phase_begin;
    /// A stop request ends the lesson after the current step (the window's Stop button).
    std::stop_token stop;
};

struct lesson_report {
    std::vector<phase_report> phases;
    bool stopped = false; ///< ended early by a stop request
    [[nodiscard]] const phase_report* phase(std::string_view name) const;
};

/// Runs the lesson to its end on the calling thread. Throws std::invalid_argument for an
/// unknown name or a scale out of range, std::runtime_error if it cannot start (no port).
lesson_report run(std::string_view name, const run_options& options);

} // namespace taskscope::lessons
