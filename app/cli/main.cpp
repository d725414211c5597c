#include "attach_commands.hpp"
#include "chat_commands.hpp"
#include "demo.hpp"
#include "lesson_commands.hpp"
#include "serve.hpp"
#include "taskscope/runtime.hpp"
#include "trace_commands.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

/// The server flags shared by `serve` and `record`.
struct server_flags {
    std::string sleep_mode = "async";
    std::string accept_mode = "spawn";
    std::string reactor = "automatic";

    void apply(taskscope::cli::serve_options& options) const {
        options.sleep = *taskscope::net::parse_sleep_mode(sleep_mode);
        options.accept = *taskscope::net::parse_accept_mode(accept_mode);
        options.reactor = reactor == "poll"    ? taskscope::reactor_backend::poll
                          : reactor == "epoll" ? taskscope::reactor_backend::epoll
                                               : taskscope::reactor_backend::automatic;
    }
};

void add_server_flags(CLI::App& cmd, taskscope::cli::serve_options& options, server_flags& flags,
                      std::uint16_t default_port) {
    options.port = default_port;
    cmd.add_option("--host", options.host, "Address to listen on (numeric, or localhost)")
        ->capture_default_str();
    cmd.add_option("-p,--port", options.port, "Port (0: any free port)")->capture_default_str();
    cmd.add_option("-w,--workers", options.workers, "Worker threads")
        ->check(CLI::Range(std::size_t{1}, taskscope::runtime_options::max_workers))
        ->capture_default_str();
    cmd.add_option("--sleep-mode", flags.sleep_mode,
                   "How /sleep waits: async (a timer), blocking (stalls the worker), "
                   "offload (the blocking pool)")
        ->check(CLI::IsMember({"async", "blocking", "offload"}))
        ->capture_default_str();
    cmd.add_option("--accept-mode", flags.accept_mode,
                   "inline (one connection at a time), concurrent (all on the accepting "
                   "worker), spawn (a task per connection, spread by stealing)")
        ->check(CLI::IsMember({"inline", "concurrent", "spawn"}))
        ->capture_default_str();
    cmd.add_option("--http2-max-streams", options.http2_max_streams,
                   "HTTP/2 (h2c, same port): streams running at once on a connection "
                   "(SETTINGS_MAX_CONCURRENT_STREAMS; beyond, REFUSED_STREAM)")
        ->check(CLI::Range(1U, 10'000U))
        ->capture_default_str();
    std::vector<std::string> reactors{"automatic", "poll"};
    if (taskscope::reactor_backend_available(taskscope::reactor_backend::epoll)) {
        reactors.insert(reactors.begin() + 1, "epoll");
    }
    cmd.add_option("--reactor", flags.reactor,
                   "automatic (epoll where this build has it, else poll), epoll (Linux), or "
                   "the portable poll() backend")
        ->check(CLI::IsMember(reactors))
        ->capture_default_str();
}

std::string command_line(int argc, char** argv) {
    std::string line = "taskscope-cli";
    for (int i = 1; i < argc; ++i) {
        line += ' ';
        line += argv[i];
    }
    return line;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"taskscope-cli: run taskscope's executor headless and report what it scheduled"};
    app.set_version_flag("--version", "taskscope-cli 0.1.0");
    app.require_subcommand(1);

    taskscope::cli::demo_options demo;
    CLI::App* demo_cmd = app.add_subcommand(
        "demo", "Run a small mixed workload (timers, CPU slices, a fan-out, a blocking-pool job, "
                "a sleeper) and print what the executor recorded");
    demo_cmd->add_option("-w,--workers", demo.workers, "Worker threads")
        ->check(CLI::Range(std::size_t{1}, taskscope::runtime_options::max_workers))
        ->capture_default_str();
    demo_cmd->add_flag("--blocking", demo.blocking_sleep,
                       "The sleeper calls blocking_sleep (stalls its worker) instead of sleep_for");
    demo_cmd->add_flag("!--no-steal", demo.stealing, "Turn work stealing off");
    demo_cmd->add_flag("!--no-lifo", demo.lifo_slot, "Turn the LIFO slot off");
    demo_cmd->add_option("--columns", demo.timeline_columns, "Width of the text timeline")
        ->check(CLI::Range(20, 400))
        ->capture_default_str();
    demo_cmd->add_option("-o,--output", demo.output, "Also record the trace to this .tstrace file");

    taskscope::cli::serve_options serve;
    server_flags serve_flags;
    CLI::App* serve_cmd = app.add_subcommand(
        "serve",
        "Serve HTTP on the executor until Ctrl-C: / (fast), /sleep?ms=N, /cpu?ms=N, /stats");
    add_server_flags(*serve_cmd, serve, serve_flags, 8080);
    serve_cmd->add_flag("--single-threaded", serve.single_threaded,
                        "No worker threads: the main thread polls every task");
    serve_cmd->add_flag("!--no-trace", serve.trace, "Do not record scheduling events");
    serve_cmd->add_option("--record", serve.record,
                          "Record the trace to this .tstrace file until Ctrl-C");

    taskscope::cli::record_options record;
    server_flags record_flags;
    CLI::App* record_cmd = app.add_subcommand(
        "record", "Serve HTTP, drive it with the load generator and record the trace to a file");
    record_cmd->add_option("-o,--output", record.output, "The .tstrace file to write")->required();
    add_server_flags(*record_cmd, record.server, record_flags, 0);
    record_cmd->add_flag("!--no-steal", record.stealing, "Turn work stealing off");
    record_cmd->add_flag("!--no-lifo", record.lifo_slot, "Turn the LIFO slot off");
    record_cmd
        ->add_option("--load", record.load,
                     "What to request: a path on the recorded server (/, /sleep?ms=N, "
                     "/cpu?ms=N) or a full http:// URL")
        ->capture_default_str();
    record_cmd->add_option("-n,--requests", record.requests, "How many requests")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
        ->capture_default_str();
    record_cmd->add_option("-c,--concurrency", record.concurrency, "Connections at once")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000}))
        ->capture_default_str();
    CLI::Option* max_seconds_opt =
        record_cmd
            ->add_option("--max-seconds", record.max_seconds,
                         "Stop the load and the recording after this long (with --attach: "
                         "default until the program ends or Ctrl-C)")
            ->check(CLI::Range(0.1, 36000.0))
            ->capture_default_str();
    std::string attach_address;
    record_cmd
        ->add_option("--attach", attach_address,
                     "Record a running program instead: one that serves its trace at HOST:PORT "
                     "(started with TASKSCOPE_LISTEN=HOST:PORT, e.g. 127.0.0.1:6669); the "
                     "server and load flags do not apply")
        ->type_name("HOST:PORT");
    std::string flight_recorder;
    record_cmd
        ->add_option("--flight-recorder", flight_recorder,
                     "With --attach: keep only the last DURATION (60s, 2m, 500ms) in memory and "
                     "write it to OUTPUT-1.tstrace, OUTPUT-2.tstrace, ... on SIGUSR1 "
                     "(kill -USR1 PID) or --trigger-block")
        ->type_name("DURATION");
    double trigger_block_ms = 0;
    record_cmd
        ->add_option("--trigger-block", trigger_block_ms,
                     "With --flight-recorder: also write when a task blocks its thread longer "
                     "than MS milliseconds")
        ->type_name("MS")
        ->check(CLI::Range(0.001, 3600000.0));

    bool stats_json = false;
    std::filesystem::path stats_file;
    CLI::App* stats_cmd = app.add_subcommand(
        "stats", "Summarise a .tstrace file: tasks, polls, wakes, steals, blocking, per-worker "
                 "busy time, request latency, findings");
    stats_cmd->add_option("file", stats_file, "A .tstrace file")->required();
    stats_cmd->add_flag("--json", stats_json,
                        "Print JSON: events, dropped, duration_ns, tasks, polls, wakes, steals, "
                        "blocks, workers, requests, lints");

    taskscope::cli::export_options export_opts;
    CLI::App* export_cmd = app.add_subcommand(
        "export", "Convert a .tstrace file for other tools (streams: any size works)");
    export_cmd->add_option("file", export_opts.input, "A .tstrace file")->required();
    export_cmd->add_option("--chrome", export_opts.chrome,
                           "Write Chrome Trace Event JSON (open in https://ui.perfetto.dev)");
    export_cmd->add_option("--csv", export_opts.csv,
                           "Write one row per request: start, latency, route, status, worker");

    taskscope::cli::load_cli_options load;
    CLI::App* load_cmd = app.add_subcommand(
        "load", "Fire requests at a URL with the built-in load generator and print the latencies");
    load_cmd->add_option("url", load.url, "For example http://127.0.0.1:8080/sleep?ms=100")
        ->required();
    load_cmd->add_option("-n,--requests", load.requests, "How many requests")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
        ->capture_default_str();
    load_cmd->add_option("-c,--concurrency", load.concurrency, "Connections at once")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000}))
        ->capture_default_str();
    load_cmd->add_flag("!--no-keep-alive", load.keep_alive, "A new connection for every request");
    CLI::Option* http2_flag = load_cmd->add_flag(
        "--http2", load.http2,
        "HTTP/2 over cleartext with prior knowledge (h2c): streams multiplexed on each connection");
    load_cmd
        ->add_option("-m,--streams", load.streams,
                     "With --http2: requests in flight at once on each connection (h2load's -m)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000}))
        ->needs(http2_flag)
        ->capture_default_str();
    load_cmd->add_option("--timeout-ms", load.timeout_ms, "Give up on a request after this long")
        ->check(CLI::Range(std::size_t{1}, std::size_t{3'600'000}))
        ->capture_default_str();
    load_cmd->add_flag("--json", load.json,
                       "Print JSON: count, errors, p50, p90, p99, max (milliseconds), statuses");

    taskscope::cli::chat_serve_options chat_serve;
    std::string chat_backlog = "ring";
    CLI::App* chat_serve_cmd = app.add_subcommand(
        "chat-serve", "Serve the chat protocol (one JSON object a line: Join, Post, Stats) until "
                      "Ctrl-C; slow readers lag and are told what they missed");
    chat_serve_cmd->add_option("--host", chat_serve.host, "Address to listen on")
        ->capture_default_str();
    chat_serve_cmd->add_option("-p,--port", chat_serve.port, "Port (0: any free port)")
        ->capture_default_str();
    chat_serve_cmd->add_option("-w,--workers", chat_serve.workers, "Worker threads")
        ->check(CLI::Range(std::size_t{1}, taskscope::runtime_options::max_workers))
        ->capture_default_str();
    chat_serve_cmd
        ->add_option("--capacity", chat_serve.capacity,
                     "Messages each group's ring keeps; a reader further behind lags")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
        ->capture_default_str();
    chat_serve_cmd
        ->add_option("--backlog", chat_backlog,
                     "ring (bounded: slow readers lose messages and are told) or unbounded (a "
                     "queue per reader that grows without limit: the mistake)")
        ->check(CLI::IsMember({"ring", "unbounded"}))
        ->capture_default_str();
    chat_serve_cmd
        ->add_option("--max-line", chat_serve.max_line_bytes,
                     "Longest line a client may send, in bytes")
        ->check(CLI::Range(std::size_t{64}, std::size_t{64} << 20))
        ->capture_default_str();
    chat_serve_cmd
        ->add_option("--max-connections", chat_serve.max_connections,
                     "Connections at once; more are told to try later")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
        ->capture_default_str();
    chat_serve_cmd
        ->add_option("--send-buffer", chat_serve.send_buffer_bytes,
                     "Kernel send buffer per connection in bytes (0: the system's autotuning)")
        ->check(CLI::Range(0, 64 << 20))
        ->capture_default_str();
    chat_serve_cmd->add_flag("!--no-trace", chat_serve.trace, "Do not record scheduling events");
    chat_serve_cmd->add_option("--record", chat_serve.record,
                               "Record the trace to this .tstrace file until Ctrl-C");

    taskscope::cli::chat_client_options chat_client;
    CLI::App* chat_cmd = app.add_subcommand(
        "chat", "Talk to a chat server: type 'join GROUP', 'post GROUP MESSAGE...' or 'stats'; "
                "what the server sends is printed as it arrives");
    chat_cmd->add_option("address", chat_client.address, "HOST:PORT, for example 127.0.0.1:7878")
        ->required();
    chat_cmd
        ->add_option("--linger-ms", chat_client.linger_ms,
                     "After standard input ends, keep printing for this long")
        ->check(CLI::Range(std::size_t{0}, std::size_t{600'000}))
        ->capture_default_str();

    taskscope::cli::chat_load_cli_options chat_load;
    CLI::App* chat_load_cmd = app.add_subcommand(
        "chat-load", "Load a chat server: posters, fast readers and slow (or stalled) readers in "
                     "one group; prints delivery latency and lag per class of reader");
    chat_load_cmd->add_option("address", chat_load.address, "HOST:PORT, for example 127.0.0.1:7878")
        ->required();
    chat_load_cmd->add_option("--group", chat_load.group, "The group")->capture_default_str();
    chat_load_cmd->add_option("--posters", chat_load.posters, "Posting clients")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1000}))
        ->capture_default_str();
    chat_load_cmd->add_option("--rate", chat_load.rate, "Posts a second, each poster (0: flat out)")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    chat_load_cmd->add_option("--fast", chat_load.fast, "Readers that read everything at once")
        ->check(CLI::Range(std::size_t{0}, std::size_t{5000}))
        ->capture_default_str();
    chat_load_cmd->add_option("--slow", chat_load.slow, "Slow readers")
        ->check(CLI::Range(std::size_t{0}, std::size_t{5000}))
        ->capture_default_str();
    chat_load_cmd
        ->add_option("--slow-rate", chat_load.slow_rate,
                     "Messages a second a slow reader reads (0: stalled, never reads)")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    chat_load_cmd->add_option("--seconds", chat_load.seconds, "How long the posters post")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    chat_load_cmd->add_option("--bytes", chat_load.bytes, "Message length")
        ->check(CLI::Range(std::size_t{16}, std::size_t{60'000}))
        ->capture_default_str();
    chat_load_cmd->add_flag("--json", chat_load.json,
                            "Print JSON: posted, and per class readers, received, lag_notices, "
                            "missed, p50_ms, p99_ms, max_ms");

    CLI::App* lessons_cmd =
        app.add_subcommand("lessons", "List the lessons: the classic async demonstrations");
    taskscope::cli::lesson_options lesson;
    CLI::App* lesson_cmd = app.add_subcommand(
        "lesson", "Run a lesson headless: one line per phase, \"phase NAME SECONDS\" and what "
                  "it counts");
    lesson_cmd->add_option("name", lesson.name, "The lesson (taskscope-cli lessons lists them)")
        ->required();
    lesson_cmd
        ->add_option("--scale", lesson.scale,
                     "Multiply every duration (1 = the classic numbers; 0.1 runs ten times faster)")
        ->check(CLI::Range(0.001, 10.0))
        ->capture_default_str();
    lesson_cmd->add_option("-o,--output", lesson.output, "Record the trace to this .tstrace file");
    lesson_cmd->add_flag("--explain", lesson.explain,
                         "Print what to predict, what to look at, why, and the fix; do not run");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        if (*demo_cmd) {
            demo.command = command_line(argc, argv);
            return taskscope::cli::run_demo(demo, std::cout);
        }
        if (*serve_cmd) {
            serve_flags.apply(serve);
            serve.command = command_line(argc, argv);
            return taskscope::cli::run_serve(serve, std::cout, std::cerr);
        }
        if (*record_cmd && attach_address.empty() &&
            (!flight_recorder.empty() || trigger_block_ms > 0)) {
            std::cerr << "taskscope-cli record: --flight-recorder and --trigger-block watch a "
                         "running program: add --attach HOST:PORT\n";
            return 2;
        }
        if (*record_cmd && flight_recorder.empty() && trigger_block_ms > 0) {
            std::cerr << "taskscope-cli record: --trigger-block needs --flight-recorder\n";
            return 2;
        }
        std::optional<double> flight_seconds;
        if (!flight_recorder.empty()) {
            flight_seconds = taskscope::cli::parse_seconds(flight_recorder);
            if (!flight_seconds) {
                std::cerr << "taskscope-cli record: --flight-recorder takes a duration such as "
                             "60s, 2m or 500ms (got \""
                          << flight_recorder << "\")\n";
                return 2;
            }
        }
        if (*record_cmd && !attach_address.empty()) {
            for (const char* flag : {"--load", "--requests", "--concurrency", "--workers"}) {
                if (record_cmd->count(flag) != 0) {
                    std::cerr << "taskscope-cli record: " << flag
                              << " does not apply with --attach (the program runs its own "
                                 "work)\n";
                    return 2;
                }
            }
            return taskscope::cli::run_record_attach(
                {.address = attach_address,
                 .output = record.output,
                 .max_seconds = max_seconds_opt->count() != 0 ? record.max_seconds : 0.0,
                 .flight_seconds = flight_seconds.value_or(0.0),
                 .trigger_block_ms = trigger_block_ms},
                std::cout, std::cerr);
        }
        if (*record_cmd) {
            record_flags.apply(record.server);
            record.command = command_line(argc, argv);
            return taskscope::cli::run_record(record, std::cout, std::cerr);
        }
        if (*stats_cmd) {
            return taskscope::cli::run_stats(stats_file, stats_json, std::cout, std::cerr);
        }
        if (*export_cmd) {
            return taskscope::cli::run_export(export_opts, std::cout, std::cerr);
        }
        if (*lessons_cmd) {
            return taskscope::cli::run_lessons_list(std::cout);
        }
        if (*lesson_cmd) {
            lesson.command = command_line(argc, argv);
            return taskscope::cli::run_lesson(lesson, std::cout, std::cerr);
        }
        if (*chat_serve_cmd) {
            chat_serve.backlog = *taskscope::net::parse_backlog_mode(chat_backlog);
            chat_serve.command = command_line(argc, argv);
            return taskscope::cli::run_chat_serve(chat_serve, std::cout, std::cerr);
        }
        if (*chat_cmd) {
            return taskscope::cli::run_chat_client(chat_client, std::cout, std::cerr);
        }
        if (*chat_load_cmd) {
            return taskscope::cli::run_chat_load_command(chat_load, std::cout, std::cerr);
        }
        if (*load_cmd) {
            return taskscope::cli::run_load_command(load, std::cout, std::cerr);
        }
    } catch (const taskscope::trace::file_error& e) {
        std::cerr << "taskscope-cli: " << e.what() << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "taskscope-cli: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
