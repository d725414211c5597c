// HTTP/2 for the engine's server (h2c with prior knowledge, on the HTTP/1.1 port).
//
// nghttp2 does the framing, HPACK, flow control and the protocol's error handling; this
// file feeds it the connection's bytes, writes what it wants sent, and turns every request
// stream into a spawned task running the same routes as HTTP/1.1. A stream's task posts
// its reply to the connection's mailbox; the connection task waits on its socket and the
// mailbox at once, so replies go out as their tasks finish, in any order.
//
// Limits that bound a hostile client's work: at most max_concurrent_streams stream tasks
// running per connection (counting those of streams the client already reset; beyond,
// REFUSED_STREAM), a stream-creation rate and a client-reset rate per connection (beyond:
// GOAWAY ENHANCE_YOUR_CALM, which stops rapid reset), a header-list size (431, and far
// beyond it GOAWAY), nghttp2's own caps on queued SETTINGS/PING acknowledgements and
// CONTINUATION frames, and a write deadline for a client that never reads.

#include "http2_io.hpp"
#include "http_server_state.hpp"
#include "taskscope/record.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/time.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <nghttp2/nghttp2.h>
#include <optional>
#include <unordered_map>
#include <vector>

namespace taskscope::net::detail {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// A stream's reply, posted by its task.
struct finished_stream {
    std::int32_t stream_id = 0;
    http_reply reply;
};

/// Where stream tasks post their replies for the connection task (any thread).
class stream_mailbox {
public:
    void post(finished_stream done) {
        waker to_wake;
        {
            std::lock_guard lock(m_mutex);
            m_posted.push_back(std::move(done));
            to_wake = std::exchange(m_waiting, waker{});
        }
        to_wake.wake();
    }

    /// What was posted; when nothing was, `w` is woken by the next post.
    std::vector<finished_stream> take_or_wait(const waker& w) {
        std::lock_guard lock(m_mutex);
        if (m_posted.empty()) {
            m_waiting = w;
        }
        return std::exchange(m_posted, {});
    }

private:
    std::mutex m_mutex;
    std::vector<finished_stream> m_posted;
    waker m_waiting;
};

/// `co_await`: bytes from the socket (or its failure), or nullopt when replies were posted
/// (in `posted`).
struct read_or_posted {
    read_future read;
    stream_mailbox* mailbox;
    std::vector<finished_stream>* posted;

