// The load generator's HTTP/2 client (h2c with prior knowledge): nghttp2's client session
// frames the requests; each request is a task of its own (its stream), woken by the
// connection task when its response has arrived, so the trace shows streams as the server
// shows them.

#include "http2_io.hpp"
#include "load_shared.hpp"
#include "taskscope/net/tcp.hpp"
#include "taskscope/record.hpp"
#include "taskscope/runtime.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <nghttp2/nghttp2.h>
#include <optional>
#include <unordered_map>

namespace taskscope::net::detail {

namespace {

using clock_type = std::chrono::steady_clock;

/// How a stream ended, as its task learns it.
struct stream_outcome {
    int status = 0; ///< 0: no response (reset, refused, connection lost)
    std::uint64_t body_bytes = 0;
};

/// Where the connection task leaves a stream's outcome for the stream's task.
class outcome_slot {
public:
    void set(stream_outcome outcome) {
        waker to_wake;
        {
            std::lock_guard lock(m_mutex);
            m_outcome = outcome;
            to_wake = std::exchange(m_waiting, waker{});
        }
        to_wake.wake();
    }

    struct wait_future {
        outcome_slot* slot;
        poll_result<stream_outcome> poll(context& cx) {
            std::lock_guard lock(slot->m_mutex);
            if (slot->m_outcome) {
                return *slot->m_outcome;
            }
            slot->m_waiting = cx.waker();
            return pending;
        }
    };
    wait_future wait() { return {this}; }

private:
    std::mutex m_mutex;
    std::optional<stream_outcome> m_outcome;
    waker m_waiting;
};

/// The stream tasks of a connection still running: the connection ends after them, so
/// every request's end is in the trace when the load returns.
class running_streams {
public:
    void started() {
        std::lock_guard lock(m_mutex);
        ++m_count;
    }
    void finished() {
        waker to_wake;
        {
            std::lock_guard lock(m_mutex);
            if (--m_count == 0) {
                to_wake = std::exchange(m_waiting, waker{});
            }
        }
        to_wake.wake();
    }
    struct none_future {
        running_streams* streams;
        poll_result<void> poll(context& cx) {
            std::lock_guard lock(streams->m_mutex);
            if (streams->m_count == 0) {
                return ready();
            }
            streams->m_waiting = cx.waker();
            return pending;
        }
    };
    none_future none() { return {this}; }

private:
    std::mutex m_mutex;
    std::size_t m_count = 0;
    waker m_waiting;
};

/// The largest client stream id (odd, 31 bits) this client uses before a new connection.
constexpr std::int32_t max_stream_id = 0x7fff'fff0;

// Client connections are numbered in the process (relaxed: only uniqueness matters).
std::atomic<std::uint32_t> g_next_connection{1};

/// A request's task: its span in the trace, from its stream's start to its response.
task<void> stream_task(std::shared_ptr<outcome_slot> slot, std::shared_ptr<running_streams> running,
                       std::uint32_t connection, std::int32_t stream_id, trace::name_id target) {
    record_http2_request_begin(connection, static_cast<std::uint32_t>(stream_id), target,
                               trace::request_side::client);
    const stream_outcome outcome = co_await slot->wait();
    record_http2_request_end(outcome.body_bytes, static_cast<std::uint32_t>(outcome.status),
                             trace::request_side::client);
    running->finished();
}

/// A stream from its request to its close.
struct open_stream {
    std::shared_ptr<outcome_slot> slot;
    std::size_t number; ///< the request's number in the load
    clock_type::time_point started;
    int status = 0;
    std::uint64_t body_bytes = 0;
};

class client_connection {
public:
    client_connection(std::shared_ptr<shared_load> shared, std::shared_ptr<running_streams> running,
                      std::uint32_t number)
        : m_shared(std::move(shared))
        , m_running(std::move(running))
        , m_number(number) {
        const load_options& o = m_shared->options;
        m_authority = o.host + ":" + std::to_string(o.port);
        nghttp2_session_callbacks* callbacks = nullptr;
        nghttp2_session_callbacks_new(&callbacks);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
        nghttp2_session_client_new(&m_session, callbacks, this);
        nghttp2_session_callbacks_del(callbacks);
        const std::array<nghttp2_settings_entry, 1> settings = {
            {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}}};
        nghttp2_submit_settings(m_session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
    }
    ~client_connection() {
        // Streams still open when the connection ends learn it now.
        for (auto& [id, s] : m_streams) {
            m_shared->failed(m_failure.empty() ? "connection closed" : m_failure);
            s.slot->set({});
        }
        nghttp2_session_del(m_session);
    }
    client_connection(const client_connection&) = delete;
    client_connection& operator=(const client_connection&) = delete;

