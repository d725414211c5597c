#pragma once
// `taskscope-cli record`, `stats` and `export`: traces as files.

#include "serve.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>

namespace taskscope::cli {

struct record_options {
    std::filesystem::path output;
    serve_options server; ///< host, workers, sleep and accept modes, reactor
    bool stealing = true;
    bool lifo_slot = true;
    std::string load = "/"; ///< a path on the recorded server, or a full http:// URL
    std::size_t requests = 200;
    std::size_t concurrency = 10;
    double max_seconds = 30.0; ///< stop the load (and the recording) after this long
    std::string command;       ///< the command line, kept in the file
};

/// Serves, drives the server with the load generator, records it all to `output`.
int run_record(const record_options& options, std::ostream& out, std::ostream& err);

/// `stats FILE [--json]`
int run_stats(const std::filesystem::path& file, bool json, std::ostream& out, std::ostream& err);

struct export_options {
    std::filesystem::path input;
    std::filesystem::path chrome; ///< Chrome Trace Event JSON, if not empty
    std::filesystem::path csv;    ///< one row per request, if not empty
};
int run_export(const export_options& options, std::ostream& out, std::ostream& err);

/// Reads a whole file into a model (progress on `progress_to`, if a terminal). Throws
/// file_error.
analysis::model load_model(const std::filesystem::path& file, trace::run_info& info,
                           trace::read_report& report, std::ostream* progress_to);

/// The human-readable summary `stats` prints (also used by `demo` and `record`).
void print_summary(const analysis::model& m, std::ostream& out);
/// The summary as JSON text (the keys `stats --json` documents).
std::string summary_json(const analysis::model& m, const trace::read_report* report);

} // namespace taskscope::cli