    poll_result<std::optional<io_result>> poll(context& cx) {
        *posted = mailbox->take_or_wait(cx.waker());
        if (!posted->empty()) {
            return std::optional<io_result>{};
        }
        auto r = read.poll(cx);
        if (r.is_ready()) {
            return std::optional<io_result>(r.take());
        }
        return pending;
    }
};

/// `co_await`: the replies posted (waits for at least one).
struct posted_future {
    stream_mailbox* mailbox;
    poll_result<std::vector<finished_stream>> poll(context& cx) {
        std::vector<finished_stream> posted = mailbox->take_or_wait(cx.waker());
        if (posted.empty()) {
            return pending;
        }
        return posted;
    }
};

/// A token bucket: `rate` a second, up to `rate` saved.
class rate_limit {
public:
    explicit rate_limit(double rate) : m_rate(rate), m_tokens(rate) {}
    bool take() {
        const auto now = clock_type::now();
        const double seconds = std::chrono::duration<double>(now - m_last).count();
        m_last = now;
        m_tokens = std::min(m_rate, m_tokens + seconds * m_rate);
        if (m_tokens < 1.0) {
            return false;
        }
        m_tokens -= 1.0;
        return true;
    }

private:
    double m_rate;
    double m_tokens;
    clock_type::time_point m_last = clock_type::now();
};

/// A stream between its HEADERS and its close.
struct stream_state {
    http_request request;
    std::size_t header_bytes = 0;
    std::size_t body_bytes = 0;
    int early_status = 0;  ///< answered without running a route (431, 413)
    bool running = false;  ///< its task is running
    bool answered = false; ///< its reply was submitted
    std::string body;      ///< the reply's body, read by nghttp2 as flow control allows
    std::size_t body_sent = 0;
};

/// RST_STREAM frames from the client a second, before GOAWAY.
constexpr double client_resets_per_second = 200;
/// Header bytes of one block far beyond the limit (an HPACK bomb): a connection error.
constexpr std::size_t header_bomb_factor = 8;

class http2_connection {
public:
    http2_connection(std::shared_ptr<http_server::state> shared, std::uint32_t number)
        : m_shared(std::move(shared))
        , m_st(*m_shared)
        , m_number(number)
        , m_new_streams(m_st.options.http2_max_streams_per_second)
        , m_client_resets(client_resets_per_second) {
        nghttp2_session_callbacks* callbacks = nullptr;
        nghttp2_session_callbacks_new(&callbacks);
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
        nghttp2_option* option = nullptr;
        nghttp2_option_new(&option);
        // Past this many queued SETTINGS/PING acknowledgements (a flood from a client that
        // does not read), mem_recv fails with NGHTTP2_ERR_FLOODED.
        nghttp2_option_set_max_outbound_ack(option, 1000);
        // nghttp2's own reset limit (1000, then 33 a second) would end a rapid-reset flood
        // with INTERNAL_ERROR before ours does; ours (on_frame_recv) comes first and says
        // ENHANCE_YOUR_CALM, so nghttp2's is set well above it.
        constexpr auto nghttp2_resets = static_cast<std::uint64_t>(5 * client_resets_per_second);
        nghttp2_option_set_stream_reset_rate_limit(option, nghttp2_resets, nghttp2_resets);
        nghttp2_session_server_new2(&m_session, callbacks, this, option);
        nghttp2_option_del(option);
        nghttp2_session_callbacks_del(callbacks);
        const std::array<nghttp2_settings_entry, 2> settings = {{
            {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, m_st.options.http2_max_concurrent_streams},
            {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
             static_cast<std::uint32_t>(m_st.options.max_header_bytes)},
        }};
        nghttp2_submit_settings(m_session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
    }
    ~http2_connection() { nghttp2_session_del(m_session); }
    http2_connection(const http2_connection&) = delete;
    http2_connection& operator=(const http2_connection&) = delete;

    /// Serves the connection, then waits for its stream tasks still running.
    task<void> serve(tcp_stream& stream, std::string received);

private:
    /// Reads, answers and writes until the connection ends (or the server stops).
    task<void> exchange(tcp_stream& stream, std::string received);
    /// Hands bytes to nghttp2; false when the connection must end (after a GOAWAY).
    bool receive(std::string_view bytes);
    /// Submits the replies posted.
    void answer(std::vector<finished_stream>& posted);
    /// Writes everything nghttp2 wants sent; false when the socket failed or timed out.
    task<bool> flush(tcp_stream& stream);
    void start_stream(std::int32_t id, stream_state& s);
    void submit_reply(std::int32_t id, stream_state& s, int status, std::string body,
                      std::string_view content_type);
    void terminate(std::uint32_t error_code) {
        nghttp2_session_terminate_session(m_session, error_code);
    }

    static stream_state* stream_of(nghttp2_session* session, std::int32_t id) {
        return static_cast<stream_state*>(nghttp2_session_get_stream_user_data(session, id));
    }
    static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user);
    static int on_header(nghttp2_session* session, const nghttp2_frame* frame,
                         const std::uint8_t* name, std::size_t name_length,
                         const std::uint8_t* value, std::size_t value_length, std::uint8_t flags,
                         void* user);
    static int on_data_chunk(nghttp2_session* session, std::uint8_t flags, std::int32_t id,
                             const std::uint8_t* data, std::size_t length, void* user);
    static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user);
    static int on_stream_close(nghttp2_session* session, std::int32_t id, std::uint32_t error_code,
                               void* user);
    static ssize_t read_body(nghttp2_session* session, std::int32_t id, std::uint8_t* buffer,
                             std::size_t length, std::uint32_t* flags, nghttp2_data_source* source,
                             void* user);

