#include "taskscope/net/chat_server.hpp"

#include "taskscope/record.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/sync.hpp"
#include "taskscope/time.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <stdexcept>
#include <vector>

namespace taskscope::net {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

std::string_view to_string(backlog_mode m) noexcept {
    switch (m) {
    case backlog_mode::ring:
        return "ring";
    case backlog_mode::unbounded:
        return "unbounded";
    }
    return "unknown";
}

std::optional<backlog_mode> parse_backlog_mode(std::string_view text) noexcept {
    for (auto m : {backlog_mode::ring, backlog_mode::unbounded}) {
        if (text == to_string(m)) {
            return m;
        }
    }
    return std::nullopt;
}

namespace {

/// A posted message as every subscriber writes it: formatted once, shared by all.
struct chat_message {
    std::string line;                                ///< {"Message":{...}}\n
    std::uint64_t posted_ticks = trace::now_ticks(); ///< when the Post was read: spans begin here
};
using message_ptr = std::shared_ptr<const chat_message>;

/// One subscriber's queue in unbounded mode, and the bytes waiting in it.
struct subscriber_queue {
    explicit subscriber_queue(mpsc::unbounded_sender<message_ptr> s) : tx(std::move(s)) {}
    mpsc::unbounded_sender<message_ptr> tx;
    std::atomic<std::uint64_t> bytes{0};
};

/// Tells a subscriber task its connection is gone.
struct subscription_control {
    explicit subscription_control(std::string g) : group(std::move(g)) {}
    std::string group;
    std::atomic<bool> stopping{false};
    notify stop{"subscriber stop"};

    void request_stop() noexcept {
        stopping.store(true);
        stop.notify_one(); // stores a permit when the subscriber is not waiting yet
    }
};

std::string error_line(std::string_view text) {
    nlohmann::json doc;
    doc["Error"] = text;
    return doc.dump() + "\n";
}

} // namespace

/// A group: its broadcast channel (ring) or its subscribers' queues (unbounded).
struct chat_group {
    chat_group(std::string n, const chat_server_options& options)
        : name(std::move(n))
        , route(trace::intern(name)) {
        if (options.backlog == backlog_mode::ring) {
            // The receiver made with the channel is dropped: subscribers make their own.
            tx.emplace(broadcast::channel<message_ptr>(options.capacity, name).first);
            slot_bytes.assign(options.capacity, 0);
        }
    }
    const std::string name;
    const trace::name_id route; ///< the group's name in the trace: its requests' route

    std::mutex mutex; // guards what follows, and orders the group's posts
    std::optional<broadcast::sender<message_ptr>> tx;      // ring
    std::vector<std::uint64_t> slot_bytes;                 // ring: bytes in each ring slot
    std::uint64_t sent = 0;                                // ring: messages sent in all
    std::vector<std::shared_ptr<subscriber_queue>> queues; // unbounded
};

struct chat_server::state {
    explicit state(chat_server_options o) : options(std::move(o)) {
        if (options.capacity == 0) {
            throw std::invalid_argument("chat_server: the capacity must be at least 1");
        }
        if (!options.log) {
            options.log = [](std::string_view line) {
                std::fprintf(stderr, "taskscope chat: %.*s\n", static_cast<int>(line.size()),
                             line.data());
            };
        }
    }