    /// Runs requests on `stream` until none are left or the connection fails.
    task<void> run(tcp_stream& stream);
    [[nodiscard]] bool failed() const noexcept { return !m_failure.empty(); }
    /// The server took no more requests here (GOAWAY): the rest need a new connection.
    [[nodiscard]] bool refused_more() const noexcept { return m_refusing; }
    [[nodiscard]] std::size_t started() const noexcept { return m_started; }

private:
    /// Starts requests while the connection has room for them; false when none are left.
    bool start_requests();

    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                         std::size_t name_length, const std::uint8_t* value,
                         std::size_t value_length, std::uint8_t, void* user) {
        auto& self = *static_cast<client_connection*>(user);
        const std::string_view n(reinterpret_cast<const char*>(name), name_length);
        const auto found = self.m_streams.find(frame->hd.stream_id);
        if (n == ":status" && found != self.m_streams.end()) {
            int status = 0;
            for (std::size_t i = 0; i < value_length; ++i) {
                status = status * 10 + (value[i] - '0');
            }
            found->second.status = status;
        }
        return 0;
    }
    static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t*,
                             std::size_t length, void* user) {
        auto& self = *static_cast<client_connection*>(user);
        const auto found = self.m_streams.find(id);
        if (found != self.m_streams.end()) {
            found->second.body_bytes += length;
        }
        return 0;
    }
    static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t error_code,
                               void* user) {
        auto& self = *static_cast<client_connection*>(user);
        const auto found = self.m_streams.find(id);
        if (found == self.m_streams.end()) {
            return 0;
        }
        open_stream& s = found->second;
        stream_outcome outcome;
        if (error_code == NGHTTP2_REFUSED_STREAM) {
            // Refused before any work (a GOAWAY's later streams, or over its limit): the
            // request goes again on a new connection; this stream ends with no answer.
            self.m_shared->refused(s.number);
        } else if (error_code == NGHTTP2_NO_ERROR && s.status != 0) {
            outcome = {s.status, s.body_bytes};
            self.m_shared->answered(
                s.number, s.status,
                static_cast<std::uint64_t>(
                    std::chrono::nanoseconds(clock_type::now() - s.started).count()));
        } else {
            self.m_shared->failed("stream reset: " +
                                  std::string(nghttp2_http2_strerror(error_code)));
        }
        s.slot->set(std::move(outcome));
        self.m_streams.erase(found);
        return 0;
    }

    std::shared_ptr<shared_load> m_shared;
    std::shared_ptr<running_streams> m_running;
    std::uint32_t m_number;
    std::string m_authority;
    nghttp2_session* m_session = nullptr;
    std::unordered_map<std::int32_t, open_stream> m_streams;
    bool m_requests_left = true;
    bool m_refusing = false;   ///< no new streams here (GOAWAY, or ids used up)
    std::size_t m_started = 0; ///< requests this connection carried
    std::string m_failure;
};

