#pragma once
// `taskscope-cli lessons` and `taskscope-cli lesson NAME`.

#include <filesystem>
#include <iosfwd>
#include <string>

namespace taskscope::cli {

struct lesson_options {
    std::string name;
    double scale = 1.0;
    std::filesystem::path output; ///< record the trace here, if not empty
    bool explain = false;         ///< print the explanation instead of running
    std::string command;          ///< the command line, kept in the file
};

/// Lists the lessons, a line each.
int run_lessons_list(std::ostream& out);
/// Runs a lesson, printing `phase NAME SECONDS key=value...` a line per phase.
int run_lesson(const lesson_options& options, std::ostream& out, std::ostream& err);

} // namespace taskscope::cli
