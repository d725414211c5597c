#include "chat_commands.hpp"

#include "console.hpp"
#include "serve.hpp"
#include "taskscope/net/chat_load.hpp"
#include "taskscope/net/tcp.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/socket.hpp"
#include "taskscope/time.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

namespace taskscope::cli {

bool parse_host_port(const std::string& address, std::string& host, std::uint16_t& port,
                     std::string& error) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
        error = "expected HOST:PORT, got '" + address + "'";
        return false;
    }
    host = address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2); // [::1]:7878
    }
    unsigned value = 0;
    const char* first = address.data() + colon + 1;
    const char* last = address.data() + address.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end != last || value == 0 || value > 65535) {
        error = "the port in '" + address + "' must be a number from 1 to 65535";
        return false;
    }
    port = static_cast<std::uint16_t>(value);
    return true;
}

int run_chat_serve(const chat_serve_options& options, std::ostream& out, std::ostream& err) {
    stop_signal stop; // before any thread starts

    if (!options.record.empty() && !options.trace) {
        err << "taskscope-cli chat-serve: --record needs tracing; drop --no-trace\n";
        return 2;
    }
    trace::trace_options trace;
    trace.enabled = options.trace;
    const runtime_options runtime_config{.workers = options.workers, .trace = trace};
    runtime rt(runtime_config);
    std::shared_ptr<trace::file_writer> recording;
    if (!options.record.empty()) {
        recording = std::make_shared<trace::file_writer>(
            options.record, trace::run_info_for(rt, runtime_config, options.command));
        rt.trace().add_sink(recording);
    }
    net::chat_server_options server_options;
    server_options.host = options.host;
    server_options.port = options.port;
    server_options.capacity = options.capacity;
    server_options.backlog = options.backlog;
    server_options.max_line_bytes = options.max_line_bytes;
    server_options.max_connections = options.max_connections;
    server_options.send_buffer_bytes = options.send_buffer_bytes;
    std::unique_ptr<net::chat_server> server;
    try {
        server = net::chat_server::start(rt, server_options);
    } catch (const std::system_error& e) {
        err << "taskscope-cli chat-serve: " << e.what()
            << (sys::classify(e.code().value()) == sys::error_kind::address_in_use
                    ? " (choose another --port)"
                    : "")
            << '\n';
        return 1;
    }
    const std::string address = options.host + ':' + std::to_string(server->port());
    out << "chat on " << address << "  (one JSON object a line: Join, Post, Stats)\n"
        << "  " << rt.worker_count() << " worker(s), backlog " << net::to_string(options.backlog)
        << ", capacity " << options.capacity << " messages a group, tracing "
        << (options.trace ? "on" : "off") << "\n"
        << "  try: taskscope-cli chat " << address << "   (then: join lobby / post lobby hi)\n"
        << "       taskscope-cli chat-load " << address << " --fast 4 --slow 1     Ctrl-C stops\n"
        << std::flush;

    stop.wait();
    out << "\nstopping...\n" << std::flush;
    server->stop_and_wait();
    const net::chat_stats stats = server->stats();
    out << "accepted " << stats.accepted << " connections; " << stats.posts << " posts, "
        << stats.deliveries << " deliveries, " << stats.lag_notices << " lag notices ("
        << stats.dropped << " messages dropped), peak queued " << stats.peak_queued_bytes
        << " bytes\n";
    server.reset();
    rt.shutdown();
    finish_recording(rt, recording, options.record, out);
    return 0;
}

namespace {

/// A line typed at the chat client as the line to send; empty (and `problem`) if none.
std::string protocol_line(std::string_view typed, std::string& problem) {
    while (!typed.empty() && (typed.back() == '\r' || typed.back() == ' ')) {
        typed.remove_suffix(1);
    }
    if (typed.empty()) {
        return {};
    }
    if (typed.front() == '{') {
        return std::string(typed) + "\n"; // raw JSON, as typed
    }
    const auto space = typed.find(' ');
    const std::string_view verb = typed.substr(0, space);
    std::string_view rest = space == std::string_view::npos ? "" : typed.substr(space + 1);
    nlohmann::json doc;
    if (verb == "stats" && rest.empty()) {
        return "{\"Stats\":null}\n";
    }
    const auto group_end = rest.find(' ');
    const std::string group(rest.substr(0, group_end));
    if (verb == "join" && !group.empty() && group_end == std::string_view::npos) {
        doc["Join"]["group_name"] = group;
        return doc.dump() + "\n";
    }
    if (verb == "post" && !group.empty() && group_end != std::string_view::npos) {
        doc["Post"]["group_name"] = group;
        doc["Post"]["message"] = std::string(rest.substr(group_end + 1));
        return doc.dump() + "\n";
    }
    problem = "type 'join GROUP', 'post GROUP MESSAGE...', 'stats', or a JSON line";
    return {};
}

task<net::connect_result> connect_task(std::string host, std::uint16_t port) {
    auto deadline = net::io_deadline::after(std::chrono::seconds(5));
    co_return co_await net::tcp_stream::connect(host, port, &deadline);
}

task<net::io_result> write_task(std::shared_ptr<net::tcp_stream> stream, std::string line) {
    co_return co_await stream->write_all(line);
}

/// Prints every line the server sends until it closes.
task<void> print_lines(std::shared_ptr<net::tcp_stream> stream, std::ostream& out,
                       std::shared_ptr<std::atomic<bool>> closed) {
    std::vector<char> buffer(16 * 1024);
    for (;;) {
        const net::io_result r = co_await stream->read(buffer);
        if (!r.ok()) {
            break;
        }
        out.write(buffer.data(), static_cast<std::streamsize>(r.bytes));
        out.flush();
    }
    closed->store(true);
}

} // namespace

