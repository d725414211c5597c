#pragma once
// A program serves its own trace to viewers that attach: the window (File > Attach,
// `taskscope --attach HOST:PORT`) and `taskscope-cli record --attach`. An unchanged program
// is watched by starting it with TASKSCOPE_LISTEN=127.0.0.1:6669 (or runtime_options'
// trace.listen).
//
//   trace_hub drain ──consume()──► trace_server ──(its own thread)──► viewer sockets
//
// The stream is the `.tstrace` format itself (header, chunks, the end record when the
// program ends), so one decoder reads files and streams (trace::file_reader over a
// trace_stream_source). A viewer that connects late first gets a chunk with the tracks and
// names so far. A viewer slower than the program misses whole chunks, and the next chunk it
// gets says how many events each track lost (`events_dropped`): the program never waits for
// a viewer.

#include "taskscope/socket.hpp"
#include "taskscope/trace/dropped_tally.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "taskscope/trace/trace_hub.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace taskscope {

/// The environment variable an unchanged program is watched through: "HOST:PORT".
inline constexpr const char* trace_listen_variable = "TASKSCOPE_LISTEN";
/// Where `taskscope --attach` and the CLI look when given no address.
inline constexpr const char* default_trace_address = "127.0.0.1:6669";

struct trace_server_options {
    /// "HOST:PORT": a numeric address or localhost (port 0: any free port). Loopback by
    /// default; another address exposes every task name, route and timing of the program
    /// to whoever can reach it, with no authentication.
    std::string address = default_trace_address;
    /// A chunk goes out when it holds this many events or is this old.
    std::size_t chunk_events = 16 * 1024;
    std::chrono::milliseconds chunk_age{100};
    /// What may wait unsent for one viewer before it misses chunks.
    std::size_t viewer_backlog_bytes = 16u << 20;
};

/// Splits "HOST:PORT" ("[::1]:6669" for IPv6). Throws std::invalid_argument saying what is
/// wrong with it.
struct host_port {
    std::string host;
    std::uint16_t port = 0;
    [[nodiscard]] static host_port parse(const std::string& text);
};

/// A trace sink that serves the `.tstrace` stream to every viewer connected to it.
class trace_server final : public trace::trace_sink {
public:
    /// Listens at once. Throws std::invalid_argument for a malformed address and
    /// std::system_error (naming it) when it cannot listen there.
    trace_server(trace::run_info info, trace_server_options options = {});
    ~trace_server() override;
    trace_server(const trace_server&) = delete;
    trace_server& operator=(const trace_server&) = delete;

    void consume(std::span<const trace::event> batch) override;

    /// Sends what is left and the end record to every viewer (waiting up to `grace` for
    /// them to take it), then closes. Idempotent; the destructor calls it.
    void close(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

    [[nodiscard]] std::uint16_t port() const noexcept { return m_port; }
    [[nodiscard]] const std::string& address() const noexcept { return m_address; }
    [[nodiscard]] std::size_t viewers() const;
    /// Events some viewer missed because it read too slowly, summed over viewers.
    [[nodiscard]] std::uint64_t missed_by_viewers() const;

private:
    struct viewer;
    struct sealed_chunk;
    void serve_loop();
    void accept_viewers();
    void seal(std::vector<trace::event> events);
    void offer(viewer& v, const sealed_chunk& chunk);
    /// Sends `v` a chunk of its own: the tracks it has not heard of, what it missed per
    /// track, and the names up to `names_until`, at time `now`.
    void tell(viewer& v, trace::name_id names_until, std::uint64_t now);
    void send_pending();

    trace_server_options m_options;
    trace::run_info m_info;
    std::string m_address;
    std::uint16_t m_port = 0;
    sys::network_session m_network;
    sys::socket_t m_listener = sys::invalid_socket;

    mutable std::mutex m_mutex; // guards the three below and m_viewers' count
    std::vector<trace::event> m_current;
    std::chrono::steady_clock::time_point m_current_started;
    bool m_closing = false;
    std::chrono::milliseconds m_grace{2000};

    // The serving thread's own.
    trace::stream_encoder m_encoder;
    std::vector<std::unique_ptr<viewer>> m_viewers;
    std::vector<trace::event> m_tracks; // every track_started seen
    trace::dropped_tally m_hub_dropped; // the hub's events_dropped totals, by track
    std::vector<std::string> m_names;   // every name sent so far, by id
    std::uint64_t m_latest_ns = 0;      // the latest event time sealed so far
    std::uint64_t m_missed = 0;
    std::size_t m_viewer_count = 0; // under m_mutex, for viewers()
    bool m_closed = false;
    std::thread m_thread;
};

/// The bytes of a program's trace stream, read from a socket: what a trace::file_reader
/// decodes when it attaches.
class trace_stream_source final : public trace::byte_source {
public:
    /// Connects to "HOST:PORT" within `timeout`; the stream's first bytes must come within
    /// `timeout` too (a port that accepts and says nothing is not a trace stream). `stop`
    /// (optional, shared with whoever may stop it: a Ctrl-C thread, the window's Detach)
    /// ends the connect and every read. Throws trace::file_error (cannot_open) with a
    /// message that says what to check.
    explicit trace_stream_source(const std::string& address,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                 std::shared_ptr<std::atomic<bool>> stop = {});
    ~trace_stream_source() override;
    trace_stream_source(const trace_stream_source&) = delete;
    trace_stream_source& operator=(const trace_stream_source&) = delete;

