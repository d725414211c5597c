#include "backends.hpp"
#include "taskscope/net/tcp.hpp"
#include "taskscope/taskscope.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#if !defined(_WIN32)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace taskscope;
using namespace std::chrono_literals;
using net::io_status;

namespace {

/// Catch's assertions are not for worker threads: inside tasks, fail by throwing, which
/// the join carries back to the test thread.
void expect(bool condition, const char* what) {
    if (!condition) {
        throw std::runtime_error(what);
    }
}

/// Echoes one connection until the peer closes.
task<void> echo_connection(net::tcp_stream stream) {
    std::vector<char> buf(4096);
    for (;;) {
        const auto r = co_await stream.read(buf);
        if (!r.ok()) {
            co_return;
        }
        if (!(co_await stream.write_all(std::string_view(buf.data(), r.bytes))).ok()) {
            co_return;
        }
    }
}

task<void> echo_server(net::tcp_listener& listener, int connections) {
    std::vector<join_handle<void>> handlers;
    for (int i = 0; i < connections; ++i) {
        auto accepted = co_await listener.accept();
        expect(accepted.result.ok(), "accept failed");
        handlers.push_back(spawn(echo_connection(std::move(accepted.stream)), "echo"));
    }
    for (auto& h : handlers) {
        co_await h;
    }
}

/// Sends `payload`, reads the same number of bytes back, closes.
task<std::string> echo_client(std::uint16_t port, std::string payload) {
    auto [result, stream] = co_await net::tcp_stream::connect("127.0.0.1", port);
    if (!result.ok()) {
        co_return std::string("connect failed: ") + std::string(net::to_string(result.status));
    }
    auto writer = [](net::tcp_stream& s, std::string data) -> task<net::io_result> {
        auto r = co_await s.write_all(data);
        s.shutdown_write();
        co_return r;
    };
    // Write concurrently with reading, or a large payload would fill both buffers.
    auto sent = spawn(writer(stream, payload));
    std::string received;
    std::vector<char> buf(65536);
    while (received.size() < payload.size()) {
        const auto r = co_await stream.read(buf);
        if (!r.ok()) {
            break;
        }
        received.append(buf.data(), r.bytes);
    }
    co_await sent;
    co_return received;
}

} // namespace

TEST_CASE("TCP echo over loopback on each reactor backend", "[net][tcp]") {
    for (const auto backend : test::built_reactor_backends()) {
        DYNAMIC_SECTION("backend " << to_string(backend)) {
            runtime rt({.workers = 2, .reactor = backend});
            auto body = []() -> task<bool> {
                auto listener = net::tcp_listener::bind("127.0.0.1", 0);
                expect(listener.port() != 0, "no port");
                auto server = spawn(echo_server(listener, 8), "server");
                std::vector<join_handle<std::string>> clients;
                std::vector<std::string> payloads;
                for (int i = 0; i < 8; ++i) {
                    // one large payload forces partial writes and EAGAIN both ways
                    payloads.push_back(i == 0 ? std::string(4 << 20, 'x')
                                              : "hello " + std::to_string(i));
                    clients.push_back(
                        spawn(echo_client(listener.port(), payloads.back()), "client"));
                }
                bool all_equal = true;
                for (std::size_t i = 0; i < clients.size(); ++i) {
                    all_equal = all_equal && (co_await clients[i]) == payloads[i];
                }
                co_await server;
                co_return all_equal;
            };
            CHECK(rt.block_on(body()));
        }
    }
}

TEST_CASE("connecting to a closed port reports connection_refused", "[net][tcp]") {
    runtime rt({.workers = 1});
    auto body = []() -> task<io_status> {
        std::uint16_t port = 0;
        {
            auto probe = net::tcp_listener::bind("127.0.0.1", 0);
            port = probe.port();
        } // closed again: nobody listens there now
        auto [result, stream] = co_await net::tcp_stream::connect("127.0.0.1", port);
        co_return result.status;
    };
    CHECK(rt.block_on(body()) == io_status::connection_refused);
}