int run_chat_client(const chat_client_options& options, std::ostream& out, std::ostream& err) {
    std::string host;
    std::uint16_t port = 0;
    std::string problem;
    if (!parse_host_port(options.address, host, port, problem)) {
        err << "taskscope-cli chat: " << problem << " (for example 127.0.0.1:7878)\n";
        return 2;
    }
    runtime rt({.workers = 1});
    net::connect_result connected = rt.block_on(connect_task(host, port), "connect");
    if (!connected.result.ok()) {
        err << "taskscope-cli chat: cannot connect to " << options.address << ": "
            << net::to_string(connected.result.status)
            << " (is a server running? start one with taskscope-cli chat-serve)\n";
        return 1;
    }
    auto stream = std::make_shared<net::tcp_stream>(std::move(connected.stream));
    auto closed = std::make_shared<std::atomic<bool>>(false);
    auto printing = rt.spawn(print_lines(stream, out, closed), "print_lines");

    // Standard input, read as it comes, so a server that closes ends the client too.
    console_input input;
    std::string pending;
    bool input_open = true;
    while (input_open && !closed->load()) {
        const console_input::status got = input.read(pending, std::chrono::milliseconds(100));
        if (got == console_input::status::nothing_yet) {
            continue;
        }
        if (got == console_input::status::ended) {
            input_open = false;
            if (!pending.empty()) {
                pending += '\n';
            }
        }
        for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
            const std::string typed = pending.substr(0, end);
            pending.erase(0, end + 1);
            problem.clear();
            std::string line = protocol_line(typed, problem);
            if (!problem.empty()) {
                err << "taskscope-cli chat: " << problem << '\n';
                continue;
            }
            if (line.empty()) {
                continue;
            }
            const net::io_result sent = rt.block_on(write_task(stream, std::move(line)), "send");
            if (!sent.ok()) {
                err << "taskscope-cli chat: the connection failed: " << net::to_string(sent.status)
                    << '\n';
                input_open = false;
                break;
            }
        }
    }
    if (!closed->load()) {
        // Input is over: print what is still on its way, then tell the server we are done.
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options.linger_ms);
        while (!closed->load() && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stream->shutdown_write();
    } else {
        err << "taskscope-cli chat: the server closed the connection\n";
    }
    printing.get();
    stream.reset();
    rt.shutdown();
    return 0;
}

int run_chat_load_command(const chat_load_cli_options& options, std::ostream& out,
                          std::ostream& err) {
    net::chat_load_options load;
    std::string problem;
    if (!parse_host_port(options.address, load.host, load.port, problem)) {
        err << "taskscope-cli chat-load: " << problem << " (for example 127.0.0.1:7878)\n";
        return 2;
    }
    load.group = options.group;
    load.posters = options.posters;
    load.post_rate = options.rate;
    load.fast_readers = options.fast;
    load.slow_readers = options.slow;
    load.slow_rate = options.slow_rate;
    load.message_bytes = options.bytes;
    load.duration = std::chrono::milliseconds(static_cast<std::int64_t>(options.seconds * 1000));
    const net::chat_load_report report = net::run_chat_load_blocking(load);

    const auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
    const auto max_of = [](const net::chat_reader_report& r) {
        return r.latencies_ns.empty() ? std::uint64_t{0} : r.latencies_ns.back();
    };
    if (options.json) {
        nlohmann::json doc;
        doc["posted"] = report.posted;
        doc["post_errors"] = report.post_errors;
        doc["connect_errors"] = report.connect_errors;
        doc["elapsed_s"] = static_cast<double>(report.elapsed_ns) / 1e9;
        for (const auto& [name, r] : {std::pair{"fast", &report.fast}, {"slow", &report.slow}}) {
            doc[name] = {{"readers", r->readers},
                         {"received", r->received},
                         {"lag_notices", r->lag_notices},
                         {"missed", r->missed},
                         {"p50_ms", ms(r->percentile_ns(0.50))},
                         {"p99_ms", ms(r->percentile_ns(0.99))},
                         {"max_ms", ms(max_of(*r))}};
        }
        if (!report.first_error.empty()) {
            doc["first_error"] = report.first_error;
        }
        out << doc.dump() << '\n';
    } else {
        char line[256];
        std::snprintf(line, sizeof line, "%llu posts to '%s' by %zu poster(s) in %.2f s; %s\n",
                      static_cast<unsigned long long>(report.posted), options.group.c_str(),
                      options.posters, static_cast<double>(report.elapsed_ns) / 1e9,
                      options.slow_rate > 0 ? "slow readers read at their rate"
                                            : "slow readers are stalled (never read)");
        out << line;
        for (const auto& [name, r] : {std::pair{"fast", &report.fast}, {"slow", &report.slow}}) {
            std::snprintf(line, sizeof line,
                          "%-5s %zu reader(s): received %llu, lag notices %llu (missed %llu), "
                          "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                          name, r->readers, static_cast<unsigned long long>(r->received),
                          static_cast<unsigned long long>(r->lag_notices),
                          static_cast<unsigned long long>(r->missed), ms(r->percentile_ns(0.50)),
                          ms(r->percentile_ns(0.99)), ms(max_of(*r)));
            out << line;
        }
        if (report.post_errors != 0) {
            out << "errors sent to posters: " << report.post_errors << '\n';
        }
    }
    if (report.posted == 0) {
        err << "taskscope-cli chat-load: nothing was posted"
            << (report.first_error.empty() ? "" : ": " + report.first_error)
            << " (is a chat server running? start one with taskscope-cli chat-serve)\n";
        return 1;
    }
    return 0;
}

} // namespace taskscope::cli
