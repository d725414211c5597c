#include "../engine/test_support.hpp"
#include "backends.hpp"
#include "server_fixture.hpp"
#include "taskscope/net/http_server.hpp"
#include "taskscope/net/load_generator.hpp"
#include "taskscope/net/tcp.hpp"
#include "taskscope/taskscope.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <charconv>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

// Real sockets on 127.0.0.1. The server runs on a runtime of its own, so the number of
// workers serving it is exactly what a test asks for; clients run on a second runtime.
// Orderings are read from the server's trace where they matter, not from wall clocks.

using namespace taskscope;
using namespace std::chrono_literals;
using net::io_status;
using trace::event;
using trace::event_kind;
using clock_type = std::chrono::steady_clock;
using net_tests::eventually;
using net_tests::server_fixture;

namespace {

constexpr std::string_view hello_body = "hello from taskscope\n";

/// Catch's assertions are not for worker threads: inside tasks, fail by throwing, which
/// the join carries back to the test thread.
/// (A string_view, not a std::string: a temporary std::string in a full expression that
/// also awaits is what g++ 12 miscompiles.)
void expect(bool condition, std::string_view what) {
    if (!condition) {
        throw std::runtime_error(std::string(what));
    }
}

/// One response as read off the wire.
struct http_reply {
    int status = 0;
    std::string head; ///< status line and headers
    std::string body;
};

/// The complete responses at the front of `raw`, framed by Content-Length as the server
/// frames every response.
std::vector<http_reply> parse_replies(std::string_view raw) {
    std::vector<http_reply> out;
    for (;;) {
        const auto head_end = raw.find("\r\n\r\n");
        if (head_end == std::string_view::npos || !raw.starts_with("HTTP/1.1 ") || head_end < 12) {
            return out;
        }
        http_reply reply;
        reply.head = std::string(raw.substr(0, head_end));
        std::from_chars(raw.data() + 9, raw.data() + 12, reply.status);
        std::size_t length = 0;
        constexpr std::string_view field = "Content-Length: ";
        if (const auto at = reply.head.find(field); at != std::string::npos) {
            const char* digits = reply.head.data() + at + field.size();
            std::from_chars(digits, reply.head.data() + reply.head.size(), length);
        }
        const std::size_t total = head_end + 4 + length;
        if (raw.size() < total) {
            return out;
        }
        reply.body = std::string(raw.substr(head_end + 4, length));
        out.push_back(std::move(reply));
        raw.remove_prefix(total);
    }
}

std::size_t count_of(std::string_view text, std::string_view needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

std::string get_request(std::string_view target, bool close = true) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
           (close ? "Connection: close\r\n" : "") + "\r\n";
}

/// What a client read, and how its reading ended.
struct wire_result {
    std::string raw;
    io_status end = io_status::ok;  ///< ok: got the replies it waited for
    clock_type::duration elapsed{}; ///< from read_replies' `since` to the last byte read
    [[nodiscard]] std::vector<http_reply> replies() const { return parse_replies(raw); }
    [[nodiscard]] int status() const {
        const auto all = replies();
        return all.empty() ? 0 : all.front().status;
    }
};

task<net::tcp_stream> connect_to(std::uint16_t port) {
    auto deadline = net::io_deadline::after(5s);
    auto [result, stream] = co_await net::tcp_stream::connect("127.0.0.1", port, &deadline);
    expect(result.ok(), "connect failed: " + std::string(net::to_string(result.status)));
    co_return std::move(stream);
}

/// Reads until `replies` complete responses arrived (0: until the peer closes), the peer
/// closed, or `limit` passed. `elapsed` counts from `since`: take it before writing the
/// request, since a client descheduled after its write would otherwise measure short.
task<wire_result> read_replies(net::tcp_stream& stream, std::size_t replies,
                               std::chrono::milliseconds limit = 10s,
                               clock_type::time_point since = clock_type::now()) {
    wire_result out;
    std::vector<char> buf(16 * 1024);
    auto deadline = net::io_deadline::after(limit);
    while (replies == 0 || parse_replies(out.raw).size() < replies) {
        const auto r = co_await stream.read(buf, &deadline);
        if (!r.ok()) {
            out.end = r.status;
            break;
        }
        out.raw.append(buf.data(), r.bytes);
    }
    out.elapsed = clock_type::now() - since;
    co_return out;
}

/// Sends `request` on a fresh connection and reads until the server closes it.
task<wire_result> exchange(std::uint16_t port, std::string request) {
    auto stream = co_await connect_to(port);
    const auto started = clock_type::now();
    const auto sent = co_await stream.write_all(request);
    expect(sent.ok(), "write failed: " + std::string(net::to_string(sent.status)));
    co_return co_await read_replies(stream, 0, 10s, started);
}

task<std::vector<wire_result>> exchange_each(std::uint16_t port,
                                             std::vector<std::string> requests) {
    std::vector<wire_result> out;
    for (const auto& request : requests) {
        out.push_back(co_await exchange(port, request));
    }
    co_return out;
}

using stats_predicate = bool (*)(const net::http_stats&);

/// Waits inside a task until the server's counters satisfy `done`.
task<void> wait_for_stats(const net::http_server& server, stats_predicate done, const char* what) {
    const auto give_up = clock_type::now() + 10s;
    while (!done(server.stats())) {
        expect(clock_type::now() < give_up, std::string("timed out waiting for ") + what);
        co_await sleep_for(2ms);
    }
}

bool one_in_flight(const net::http_stats& s) {
    return s.in_flight >= 1;
}

/// An index into a trace that names no event.
constexpr std::size_t no_event = static_cast<std::size_t>(-1);

/// Where one server-side request shows in a trace: indices into the events.
struct served_request {
    std::uint64_t task = 0;
    std::size_t begin = no_event; ///< request_begin
    std::size_t end = no_event;   ///< the request_end that closes it
};

/// The first request the server (detail 0) began for `route`, and its end.
served_request find_served(const std::vector<event>& events, std::string_view route) {
    const trace::name_id id = trace::intern(route);
    served_request out;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const event& e = events[i];
        if (out.begin == no_event) {
            if (e.kind == event_kind::request_begin && e.detail == 0 && e.arg2 == id) {
                out.begin = i;
                out.task = e.task;
            }
        } else if (e.kind == event_kind::request_end && e.detail == 0 && e.task == out.task) {
            out.end = i;
            break;
        }
    }
    return out;
}

