// own-server: a line echo service written on the engine's TCP streams, each connection a
// task, each line recorded as a request (route "echo") so the window's latency chart and
// requests lane show it like the built-in HTTP server.
//
//     own-server [--port P]              serves on 127.0.0.1:P (default 7007) until killed
//     own-server --self-test [CLIENTS]   serves on a free port, runs CLIENTS clients (default
//                                        8) of 100 lines each against it, checks every echo,
//                                        writes own-server.tstrace and exits (0: all echoed)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <taskscope/net/tcp.hpp>
#include <taskscope/record.hpp>
#include <taskscope/taskscope.hpp>
#include <taskscope/trace/trace_file.hpp>

using namespace taskscope;
using namespace taskscope::net;

namespace {

constexpr int lines_per_client = 100;

/// Echoes every line back, one request per line, until the client closes.
task<void> serve_connection(tcp_stream stream, std::uint64_t connection) {
    static const trace::name_id route = trace::intern("echo");
    std::string pending;
    char buffer[4096];
    std::uint64_t line_number = 0;
    for (;;) {
        const io_result got = co_await stream.read(buffer);
        if (!got.ok() || got.bytes == 0) {
            co_return; // closed, reset or failed: the connection is over
        }
        pending.append(buffer, got.bytes);
        std::size_t newline = 0;
        while ((newline = pending.find('\n')) != std::string::npos) {
            const std::string line = pending.substr(0, newline + 1);
            pending.erase(0, newline + 1);
            record_request_begin((connection << 32) | line_number++, route,
                                 trace::request_side::server);
            const io_result sent = co_await stream.write_all(line);
            record_request_end(sent.bytes, sent.ok() ? 200 : 0, trace::request_side::server);
            if (!sent.ok()) {
                co_return;
            }
        }
    }
}

/// Accepts until the listener is interrupted, a task per connection.
task<void> accept_loop(tcp_listener& listener) {
    std::uint64_t connections = 0;
    for (;;) {
        accept_result accepted = co_await listener.accept();
        if (accepted.result.status == io_status::not_connected) {
            co_return; // interrupted: the server stops
        }
        if (accepted.result.ok()) {
            spawn(serve_connection(std::move(accepted.stream), connections++), "connection")
                .detach();
        }
    }
}

/// One client: sends its lines one at a time and checks each echo. Returns the lines echoed.
task<int> client(std::uint16_t port, int id) {
    connect_result connected = co_await tcp_stream::connect("127.0.0.1", port);
    if (!connected.result.ok()) {
        co_return 0;
    }
    tcp_stream& stream = connected.stream;
    int echoed = 0;
    char buffer[256];
    for (int i = 0; i < lines_per_client; ++i) {
        const std::string line =
            "client " + std::to_string(id) + " line " + std::to_string(i) + "\n";
        if (!(co_await stream.write_all(line)).ok()) {
            break;
        }
        std::string reply;
        while (reply.size() < line.size()) {
            const io_result got = co_await stream.read(buffer);
            if (!got.ok() || got.bytes == 0) {
                co_return echoed;
            }
            reply.append(buffer, got.bytes);
        }
        echoed += reply == line ? 1 : 0;
    }
    stream.close();
    co_return echoed;
}

task<int> self_test(tcp_listener& listener, int clients) {
    std::vector<join_handle<int>> running;
    for (int id = 0; id < clients; ++id) {
        running.push_back(spawn(client(listener.port(), id), "client"));
    }
    int echoed = 0;
    for (auto& c : running) {
        echoed += co_await c;
    }
    listener.interrupt();
    co_return echoed;
}

int usage() {
    std::fprintf(stderr, "usage: own-server [--port P] | own-server --self-test [CLIENTS]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    const std::string_view mode = argc > 1 ? argv[1] : "";
    const bool testing = mode == "--self-test";
    long port = 7007;
    long clients = 8;
    if (mode == "--port" && argc == 3) {
        port = std::strtol(argv[2], nullptr, 10);
    } else if (testing && argc <= 3) {
        clients = argc == 3 ? std::strtol(argv[2], nullptr, 10) : clients;
    } else if (argc != 1) {
        return usage();
    }
    if (port < 0 || port > 65535 || clients <= 0 || clients > 1000) { // port 0: any free one
        return usage();
    }
    try {
        const runtime_options options{.workers = 2};
        runtime rt(options);
        std::shared_ptr<trace::file_writer> file;
        if (testing) {
            file = std::make_shared<trace::file_writer>(
                "own-server.tstrace", trace::run_info_for(rt, options, "own-server --self-test"));
            rt.trace().add_sink(file);
        }
        const int echoed = rt.block_on(
            [](long p, bool test, int n) -> task<int> {
                tcp_listener listener =
                    tcp_listener::bind("127.0.0.1", static_cast<std::uint16_t>(test ? 0 : p));
                if (!test) {
                    std::printf("own-server: echoing lines on 127.0.0.1:%u\n", listener.port());
                    std::fflush(stdout);
                    co_await accept_loop(listener);
                    co_return 0;
                }
                auto acceptor = spawn(accept_loop(listener), "accept");
                const int got = co_await self_test(listener, n);
                co_await acceptor;
                co_return got;
            }(port, testing, static_cast<int>(clients)),
            "main");
        rt.shutdown();
        if (file) {
            file->close();
            const int expected = static_cast<int>(clients) * lines_per_client;
            std::printf("own-server: %d of %d lines echoed by %ld clients; trace in "
                        "own-server.tstrace (%llu events)\n",
                        echoed, expected, clients,
                        static_cast<unsigned long long>(file->events_written()));
            return echoed == expected ? 0 : 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "own-server: %s\n", e.what());
        return 1;
    }
}