    std::size_t read(void* data, std::size_t size) override;
    [[nodiscard]] bool is_stream() const noexcept override { return true; }
    [[nodiscard]] std::string failure() const override { return m_failure; }

    /// Ends a read() waiting on another thread (a viewer detaching), which then returns what
    /// it has. The token does the same and may outlive the source (a signal handler's).
    void stop() noexcept { m_stop->store(true, std::memory_order_relaxed); }
    [[nodiscard]] std::shared_ptr<std::atomic<bool>> stop_token() const { return m_stop; }
    /// Bytes received so far.
    [[nodiscard]] std::uint64_t bytes() const noexcept {
        return m_bytes.load(std::memory_order_relaxed);
    }

private:
    sys::network_session m_network;
    sys::socket_t m_socket = sys::invalid_socket;
    std::shared_ptr<std::atomic<bool>> m_stop;
    std::atomic<std::uint64_t> m_bytes{0};
    std::chrono::steady_clock::time_point m_answer_by; // the first bytes, by then
    std::chrono::milliseconds m_timeout;
    std::string m_failure;
};

/// A program's live stream read chunk by chunk and written to a file as it comes (only
/// intact chunks reach the file): what `taskscope-cli record --attach` and the window's
/// File > Attach do with a stream.
class stream_recording {
public:
    /// Connects to "HOST:PORT", reads the stream's header and creates `file` (empty: no
    /// file; the caller keeps what it wants of last_chunk_bytes()). Throws
    /// trace::file_error saying what went wrong (cannot connect, not a trace stream, a newer
    /// schema, cannot write the file).
    stream_recording(const std::string& address, const std::filesystem::path& file,
                     std::shared_ptr<std::atomic<bool>> stop = {});
    ~stream_recording();
    stream_recording(const stream_recording&) = delete;
    stream_recording& operator=(const stream_recording&) = delete;

    [[nodiscard]] const trace::run_info& info() const noexcept;
    [[nodiscard]] std::uint32_t schema() const noexcept;
    /// The next chunk's events (written to the file); false when the stream ended, was
    /// stopped or broke.
    bool next(std::vector<trace::event>& out);
    /// Every name the stream defined so far, by id.
    [[nodiscard]] const std::vector<std::string>& names() const noexcept;
    /// Ends reading from any thread: next() then returns false.
    [[nodiscard]] std::shared_ptr<std::atomic<bool>> stop_token() const;
    /// Closes the file after next() returned false: with the program's end record when it
    /// sent one, with one of ours when the stream was stopped here (the file then ends
    /// cleanly), else without. Returns how the stream ended, in words ("the program ended",
    /// "stopped", or what broke).
    std::string finish();
    [[nodiscard]] bool program_ended() const noexcept;
    [[nodiscard]] std::uint64_t events() const noexcept { return m_events; }
    /// Events the program said were lost (full buffers, or this viewer reading too slowly).
    [[nodiscard]] std::uint64_t dropped() const noexcept;
    [[nodiscard]] std::uint64_t bytes_received() const noexcept;
    /// The stream's bytes behind what next() last returned (whole chunks, the names-only
    /// ones before it included), valid until the next call.
    [[nodiscard]] std::span<const unsigned char> last_chunk_bytes() const noexcept;

private:
    class copy;
    copy* m_copy; // owned by m_reader
    std::shared_ptr<std::atomic<bool>> m_stop;
    const trace_stream_source* m_stream; // owned by m_copy
    std::unique_ptr<trace::file_reader> m_reader;
    std::unique_ptr<std::ofstream> m_file;
    std::filesystem::path m_path;
    std::uint64_t m_events = 0;
    std::uint64_t m_chunks = 0;
    std::uint64_t m_last_time_ns = 0;
    trace::dropped_tally m_dropped;
    bool m_write_failed = false;
    bool m_finished = false;
};

/// The last seconds of a stream, as the stream's own bytes: whole chunks, oldest first (a
/// flight recorder: `record --attach --flight-recorder`, the window's File > Save the last
/// minute). Written out, it is a .tstrace of its own: a header, a chunk with the tracks and
/// the names the kept chunks need (defined in chunks long gone), the kept chunks, an end
/// record. Thread-safe.
class stream_ring {
public:
    explicit stream_ring(double seconds);
    /// A chunk stream_recording::next() returned: its bytes (last_chunk_bytes()), the number
    /// of names defined before them, its events, and every name so far.
    void add(std::span<const unsigned char> bytes, std::size_t names_before,
             std::span<const trace::event> events, const std::vector<std::string>& names);
    /// Writes what is kept to `path`: how many events, or nullopt when it could not.
    std::optional<std::uint64_t> write(const std::filesystem::path& path,
                                       const trace::run_info& info) const;
    /// What the kept chunks take.
    [[nodiscard]] std::size_t bytes() const;
    [[nodiscard]] double seconds() const noexcept { return static_cast<double>(m_window_ns) / 1e9; }

private:
    struct entry {
        std::vector<unsigned char> bytes;
        std::size_t names_before = 0;
        std::uint64_t first_ns = 0;
        std::uint64_t last_ns = 0;
        std::uint64_t events = 0;
    };
    std::uint64_t m_window_ns;
    mutable std::mutex m_mutex;
    std::deque<entry> m_entries;
    std::vector<trace::event> m_tracks;
    std::vector<std::string> m_names;
    std::size_t m_bytes = 0;
};

} // namespace taskscope