/// The first event of `kind` about `task`.
std::size_t index_of(const std::vector<event>& events, event_kind kind, std::uint64_t task) {
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (events[i].kind == kind && events[i].task == task) {
            return i;
        }
    }
    return no_event;
}

} // namespace

// ---------------------------------------------------------------- keep-alive, routes

TEST_CASE("GET / keeps the connection alive and answers pipelined requests in order",
          "[net][http][keepalive]") {
    for (const auto backend : test::built_reactor_backends()) {
        DYNAMIC_SECTION("backend " << to_string(backend)) {
            server_fixture srv({.workers = 2, .reactor = backend}, {});
            runtime clients({.workers = 2, .reactor = backend});

            auto sequential = [](std::uint16_t port) -> task<std::vector<wire_result>> {
                auto stream = co_await connect_to(port);
                const std::string request = get_request("/", false);
                std::vector<wire_result> out;
                for (int i = 0; i < 3; ++i) {
                    expect((co_await stream.write_all(request)).ok(), "write failed");
                    out.push_back(co_await read_replies(stream, 1));
                }
                co_return out;
            };
            const auto replies = clients.block_on(sequential(srv.port()));
            REQUIRE(replies.size() == 3);
            for (const auto& r : replies) {
                REQUIRE(r.replies().size() == 1);
                CHECK(r.status() == 200);
                CHECK(r.replies()[0].body == hello_body);
                CHECK_THAT(r.replies()[0].head, Catch::Contains("Connection: keep-alive"));
            }

            // Three requests in one write; the slow one first, so an answer out of order
            // would show. The last asks to close, so the server ends the connection.
            auto pipelined = [](std::uint16_t port) -> task<wire_result> {
                auto stream = co_await connect_to(port);
                const std::string burst = get_request("/sleep?ms=30", false) +
                                          get_request("/", false) + get_request("/nope", true);
                expect((co_await stream.write(burst)).bytes == burst.size(), "short write");
                co_return co_await read_replies(stream, 0);
            };
            const auto burst = clients.block_on(pipelined(srv.port()));
            CHECK(burst.end == io_status::closed);
            CHECK(count_of(burst.raw, "HTTP/1.1 200") == 2);
            const auto in_order = burst.replies();
            REQUIRE(in_order.size() == 3);
            CHECK(in_order[0].status == 200);
            CHECK(in_order[0].body == "slept 30 ms (async)\n");
            CHECK(in_order[1].status == 200);
            CHECK(in_order[1].body == hello_body);
            CHECK(in_order[2].status == 404);
            CHECK_THAT(in_order[2].head, Catch::Contains("Connection: close"));

            // The last count follows the last write by a moment: wait for it.
            CHECK(eventually([&] { return srv.server().stats().served == 6; }));
            CHECK(srv.server().stats().accepted == 2); // six requests over two connections
        }
    }
}