    std::shared_ptr<http_server::state> m_shared;
    http_server::state& m_st;
    std::uint32_t m_number;
    nghttp2_session* m_session = nullptr;
    std::shared_ptr<stream_mailbox> m_mailbox = std::make_shared<stream_mailbox>();
    std::unordered_map<std::int32_t, std::unique_ptr<stream_state>> m_streams;
    std::size_t m_running = 0; ///< stream tasks whose reply has not come back
    rate_limit m_new_streams;
    rate_limit m_client_resets;
    bool m_calm_down = false; ///< a limit was passed: GOAWAY ENHANCE_YOUR_CALM
};

task<void> run_stream(std::shared_ptr<http_server::state> shared,
                      std::shared_ptr<stream_mailbox> mailbox, http_request request,
                      std::uint32_t connection, std::int32_t stream_id) {
    http_server::state& st = *shared;
    const std::size_t route = route_index(request.path());
    st.add_in_flight(1);
    record_http2_request_begin(connection, static_cast<std::uint32_t>(stream_id),
                               route_name_id(route), trace::request_side::server);
    http_reply reply;
    try {
        reply = co_await handle_request(st, request, route);
    } catch (const std::exception& e) { // the stream still gets an answer, the task its end
        reply = {500, std::string("internal error: ") + e.what() + "\n"};
    }
    record_http2_request_end(reply.body.size(), static_cast<std::uint32_t>(reply.status),
                             trace::request_side::server);
    st.add_in_flight(-1);
    st.count(route_name(route), reply.status);
    mailbox->post({stream_id, std::move(reply)});
}

int http2_connection::on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame,
                                       void* user) {
    auto& self = *static_cast<http2_connection*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    const std::int32_t id = frame->hd.stream_id;
    if (!self.m_new_streams.take()) {
        self.m_calm_down = true;
        self.terminate(NGHTTP2_ENHANCE_YOUR_CALM);
        return 0;
    }
    if (self.m_running >= self.m_st.options.http2_max_concurrent_streams) {
        // Tasks of streams the client reset still run: they count (rapid reset).
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
        return 0;
    }
    auto s = std::make_unique<stream_state>();
    s->request.method = "GET";
    nghttp2_session_set_stream_user_data(session, id, s.get());
    self.m_streams[id] = std::move(s);
    return 0;
}

int http2_connection::on_header(nghttp2_session* session, const nghttp2_frame* frame,
                                const std::uint8_t* name, std::size_t name_length,
                                const std::uint8_t* value, std::size_t value_length, std::uint8_t,
                                void* user) {
    auto& self = *static_cast<http2_connection*>(user);
    stream_state* s = stream_of(session, frame->hd.stream_id);
    if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS) {
        return 0;
    }
    s->header_bytes += name_length + value_length + 32; // RFC 9113's header list size
    const std::size_t limit = self.m_st.options.max_header_bytes;
    if (s->header_bytes > limit * header_bomb_factor) {
        self.m_calm_down = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE; // ends mem_recv: GOAWAY ENHANCE_YOUR_CALM
    }
    if (s->header_bytes > limit) {
        s->early_status = 431;
        return 0;
    }
    const std::string_view n(reinterpret_cast<const char*>(name), name_length);
    const std::string_view v(reinterpret_cast<const char*>(value), value_length);
    if (n == ":method") {
        s->request.method = v;
    } else if (n == ":path") {
        s->request.target = v;
        const auto q = v.find('?');
        s->request.query =
            q == std::string_view::npos ? std::string() : std::string(v.substr(q + 1));
    } else if (!n.starts_with(':')) {
        s->request.headers.emplace_back(n, v);
    }
    return 0;
}

int http2_connection::on_data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t id,
                                    const std::uint8_t* data, std::size_t length, void* user) {
    auto& self = *static_cast<http2_connection*>(user);
    stream_state* s = stream_of(session, id);
    if (s == nullptr) {
        return 0;
    }
    s->body_bytes += length;
    if (s->body_bytes > self.m_st.options.max_body_bytes) {
        s->early_status = 413;
        s->request.body.clear();
    } else if (s->early_status == 0) {
        s->request.body.append(reinterpret_cast<const char*>(data), length);
    }
    return 0;
}

