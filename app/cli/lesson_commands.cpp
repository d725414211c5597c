#include "lesson_commands.hpp"

#include "taskscope/lessons/lessons.hpp"
#include "taskscope/trace/request_forwarder.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace taskscope::cli {

int run_lessons_list(std::ostream& out) {
    std::size_t width = 0;
    for (const lessons::lesson_info& info : lessons::catalogue()) {
        width = std::max(width, info.name.size());
    }
    for (const lessons::lesson_info& info : lessons::catalogue()) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%4.0f s", info.seconds);
        out << info.name << std::string(width + 2 - info.name.size(), ' ') << seconds << "  "
            << info.summary << '\n';
    }
    out << "\nrun one: taskscope-cli lesson NAME [--scale S] [-o FILE]; read what it shows: "
           "taskscope-cli lesson NAME --explain\n";
    return 0;
}

int run_lesson(const lesson_options& options, std::ostream& out, std::ostream& err) {
    const lessons::lesson_info* info = lessons::find(options.name);
    if (info == nullptr) {
        err << "taskscope-cli lesson: there is no lesson \"" << options.name
            << "\"; taskscope-cli lessons lists them\n";
        return 2;
    }
    if (options.explain) {
        out << info->explanation;
        return 0;
    }

    std::shared_ptr<trace::file_writer> file;
    lessons::run_options run;
    run.scale = options.scale;
    if (!options.output.empty()) {
        run.attach = [&](runtime& rt) -> std::shared_ptr<trace::trace_sink> {
            trace::run_info about = trace::run_info_for(rt, rt.options(), options.command);
            about.lesson = options.name;
            file = std::make_shared<trace::file_writer>(options.output, about);
            rt.trace().add_sink(file);
            return file;
        };
    }
    run.on_phase = [&](const lessons::phase_report& phase) {
        out << phase.line() << '\n' << std::flush;
    };
    err << "lesson " << info->name << ": " << info->title << " (scale " << options.scale
        << ", about " << std::max(1.0, info->seconds * options.scale) << " s)\n";
    const lessons::lesson_report report = lessons::run(options.name, run);
    if (file) {
        file->close();
        err << "recorded " << options.output.string() << "; open it with taskscope "
            << options.output.string() << " or taskscope-cli stats " << options.output.string()
            << '\n';
    }
    return report.stopped ? 1 : 0;
}

} // namespace taskscope::cli
