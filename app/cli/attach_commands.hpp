#pragma once
// `taskscope-cli record --attach HOST:PORT -o FILE`: records a running program's trace, as
// it serves it (TASKSCOPE_LISTEN), to a file.

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

namespace taskscope::cli {

struct attach_record_options {
    std::string address;          ///< HOST:PORT the program serves its trace on
    std::filesystem::path output; ///< the .tstrace file to write
    double max_seconds = 0;       ///< stop after this long; 0: when the program ends or Ctrl-C
    /// Flight recorder: keep only the last this-many seconds in memory and write them to
    /// OUTPUT-N.tstrace on SIGUSR1 or a trigger; 0: record everything to OUTPUT.
    double flight_seconds = 0;
    /// With the flight recorder: also write when a worker is blocked longer than this (ms).
    double trigger_block_ms = 0;
};

/// "60s", "2m", "500ms", "1.5h" or a plain number of seconds; nullopt if it is none of those.
[[nodiscard]] std::optional<double> parse_seconds(const std::string& text);

/// Records until the program ends its stream, the time is up or Ctrl-C. 0 when something
/// was recorded and the file ends cleanly.
int run_record_attach(const attach_record_options& options, std::ostream& out, std::ostream& err);

} // namespace taskscope::cli
