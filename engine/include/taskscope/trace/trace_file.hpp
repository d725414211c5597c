#pragma once
// The `.tstrace` file: a recorded trace on disk.
//
//   header   magic "TSTRACE\0", format and schema versions, run_info as JSON, checksum
//   chunk*   40-byte chunk header (length, event count, checksum) + zstd payload:
//            the names interned since the previous chunk, then the chunk's events
//            delta-encoded column by column (kinds, tracks, times, tasks, args, ...)
//   end      a last chunk with the totals, written by close()
//
// Chunks are written as recording goes, so a crash loses at most the chunk being filled.
// A reader takes every intact chunk up to the first damaged or missing one and says what
// it could not read; a file that is not a trace, or is from a newer taskscope, is refused
// with a `file_error` that says so.

#include "taskscope/trace/clock.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/trace_hub.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace taskscope::trace {

/// The file format's version (the container); `schema_version` versions the events.
inline constexpr std::uint32_t file_format_version = 1;

/// How the recording was made: shown by `stats`, the window title and lesson replays.
struct run_info {
    std::string tool = "taskscope 0.1.0";
    std::string command;   ///< what ran, e.g. "record --workers 2 --load /sleep?ms=5"
    std::string lesson;    ///< the lesson's name, empty if none
    std::uint64_t pid = 0; ///< the recording process, when it served its trace live (0: unknown)
    std::uint32_t workers = 0;
    bool single_threaded = false;
    bool stealing = true;
    bool lifo_slot = true;
    std::string reactor;              ///< "epoll" or "poll"; empty when unknown
    std::string sleep_mode;           ///< the HTTP server's, empty when no server ran
    std::string accept_mode;          ///< the HTTP server's, empty when no server ran
    std::int64_t start_unix_ms = 0;   ///< wall-clock time of the trace epoch
    std::int64_t epoch_steady_ns = 0; ///< steady_clock time of `event::time_ns == 0`
    clock_calibration clock;          ///< how the recording machine's clock was read
};

/// A run_info with the clock part filled in for recordings from `hub` (epoch, wall-clock
/// start, calibration); the caller adds the command and the configuration.
[[nodiscard]] run_info run_info_for(const trace_hub& hub);
// run_info_for(runtime&, ...) is in taskscope/runtime.hpp.

/// Why a file could not be read at all (a damaged tail is not an error: see read_report).
class file_error : public std::runtime_error {
public:
    enum class reason {
        cannot_open,
        not_a_trace,
        newer_version,
        older_version,
        damaged_header,
        io
    };
    file_error(reason why, const std::string& message) : std::runtime_error(message), m_why(why) {}
    [[nodiscard]] reason why() const noexcept { return m_why; }

private:
    reason m_why;
};

/// The `.tstrace` byte format as one encoder, for a file (file_writer) and for a live stream
/// (the trace server a program runs for viewers that attach): the header, then chunks, then
/// the end record. Not thread-safe; one per writer thread.
class stream_encoder {
public:
    explicit stream_encoder(int compression_level = 3);
    ~stream_encoder();
    stream_encoder(const stream_encoder&) = delete;
    stream_encoder& operator=(const stream_encoder&) = delete;

    /// The header: magic, versions, `info` as JSON, checksum.
    [[nodiscard]] static std::vector<unsigned char> header(const run_info& info);
    /// Replaces `out` with one events chunk: the names with ids `first_name` and up, then
    /// `events` (which may be empty: a chunk that only defines names). Throws file_error
    /// when compression fails.
    void chunk(std::span<const event> events, name_id first_name,
               std::span<const std::string> names, std::vector<unsigned char>& out);
    /// The end record: the totals, and proof that the recording closed cleanly.
    [[nodiscard]] static std::vector<unsigned char> end(std::uint64_t events, std::uint64_t chunks,
                                                        std::uint64_t dropped,
                                                        std::uint64_t last_time_ns);

private:
    void* m_zstd; // ZSTD_CCtx
    int m_level;
    std::vector<unsigned char> m_raw;
};

/// Where a file_reader's bytes come from: a file, or a live stream (a socket to a program
/// serving its trace).
class byte_source {
public:
    virtual ~byte_source() = default;
    /// Reads up to `size` bytes into `data`, waiting for them; fewer only at the end of the
    /// bytes (0: nothing more).
    virtual std::size_t read(void* data, std::size_t size) = 0;
    /// The size of the whole, when known (a file): progress is shown against it.
    [[nodiscard]] virtual std::uint64_t size() const noexcept { return 0; }
    /// True for a live stream: messages then say "stream", not "file".
    [[nodiscard]] virtual bool is_stream() const noexcept { return false; }
    /// Why the bytes ended early, if they did (a connection reset); empty otherwise.
    [[nodiscard]] virtual std::string failure() const { return {}; }
};

struct file_writer_options {
    std::size_t chunk_events = 64 * 1024;     ///< a chunk is written when it holds this many ...
    std::chrono::milliseconds chunk_age{250}; ///< ... or is this old (bounds what a crash loses)
    int compression_level = 3;                ///< zstd level
};