int http2_connection::on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame,
                                    void* user) {
    auto& self = *static_cast<http2_connection*>(user);
    if (frame->hd.type == NGHTTP2_RST_STREAM && !self.m_calm_down && !self.m_client_resets.take()) {
        // Every reset counts, the streams refused or answered too: a flood of HEADERS
        // and RST_STREAM beyond the running limit is refused stream after stream.
        self.m_calm_down = true; // a rapid-reset flood
        self.terminate(NGHTTP2_ENHANCE_YOUR_CALM);
        return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
        return 0;
    }
    stream_state* s = stream_of(session, frame->hd.stream_id);
    if (s == nullptr || s->running || s->answered) {
        return 0;
    }
    if (s->early_status == 413) { // answered at once, not waiting for the rest of the body
        self.submit_reply(frame->hd.stream_id, *s, 413, "request body too large\n",
                          "text/plain; charset=utf-8");
        self.m_st.count("error", 413);
        return 0;
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
        return 0;
    }
    if (s->early_status == 431) {
        self.submit_reply(frame->hd.stream_id, *s, 431, "request header fields too large\n",
                          "text/plain; charset=utf-8");
        self.m_st.count("error", 431);
        return 0;
    }
    self.start_stream(frame->hd.stream_id, *s);
    return 0;
}

int http2_connection::on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t,
                                      void* user) {
    auto& self = *static_cast<http2_connection*>(user);
    self.m_streams.erase(id); // its task, if any, still counts in m_running until it ends
    return 0;
}

ssize_t http2_connection::read_body(nghttp2_session*, std::int32_t, std::uint8_t* buffer,
                                    std::size_t length, std::uint32_t* flags,
                                    nghttp2_data_source* source, void*) {
    auto& s = *static_cast<stream_state*>(source->ptr);
    const std::size_t n = std::min(length, s.body.size() - s.body_sent);
    std::memcpy(buffer, s.body.data() + s.body_sent, n);
    s.body_sent += n;
    if (s.body_sent == s.body.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
}

void http2_connection::start_stream(std::int32_t id, stream_state& s) {
    s.running = true;
    ++m_running;
    auto t = run_stream(m_shared, m_mailbox, std::move(s.request), m_number, id);
    if (m_st.options.accept == accept_mode::spawn) {
        spawn(std::move(t), "handle_stream").detach();
    } else {
        spawn_local(std::move(t), "handle_stream").detach();
    }
}

void http2_connection::submit_reply(std::int32_t id, stream_state& s, int status, std::string body,
                                    std::string_view content_type) {
    s.answered = true;
    s.body = std::move(body);
    s.body_sent = 0;
    const std::string status_text = std::to_string(status);
    const std::string length_text = std::to_string(s.body.size());
    const auto header = [](std::string_view name, std::string_view value) {
        return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())),
                          name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
    };
    const std::array<nghttp2_nv, 3> headers = {header(":status", status_text),
                                               header("content-type", content_type),
                                               header("content-length", length_text)};
    nghttp2_data_provider provider{};
    provider.source.ptr = &s;
    provider.read_callback = read_body;
    nghttp2_submit_response(m_session, id, headers.data(), headers.size(), &provider);
}

void http2_connection::answer(std::vector<finished_stream>& posted) {
    for (finished_stream& done : posted) {
        --m_running;
        const auto found = m_streams.find(done.stream_id);
        if (found == m_streams.end()) {
            continue; // the client reset it meanwhile
        }
        submit_reply(done.stream_id, *found->second, done.reply.status, std::move(done.reply.body),
                     done.reply.content_type);
    }
    posted.clear();
}