TEST_CASE("a read with a deadline times out, and the peer's close reads as closed", "[net][tcp]") {
    for (const auto backend : test::built_reactor_backends()) {
        DYNAMIC_SECTION("backend " << to_string(backend)) {
            runtime rt({.workers = 1, .reactor = backend});
            auto body = []() -> task<std::pair<io_status, io_status>> {
                auto listener = net::tcp_listener::bind("127.0.0.1", 0);
                auto [connected, client] =
                    co_await net::tcp_stream::connect("127.0.0.1", listener.port());
                expect(connected.ok(), "connect failed");
                auto accepted = co_await listener.accept();
                expect(accepted.result.ok(), "accept failed");
                char buf[16];
                auto deadline = net::io_deadline::after(30ms);
                const auto silent = co_await accepted.stream.read(buf, &deadline);
                client.close();
                auto later = net::io_deadline::after(5s);
                const auto closed = co_await accepted.stream.read(buf, &later);
                co_return std::pair{silent.status, closed.status};
            };
            const auto [silent, closed] = rt.block_on(body());
            CHECK(silent == io_status::timed_out);
            CHECK(closed == io_status::closed);
        }
    }
}

TEST_CASE("single-threaded mode drives the reactor from block_on", "[net][tcp][single]") {
    runtime rt({.single_threaded = true});
    auto body = []() -> task<std::string> {
        auto listener = net::tcp_listener::bind("127.0.0.1", 0);
        auto server = spawn(echo_server(listener, 1));
        auto echoed = co_await echo_client(listener.port(), "one thread");
        co_await server;
        co_return echoed;
    };
    CHECK(rt.block_on(body()) == "one thread");
}

TEST_CASE("socket readiness is traced as io_ready and wakes with source io", "[net][tcp][trace]") {
    auto sink = std::make_shared<trace::memory_sink>();
    runtime rt({.workers = 1});
    rt.trace().add_sink(sink);
    auto body = []() -> task<std::string> {
        auto listener = net::tcp_listener::bind("127.0.0.1", 0);
        auto server = spawn(echo_server(listener, 1), "server");
        auto echoed = co_await echo_client(listener.port(), "traced");
        co_await server;
        co_return echoed;
    };
    CHECK(rt.block_on(body()) == "traced");
    rt.shutdown();
    const auto events = sink->events();
    int io_ready = 0;
    int io_wakes = 0;
    for (const auto& e : events) {
        io_ready += e.kind == trace::event_kind::io_ready;
        io_wakes += e.kind == trace::event_kind::wake &&
                    e.detail == static_cast<std::uint8_t>(trace::wake_source::io);
    }
    CHECK(io_ready > 0);
    CHECK(io_wakes >= io_ready); // each io_ready names a task that is then woken
}

TEST_CASE("binding a bad address gives an error that names it", "[net][tcp]") {
    runtime rt({.workers = 1});
    auto body = []() -> task<std::string> {
        try {
            auto l = net::tcp_listener::bind("not-an-address", 8080);
        } catch (const std::system_error& e) {
            co_return e.what();
        }
        co_return "no error";
    };
    CHECK_THAT(rt.block_on(body()), Catch::Contains("not-an-address:8080"));
}

TEST_CASE(
    "automatic is epoll where built, poll when TASKSCOPE_REACTOR=poll or in the portable build",
    "[net][tcp]") {
    // Whichever the environment says, an explicit choice wins and automatic follows it.
    const char* chosen = std::getenv("TASKSCOPE_REACTOR");
    const bool poll_wanted = chosen != nullptr && std::string_view(chosen) == "poll";
    const bool has_epoll = reactor_backend_available(reactor_backend::epoll);
    runtime automatic({.workers = 1});
    CHECK(automatic.reactor() ==
          (poll_wanted || !has_epoll ? reactor_backend::poll : reactor_backend::epoll));
    if (has_epoll) {
        runtime explicit_epoll({.workers = 1, .reactor = reactor_backend::epoll});
        CHECK(explicit_epoll.reactor() == reactor_backend::epoll);
    } else { // the portable build: asking for epoll is a clear error, not a silent poll
        CHECK_THROWS_AS(runtime({.workers = 1, .reactor = reactor_backend::epoll}),
                        std::invalid_argument);
    }
    CHECK(reactor_backend_available(reactor_backend::poll));
    CHECK(reactor_backend_available(reactor_backend::automatic));
}

