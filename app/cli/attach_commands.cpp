#include "attach_commands.hpp"

#include "console.hpp"
#include "taskscope/trace_server.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <ostream>
#include <thread>
#include <vector>

namespace taskscope::cli {

int run_record_attach(const attach_record_options& options, std::ostream& out, std::ostream& err) {
    // Ctrl-C ends the recording cleanly: a thread of its own waits for it (set up before
    // any other thread starts) and stops the stream; it is left behind when we are done.
    auto stop_asked = std::make_shared<stop_signal>();
    std::unique_ptr<stream_recording> recording;
    try {
        recording = std::make_unique<stream_recording>(options.address, options.output);
    } catch (const trace::file_error& e) {
        err << "taskscope-cli record: " << e.what() << '\n';
        return 1;
    }
    const auto stop = recording->stop_token();
    auto by_user = std::make_shared<std::atomic<bool>>(false);
    std::thread([stop_asked, stop, by_user] {
        stop_asked->wait();
        by_user->store(true);
        stop->store(true);
    }).detach();

    const trace::run_info& info = recording->info();
    out << "attached to " << (info.command.empty() ? "a program" : info.command);
    if (info.pid != 0) {
        out << " (pid " << info.pid << ")";
    }
    out << " at " << options.address << ", recording to " << options.output.string();
    if (options.max_seconds > 0) {
        out << " for up to " << options.max_seconds << " s";
    }
    out << " (Ctrl-C stops)\n" << std::flush;

    // --max-seconds: a watchdog that stops the stream when the time is up.
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto timed_out = std::make_shared<std::atomic<bool>>(false);
    std::thread watchdog;
    if (options.max_seconds > 0) {
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(options.max_seconds));
        watchdog = std::thread([until, done, timed_out, stop] {
            while (!done->load() && std::chrono::steady_clock::now() < until) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (!done->load()) {
                timed_out->store(true);
                stop->store(true);
            }
        });
    }
    std::vector<trace::event> chunk;
    while (recording->next(chunk)) {
    }
    done->store(true);
    if (watchdog.joinable()) {
        watchdog.join();
    }
    std::string ending;
    try {
        ending = recording->finish();
    } catch (const trace::file_error& e) {
        err << "taskscope-cli record: " << e.what() << '\n';
        return 1;
    }
    if (timed_out->load() && !recording->program_ended()) {
        char after[64];
        std::snprintf(after, sizeof after, "stopped after %g s", options.max_seconds);
        ending = after;
    } else if (by_user->load() && !recording->program_ended()) {
        ending = "stopped by Ctrl-C";
    }
    char line[160];
    std::snprintf(line, sizeof line,
                  "recorded %llu events (%llu lost to a slow reader or full buffers)",
                  static_cast<unsigned long long>(recording->events()),
                  static_cast<unsigned long long>(recording->dropped()));
    out << line << "; " << ending << "\nnext: taskscope " << options.output.string() << '\n';
    return recording->events() != 0 ? 0 : 1;
}

} // namespace taskscope::cli
