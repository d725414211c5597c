#include "serve.hpp"

#include "console.hpp"
#include "taskscope/net/load_generator.hpp"
#include "taskscope/socket.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "trace_commands.hpp"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

namespace taskscope::cli {
namespace {

std::string format_ms(std::uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
    return buf;
}

} // namespace

void finish_recording(runtime& rt, const std::shared_ptr<trace::file_writer>& recording,
                      const std::filesystem::path& path, std::ostream& out) {
    if (!recording) {
        return;
    }
    rt.trace().flush();
    rt.trace().remove_sink(recording);
    recording->close();
    out << "recorded " << recording->events_written() << " events to " << path.string()
        << " (taskscope-cli stats " << path.string() << ")\n";
}

net::http_server_options server_options_of(const serve_options& options) {
    net::http_server_options server_options;
    server_options.host = options.host;
    server_options.port = options.port;
    server_options.sleep = options.sleep;
    server_options.accept = options.accept;
    server_options.http2_max_concurrent_streams = options.http2_max_streams;
    return server_options;
}

int run_serve(const serve_options& options, std::ostream& out, std::ostream& err) {
    stop_signal stop; // before any thread starts

    if (!options.record.empty() && !options.trace) {
        err << "taskscope-cli serve: --record needs tracing; drop --no-trace\n";
        return 2;
    }
    trace::trace_options trace;
    trace.enabled = options.trace;
    const runtime_options runtime_config{.workers = options.workers,
                                         .single_threaded = options.single_threaded,
                                         .reactor = options.reactor,
                                         .trace = trace};
    runtime rt(runtime_config);
    std::shared_ptr<trace::file_writer> recording;
    if (!options.record.empty()) {
        trace::run_info info = trace::run_info_for(rt, runtime_config, options.command);
        info.sleep_mode = std::string(net::to_string(options.sleep));
        info.accept_mode = std::string(net::to_string(options.accept));
        recording = std::make_shared<trace::file_writer>(options.record, info);
        rt.trace().add_sink(recording);
    }
    const net::http_server_options server_options = server_options_of(options);
    std::unique_ptr<net::http_server> server;
    try {
        server = net::http_server::bind(rt, server_options);
    } catch (const std::system_error& e) {
        err << "taskscope-cli serve: " << e.what()
            << (sys::classify(e.code().value()) == sys::error_kind::address_in_use
                    ? " (choose another --port)"
                    : "")
            << '\n';
        return 1;
    }
    out << "serving http://" << options.host << ':' << server->port() << "/  (routes: /, "
        << "/sleep?ms=N, /cpu?ms=N, /stats)\n"
        << "  "
        << (options.single_threaded ? std::string("single-threaded")
                                    : std::to_string(rt.worker_count()) + " worker(s)")
        << ", sleep mode " << net::to_string(options.sleep) << ", accept mode "
        << net::to_string(options.accept) << ", reactor " << to_string(rt.reactor()) << ", tracing "
        << (options.trace ? "on" : "off") << "\n"
        << "  try: taskscope-cli load http://" << options.host << ':' << server->port()
        << "/sleep?ms=100 -n 20 -c 5     Ctrl-C stops\n"
        << std::flush;

    if (options.single_threaded) {
        // The caller's thread must drive: serve from block_on, stop from a signal thread.
        std::thread waiter([&] {
            stop.wait();
            server->stop();
        });
        rt.block_on(server->run(), "accept_loop");
        waiter.join();
    } else {
        auto running = rt.spawn(server->run(), "accept_loop");
        stop.wait();
        out << "\nstopping: finishing requests in flight (up to 5 s)...\n" << std::flush;
        server->stop();
        running.get();
    }
    const net::http_stats stats = server->stats();
    out << "served " << stats.served << " responses on " << stats.accepted << " connections";
    if (stats.accept_errors != 0) {
        out << " (" << stats.accept_errors << " accept errors)";
    }
    out << '\n';
    server.reset();
    rt.shutdown();
    finish_recording(rt, recording, options.record, out);
    return 0;
}

int run_load_command(const load_cli_options& options, std::ostream& out, std::ostream& err) {
    std::string problem;
    const auto url = net::parse_http_url(options.url, problem);
    if (!url) {
        err << "taskscope-cli load: " << problem << " (for example http://127.0.0.1:8080/)\n";
        return 2;
    }
    net::load_options load;
    load.host = url->host;
    load.port = url->port;
    load.target = url->target;
    load.requests = options.requests;
    load.concurrency = options.concurrency;
    load.keep_alive = options.keep_alive;
    load.timeout = std::chrono::milliseconds(options.timeout_ms);
    load.http2 = options.http2;
    load.streams = options.streams;
    runtime rt({.workers = 2});
    const net::load_report report = rt.block_on(net::run_load(load), "load");
    rt.shutdown();

    const double seconds = static_cast<double>(report.elapsed_ns) / 1e9;
    const auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
    if (options.json) {
        nlohmann::json doc;
        doc["count"] = report.count;
        doc["errors"] = report.errors;
        doc["p50"] = ms(report.percentile_ns(0.50));
        doc["p90"] = ms(report.percentile_ns(0.90));
        doc["p99"] = ms(report.percentile_ns(0.99));
        doc["max"] = ms(report.latencies_ns.empty() ? 0 : report.latencies_ns.back());
        doc["unit"] = "ms";
        doc["elapsed_s"] = seconds;
        doc["statuses"] = nlohmann::json::object();
        for (const auto& [status, n] : report.statuses) {
            doc["statuses"][std::to_string(status)] = n;
        }
        if (!report.first_error.empty()) {
            doc["first_error"] = report.first_error;
        }
        out << doc.dump() << '\n';
    } else {
        char line[200];
        std::snprintf(
            line, sizeof line,
            "%zu requests to %s with %zu connection(s)%s in %.3f s (%.0f req/s)\n",
            options.requests, options.url.c_str(), std::min(options.concurrency, options.requests),
            options.http2
                ? (" over HTTP/2, " + std::to_string(options.streams) + " stream(s) each").c_str()
                : "",
            seconds, seconds > 0 ? static_cast<double>(report.count) / seconds : 0.0);
        out << line << "answered " << report.count << ", errors " << report.errors;
        if (!report.statuses.empty()) {
            out << " (status";
            for (const auto& [status, n] : report.statuses) {
                out << ' ' << status << " x" << n;
            }
            out << ')';
        }
        out << "\nlatency p50 " << format_ms(report.percentile_ns(0.50)) << ", p90 "
            << format_ms(report.percentile_ns(0.90)) << ", p99 "
            << format_ms(report.percentile_ns(0.99)) << ", max "
            << format_ms(report.latencies_ns.empty() ? 0 : report.latencies_ns.back()) << '\n';
    }
    if (report.count == 0) {
        err << "taskscope-cli load: no request was answered: " << report.first_error
            << " (is the server running? start one with taskscope-cli serve)\n";
        return 1;
    }
    return 0;
}

} // namespace taskscope::cli