#if !defined(_WIN32) // Windows refuses a connect to a full backlog instead of leaving it
                     // in progress: the case this test builds does not arise there
TEST_CASE("connect reports success only once the connection exists", "[net][tcp]") {
    // A listener with backlog 0 that never accepts: once its queue is full the kernel
    // drops further SYNs, so those connects stay in progress and must time out, never
    // come back "ok" with a socket that is not connected.
    int listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listen_fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listen_fd, 0) == 0);
    socklen_t length = sizeof address;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
    const std::uint16_t port = ntohs(address.sin_port);
    runtime rt({.workers = 1});
    auto body = [port]() -> task<std::pair<int, int>> {
        std::vector<net::tcp_stream> kept;
        int ok_but_unconnected = 0;
        int timed_out = 0;
        for (int i = 0; i < 6; ++i) {
            auto deadline = net::io_deadline::after(300ms);
            auto [result, stream] = co_await net::tcp_stream::connect("127.0.0.1", port, &deadline);
            if (result.ok()) {
                sockaddr_in peer{};
                socklen_t peer_length = sizeof peer;
                ok_but_unconnected +=
                    ::getpeername(stream.native_handle(), reinterpret_cast<sockaddr*>(&peer),
                                  &peer_length) != 0;
            }
            timed_out += result.status == io_status::timed_out;
            kept.push_back(std::move(stream));
        }
        co_return std::pair{ok_but_unconnected, timed_out};
    };
    const auto [ok_but_unconnected, timed_out] = rt.block_on(body());
    ::close(listen_fd);
    CHECK(ok_but_unconnected == 0);
    CHECK(timed_out > 0); // the queue did fill: the case above was exercised
}
#endif

TEST_CASE("a busy worker leaves the reactor to a sleeping one", "[net][tcp]") {
    // Four workers. A task reads a socket, then blocks its worker for 600 ms. Data sent to
    // a second socket meanwhile must be read by another worker before the block ends,
    // which only happens if an idle worker takes over the reactor (asserted from the trace).
    auto sink = std::make_shared<trace::memory_sink>();
    runtime rt({.workers = 4});
    rt.trace().add_sink(sink);
    auto body = []() -> task<void> {
        auto listener = net::tcp_listener::bind("127.0.0.1", 0);
        auto [c1, client1] = co_await net::tcp_stream::connect("127.0.0.1", listener.port());
        auto a1 = co_await listener.accept();
        auto [c2, client2] = co_await net::tcp_stream::connect("127.0.0.1", listener.port());
        auto a2 = co_await listener.accept();
        expect(c1.ok() && c2.ok() && a1.result.ok() && a2.result.ok(), "setup failed");
        auto blocker = [](net::tcp_stream s) -> task<void> {
            char b[8];
            co_await s.read(b);
            blocking_sleep(600ms);
        };
        auto reader = [](net::tcp_stream s) -> task<void> {
            char b[8];
            co_await s.read(b);
        };
        auto blocked = spawn(blocker(std::move(a1.stream)), "blocker");
        auto read = spawn(reader(std::move(a2.stream)), "reader");
        co_await sleep_for(20ms); // both tasks wait on their sockets
        co_await client1.write_all("x");
        co_await sleep_for(50ms); // the blocker is now blocking its worker
        co_await client2.write_all("y");
        co_await read;
        co_await blocked;
    };
    rt.block_on(body());
    rt.shutdown();
    const auto events = sink->events();
    std::uint64_t blocker = 0, reader = 0, block_end = 0, reader_done = 0;
    for (const auto& e : events) {
        if (e.kind == trace::event_kind::task_spawned) {
            blocker = e.arg2 == trace::intern("blocker") ? e.task : blocker;
            reader = e.arg2 == trace::intern("reader") ? e.task : reader;
        }
    }
    for (const auto& e : events) {
        if (e.kind == trace::event_kind::block_end && e.task == blocker) {
            block_end = e.time_ns;
        }
        if (e.kind == trace::event_kind::poll_end && e.task == reader &&
            e.detail == static_cast<std::uint8_t>(trace::poll_result::ready)) {
            reader_done = e.time_ns;
        }
    }
    REQUIRE(block_end != 0);
    REQUIRE(reader_done != 0);
    CHECK(reader_done < block_end);
}
