#pragma once
// `taskscope-cli demo`: a small workload on the executor and a report of what it recorded.

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <string>

namespace taskscope::cli {

struct demo_options {
    std::size_t workers = 2;
    bool stealing = true;
    bool lifo_slot = true;
    bool blocking_sleep = false; ///< the sleeper blocks its worker instead of awaiting a timer
    std::size_t timeline_columns = 72;
    std::filesystem::path output; ///< also record the trace to this file, if not empty
    std::string command;          ///< the command line, kept in the file
};

/// Runs the demo workload and prints the report to `out`. Returns a process exit code.
int run_demo(const demo_options& options, std::ostream& out);

} // namespace taskscope::cli