bool client_connection::start_requests() {
    shared_load& s = *m_shared;
    const std::size_t room = std::max<std::size_t>(1, s.options.streams);
    while (m_requests_left && !m_refusing && m_streams.size() < room) {
        if (clock_type::now() >= s.options.stop_at) {
            m_requests_left = false; // the run's time is up: no new requests
            break;
        }
        // After the server's GOAWAY, or with the stream ids used up, the rest go on a new
        // connection: checked before a request number is taken, so none is lost.
        if (nghttp2_session_check_request_allowed(m_session) == 0 ||
            nghttp2_session_get_next_stream_id(m_session) > max_stream_id) {
            m_refusing = true;
            break;
        }
        std::size_t number = 0;
        if (const auto again = s.take_retry()) {
            number = *again;
        } else {
            number = s.next.fetch_add(1, std::memory_order_relaxed);
            if (number >= s.options.requests) {
                m_requests_left = false;
                break;
            }
        }
        const auto header = [](std::string_view name, std::string_view value) {
            return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                              reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())),
                              name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
        };
        const std::array<nghttp2_nv, 5> headers = {
            header(":method", "GET"), header(":scheme", "http"), header(":authority", m_authority),
            header(":path", s.target_of(number).path), header("user-agent", "taskscope-load")};
        const std::int32_t id = nghttp2_submit_request(m_session, nullptr, headers.data(),
                                                       headers.size(), nullptr, nullptr);
        if (id < 0) { // not expected after the checks above: this request fails
            s.failed("HTTP/2: " + std::string(nghttp2_strerror(id)));
            continue;
        }
        ++m_started;
        auto slot = std::make_shared<outcome_slot>();
        m_streams.emplace(id, open_stream{slot, number, clock_type::now()});
        m_running->started();
        spawn(stream_task(slot, m_running, m_number, id, s.target_of(number).name), "load_stream")
            .detach();
    }
    return (m_requests_left && !m_refusing) || !m_streams.empty();
}

task<void> client_connection::run(tcp_stream& stream) {
    const load_options& o = m_shared->options;
    std::vector<char> buffer(16 * 1024);
    while (start_requests()) {
        if (!co_await send_pending(m_session, stream, o.timeout)) {
            m_failure = "write failed";
            co_return;
        }
        if (nghttp2_session_want_read(m_session) == 0) {
            m_failure = "the server ended the connection (GOAWAY)";
            co_return;
        }
        io_deadline deadline(std::min(clock_type::now() + o.timeout, o.stop_at));
        const io_result r = co_await stream.read(buffer, &deadline);
        if (!r.ok()) {
            m_failure = "read: " + std::string(to_string(r.status));
            co_return;
        }
        const auto used = nghttp2_session_mem_recv(
            m_session, reinterpret_cast<const std::uint8_t*>(buffer.data()), r.bytes);
        if (used < 0) {
            m_failure = "HTTP/2: " + std::string(nghttp2_strerror(static_cast<int>(used)));
            co_return;
        }
    }
    // Done: say goodbye so the server need not wait for its idle timeout.
    nghttp2_session_terminate_session(m_session, NGHTTP2_NO_ERROR);
    co_await send_pending(m_session, stream, std::chrono::milliseconds(1000));
}

} // namespace

task<void> http2_load_client(std::shared_ptr<shared_load> shared) {
    const load_options& o = shared->options;
    while (shared->work_left() && clock_type::now() < o.stop_at) {
        io_deadline deadline(std::min(clock_type::now() + o.timeout, o.stop_at));
        auto [connected, stream] = co_await tcp_stream::connect(o.host, o.port, &deadline);
        if (!connected.ok()) {
            // The request this connection would have carried fails, as over HTTP/1.1.
            if (shared->next.fetch_add(1, std::memory_order_relaxed) < o.requests) {
                shared->failed("connect: " + std::string(to_string(connected.status)));
            }
            continue;
        }
        bool failed = false;       // the connection failed
        bool refused_more = false; // the server sent GOAWAY
        std::size_t started = 0;
        const auto running = std::make_shared<running_streams>();
        {
            client_connection connection(shared, running, g_next_connection.fetch_add(1));
            co_await connection.run(stream);
            failed = connection.failed();
            refused_more = connection.refused_more();
            started = connection.started();
            stream.close();
        } // streams still open learn that the connection ended
        co_await running->none();
        if (started == 0 && (failed || refused_more)) {
            // A connection that carried nothing: one request fails, so the load ends even
            // against a server that refuses everything.
            if (shared->take_retry() ||
                shared->next.fetch_add(1, std::memory_order_relaxed) < o.requests) {
                shared->failed("the server took no request on a new connection");
            }
        }
    }
}

} // namespace taskscope::net::detail
