#pragma once
// `taskscope-cli record --attach HOST:PORT -o FILE`: records a running program's trace, as
// it serves it (TASKSCOPE_LISTEN), to a file.

#include <filesystem>
#include <iosfwd>
#include <string>

namespace taskscope::cli {

struct attach_record_options {
    std::string address;          ///< HOST:PORT the program serves its trace on
    std::filesystem::path output; ///< the .tstrace file to write
    double max_seconds = 0;       ///< stop after this long; 0: when the program ends or Ctrl-C
};

/// Records until the program ends its stream, the time is up or Ctrl-C. 0 when something
/// was recorded and the file ends cleanly.
int run_record_attach(const attach_record_options& options, std::ostream& out, std::ostream& err);

} // namespace taskscope::cli
