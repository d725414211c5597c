#include "attach_commands.hpp"

#include "console.hpp"
#include "taskscope/trace/dropped_tally.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "taskscope/trace_server.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <thread>
#include <vector>

namespace taskscope::cli {

namespace {

/// The stream's bytes, kept until the reader has checked the chunk they belong to: only
/// whole, intact chunks reach the file.
class checked_copy final : public trace::byte_source {
public:
    explicit checked_copy(std::unique_ptr<trace_stream_source> stream)
        : m_stream(std::move(stream)) {}
    std::size_t read(void* data, std::size_t size) override {
        const std::size_t got = m_stream->read(data, size);
        const auto* bytes = static_cast<const unsigned char*>(data);
        m_pending.insert(m_pending.end(), bytes, bytes + got);
        return got;
    }
    [[nodiscard]] bool is_stream() const noexcept override { return true; }
    [[nodiscard]] std::string failure() const override { return m_stream->failure(); }
    /// Writes what was read up to now: the reader has checked it.
    bool commit(std::ofstream& file) {
        file.write(reinterpret_cast<const char*>(m_pending.data()),
                   static_cast<std::streamsize>(m_pending.size()));
        m_pending.clear();
        return static_cast<bool>(file.flush());
    }
    /// Drops what was read after the last whole chunk (a stream cut inside one).
    void discard() { m_pending.clear(); }

private:
    std::unique_ptr<trace_stream_source> m_stream;
    std::vector<unsigned char> m_pending;
};

} // namespace

int run_record_attach(const attach_record_options& options, std::ostream& out, std::ostream& err) {
    // Ctrl-C ends the recording cleanly: a thread of its own waits for it (before any other
    // thread starts) and stops the stream's reads; it is left behind when the program ends.
    auto stop_asked = std::make_shared<stop_signal>();
    std::unique_ptr<trace_stream_source> stream;
    try {
        stream = std::make_unique<trace_stream_source>(options.address);
    } catch (const trace::file_error& e) {
        err << "taskscope-cli record: " << e.what() << '\n';
        return 1;
    }
    const auto stop = stream->stop_token();
    auto by_user = std::make_shared<std::atomic<bool>>(false);
    std::thread([stop_asked, stop, by_user] {
        stop_asked->wait();
        by_user->store(true);
        stop->store(true);
    }).detach();

    auto copy = std::make_unique<checked_copy>(std::move(stream));
    checked_copy& copied = *copy;
    std::unique_ptr<trace::file_reader> reader;
    try {
        reader = std::make_unique<trace::file_reader>(std::move(copy), options.address);
    } catch (const trace::file_error& e) {
        err << "taskscope-cli record: " << e.what() << '\n';
        return 1;
    }
    std::ofstream file(options.output, std::ios::binary | std::ios::trunc);
    if (!file || !copied.commit(file)) {
        err << "taskscope-cli record: cannot write " << options.output.string() << '\n';
        return 1;
    }
    const trace::run_info& info = reader->info();
    out << "attached to " << (info.command.empty() ? "a program" : info.command);
    if (info.pid != 0) {
        out << " (pid " << info.pid << ")";
    }
    out << " at " << options.address << ", recording to " << options.output.string();
    if (options.max_seconds > 0) {
        out << " for up to " << options.max_seconds << " s";
    }
    out << " (Ctrl-C stops)\n" << std::flush;

    // --max-seconds: a watchdog that stops the reads when the time is up.
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
    std::uint64_t events = 0;
    std::uint64_t chunks = 0;
    std::uint64_t last_time_ns = 0;
    trace::dropped_tally dropped;
    bool written = true;
    while (reader->next(chunk)) {
        written = written && copied.commit(file);
        events += chunk.size();
        ++chunks;
        for (const trace::event& e : chunk) {
            dropped.add(e);
            last_time_ns = std::max(last_time_ns, e.time_ns);
        }
    }
    done->store(true);
    if (watchdog.joinable()) {
        watchdog.join();
    }
    const trace::read_report& report = reader->report();
    std::string ending;
    if (report.complete) {
        written = written && copied.commit(file); // the program's own end record
        ending = "the program ended";
    } else if (timed_out->load() || by_user->load()) {
        // We stopped: the chunk cut short is dropped, and the file ends cleanly.
        copied.discard();
        const std::vector<unsigned char> end =
            trace::stream_encoder::end(events, chunks, dropped.total(), last_time_ns);
        file.write(reinterpret_cast<const char*>(end.data()),
                   static_cast<std::streamsize>(end.size()));
        written = written && static_cast<bool>(file.flush());
        char after[64];
        std::snprintf(after, sizeof after, "stopped after %g s", options.max_seconds);
        ending = timed_out->load() ? after : "stopped by Ctrl-C";
    } else {
        copied.discard();
        ending = report.warning;
    }
    file.close();
    if (!written || !file) {
        err << "taskscope-cli record: writing " << options.output.string() << " failed\n";
        return 1;
    }
    char line[160];
    std::snprintf(
        line, sizeof line, "recorded %llu events (%llu lost to a slow reader or full buffers)",
        static_cast<unsigned long long>(events), static_cast<unsigned long long>(dropped.total()));
    out << line << "; " << ending << "\nnext: taskscope " << options.output.string() << '\n';
    return events != 0 ? 0 : 1;
}

} // namespace taskscope::cli
