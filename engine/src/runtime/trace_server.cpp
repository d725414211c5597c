// Serving a program's trace to viewers that attach (taskscope/trace_server.hpp).
//
// consume() runs on the hub's drain thread and only appends under a lock. The serving
// thread does the rest every few milliseconds: accepts viewers, seals what was consumed into
// a chunk (encoded once for every viewer in step), and writes what each viewer's socket
// takes without waiting. A viewer whose backlog is full misses the chunk; the next one it
// gets is preceded by a small chunk of its own with the names it lacks and, per track, how
// many events it has missed (`events_dropped`, counted on top of what the hub lost).

#include "taskscope/trace_server.hpp"

#include "taskscope/trace/dropped_tally.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <stdexcept>
#include <system_error>

namespace taskscope {

namespace {

constexpr int serve_tick_ms = 5;
constexpr int stream_compression_level = 1; // a live stream favours speed over size

using bytes = std::vector<unsigned char>;

} // namespace

host_port host_port::parse(const std::string& text) {
    const auto colon = text.rfind(':');
    const auto malformed = [&](const std::string& why) {
        return std::invalid_argument("'" + text + "' is not HOST:PORT (" + why + "; for example " +
                                     default_trace_address + ")");
    };
    if (colon == std::string::npos) {
        throw malformed("no port");
    }
    host_port out;
    out.host = text.substr(0, colon);
    const std::string port = text.substr(colon + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535) {
        throw malformed("the port must be a number from 0 to 65535");
    }
    out.port = static_cast<std::uint16_t>(value);
    if (!sys::parse_address(out.host, out.port)) {
        throw malformed("the host must be a numeric IPv4 or IPv6 address or localhost");
    }
    return out;
}

// ---------------------------------------------------------------- server

struct trace_server::sealed_chunk {
    std::vector<trace::event> events;
    trace::name_id first_name = 0;
    std::size_t name_count = 0;
    bool has_hub_drops = false;
    std::uint64_t earliest_ns = 0;        // batches interleave a little: not always the first's
    std::shared_ptr<const bytes> encoded; // for every viewer that missed nothing
};

struct trace_server::viewer {
    sys::socket_t socket = sys::invalid_socket;
    std::deque<std::shared_ptr<const bytes>> outbox;
    std::size_t outbox_bytes = 0;
    std::size_t front_sent = 0;
    trace::name_id names_known = 0;
    bool needs_tracks = true;
    std::vector<std::uint64_t> lost;         // events this viewer missed, by track
    std::vector<trace::event> missed_tracks; // track_started events in chunks it missed
    bool lost_untold = false;
    bool gone = false;