TEST_CASE("GET /sleep checks its parameters, unknown paths are 404, /stats counts",
          "[net][http][routes]") {
    server_fixture srv({.workers = 2}, {.sleep = net::sleep_mode::async});
    runtime clients({.workers = 2});
    const std::vector<std::string> requests = {
        get_request("/sleep?ms=20"),    get_request("/sleep"),
        get_request("/sleep?ms=abc"),   get_request("/sleep?ms=5&mode=bogus"),
        get_request("/sleep?ms=70000"), // over max_sleep_ms
        get_request("/no/such/route"),  get_request("/stats"),
    };
    const auto results = clients.block_on(exchange_each(srv.port(), requests));
    REQUIRE(results.size() == requests.size());
    for (const auto& r : results) {
        CHECK(r.end == io_status::closed); // each asked for Connection: close
        REQUIRE(r.replies().size() == 1);
    }
    CHECK(results[0].status() == 200);
    CHECK(results[0].replies()[0].body == "slept 20 ms (async)\n");
    CHECK(results[0].elapsed >= 20ms);
    CHECK(results[1].status() == 400);
    CHECK_THAT(results[1].replies()[0].body, Catch::Contains("missing ms"));
    CHECK(results[2].status() == 400);
    CHECK(results[3].status() == 400);
    CHECK_THAT(results[3].replies()[0].body, Catch::Contains("mode must be"));
    CHECK(results[4].status() == 400);
    CHECK(results[5].status() == 404);

    // Every earlier exchange read until the server closed, which it does after counting.
    const auto& stats = results[6];
    CHECK(stats.status() == 200);
    CHECK_THAT(stats.replies()[0].head, Catch::Contains("Content-Type: application/json"));
    const std::string json = stats.replies()[0].body;
    CHECK_THAT(json, Catch::Contains("\"served\":6"));
    CHECK_THAT(json, Catch::Contains("\"routes\":{\"/sleep\":5,\"other\":1}"));
    CHECK_THAT(json, Catch::Contains("\"statuses\":{\"200\":1,\"400\":4,\"404\":1}"));
    CHECK_THAT(json, Catch::Contains("\"sleep_mode\":\"async\""));

    const auto counted = srv.server().stats();
    CHECK(counted.served == 7);
    CHECK(counted.routes.at("/stats") == 1);
    CHECK(counted.in_flight == 0);
}

// ---------------------------------------------------------------- hostile input