    chat_server_options options;
    tcp_listener listener;
    io::read_interrupter connection_reads; // ends connections' reads at stop() (any platform)
    std::atomic<bool> stopping{false};
    std::atomic<std::int64_t> grace_ns{2'000'000'000};
    // relaxed counters: each is read alone, for a report
    std::atomic<std::uint64_t> next_request{1};
    std::atomic<std::uint64_t> subscribers{0};
    std::atomic<std::uint64_t> posts{0};
    std::atomic<std::uint64_t> deliveries{0};
    std::atomic<std::uint64_t> lag_notices{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> queued_bytes{0};
    std::atomic<std::uint64_t> peak_queued_bytes{0};

    mutable std::mutex mutex; // guards what follows
    std::map<std::string, std::shared_ptr<chat_group>, std::less<>> groups;
    std::set<sys::socket_t> connection_fds;
    bool listening = true; // until the accept loop closes the listener

    /// Ends a connection at stop(): its reads (a portable wake, see io::read_interrupter)
    /// and its blocked writes (shutdown fails them). Called under `mutex`.
    void end_connection(sys::socket_t fd) const noexcept {
        connection_reads.interrupt(fd);
        sys::shutdown_socket(fd, sys::shutdown_side::both);
    }

    std::uint64_t connections = 0;
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;
    std::uint64_t accept_errors = 0;

    void add_queued(std::uint64_t n) noexcept {
        const std::uint64_t now = queued_bytes.fetch_add(n, std::memory_order_relaxed) + n;
        std::uint64_t peak = peak_queued_bytes.load(std::memory_order_relaxed);
        while (now > peak &&
               !peak_queued_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
        }
    }
    void remove_queued(std::uint64_t n) noexcept {
        queued_bytes.fetch_sub(n, std::memory_order_relaxed);
    }

    std::shared_ptr<chat_group> find_group(std::string_view name) const {
        std::lock_guard lock(mutex);
        const auto it = groups.find(name);
        return it != groups.end() ? it->second : nullptr;
    }
};

namespace {

using server_state = chat_server::state;

/// A connection: the socket, and the lock every line written to it takes. Owned by its
/// connection task and its subscriber tasks; the last one out closes the socket.
struct chat_connection {
    chat_connection(std::shared_ptr<server_state> st, tcp_stream s)
        : server(std::move(st))
        , stream(std::move(s))
        , fd(stream.native_handle()) {}
    chat_connection(const chat_connection&) = delete;
    chat_connection& operator=(const chat_connection&) = delete;
    ~chat_connection() {
        // Forget the descriptor before `stream` closes it, so stop() never shuts a reused one.
        std::lock_guard lock(server->mutex);
        --server->connections;
        server->connection_fds.erase(fd);
    }

    /// Ends the connection for everyone using it: reads end, blocked writes fail.
    void shut_down() const noexcept { sys::shutdown_socket(fd, sys::shutdown_side::both); }

    std::shared_ptr<server_state> server;
    tcp_stream stream;
    const sys::socket_t fd;
    async_mutex<tcp_stream*> writer{&stream, "chat socket"};
};

/// Writes one line; the lock keeps lines whole when subscribers write at once.
task<io_result> write_line(chat_connection& c, std::string_view line,
                           io_deadline* deadline = nullptr) {
    auto guard = co_await c.writer.lock();
    co_return co_await (*guard)->write_all(line, deadline);
}

/// The last word before closing: skipped when a subscriber holds the socket (a reader
/// that does not read would keep it forever), and given one second.
task<void> write_final_error(chat_connection& c, std::string_view text) {
    c.server->errors.fetch_add(1, std::memory_order_relaxed);
    auto guard = c.writer.try_lock();
    if (!guard) {
        co_return;
    }
    const std::string line = error_line(text);
    auto deadline = io_deadline::after(1s);
    co_await (**guard)->write_all(line, &deadline);
}

/// Awaits a channel's receive, or the subscription's stop: nullopt when stopped.
template <class Inner>
class recv_or_stop {
public:
    using value_type = poll_value_t<Inner>;
    recv_or_stop(Inner inner, subscription_control& control)
        : m_inner(std::move(inner))
        , m_control(&control)
        , m_stop(control.stop.notified()) {}

    poll_result<std::optional<value_type>> poll(context& cx) {
        if (m_control->stopping.load() || m_stop.poll(cx).is_ready()) {
            return std::optional<value_type>();
        }
        poll_result<value_type> got = m_inner.poll(cx);
        if (!got.is_ready()) {
            return pending;
        }
        return std::optional<value_type>(got.take());
    }

private:
    Inner m_inner;
    subscription_control* m_control;
    notify::notified_future m_stop;
};

/// Counts a subscriber task while it exists (a parameter, so the count drops even when
/// the runtime destroys the task before its first poll).
class subscriber_count {
public:
    explicit subscriber_count(std::shared_ptr<server_state> st) noexcept : m_state(std::move(st)) {
        m_state->subscribers.fetch_add(1, std::memory_order_relaxed);
    }
    subscriber_count(subscriber_count&& other) noexcept : m_state(std::move(other.m_state)) {}
    subscriber_count& operator=(subscriber_count&&) = delete;
    ~subscriber_count() {
        if (m_state) {
            m_state->subscribers.fetch_sub(1, std::memory_order_relaxed);
        }
    }

private:
    std::shared_ptr<server_state> m_state;
};

/// Writes `lines` (the messages of `batch`, and any lag notice among them) in one write,
/// then traces each message as a server request on the group's route, from its post to
/// now: its delivery latency to this subscriber, the wait for this writer included.
task<bool> deliver(chat_connection& c, const chat_group& g, const std::string& lines,
                   std::span<const message_ptr> batch) {
    server_state& st = *c.server;
    const io_result written = co_await write_line(c, lines);
    for (const message_ptr& m : batch) {
        record_queued_request_begin(st.next_request.fetch_add(1, std::memory_order_relaxed),
                                    g.route, trace::request_side::server, m->posted_ticks);
        record_queued_request_end(written.ok() ? m->line.size() : 0, written.ok() ? 200 : 0,
                                  trace::request_side::server);
    }
    if (written.ok()) {
        st.deliveries.fetch_add(batch.size(), std::memory_order_relaxed);
    }
    co_return written.ok();
}

/// At most this much goes into one write of a subscriber: what a reader that keeps up finds
/// waiting goes out in one system call, not one a message.
constexpr std::size_t max_batch_messages = 256;
constexpr std::size_t max_batch_bytes = 64 * 1024;

/// Ring mode: forwards the group's broadcast to the connection, everything waiting at once;
/// a lag becomes an Error line saying how many messages were lost.
task<void> ring_subscriber(std::shared_ptr<chat_connection> conn, std::shared_ptr<chat_group> g,
                           broadcast::receiver<message_ptr> rx,
                           std::shared_ptr<subscription_control> control,
                           [[maybe_unused]] subscriber_count counted) {
    server_state& st = *conn->server;
    std::string lines;
    std::vector<message_ptr> batch;
    bool closed = false;
    // Adds one receive's result to the batch; false for closed.
    const auto take = [&](broadcast::recv_result<message_ptr>& got) {
        if (std::holds_alternative<broadcast::closed>(got)) {
            return false;
        }
        if (const auto* lag = std::get_if<broadcast::lagged>(&got)) {
            st.lag_notices.fetch_add(1, std::memory_order_relaxed);
            st.dropped.fetch_add(lag->missed, std::memory_order_relaxed);
            lines += error_line("Dropped " + std::to_string(lag->missed) + " messages from " +
                                g->name + ".");
            return true;
        }
        message_ptr message = std::get<message_ptr>(std::move(got));
        lines += message->line;
        batch.push_back(std::move(message));
        return true;
    };
    while (!closed && !control->stopping.load()) {
        recv_or_stop next(rx.recv(), *control);
        std::optional<broadcast::recv_result<message_ptr>> got = co_await next;
        lines.clear();
        batch.clear();
        if (!got || !take(*got)) {
            break;
        }
        while (batch.size() < max_batch_messages && lines.size() < max_batch_bytes) {
            std::optional<broadcast::recv_result<message_ptr>> more = rx.try_recv();
            if (!more) {
                break;
            }
            if (!take(*more)) {
                closed = true; // after writing what came before
                break;
            }
        }
        if (!co_await deliver(*conn, *g, lines, batch)) {
            break;
        }
    }
}

/// Unbounded mode: forwards the subscriber's own queue; nothing is ever dropped.
task<void> queue_subscriber(std::shared_ptr<chat_connection> conn, std::shared_ptr<chat_group> g,
                            mpsc::receiver<message_ptr> rx, std::shared_ptr<subscriber_queue> queue,
                            std::shared_ptr<subscription_control> control,
                            [[maybe_unused]] subscriber_count counted) {
    server_state& st = *conn->server;
    while (!control->stopping.load()) {
        recv_or_stop next(rx.recv(), *control);
        std::optional<std::optional<message_ptr>> got = co_await next;
        if (!got || !*got) {
            break;
        }
        const message_ptr message = std::move(**got);
        const auto bytes = static_cast<std::uint64_t>(message->line.size());
        queue->bytes.fetch_sub(bytes, std::memory_order_relaxed);
        st.remove_queued(bytes);
        if (!co_await deliver(*conn, *g, message->line, std::span(&message, 1))) {
            break;
        }
    }
    {
        // No post reaches the queue after this: what is left in it is freed with `rx`.
        std::lock_guard lock(g->mutex);
        std::erase(g->queues, queue);
    }
    st.remove_queued(queue->bytes.exchange(0));
}

/// Sends `message` to the group's subscribers and keeps the queued-bytes tally.
void post_to(server_state& st, chat_group& g, const message_ptr& message) {
    const auto bytes = static_cast<std::uint64_t>(message->line.size());
    std::lock_guard lock(g.mutex);
    if (g.tx) {
        // This message takes the place of the one sent `capacity` messages ago.
        std::uint64_t& slot = g.slot_bytes[g.sent % g.slot_bytes.size()];
        if (bytes >= slot) {
            st.add_queued(bytes - slot);
        } else {
            st.remove_queued(slot - bytes);
        }
        slot = bytes;
        ++g.sent;
        g.tx->send(message);
        return;
    }
    for (const auto& queue : g.queues) {
        queue->bytes.fetch_add(bytes, std::memory_order_relaxed);
        st.add_queued(bytes);
        queue->tx.send(message);
    }
}

/// The group named `name`, made if new; nullptr when the server has max_groups already.
std::shared_ptr<chat_group> group_for_join(server_state& st, const std::string& name) {
    std::lock_guard lock(st.mutex);
    if (const auto it = st.groups.find(name); it != st.groups.end()) {
        return it->second;
    }
    if (st.groups.size() >= st.options.max_groups) {
        return nullptr;
    }
    auto g = std::make_shared<chat_group>(name, st.options);
    st.groups.emplace(name, g);
    return g;
}

constexpr std::string_view usage_hint =
    R"(: send one JSON object a line, such as {"Join":{"group_name":"g"}} or )"
    R"({"Post":{"group_name":"g","message":"hi"}})";

/// The connection's own state: the groups it joined.
struct joined_groups {
    std::map<std::string, std::shared_ptr<subscription_control>, std::less<>> by_name;
};

/// Handles one Join; returns the Error text, empty when it went well.
std::string join(const std::shared_ptr<chat_connection>& conn, joined_groups& joined,
                 const std::string& name) {
    server_state& st = *conn->server;
    if (name.empty()) {
        return "The group name must not be empty";
    }
    if (joined.by_name.contains(name)) {
        return {}; // already a member: nothing changes
    }
    if (joined.by_name.size() >= st.options.max_groups_per_connection) {
        return "Too many groups: a connection may join at most " +
               std::to_string(st.options.max_groups_per_connection);
    }
    std::shared_ptr<chat_group> g = group_for_join(st, name);
    if (!g) {
        return "Too many groups on this server (at most " + std::to_string(st.options.max_groups) +
               ")";
    }
    auto control = std::make_shared<subscription_control>(name);
    // At most 48 bytes of the name, cut between UTF-8 characters (half a character would
    // make the trace's names invalid JSON for `taskscope-cli stats --json`).
    std::size_t cut = std::min<std::size_t>(name.size(), 48);
    while (cut > 0 && cut < name.size() && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    const std::string task_name = "subscriber " + name.substr(0, cut);
    // Subscribed here, before the next line is read: a Post that follows the Join on this
    // connection reaches this subscriber.
    if (g->tx) {
        broadcast::receiver<message_ptr> rx = g->tx->subscribe();
        spawn(ring_subscriber(conn, g, std::move(rx), control, subscriber_count(conn->server)),
              task_name)
            .detach();
    } else {
        auto [tx, rx] = mpsc::unbounded<message_ptr>(name);
        auto queue = std::make_shared<subscriber_queue>(std::move(tx));
        {
            std::lock_guard lock(g->mutex);
            g->queues.push_back(queue);
        }
        spawn(queue_subscriber(conn, g, std::move(rx), std::move(queue), control,
                               subscriber_count(conn->server)),
              task_name)
            .detach();
    }
    joined.by_name.emplace(name, std::move(control));
    return {};
}

std::string stats_document(const server_state& st);

/// Handles one line; returns what to write back (empty: nothing).
std::string handle_line(const std::shared_ptr<chat_connection>& conn, joined_groups& joined,
                        std::string_view line) {
    server_state& st = *conn->server;
    const nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded()) {
        st.errors.fetch_add(1, std::memory_order_relaxed);
        return error_line("Malformed JSON" + std::string(usage_hint));
    }
    const auto text_field = [](const nlohmann::json& object,
                               std::string_view key) -> const std::string* {
        if (!object.is_object()) {
            return nullptr;
        }
        const auto it = object.find(key);
        return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
    };
    if (doc.is_object() && doc.size() == 1) {
        const auto first = doc.begin();
        const std::string& kind = first.key();
        const nlohmann::json& body = first.value();
        if (kind == "Join") {
            const std::string* name = text_field(body, "group_name");
            std::string problem =
                name != nullptr
                    ? join(conn, joined, *name)
                    : std::string(R"(Join needs a group_name: {"Join":{"group_name":"g"}})");
            if (problem.empty()) {
                return {};
            }
            st.errors.fetch_add(1, std::memory_order_relaxed);
            return error_line(problem);
        }
        if (kind == "Post") {
            const std::string* name = text_field(body, "group_name");
            const std::string* message = text_field(body, "message");
            if (name == nullptr || message == nullptr) {
                st.errors.fetch_add(1, std::memory_order_relaxed);
                return error_line(
                    R"(Post needs a group_name and a message: {"Post":{"group_name":"g","message":"hi"}})");
            }
            std::shared_ptr<chat_group> g = st.find_group(*name);
            if (!g) {
                st.errors.fetch_add(1, std::memory_order_relaxed);
                return error_line("Group '" + *name + "' does not exist");
            }
            nlohmann::json out;
            out["Message"]["group_name"] = *name;
            out["Message"]["message"] = *message;
            auto m = std::make_shared<chat_message>();
            m->line = out.dump() + "\n";
            st.posts.fetch_add(1, std::memory_order_relaxed);
            post_to(st, *g, m);
            return {};
        }
        if (kind == "Stats") {
            return R"({"Stats":)" + stats_document(st) + "}\n";
        }
    }
    st.errors.fetch_add(1, std::memory_order_relaxed);
    return error_line("Unknown message: expected Join, Post or Stats" + std::string(usage_hint));
}

task<void> handle_connection(std::shared_ptr<chat_connection> conn) {
    server_state& st = *conn->server;
    joined_groups joined;
    std::string pending_bytes; // received, not yet a whole line
    std::vector<char> buffer(16 * 1024);
    bool open = true;
    while (open && !st.stopping.load()) {
        const io_result r = co_await conn->stream.read(buffer);
        if (!r.ok()) {
            break; // closed by the peer, reset, or shut down by stop()
        }
        pending_bytes.append(buffer.data(), r.bytes);
        std::size_t start = 0;
        for (;;) {
            const std::size_t end = pending_bytes.find('\n', start);
            const std::size_t length =
                (end == std::string::npos ? pending_bytes.size() : end) - start;
            if (length > st.options.max_line_bytes) {
                const std::string problem = "Line too long: at most " +
                                            std::to_string(st.options.max_line_bytes) +
                                            " bytes a line; closing the connection";
                co_await write_final_error(*conn, problem);
                open = false;
                break;
            }
            if (end == std::string::npos) {
                break;
            }
            std::string_view line(pending_bytes.data() + start, end - start);
            start = end + 1;
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            if (line.find_first_not_of(" \t") == std::string_view::npos) {
                continue;
            }
            const std::string reply = handle_line(conn, joined, line);
            if (!reply.empty()) {
                const io_result written = co_await write_line(*conn, reply);
                if (!written.ok()) {
                    open = false;
                    break;
                }
            }
        }
        pending_bytes.erase(0, start);
    }
    for (const auto& [name, control] : joined.by_name) {
        control->request_stop();
    }
    conn->shut_down(); // a subscriber blocked writing to a reader that never reads stops too
}

/// Turns away a connection over the limit, with a line saying why.
task<void> refuse_connection(std::shared_ptr<server_state> st, tcp_stream stream) {
    auto deadline = io_deadline::after(1s);
    const std::string line =
        error_line("Too many connections (at most " + std::to_string(st->options.max_connections) +
                   "): try again later");
    co_await stream.write_all(line, &deadline);
}

task<void> accept_connections(std::shared_ptr<server_state> st) {
    while (!st->stopping.load()) {
        accept_result accepted = co_await st->listener.accept();
        if (st->stopping.load()) {
            break;
        }
        if (!accepted.result.ok()) {
            {
                std::lock_guard lock(st->mutex);
                ++st->accept_errors;
            }
            st->options.log("accept failed: " + std::string(to_string(accepted.result.status)) +
                            (accepted.result.status == io_status::too_many_files
                                 ? " (out of file descriptors); retrying in 50 ms"
                                 : ""));
            co_await sleep_for(50ms); // let connections close before trying again
            continue;
        }
        bool over_limit = false;
        {
            std::lock_guard lock(st->mutex);
            ++st->accepted;
            over_limit = st->connections >= st->options.max_connections;
            if (over_limit) {
                ++st->refused;
            } else { // admitted: counted, and reachable by stop() from now on
                ++st->connections;
                st->connection_fds.insert(accepted.stream.native_handle());
            }
        }
        if (over_limit) {
            spawn(refuse_connection(st, std::move(accepted.stream)), "refuse_connection").detach();
            continue;
        }
        if (const int size = st->options.send_buffer_bytes; size > 0) {
            sys::set_send_buffer(accepted.stream.native_handle(), size);
        }
        auto conn = std::make_shared<chat_connection>(st, std::move(accepted.stream));
        spawn(handle_connection(std::move(conn)), "chat_connection").detach();
    }
    {
        std::lock_guard lock(st->mutex);
        st->listening = false;
        st->listener.close();
        for (const sys::socket_t fd : st->connection_fds) { // accepted after stop() began
            st->end_connection(fd);
        }
    }
    const auto give_up = clock_type::now() + std::chrono::nanoseconds(st->grace_ns.load());
    for (;;) {
        {
            std::lock_guard lock(st->mutex);
            if (st->connections == 0 && st->subscribers.load() == 0) {
                break;
            }
        }
        if (clock_type::now() >= give_up) {
            st->options.log("stopped with connections still open after the grace period");
            break;
        }
        co_await sleep_for(5ms);
    }
    // The groups' channels close here, on a worker, so the trace has their end (dropped
    // later on a thread outside the runtime, their close would record nothing).
    std::map<std::string, std::shared_ptr<chat_group>, std::less<>> groups;
    {
        std::lock_guard lock(st->mutex);
        groups.swap(st->groups);
    }
    groups.clear();
}

std::string stats_document(const server_state& st) {
    nlohmann::json doc;
    {
        std::lock_guard lock(st.mutex);
        doc["connections"] = st.connections;
        doc["accepted"] = st.accepted;
        doc["refused"] = st.refused;
        doc["groups"] = st.groups.size();
    }
    doc["subscribers"] = st.subscribers.load();
    doc["posts"] = st.posts.load();
    doc["deliveries"] = st.deliveries.load();
    doc["lag_notices"] = st.lag_notices.load();
    doc["dropped"] = st.dropped.load();
    doc["errors"] = st.errors.load();
    doc["queued_bytes"] = st.queued_bytes.load();
    doc["peak_queued_bytes"] = st.peak_queued_bytes.load();
    doc["backlog"] = std::string(to_string(st.options.backlog));
    doc["capacity"] = st.options.capacity;
    return doc.dump();
}

} // namespace

struct chat_server::started {
    join_handle<void> running;
};

chat_server::chat_server(chat_server_options options)
    : m_state(std::make_shared<state>(std::move(options))) {
    m_state->listener = tcp_listener::bind(m_state->options.host, m_state->options.port);
    m_state->connection_reads = io::read_interrupter::current("chat_server");
}

std::unique_ptr<chat_server> chat_server::start(runtime& rt, chat_server_options options) {
    auto construct = [](chat_server_options o) -> task<std::unique_ptr<chat_server>> {
        co_return std::make_unique<chat_server>(std::move(o));
    };
    std::unique_ptr<chat_server> server = rt.block_on(construct(std::move(options)), "bind chat");
    server->m_started = std::make_unique<started>(rt.spawn(server->run(), "chat_accept_loop"));
    return server;
}

chat_server::~chat_server() {
    if (m_started) {
        try {
            stop_and_wait();
        } catch (...) { // the runtime shut down first: run() was cancelled
        }
    }
}

std::uint16_t chat_server::port() const noexcept {
    return m_state->listener.port();
}

const chat_server_options& chat_server::options() const noexcept {
    return m_state->options;
}

task<void> chat_server::run() {
    return accept_connections(m_state);
}

void chat_server::stop(std::chrono::milliseconds grace) noexcept {
    m_state->grace_ns.store(std::chrono::nanoseconds(grace).count());
    if (m_state->stopping.exchange(true)) {
        return;
    }
    std::lock_guard lock(m_state->mutex);
    if (m_state->listening) {
        m_state->listener.interrupt(); // wakes the accept loop
    }
    for (const sys::socket_t fd : m_state->connection_fds) {
        m_state->end_connection(fd);
    }
}

void chat_server::stop_and_wait() {
    stop();
    if (m_started && m_started->running.valid()) {
        std::exchange(m_started->running, {}).get();
    }
}

chat_stats chat_server::stats() const {
    const state& st = *m_state;
    chat_stats out;
    {
        std::lock_guard lock(st.mutex);
        out.connections = st.connections;
        out.accepted = st.accepted;
        out.refused = st.refused;
        out.accept_errors = st.accept_errors;
        out.groups = st.groups.size();
    }
    out.subscribers = st.subscribers.load();
    out.posts = st.posts.load();
    out.deliveries = st.deliveries.load();
    out.lag_notices = st.lag_notices.load();
    out.dropped = st.dropped.load();
    out.errors = st.errors.load();
    out.queued_bytes = st.queued_bytes.load();
    out.peak_queued_bytes = st.peak_queued_bytes.load();
    return out;
}

std::string chat_server::stats_json() const {
    return stats_document(*m_state);
}

} // namespace taskscope::net