/// A sink that writes a `.tstrace` file as events arrive. Encoding, compression and
/// writing happen on the writer's own thread, so the trace hub's drain thread only copies.
///
///     auto file = std::make_shared<taskscope::trace::file_writer>("run.tstrace", info);
///     rt.trace().add_sink(file);
///     ... run ...
///     rt.trace().flush();
///     file->close();
class file_writer final : public trace_sink {
public:
    /// Creates (or replaces) `path` and writes its header. Throws file_error.
    file_writer(const std::filesystem::path& path, const run_info& info,
                file_writer_options options = {});
    ~file_writer() override;
    file_writer(const file_writer&) = delete;
    file_writer& operator=(const file_writer&) = delete;

    void consume(std::span<const event> batch) override;

    /// Writes what is buffered and the end record, and closes the file. Idempotent.
    /// Throws file_error if a write failed (the disk filled up, ...).
    void close();

    [[nodiscard]] std::uint64_t events_written() const;
    [[nodiscard]] std::uint64_t bytes_written() const;

private:
    struct pending_chunk {
        std::vector<event> events;
        std::vector<std::string> names;
        name_id first_name = 0;
    };
    void writer_loop();
    void seal_current_chunk_locked();
    void write_bytes(const void* data, std::size_t size);

    file_writer_options m_options;
    std::filesystem::path m_path;
    std::FILE* m_file = nullptr;

    mutable std::mutex m_mutex; // guards everything below
    std::condition_variable m_work;
    std::condition_variable m_space;
    std::vector<event> m_current;
    std::chrono::steady_clock::time_point m_current_started;
    std::deque<pending_chunk> m_queue;
    bool m_closing = false;
    bool m_closed = false;
    std::string m_error;
    name_id m_names_sent = 0;
    std::uint64_t m_events_written = 0;
    std::uint64_t m_chunks_written = 0;
    std::uint64_t m_bytes_written = 0;
    std::uint64_t m_dropped_total = 0;
    std::uint64_t m_last_time_ns = 0;
    std::thread m_writer;
};

/// What reading a file found, beyond its events.
struct read_report {
    std::uint64_t events = 0;
    std::uint64_t chunks = 0;
    std::uint64_t file_bytes = 0;
    std::uint64_t bytes_read = 0; ///< bytes of header and intact chunks
    bool complete = false;        ///< the end record was found: the recording closed cleanly
    std::string warning;          ///< what was lost and why; empty when nothing was
};

/// Reads a `.tstrace` file chunk by chunk (bounded memory, progress as bytes).
///
///     taskscope::trace::file_reader reader("run.tstrace");
///     std::vector<taskscope::trace::event> chunk;
///     while (reader.next(chunk)) { model.consume(chunk); }
///     if (!reader.report().warning.empty()) { ... tell the user what was lost ... }
class file_reader {
public:
    /// Opens the file and checks its header. Throws file_error.
    explicit file_reader(const std::filesystem::path& path);
    /// Reads the same format from `source` (a live stream), named `name` in messages.
    /// Checks the header. Throws file_error.
    file_reader(std::unique_ptr<byte_source> source, const std::string& name);
    ~file_reader();
    file_reader(const file_reader&) = delete;
    file_reader& operator=(const file_reader&) = delete;

    [[nodiscard]] const run_info& info() const noexcept { return m_info; }
    /// The event schema the file was written with (`oldest_readable_schema`..`schema_version`).
    [[nodiscard]] std::uint32_t schema() const noexcept { return m_schema; }

    /// Replaces `out` with the next chunk's events. False at the end of the file or at the
    /// first chunk that is damaged or cut off (the report says which).
    bool next(std::vector<event>& out);

    /// Every name defined by the chunks read so far, indexed by name id.
    [[nodiscard]] const std::vector<std::string>& names() const noexcept { return m_names; }
    [[nodiscard]] const read_report& report() const noexcept { return m_report; }

    /// Bytes read so far and the file's size: a progress bar. Safe from any thread (the
    /// one that calls next() may be another, as in read_all).
    [[nodiscard]] std::uint64_t progress_bytes() const noexcept {
        return m_progress.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t file_bytes() const noexcept { return m_report.file_bytes; }

private:
    void read_header(const std::string& name);
    bool fail(std::string warning);
    /// next() without emptying `out` on false; `out`'s storage is overwritten in place.
    bool next_chunk(std::vector<event>& out);

    std::unique_ptr<byte_source> m_source;
    run_info m_info;
    std::uint32_t m_schema = 0;
    std::vector<std::string> m_names;
    read_report m_report;
    bool m_done = false;
    std::atomic<std::uint64_t> m_progress{0}; // relaxed: a progress figure, nothing more
    std::vector<unsigned char> m_stored;
    std::vector<unsigned char> m_raw;
};

/// Reads every chunk of `reader`, decompressing and decoding the next chunk on a second
/// thread while `consume` handles the current one on the calling thread. `names` is the
/// name table valid for the chunk. Return false from `consume` to stop early (a cancel).
/// Returns false if stopped early.
///
///     read_all(reader, [&](std::span<const event> chunk, const auto& names) {
///         model.set_names(names); model.consume(chunk);
///         return !cancelled;
///     });
bool read_all(
    file_reader& reader,
    const std::function<bool(std::span<const event>, const std::vector<std::string>&)>& consume);

/// A whole file in memory: convenient for tests and small traces.
struct loaded_trace {
    run_info info;
    std::vector<event> events; ///< in file order (ordered by time within each track)
    std::vector<std::string> names;
    read_report report;
};
[[nodiscard]] loaded_trace read_trace_file(const std::filesystem::path& path);

} // namespace taskscope::trace