TEST_CASE("hostile input gets its exact status and the connection closed", "[net][http][hostile]") {
    for (const auto backend : test::built_reactor_backends()) {
        DYNAMIC_SECTION("backend " << to_string(backend)) {
            server_fixture srv({.workers = 2, .reactor = backend}, {.max_header_bytes = 1024,
                                                                    .max_body_bytes = 1024,
                                                                    .request_timeout = 200ms,
                                                                    .idle_timeout = 30s});
            runtime clients({.workers = 2, .reactor = backend});
            const auto port = srv.port();

            SECTION("a malformed request line is 400") {
                const auto r = clients.block_on(exchange(port, "HELLO WORLD\r\n\r\n"));
                CHECK(r.status() == 400);
                CHECK(r.end == io_status::closed);
            }
            SECTION("a header section over max_header_bytes is 431") {
                const std::string request =
                    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(2000, 'a') +
                    "\r\n\r\n";
                const auto r = clients.block_on(exchange(port, request));
                CHECK(r.status() == 431);
                CHECK(r.end == io_status::closed);
            }
            SECTION("a Content-Length over max_body_bytes is 413, before the body is sent") {
                const auto r = clients.block_on(exchange(
                    port, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4096\r\n\r\n"));
                CHECK(r.status() == 413);
                CHECK(r.end == io_status::closed);
            }
            SECTION("a body within the limit is accepted") {
                const auto r = clients.block_on(
                    exchange(port, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                                   "Connection: close\r\n\r\nhello"));
                CHECK(r.status() == 200);
            }
            SECTION("half a request is 408 once request_timeout passed") {
                const auto r = clients.block_on(exchange(port, "GET / HTTP/1.1\r\nHost: 12"));
                CHECK(r.status() == 408);
                CHECK(r.end == io_status::closed);
                CHECK(r.elapsed >= 200ms); // the deadline starts when the bytes arrive
            }
            SECTION("half a request after a keep-alive one is 408, not held for idle_timeout") {
                auto body = [](std::uint16_t server_port) -> task<wire_result> {
                    auto stream = co_await connect_to(server_port);
                    const std::string first = get_request("/", false);
                    expect((co_await stream.write_all(first)).ok(), "write failed");
                    const auto answered = co_await read_replies(stream, 1);
                    expect(answered.status() == 200, "the first request was not answered");
                    const auto started = clock_type::now();
                    expect((co_await stream.write_all("GET / HTTP/1.1\r\n")).ok(), "write failed");
                    co_return co_await read_replies(stream, 0, 10s, started);
                };
                const auto r = clients.block_on(body(port));
                CHECK(r.status() == 408);
                CHECK(r.end == io_status::closed);
                CHECK(r.elapsed >= 200ms);
                CHECK(r.elapsed < 10s); // idle_timeout is 30 s
            }
        }
    }
}

TEST_CASE("connections over max_connections are answered 503", "[net][http][hostile][limit]") {
    server_fixture srv({.workers = 2}, {.max_connections = 2});
    runtime clients({.workers = 2});
    struct outcome {
        int third = 0; // status the connection over the limit got
        std::string third_body;
        int after_close = 0; // status once one of the two closed
    };
    auto body = [](std::uint16_t port, const net::http_server& server) -> task<outcome> {
        // Two connections that each completed a keep-alive request, so the server counts
        // both before the third arrives.
        const std::string keep = get_request("/", false);
        auto a = co_await connect_to(port);
        auto b = co_await connect_to(port);
        expect((co_await a.write_all(keep)).ok(), "write failed");
        expect((co_await read_replies(a, 1)).status() == 200, "keep-alive request failed");
        expect((co_await b.write_all(keep)).ok(), "write failed");
        expect((co_await read_replies(b, 1)).status() == 200, "keep-alive request failed");
        expect(server.stats().connections == 2, "the server does not count two connections");
        auto c = co_await connect_to(port);
        const auto refused = co_await read_replies(c, 0); // sends nothing: no unread bytes
        expect(refused.end == io_status::closed, "the refused connection was not closed");
        outcome out;
        out.third = refused.status();
        out.third_body = refused.replies().empty() ? "" : refused.replies()[0].body;
        a.close();
        co_await wait_for_stats(
            server, [](const net::http_stats& s) { return s.connections < 2; },
            "a closed connection to leave the count");
        const std::string request = get_request("/");
        out.after_close = (co_await exchange(port, request)).status();
        co_return out;
    };
    const auto out = clients.block_on(body(srv.port(), srv.server()));
    CHECK(out.third == 503);
    CHECK_THAT(out.third_body, Catch::Contains("too many connections"));
    CHECK(out.after_close == 200);
    CHECK(srv.server().stats().statuses.at(503) == 1);
}

TEST_CASE("a client trickling a request does not delay another", "[net][http][hostile]") {
    // One worker: if the trickler held it, the other client could not be served at all.
    server_fixture srv({.workers = 1}, {.request_timeout = 500ms});
    runtime clients({.workers = 2});
    std::atomic<int> answers{0}; // counts answers: the order in which the clients got them

    auto trickler = [](std::uint16_t port, std::atomic<int>& finished,
                       std::atomic<bool>& started) -> task<std::pair<int, int>> {
        auto stream = co_await connect_to(port);
        expect((co_await stream.write_all("GET / HTTP/1.1\r\n")).ok(), "write failed");
        started.store(true);
        // Sends a header line now and then and never ends the request; reading concurrently
        // would need a second task, so the loop checks for the answer between lines.
        std::string raw;
        std::vector<char> buf(4096);
        for (int line = 0; line < 200 && parse_replies(raw).empty(); ++line) {
            if (!(co_await stream.write_all("X-Trickle: 1\r\n")).ok()) {
                break; // the server answered and closed
            }
            auto pause = net::io_deadline::after(20ms);
            const auto r = co_await stream.read(buf, &pause);
            if (r.ok()) {
                raw.append(buf.data(), r.bytes);
            } else if (r.status != io_status::timed_out) {
                break;
            }
        }
        auto rest = co_await read_replies(stream, 1, 5s);
        raw += rest.raw;
        const int order = finished.fetch_add(1);
        const auto replies = parse_replies(raw);
        co_return std::pair{order, replies.empty() ? 0 : replies[0].status};
    };
    auto good = [](std::uint16_t port, std::atomic<int>& finished) -> task<std::pair<int, int>> {
        const std::string request = get_request("/");
        const auto r = co_await exchange(port, request);
        co_return std::pair{finished.fetch_add(1), r.status()};
    };

    std::atomic<bool> started{false};
    auto bad = clients.spawn(trickler(srv.port(), answers, started), "trickler");
    REQUIRE(eventually([&] { return started.load(); }));
    std::this_thread::sleep_for(50ms); // well into the trickle, far from its 500 ms timeout
    const auto [good_order, good_status] = clients.block_on(good(srv.port(), answers));
    const auto [bad_order, bad_status] = bad.get();
    CHECK(good_status == 200);
    CHECK(bad_status == 408);
    CHECK(good_order == 0); // answered while the trickler still waited for its 408
    CHECK(bad_order == 1);
}

// ---------------------------------------------------------------- accept modes

TEST_CASE("accept modes: inline serves connections one at a time, concurrent and spawn do not",
          "[net][http][accept]") {
    for (const auto mode :
         {net::accept_mode::inline_each, net::accept_mode::concurrent, net::accept_mode::spawn}) {
        DYNAMIC_SECTION("accept " << net::to_string(mode)) {
            server_fixture srv({.workers = 2}, {.sleep = net::sleep_mode::async, .accept = mode});
            runtime clients({.workers = 2});
            auto body = [](std::uint16_t port,
                           const net::http_server& server) -> task<std::pair<int, int>> {
                const std::string slow_request = get_request("/sleep?ms=300");
                auto slow = spawn(exchange(port, slow_request), "client /sleep");
                co_await wait_for_stats(server, one_in_flight, "the /sleep request to start");
                const std::string quick_request = get_request("/");
                const auto quick = co_await exchange(port, quick_request);
                const auto slept = co_await slow;
                co_return std::pair{slept.status(), quick.status()};
            };
            const auto [slow_status, quick_status] =
                clients.block_on(body(srv.port(), srv.server()));
            CHECK(slow_status == 200);
            CHECK(quick_status == 200);

            const auto events = srv.finish();
            const auto slept = find_served(events, "/sleep");
            const auto quick = find_served(events, "/");
            REQUIRE(slept.end != no_event);
            REQUIRE(quick.end != no_event);
            if (mode == net::accept_mode::inline_each) {
                // The second connection was not even accepted until the first one ended.
                CHECK(quick.begin > slept.end);
            } else {
                CHECK(quick.end < slept.end); // served during the sleep
            }
        }
    }
}

// ---------------------------------------------------------------- the lesson

TEST_CASE("with one worker a blocking sleep stalls every request, an async one does not",
          "[net][http][lesson]") {
    for (const auto mode : {net::sleep_mode::blocking, net::sleep_mode::async}) {
        DYNAMIC_SECTION("sleep " << net::to_string(mode)) {
            server_fixture srv({.workers = 1}, {.sleep = mode});
            runtime clients({.workers = 2}); // the clients never borrow the server's worker
            auto fire = [](std::uint16_t port,
                           const net::http_server& server) -> task<std::pair<int, int>> {
                net::load_options slow{
                    .port = port, .target = "/sleep?ms=300", .requests = 1, .concurrency = 1};
                auto slow_run = spawn(net::run_load(slow), "load /sleep");
                co_await wait_for_stats(server, one_in_flight, "the /sleep request to start");
                co_await sleep_for(20ms); // the sleep is well under way
                net::load_options quick{
                    .port = port, .target = "/", .requests = 1, .concurrency = 1};
                const auto quick_report = co_await net::run_load(quick);
                const auto slow_report = co_await slow_run;
                const auto ok = [](const net::load_report& r) {
                    return r.count == 1 && r.statuses.count(200) == 1 ? 200 : 0;
                };
                co_return std::pair{ok(slow_report), ok(quick_report)};
            };
            const auto [slow_ok, quick_ok] = clients.block_on(fire(srv.port(), srv.server()));
            CHECK(slow_ok == 200);
            CHECK(quick_ok == 200);

            const auto events = srv.finish();
            const auto slept = find_served(events, "/sleep");
            const auto quick = find_served(events, "/");
            REQUIRE(slept.end != no_event);
            REQUIRE(quick.end != no_event);
            const auto blocked_until = index_of(events, event_kind::block_end, slept.task);
            if (mode == net::sleep_mode::blocking) {
                REQUIRE(blocked_until != no_event);
                REQUIRE(index_of(events, event_kind::block_begin, slept.task) < blocked_until);
                // The poll that served "/" (the last poll_begin of its task before its
                // request_begin) came only after the worker woke from the blocking sleep.
                std::size_t serving_poll = no_event;
                for (std::size_t i = 0; i < quick.begin; ++i) {
                    if (events[i].kind == event_kind::poll_begin && events[i].task == quick.task) {
                        serving_poll = i;
                    }
                }
                REQUIRE(serving_poll != no_event);
                CHECK(serving_poll > blocked_until);
                // Its task was not polled at all while the worker slept.
                CHECK(index_of(events, event_kind::poll_begin, quick.task) > blocked_until);
                CHECK(quick.end > slept.end);
            } else {
                CHECK(testing::of_kind(events, event_kind::block_begin).empty());
                CHECK(quick.end < slept.end); // the worker served "/" while /sleep waited
            }
        }
    }
}

// ---------------------------------------------------------------- graceful stop

TEST_CASE("stop() lets an in-flight request finish, closes idle connections, and stops accepting",
          "[net][http][stop]") {
    server_fixture srv({.workers = 2}, {});
    runtime clients({.workers = 2});
    const auto port = srv.port();

    auto idle_client = [](std::uint16_t server_port) -> task<wire_result> {
        auto stream = co_await connect_to(server_port);
        const std::string request = get_request("/", false);
        expect((co_await stream.write_all(request)).ok(), "write failed");
        expect((co_await read_replies(stream, 1)).status() == 200, "keep-alive request failed");
        co_return co_await read_replies(stream, 0); // until stop() closes the idle connection
    };
    auto idle = clients.spawn(idle_client(port), "idle client");
    REQUIRE(eventually([&] { return srv.server().stats().served == 1; }));
    // Keep-alive asked for; the server must answer it with Connection: close.
    auto in_flight = clients.spawn(exchange(port, get_request("/sleep?ms=200", false)), "sleeper");
    REQUIRE(eventually([&] { return srv.server().stats().in_flight == 1; }));

    REQUIRE(srv.stop(5s)); // run() returned
    const auto slept = in_flight.get();
    REQUIRE(slept.replies().size() == 1);
    CHECK(slept.status() == 200);
    CHECK(slept.replies()[0].body == "slept 200 ms (async)\n");
    CHECK_THAT(slept.replies()[0].head, Catch::Contains("Connection: close"));
    CHECK(slept.end == io_status::closed);
    const auto idled = idle.get();
    CHECK(idled.end == io_status::closed);
    CHECK(idled.raw.empty());

    auto connect_status = [](std::uint16_t closed_port) -> task<io_status> {
        auto deadline = net::io_deadline::after(5s);
        auto [result, stream] =
            co_await net::tcp_stream::connect("127.0.0.1", closed_port, &deadline);
        co_return result.status;
    };
    CHECK(clients.block_on(connect_status(port)) == io_status::connection_refused);
}

// ---------------------------------------------------------------- load generator

TEST_CASE("the load generator counts answers and latencies", "[net][http][load]") {
    server_fixture srv({.workers = 2}, {});
    runtime clients({.workers = 2});
    auto body = [](std::uint16_t port) -> task<net::load_report> {
        net::load_options load{.port = port, .target = "/", .requests = 200, .concurrency = 10};
        co_return co_await net::run_load(load);
    };
    const auto report = clients.block_on(body(srv.port()));
    CHECK(report.count == 200);
    CHECK(report.errors == 0);
    CHECK(report.first_error.empty());
    CHECK(report.statuses == std::map<int, std::size_t>{{200, 200}});
    REQUIRE(report.latencies_ns.size() == 200);
    CHECK(std::is_sorted(report.latencies_ns.begin(), report.latencies_ns.end()));
    CHECK(report.percentile_ns(0.5) <= report.percentile_ns(0.99));
    CHECK(report.percentile_ns(0.99) <= report.latencies_ns.back());
    CHECK(report.percentile_ns(1.0) == report.latencies_ns.back());
    CHECK(report.elapsed_ns >= report.latencies_ns.back());
    // The server counts a response just after writing it: the client may be faster.
    CHECK(eventually([&] { return srv.server().stats().served == 200; }));
    CHECK(srv.server().stats().accepted <= 10); // keep-alive: at most one connection per client
}

TEST_CASE("the load generator reports a closed port as errors", "[net][http][load]") {
    runtime clients({.workers = 2});
    auto body = []() -> task<net::load_report> {
        std::uint16_t port = 0;
        {
            auto probe = net::tcp_listener::bind("127.0.0.1", 0);
            port = probe.port();
        } // closed again: nobody listens there now
        net::load_options load{.port = port, .requests = 5, .concurrency = 2, .timeout = 5s};
        co_return co_await net::run_load(load);
    };
    const auto report = clients.block_on(body());
    CHECK(report.count == 0);
    CHECK(report.errors == 5);
    CHECK(report.latencies_ns.empty());
    CHECK(report.percentile_ns(0.5) == 0);
    CHECK_THAT(report.first_error, Catch::Contains("refused"));
}

TEST_CASE("the load generator over HTTP/2: streams multiplexed on each connection",
          "[net][http][load][http2]") {
    server_fixture srv({.workers = 2}, {});
    runtime clients({.workers = 2});
    auto body = [](std::uint16_t port) -> task<net::load_report> {
        net::load_options load;
        load.port = port;
        load.target = "/sleep?ms=100";
        load.requests = 40;
        load.concurrency = 2;
        load.http2 = true;
        load.streams = 20;
        co_return co_await net::run_load(load);
    };
    const auto report = clients.block_on(body(srv.port()));
    CHECK(report.count == 40);
    CHECK(report.errors == 0);
    CHECK(report.statuses == std::map<int, std::size_t>{{200, 40}});
    CHECK(eventually([&] { return srv.server().stats().served == 40; }));
    CHECK(srv.server().stats().http2_connections == 2);
}

TEST_CASE("the HTTP/2 load sends refused streams again and survives GOAWAY",
          "[net][http][load][http2]") {
    // The server takes two streams at a time; the client's first flight of ten goes before
    // it has the server's SETTINGS, so eight are refused (REFUSED_STREAM): those are sent
    // again, and every request is answered.
    server_fixture srv({.workers = 2}, {.http2_max_concurrent_streams = 2});
    runtime clients({.workers = 2});
    auto body = [](std::uint16_t port) -> task<net::load_report> {
        net::load_options load;
        load.port = port;
        load.target = "/sleep?ms=20";
        load.requests = 30;
        load.concurrency = 1;
        load.http2 = true;
        load.streams = 10;
        co_return co_await net::run_load(load);
    };
    const auto report = clients.block_on(body(srv.port()));
    CHECK(report.count == 30);
    CHECK(report.errors == 0);
    CHECK(report.first_error.empty());
}

TEST_CASE("the HTTP/2 load reports a closed port as errors", "[net][http][load][http2]") {
    runtime clients({.workers = 2});
    auto body = []() -> task<net::load_report> {
        std::uint16_t port = 0;
        {
            auto probe = net::tcp_listener::bind("127.0.0.1", 0);
            port = probe.port();
        }
        net::load_options load;
        load.port = port;
        load.requests = 5;
        load.concurrency = 2;
        load.http2 = true;
        load.streams = 4;
        load.timeout = 5s;
        co_return co_await net::run_load(load);
    };
    const auto report = clients.block_on(body());
    CHECK(report.count == 0);
    CHECK(report.errors == 5);
    CHECK_THAT(report.first_error, Catch::Contains("refused"));
}

TEST_CASE("the load generator pipelines HTTP/1.1: answers come back in the order asked",
          "[net][http][load]") {
    server_fixture srv({.workers = 1}, {});
    runtime clients({.workers = 1});
    auto body = [](std::uint16_t port) -> task<net::load_report> {
        net::load_options load;
        load.port = port;
        load.targets = {"/sleep?ms=200", "/", "/"};
        load.requests = 6;
        load.concurrency = 1;
        load.pipeline = true;
        load.streams = 3;
        co_return co_await net::run_load(load);
    };
    const auto report = clients.block_on(body(srv.port()));
    CHECK(report.count == 6);
    CHECK(report.errors == 0);
    REQUIRE(report.latencies_by_target_ns.size() == 2);
    const auto& quick = report.latencies_by_target_ns.at("/");
    const auto& slow = report.latencies_by_target_ns.at("/sleep?ms=200");
    REQUIRE(quick.size() == 4);
    REQUIRE(slow.size() == 2);
    // Behind the sleep on one connection, every / waits for it.
    CHECK(quick.front() >= 200'000'000ULL);
    CHECK(eventually([&] { return srv.server().stats().served == 6; }));
    CHECK(srv.server().stats().accepted == 1); // one connection for all six
}

TEST_CASE("parse_http_url", "[net][http][load][url]") {
    std::string error;
    SECTION("good URLs") {
        auto url = net::parse_http_url("http://example.com", error);
        REQUIRE(url);
        CHECK(url->host == "example.com");
        CHECK(url->port == 80);
        CHECK(url->target == "/");

        url = net::parse_http_url("http://127.0.0.1:8080/sleep?ms=5", error);
        REQUIRE(url);
        CHECK(url->host == "127.0.0.1");
        CHECK(url->port == 8080);
        CHECK(url->target == "/sleep?ms=5");

        url = net::parse_http_url("http://[::1]:8080/x", error);
        REQUIRE(url);
        CHECK(url->host == "::1");
        CHECK(url->port == 8080);
        CHECK(url->target == "/x");

        url = net::parse_http_url("http://[::1]", error);
        REQUIRE(url);
        CHECK(url->host == "::1");
        CHECK(url->port == 80);

        url = net::parse_http_url("http://localhost:65535/", error);
        REQUIRE(url);
        CHECK(url->port == 65535);
    }
    SECTION("bad URLs say why") {
        CHECK_FALSE(net::parse_http_url("https://example.com/", error));
        CHECK_THAT(error, Catch::Contains("http://"));
        CHECK_FALSE(net::parse_http_url("example.com", error));
        CHECK_FALSE(net::parse_http_url("http://", error));
        CHECK_THAT(error, Catch::Contains("no host"));
        CHECK_FALSE(net::parse_http_url("http:///path", error));
        CHECK_FALSE(net::parse_http_url("http://:8080/", error));
        CHECK_FALSE(net::parse_http_url("http://[::1/", error));
        CHECK_FALSE(net::parse_http_url("http://host:0/", error));
        CHECK_THAT(error, Catch::Contains("port"));
        CHECK_FALSE(net::parse_http_url("http://host:70000/", error));
        CHECK_THAT(error, Catch::Contains("port"));
        CHECK_FALSE(net::parse_http_url("http://host:99999999999999999999/", error));
        CHECK_FALSE(net::parse_http_url("http://host:80a/", error));
    }
}

// ---------------------------------------------------------------- known bugs (hidden)
// Hidden until fixed: run with `[bug]`. Each fails today.

TEST_CASE("max_connections holds for connections that arrive in a burst", "[net][http][limit]") {
    // The limit compares a count the connection task raises on its first poll, so every
    // connection accepted before those tasks ran passes the check.
    server_fixture srv({.workers = 1}, {.max_connections = 2});
    runtime clients({.workers = 2});
    auto body = [](std::uint16_t port,
                   const net::http_server& server) -> task<std::pair<std::uint64_t, int>> {
        // A blocking sleep holds the only worker while five connections queue up.
        const std::string blocker = get_request("/sleep?ms=300&mode=blocking");
        auto busy = spawn(exchange(port, blocker), "blocker");
        co_await wait_for_stats(server, one_in_flight, "the blocking sleep to start");
        std::vector<net::tcp_stream> held;
        for (int i = 0; i < 5; ++i) {
            held.push_back(co_await connect_to(port));
        }
        co_await busy;
        int refused = 0;
        for (auto& stream : held) {
            refused += (co_await read_replies(stream, 1, 500ms)).status() == 503;
        }
        co_return std::pair{server.stats().connections, refused};
    };
    const auto [open, refused] = clients.block_on(body(srv.port(), srv.server()));
    CHECK(open <= 2);
    CHECK(refused >= 3);
}

TEST_CASE("parse_http_url rejects what follows a bracketed host or a bare IPv6 host",
          "[net][http][url]") {
    std::string error;
    CHECK_FALSE(net::parse_http_url("http://[::1]junk:99/", error)); // today: ::1, port 80
    CHECK_FALSE(net::parse_http_url("http://::1/", error));          // today: host ":", port 1
}

TEST_CASE("a server destroyed before its run() task was first polled: the task still ends",
          "[net][http][lifetime]") {
    // A single-threaded runtime polls nothing until block_on: run() is spawned, the server
    // stopped and destroyed, and only then does the task first run (as when the window
    // restarts its engine at once). It must find the state it serves still there.
    runtime rt({.single_threaded = true});
    auto server = net::http_server::bind(rt, net::http_server_options{});
    auto serving = rt.spawn(server->run(), "serve");
    server->stop(std::chrono::milliseconds(10));
    server.reset();
    rt.block_on([](join_handle<void> h) -> task<void> { co_await h; }(std::move(serving)), "join");
    SUCCEED("the accept loop saw the stop and ended");
}