    void push(std::shared_ptr<const bytes> b) {
        outbox_bytes += b->size();
        outbox.push_back(std::move(b));
    }
};

trace_server::trace_server(trace::run_info info, trace_server_options options)
    : m_options(std::move(options))
    , m_info(std::move(info))
    , m_encoder(stream_compression_level) {
    const host_port where = host_port::parse(m_options.address);
    const auto address = sys::parse_address(where.host, where.port);
    m_listener = sys::listen_at(*address, 16, m_port);
    if (m_listener == sys::invalid_socket) {
        const int error = sys::last_error();
        throw std::system_error(error, std::system_category(),
                                "cannot serve the trace on " + m_options.address);
    }
    m_address = (where.host.find(':') != std::string::npos && where.host.front() != '['
                     ? "[" + where.host + "]"
                     : where.host) +
                ":" + std::to_string(m_port);
    m_options.chunk_events = std::clamp<std::size_t>(m_options.chunk_events, 1, 1u << 20);
    m_thread = std::thread([this] { serve_loop(); });
}

trace_server::~trace_server() {
    close();
}

void trace_server::consume(std::span<const trace::event> batch) {
    std::lock_guard lock(m_mutex);
    if (m_closing || batch.empty()) {
        return;
    }
    if (m_current.empty()) {
        m_current_started = std::chrono::steady_clock::now();
    }
    m_current.insert(m_current.end(), batch.begin(), batch.end());
}

std::size_t trace_server::viewers() const {
    std::lock_guard lock(m_mutex);
    return m_viewer_count;
}

std::uint64_t trace_server::missed_by_viewers() const {
    std::lock_guard lock(m_mutex);
    return m_missed;
}

void trace_server::close(std::chrono::milliseconds grace) {
    {
        std::lock_guard lock(m_mutex);
        if (m_closing) {
            return;
        }
        m_closing = true;
        m_grace = grace;
    }
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void trace_server::accept_viewers() {
    for (;;) {
        const sys::socket_t s = sys::accept_connection(m_listener);
        if (s == sys::invalid_socket) {
            const auto why = sys::classify(sys::last_error());
            if (why != sys::error_kind::would_block && why != sys::error_kind::interrupted) {
                // Out of descriptors, say: the connection stays queued and the listener
                // stays readable, so wait a tick instead of spinning on it.
                std::this_thread::sleep_for(std::chrono::milliseconds(serve_tick_ms));
            }
            return;
        }
        sys::set_no_delay(s);
        auto v = std::make_unique<viewer>();
        v->socket = s;
        v->push(std::make_shared<const bytes>(trace::stream_encoder::header(m_info)));
        if (!m_tracks.empty()) {
            // The tracks and names so far at once: an idle program still shows its workers.
            tell(*v, static_cast<trace::name_id>(m_names.size()), m_latest_ns);
        }
        m_viewers.push_back(std::move(v));
    }
}

void trace_server::seal(std::vector<trace::event> events) {
    sealed_chunk chunk;
    chunk.first_name = static_cast<trace::name_id>(m_names.size());
    std::vector<std::string> fresh = trace::names_from(chunk.first_name);
    chunk.name_count = fresh.size();
    m_names.insert(m_names.end(), fresh.begin(), fresh.end());
    chunk.has_hub_drops = std::any_of(events.begin(), events.end(), [](const trace::event& e) {
        return e.kind == trace::event_kind::events_dropped;
    });
    chunk.events = std::move(events);
    chunk.earliest_ns = std::min_element(chunk.events.begin(), chunk.events.end(),
                                         [](const trace::event& a, const trace::event& b) {
                                             return a.time_ns < b.time_ns;
                                         })
                            ->time_ns;
    if (!m_viewers.empty()) { // nobody watching: nothing to encode
        auto encoded = std::make_shared<bytes>();
        m_encoder.chunk(chunk.events, chunk.first_name, fresh, *encoded);
        chunk.encoded = std::move(encoded);
        for (auto& v : m_viewers) {
            offer(*v, chunk);
        }
    }
    // What a viewer that attaches later is told before its first chunk.
    for (const trace::event& e : chunk.events) {
        m_latest_ns = std::max(m_latest_ns, e.time_ns);
        if (e.kind == trace::event_kind::track_started) {
            m_tracks.push_back(e);
        } else {
            m_hub_dropped.add(e); // only events_dropped count
        }
    }
}

void trace_server::offer(viewer& v, const sealed_chunk& chunk) {
    if (v.gone) {
        return;
    }
    if (v.outbox_bytes + chunk.encoded->size() > m_options.viewer_backlog_bytes) {
        // Too slow: this viewer misses the chunk, and is told per track (and of the tracks
        // that started in it).
        for (const trace::event& e : chunk.events) {
            if (e.kind == trace::event_kind::track_started) {
                v.missed_tracks.push_back(e);
                continue;
            }
            if (e.track >= v.lost.size()) {
                v.lost.resize(e.track + std::size_t{1}, 0);
            }
            ++v.lost[e.track];
        }
        v.lost_untold = true;
        std::lock_guard lock(m_mutex);
        m_missed += chunk.events.size();
        return;
    }
    if (v.needs_tracks || v.names_known < chunk.first_name || v.lost_untold ||
        !v.missed_tracks.empty()) {
        tell(v, chunk.first_name, chunk.earliest_ns);
    }
    v.names_known = static_cast<trace::name_id>(chunk.first_name + chunk.name_count);
    const bool lost_any = std::any_of(v.lost.begin(), v.lost.end(), [](auto n) { return n != 0; });
    if (chunk.has_hub_drops && lost_any) {
        // The hub's running totals, plus what this viewer missed on top of them.
        std::vector<trace::event> own = chunk.events;
        for (trace::event& e : own) {
            if (e.kind == trace::event_kind::events_dropped && e.arg2 < v.lost.size()) {
                e.arg += v.lost[e.arg2];
            }
        }
        auto encoded = std::make_shared<bytes>();
        m_encoder.chunk(own, chunk.first_name,
                        std::span(m_names).subspan(chunk.first_name, chunk.name_count), *encoded);
        v.push(std::move(encoded));
    } else {
        v.push(chunk.encoded);
    }
}

void trace_server::tell(viewer& v, trace::name_id names_until, std::uint64_t now) {
    std::vector<trace::event> told;
    if (v.needs_tracks) {
        // Tracks that started before the viewer came: they start, for it, now.
        for (trace::event e : m_tracks) {
            e.time_ns = now;
            told.push_back(e);
        }
    }
    for (trace::event e : v.missed_tracks) {
        e.time_ns = std::max(e.time_ns, now);
        told.push_back(e);
    }
    v.missed_tracks.clear();
    if (v.lost_untold) {
        for (std::size_t track = 0; track < v.lost.size(); ++track) {
            if (v.lost[track] != 0) {
                const auto t = static_cast<std::uint16_t>(track);
                const std::uint64_t hub = m_hub_dropped.of_track(t);
                told.push_back(trace::make::events_dropped(now, t, hub + v.lost[track], t));
            }
        }
    }
    auto encoded = std::make_shared<bytes>();
    m_encoder.chunk(told, v.names_known,
                    std::span(m_names).subspan(v.names_known, names_until - v.names_known),
                    *encoded);
    v.push(std::move(encoded));
    v.names_known = names_until;
    v.needs_tracks = false;
    v.lost_untold = false;
}

void trace_server::send_pending() {
    for (auto& v : m_viewers) {
        while (!v->gone && !v->outbox.empty()) {
            const bytes& front = *v->outbox.front();
            const std::ptrdiff_t n = sys::send_some(v->socket, front.data() + v->front_sent,
                                                    front.size() - v->front_sent);
            if (n > 0) {
                v->front_sent += static_cast<std::size_t>(n);
                if (v->front_sent == front.size()) {
                    v->outbox_bytes -= front.size();
                    v->outbox.pop_front();
                    v->front_sent = 0;
                }
                continue;
            }
            const auto why = sys::classify(sys::last_error());
            if (why != sys::error_kind::would_block && why != sys::error_kind::interrupted) {
                v->gone = true; // the viewer went away
            }
            break;
        }
        if (!v->gone) {
            // A viewer sends nothing: a read that ends means it closed its side.
            char ignored[256];
            const std::ptrdiff_t n = sys::receive_some(v->socket, ignored, sizeof ignored);
            if (n == 0 ||
                (n < 0 && sys::classify(sys::last_error()) != sys::error_kind::would_block &&
                 sys::classify(sys::last_error()) != sys::error_kind::interrupted)) {
                v->gone = true;
            }
        }
    }
    const auto gone = std::remove_if(m_viewers.begin(), m_viewers.end(), [](const auto& v) {
        if (v->gone) {
            sys::close_socket(v->socket);
        }
        return v->gone;
    });
    m_viewers.erase(gone, m_viewers.end());
    std::lock_guard lock(m_mutex);
    m_viewer_count = m_viewers.size();
}

void trace_server::serve_loop() {
    std::uint64_t events_sent = 0;
    std::uint64_t chunks_sent = 0;
    for (;;) {
        (void)sys::wait_ready(m_listener, false, serve_tick_ms);
        accept_viewers();
        std::vector<trace::event> taken;
        bool closing = false;
        {
            std::lock_guard lock(m_mutex);
            closing = m_closing;
            if (!m_current.empty() &&
                (closing || m_current.size() >= m_options.chunk_events ||
                 std::chrono::steady_clock::now() - m_current_started >= m_options.chunk_age)) {
                taken.swap(m_current);
            }
        }
        for (std::size_t at = 0; at < taken.size(); at += m_options.chunk_events) {
            const std::size_t n = std::min(m_options.chunk_events, taken.size() - at);
            std::vector<trace::event> part(taken.begin() + static_cast<std::ptrdiff_t>(at),
                                           taken.begin() + static_cast<std::ptrdiff_t>(at + n));
            events_sent += part.size();
            ++chunks_sent;
            try {
                seal(std::move(part));
            } catch (const std::exception&) {
                // Out of memory, or a chunk zstd would not compress: the program must not
                // end for its viewers' sake. They miss this chunk uncounted, and are let go.
                for (auto& v : m_viewers) {
                    v->gone = true;
                }
            }
        }
        send_pending();
        if (closing) {
            break;
        }
    }
    // The end record, then what the viewers take within the grace period.
    const auto end = std::make_shared<const bytes>(
        trace::stream_encoder::end(events_sent, chunks_sent, m_hub_dropped.total(), m_latest_ns));
    for (auto& v : m_viewers) {
        if (v->lost_untold || !v->missed_tracks.empty()) { // said before the end
            tell(*v, static_cast<trace::name_id>(m_names.size()), m_latest_ns);
        }
        v->push(end);
    }
    const auto deadline = std::chrono::steady_clock::now() + m_grace;
    while (std::any_of(m_viewers.begin(), m_viewers.end(),
                       [](const auto& v) { return !v->outbox.empty(); }) &&
           std::chrono::steady_clock::now() < deadline) {
        send_pending();
        std::this_thread::sleep_for(std::chrono::milliseconds(serve_tick_ms));
    }
    for (auto& v : m_viewers) {
        sys::shutdown_socket(v->socket, sys::shutdown_side::write);
        sys::close_socket(v->socket);
    }
    m_viewers.clear();
    sys::close_socket(m_listener);
    m_listener = sys::invalid_socket;
    std::lock_guard lock(m_mutex);
    m_viewer_count = 0;
}

// ---------------------------------------------------------------- viewer side

trace_stream_source::trace_stream_source(const std::string& address,
                                         std::chrono::milliseconds timeout,
                                         std::shared_ptr<std::atomic<bool>> stop)
    : m_stop(stop ? std::move(stop) : std::make_shared<std::atomic<bool>>(false))
    , m_timeout(timeout) {
    const auto cannot = [&](const std::string& why) {
        if (m_socket != sys::invalid_socket) {
            sys::close_socket(m_socket);
            m_socket = sys::invalid_socket;
        }
        return trace::file_error(trace::file_error::reason::cannot_open,
                                 "cannot connect to " + address + ": " + why);
    };
    host_port where;
    try {
        where = host_port::parse(address);
    } catch (const std::invalid_argument& e) {
        throw trace::file_error(trace::file_error::reason::cannot_open, e.what());
    }
    const auto target = sys::parse_address(where.host, where.port);
    m_socket = sys::start_connect(*target);
    if (m_socket == sys::invalid_socket) {
        throw cannot(sys::error_text(sys::last_error()));
    }
    // In slices, so a stop (Ctrl-C, Detach) is heard within one.
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    int ready = 0;
    while (ready == 0) {
        if (m_stop->load(std::memory_order_relaxed)) {
            throw cannot("stopped");
        }
        if (std::chrono::steady_clock::now() >= give_up) {
            throw cannot("no answer within " + std::to_string(timeout.count()) + " ms");
        }
        ready = sys::wait_ready(m_socket, true, 50);
    }
    const int error = ready < 0 ? sys::last_error() : sys::pending_error(m_socket);
    if (error != 0) {
        const bool refused = sys::classify(error) == sys::error_kind::refused;
        throw cannot(refused ? "connection refused (is the program running with " +
                                   std::string(trace_listen_variable) + " set?)"
                             : sys::error_text(error));
    }
    m_answer_by = std::chrono::steady_clock::now() + timeout;
}

trace_stream_source::~trace_stream_source() {
    if (m_socket != sys::invalid_socket) {
        sys::close_socket(m_socket);
    }
}

std::size_t trace_stream_source::read(void* data, std::size_t size) {
    auto* out = static_cast<unsigned char*>(data);
    std::size_t got = 0;
    while (got < size && m_socket != sys::invalid_socket) {
        if (m_stop->load(std::memory_order_relaxed)) {
            m_failure = "stopped";
            break;
        }
        if (m_bytes.load(std::memory_order_relaxed) == 0 &&
            std::chrono::steady_clock::now() >= m_answer_by) {
            m_failure = "it accepted the connection but sent nothing within " +
                        std::to_string(m_timeout.count()) + " ms";
            break;
        }
        const std::ptrdiff_t n = sys::receive_some(m_socket, out + got, size - got);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
            m_bytes.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
            continue;
        }
        if (n == 0) {
            break; // the program closed the stream
        }
        const int error = sys::last_error();
        const auto why = sys::classify(error);
        if (why == sys::error_kind::interrupted) {
            continue;
        }
        if (why != sys::error_kind::would_block) {
            m_failure = "the connection failed: " + sys::error_text(error);
            break;
        }
        (void)sys::wait_ready(m_socket, false, 50);
    }
    return got;
}

// ---------------------------------------------------------------- recording a stream

/// The stream's bytes, kept until the reader has checked the chunk they belong to.
class stream_recording::copy final : public trace::byte_source {
public:
    explicit copy(std::unique_ptr<trace_stream_source> stream) : m_stream(std::move(stream)) {}
    std::size_t read(void* data, std::size_t size) override {
        const std::size_t got = m_stream->read(data, size);
        const auto* bytes = static_cast<const unsigned char*>(data);
        m_pending.insert(m_pending.end(), bytes, bytes + got);
        return got;
    }
    [[nodiscard]] bool is_stream() const noexcept override { return true; }
    [[nodiscard]] std::string failure() const override { return m_stream->failure(); }
    [[nodiscard]] const trace_stream_source& stream() const noexcept { return *m_stream; }
    /// What was read up to now, checked by the reader: written to `file` when it is open,
    /// and kept as last() until the next commit.
    bool commit(std::ofstream& file) {
        m_last.swap(m_pending);
        m_pending.clear();
        if (!file.is_open()) {
            return true;
        }
        file.write(reinterpret_cast<const char*>(m_last.data()),
                   static_cast<std::streamsize>(m_last.size()));
        return static_cast<bool>(file);
    }
    [[nodiscard]] std::span<const unsigned char> last() const noexcept { return m_last; }
    /// Drops what was read after the last whole chunk (a stream cut inside one).
    void discard() noexcept { m_pending.clear(); }

private:
    std::unique_ptr<trace_stream_source> m_stream;
    std::vector<unsigned char> m_pending;
    std::vector<unsigned char> m_last;
};

stream_recording::stream_recording(const std::string& address, const std::filesystem::path& file,
                                   std::shared_ptr<std::atomic<bool>> stop)
    : m_path(file) {
    auto stream =
        std::make_unique<trace_stream_source>(address, std::chrono::seconds(5), std::move(stop));
    m_stop = stream->stop_token();
    auto owned = std::make_unique<copy>(std::move(stream));
    m_copy = owned.get();
    m_stream = &m_copy->stream();
    m_reader = std::make_unique<trace::file_reader>(std::move(owned), address);
    m_file = std::make_unique<std::ofstream>();
    if (!file.empty()) {
        m_file->open(file, std::ios::binary | std::ios::trunc);
    }
    if ((!file.empty() && !*m_file) || !m_copy->commit(*m_file)) {
        throw trace::file_error(trace::file_error::reason::io, "cannot write " + file.string());
    }
}

stream_recording::~stream_recording() {
    if (!m_finished) {
        m_stop->store(true);
        try {
            (void)finish();
        } catch (...) { // nothing to tell anyone here
        }
    }
}

const trace::run_info& stream_recording::info() const noexcept {
    return m_reader->info();
}

std::uint32_t stream_recording::schema() const noexcept {
    return m_reader->schema();
}

const std::vector<std::string>& stream_recording::names() const noexcept {
    return m_reader->names();
}

std::shared_ptr<std::atomic<bool>> stream_recording::stop_token() const {
    return m_stop;
}

bool stream_recording::program_ended() const noexcept {
    return m_reader->report().complete;
}

std::uint64_t stream_recording::dropped() const noexcept {
    return m_dropped.total();
}

std::span<const unsigned char> stream_recording::last_chunk_bytes() const noexcept {
    return m_copy->last();
}

std::uint64_t stream_recording::bytes_received() const noexcept {
    return m_stream->bytes();
}

bool stream_recording::next(std::vector<trace::event>& out) {
    if (m_finished || !m_reader->next(out)) {
        return false;
    }
    m_write_failed = m_write_failed || !m_copy->commit(*m_file);
    m_events += out.size();
    ++m_chunks;
    for (const trace::event& e : out) {
        m_last_time_ns = std::max(m_last_time_ns, e.time_ns);
        m_dropped.add(e);
    }
    return true;
}

std::string stream_recording::finish() {
    if (m_finished) {
        return {};
    }
    m_finished = true;
    std::string ending;
    if (m_reader->report().complete) {
        m_write_failed = m_write_failed || !m_copy->commit(*m_file); // the program's end record
        ending = "the program ended";
    } else if (m_stop->load()) {
        // Stopped here: the chunk cut short is dropped, and the file ends cleanly.
        m_copy->discard();
        const std::vector<unsigned char> end =
            trace::stream_encoder::end(m_events, m_chunks, m_dropped.total(), m_last_time_ns);
        m_file->write(reinterpret_cast<const char*>(end.data()),
                      static_cast<std::streamsize>(end.size()));
        ending = "stopped";
    } else {
        m_copy->discard();
        ending = m_reader->report().warning;
    }
    const bool was_open = m_file->is_open();
    m_file->close();
    if (was_open && (m_write_failed || !*m_file)) {
        throw trace::file_error(trace::file_error::reason::io,
                                "writing " + m_path.string() + " failed");
    }
    return ending;
}

// ---------------------------------------------------------------- the last seconds

stream_ring::stream_ring(double seconds) : m_window_ns(static_cast<std::uint64_t>(seconds * 1e9)) {}

void stream_ring::add(std::span<const unsigned char> bytes, std::size_t names_before,
                      std::span<const trace::event> events, const std::vector<std::string>& names) {
    std::lock_guard lock(m_mutex);
    entry e{.bytes = {bytes.begin(), bytes.end()},
            .names_before = names_before,
            .first_ns = UINT64_MAX,
            .last_ns = 0,
            .events = events.size()};
    for (const trace::event& ev : events) {
        e.first_ns = std::min(e.first_ns, ev.time_ns);
        e.last_ns = std::max(e.last_ns, ev.time_ns);
        if (ev.kind == trace::event_kind::track_started) {
            m_tracks.push_back(ev);
        }
    }
    if (names.size() != m_names.size()) {
        m_names = names;
    }
    m_bytes += e.bytes.size();
    m_entries.push_back(std::move(e));
    const std::uint64_t newest = m_entries.back().last_ns;
    while (m_entries.size() > 1 && m_entries.front().last_ns + m_window_ns < newest) {
        m_bytes -= m_entries.front().bytes.size();
        m_entries.pop_front();
    }
}

std::optional<std::uint64_t> stream_ring::write(const std::filesystem::path& path,
                                                const trace::run_info& info) const {
    std::lock_guard lock(m_mutex);
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    const auto put = [&](std::span<const unsigned char> bytes) {
        file.write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
    };
    put(trace::stream_encoder::header(info));
    if (m_entries.empty()) { // nothing came yet: a trace with no events, still a valid file
        put(trace::stream_encoder::end(0, 0, 0, 0));
        file.close();
        return file ? std::optional<std::uint64_t>(0) : std::nullopt;
    }
    const entry& oldest = m_entries.front();
    std::vector<trace::event> told = m_tracks; // the tracks start, for this file, here
    for (trace::event& e : told) {
        e.time_ns = oldest.first_ns == UINT64_MAX ? 0 : oldest.first_ns;
    }
    std::vector<unsigned char> catch_up;
    trace::stream_encoder().chunk(
        told, 0, std::span(m_names).first(std::min(oldest.names_before, m_names.size())), catch_up);
    put(catch_up);
    std::uint64_t events = told.size();
    std::uint64_t last_ns = 0;
    for (const entry& e : m_entries) {
        put(e.bytes);
        events += e.events;
        last_ns = std::max(last_ns, e.last_ns);
    }
    put(trace::stream_encoder::end(events, m_entries.size() + 1, 0, last_ns));
    file.close();
    if (!file) {
        return std::nullopt;
    }
    return events;
}

std::size_t stream_ring::bytes() const {
    std::lock_guard lock(m_mutex);
    return m_bytes;
}

} // namespace taskscope
