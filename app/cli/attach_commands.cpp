#include "attach_commands.hpp"

#include "console.hpp"
#include "taskscope/trace_server.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace taskscope::cli {

std::optional<double> parse_seconds(const std::string& text) {
    double value = 0;
    std::size_t used = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const std::string unit = text.substr(used);
    const double scale = unit.empty() || unit == "s"    ? 1.0
                         : unit == "ms"                 ? 1e-3
                         : unit == "m" || unit == "min" ? 60.0
                         : unit == "h"                  ? 3600.0
                                                        : -1.0;
    if (scale < 0 || !(value > 0)) {
        return std::nullopt;
    }
    return value * scale;
}

namespace {

/// OUTPUT-N.tstrace for the Nth write.
std::filesystem::path numbered(const std::filesystem::path& output, int n) {
    std::filesystem::path out = output;
    out.replace_filename(output.stem().string() + "-" + std::to_string(n) +
                         (output.has_extension() ? output.extension().string() : ".tstrace"));
    return out;
}

} // namespace

int run_record_attach(const attach_record_options& options, std::ostream& out, std::ostream& err) {
    // Ctrl-C ends the recording cleanly: a thread of its own waits for it (set up before
    // any other thread starts) and stops the stream; it is left behind when we are done.
    auto stop_asked = std::make_shared<stop_signal>();
    const bool flight = options.flight_seconds > 0;
    std::optional<dump_signal> dump_asked;
    if (flight) {
        dump_asked.emplace(); // before any other thread, too
    }
    // The stop is shared before connecting: Ctrl-C ends a slow connect too.
    const auto stop = std::make_shared<std::atomic<bool>>(false);
    auto by_user = std::make_shared<std::atomic<bool>>(false);
    std::thread([stop_asked, stop, by_user] {
        stop_asked->wait();
        by_user->store(true);
        stop->store(true);
    }).detach();
    std::unique_ptr<stream_recording> recording;
    try {
        recording = std::make_unique<stream_recording>(
            options.address, flight ? std::filesystem::path() : options.output, stop);
    } catch (const trace::file_error& e) {
        err << "taskscope-cli record: " << e.what() << '\n';
        return 1;
    }

    const trace::run_info& info = recording->info();
    out << "attached to " << (info.command.empty() ? "a program" : info.command);
    if (info.pid != 0) {
        out << " (pid " << info.pid << ")";
    }
    out << " at " << options.address;
    if (flight) {
        out << "; flight recorder: keeping the last " << options.flight_seconds
            << " s in memory, written to " << numbered(options.output, 1).string() << ", ... ";
        if (dump_signal::available()) {
            out << "on kill -USR1 " << this_process_id();
        }
        if (options.trigger_block_ms > 0) {
            out << (dump_signal::available() ? " or " : "") << "when a worker blocks over "
                << options.trigger_block_ms << " ms";
        }
    } else {
        out << ", recording to " << options.output.string();
    }
    if (options.max_seconds > 0) {
        out << " for up to " << options.max_seconds << " s";
    }
    out << " (Ctrl-C stops)\n" << std::flush;

    stream_ring ring(options.flight_seconds);
    int written = 0;
    std::mutex write_mutex; // the watcher thread and the reading loop both write
    const auto write_ring = [&](const std::string& why) {
        std::lock_guard lock(write_mutex);
        const std::filesystem::path path = numbered(options.output, ++written);
        const auto events = ring.write(path, recording->info());
        if (events) {
            out << "wrote " << path.string() << " (" << *events << " events, the last "
                << options.flight_seconds << " s): " << why << '\n'
                << std::flush;
        } else {
            err << "taskscope-cli record: cannot write " << path.string() << '\n';
        }
    };

    // One watcher, every 20 ms whether the program is busy or idle: --max-seconds stops the
    // stream when the time is up; SIGUSR1 writes the flight recorder's ring.
    std::atomic<bool> done{false};
    std::atomic<bool> timed_out{false};
    const auto until = options.max_seconds > 0
                           ? std::chrono::steady_clock::now() +
                                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(options.max_seconds))
                           : std::chrono::steady_clock::time_point::max();
    std::thread watcher([&] {
        std::uint64_t handled = 0;
        while (!done.load()) {
            if (std::chrono::steady_clock::now() >= until) {
                timed_out.store(true);
                stop->store(true);
                return;
            }
            if (flight) {
                if (const std::uint64_t asked = dump_asked->requests(); asked != handled) {
                    handled = asked;
                    write_ring("asked by SIGUSR1");
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    std::vector<trace::event> chunk;
    std::vector<std::uint64_t> blocked_since; // by track: a block_begin's time, 0 if none
    const auto block_limit_ns = static_cast<std::uint64_t>(options.trigger_block_ms * 1e6);
    for (;;) {
        const std::size_t names_before = recording->names().size();
        if (!recording->next(chunk)) {
            break;
        }
        if (!flight) {
            continue;
        }
        ring.add(recording->last_chunk_bytes(), names_before, chunk, recording->names());
        if (block_limit_ns == 0) {
            continue;
        }
        for (const trace::event& e : chunk) {
            if (e.track >= blocked_since.size()) {
                blocked_since.resize(e.track + std::size_t{1}, 0);
            }
            if (e.kind == trace::event_kind::block_begin) {
                blocked_since[e.track] = e.time_ns + 1; // + 1: a block at time 0 still counts
            } else if (e.kind == trace::event_kind::block_end && blocked_since[e.track] != 0) {
                const std::uint64_t took = e.time_ns + 1 - blocked_since[e.track];
                blocked_since[e.track] = 0;
                if (took > block_limit_ns) {
                    char why[96];
                    std::snprintf(why, sizeof why,
                                  "a task blocked its thread (track %u) for %.1f ms",
                                  static_cast<unsigned>(e.track), static_cast<double>(took) / 1e6);
                    write_ring(why);
                }
            }
        }
    }
    done.store(true);
    watcher.join();
    std::string ending;
    try {
        ending = recording->finish();
    } catch (const trace::file_error& e) {
        err << "taskscope-cli record: " << e.what() << '\n';
        return 1;
    }
    if (timed_out.load() && !recording->program_ended()) {
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
    out << line << "; " << ending << '\n';
    if (flight) {
        out << "flight recorder: wrote " << written << " file(s)";
        if (written > 0) {
            out << "; next: taskscope " << numbered(options.output, written).string();
        }
        out << '\n';
        return 0;
    }
    out << "next: taskscope " << options.output.string() << '\n';
    // An idle program records nothing, and that is no error; a stream that broke is.
    return recording->program_ended() || timed_out.load() || by_user->load() ? 0 : 1;
}

} // namespace taskscope::cli
