#pragma once
// Reading a whole `.tstrace` file into the analysis model: what `taskscope-cli stats`,
// `record` and the window's loader share. Decoding runs on a second thread while the
// model takes each chunk (trace::read_all).
//
//     const auto loaded = taskscope::analysis::load_model("run.tstrace");
//     for (const auto& r : loaded.trace->requests()) { ... }
//     if (!loaded.report.warning.empty()) { /* a damaged file: what was lost */ }

#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

namespace taskscope::analysis {

struct loaded_trace {
    std::unique_ptr<model> trace; ///< finished, unless cancelled
    trace::run_info info;
    trace::read_report report; ///< what a damaged file lost
    bool cancelled = false;    ///< the progress callback said stop: `trace` is partial
};

/// Called after each chunk with the bytes read so far and the file's size; returning false
/// stops the reading (the load then comes back cancelled).
using load_progress = std::function<bool(std::uint64_t read_bytes, std::uint64_t file_bytes)>;

/// Reads `file` into a finished model. Throws trace::file_error for a file that is not a
/// readable trace; a damaged one loads its intact chunks and says what was lost in
/// `report.warning`.
[[nodiscard]] loaded_trace load_model(const std::filesystem::path& file,
                                      const load_progress& progress = {},
                                      model_options options = {});

} // namespace taskscope::analysis