bool http2_connection::receive(std::string_view bytes) {
    const auto used = nghttp2_session_mem_recv(
        m_session, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    if (used >= 0) {
        return true;
    }
    // A fatal error: nghttp2 queued nothing for it, so say why before closing.
    switch (used) {
    case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
        terminate(NGHTTP2_PROTOCOL_ERROR);
        break;
    case NGHTTP2_ERR_FLOODED:
        terminate(NGHTTP2_ENHANCE_YOUR_CALM);
        break;
    default:
        terminate(m_calm_down ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_INTERNAL_ERROR);
        break;
    }
    return false;
}

task<bool> http2_connection::flush(tcp_stream& stream) {
    return send_pending(m_session, stream, m_st.options.request_timeout);
}

task<void> http2_connection::serve(tcp_stream& stream, std::string received) {
    co_await exchange(stream, std::move(received));
    // Stream tasks still running hold their connection's place, as an HTTP/1.1 handler
    // does: a client that opens streams and hangs up cannot pile up tasks beyond the
    // connection limit. (A stopping server waits only its grace period, in exchange().)
    while (m_running > 0 && !m_st.stopping.load()) {
        std::vector<finished_stream> posted = co_await posted_future{m_mailbox.get()};
        m_running -= posted.size();
    }
}

task<void> http2_connection::exchange(tcp_stream& stream, std::string received) {
    std::vector<char> buffer(16 * 1024);
    std::vector<finished_stream> posted;
    bool open = receive(received);
    // Without streams, the connection may idle; with streams that are not running (a
    // request still arriving, a reply waiting for flow-control window), each step must come
    // within the request timeout. Running handlers have their own limits (max_sleep_ms).
    const auto quiet_limit = [this] {
        return m_streams.empty() && m_running == 0 ? m_st.options.idle_timeout
                                                   : m_st.options.request_timeout;
    };
    io_deadline quiet = io_deadline::after(quiet_limit());
    while (open) {
        if (!co_await flush(stream)) {
            co_return;
        }
        if (nghttp2_session_want_read(m_session) == 0 &&
            nghttp2_session_want_write(m_session) == 0) {
            co_return; // after a GOAWAY that ends the session, once it is written
        }
        if (m_st.stopping.load()) {
            break;
        }
        const std::optional<io_result> r =
            co_await read_or_posted{stream.read(buffer, &quiet), m_mailbox.get(), &posted};
        if (!r) {
            answer(posted);
            quiet.reset(clock_type::now() + quiet_limit());
            continue;
        }
        if (r->status == io_status::timed_out) {
            if (m_running > 0) {
                quiet.reset(clock_type::now() + quiet_limit());
                continue;
            }
            // Idle, or streams that stopped moving: say goodbye and close.
            nghttp2_submit_goaway(m_session, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(m_session),
                                  NGHTTP2_NO_ERROR, nullptr, 0);
            co_await flush(stream);
            co_return;
        }
        if (!r->ok()) {
            if (m_st.stopping.load()) {
                break; // stop() ended the read: finish gracefully
            }
            co_return; // closed or reset by the client
        }
        open = receive(std::string_view(buffer.data(), r->bytes));
        quiet.reset(clock_type::now() + quiet_limit());
    }
    if (!open) { // a fatal error: the GOAWAY nghttp2 queued goes out, then the connection ends
        co_await flush(stream);
        co_return;
    }
    // Graceful stop: GOAWAY with the last stream taken, the streams running finish within
    // the grace period, then the connection closes.
    nghttp2_submit_goaway(m_session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(m_session), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    const auto give_up = clock_type::now() + std::chrono::nanoseconds(m_st.grace_ns.load());
    for (;;) {
        if (!co_await flush(stream)) {
            co_return;
        }
        if (m_running == 0 || clock_type::now() >= give_up) {
            co_return;
        }
        co_await sleep_for(5ms);
        posted = m_mailbox->take_or_wait(waker{});
        answer(posted);
    }
}

} // namespace

task<void> serve_http2_connection(std::shared_ptr<http_server::state> shared, tcp_stream& stream,
                                  std::string received) {
    const std::uint32_t number = shared->next_http2_connection.fetch_add(1);
    {
        std::lock_guard lock(shared->mutex);
        ++shared->stats.http2_connections;
    }
    http2_connection connection(std::move(shared), number);
    co_await connection.serve(stream, std::move(received));
}

} // namespace taskscope::net::detail
