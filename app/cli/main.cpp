#include "demo.hpp"
#include "serve.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"taskscope-cli: run taskscope's executor headless and report what it scheduled"};
    app.set_version_flag("--version", "taskscope-cli 0.1.0");
    app.require_subcommand(1);

    taskscope::cli::demo_options demo;
    CLI::App* demo_cmd = app.add_subcommand(
        "demo", "Run a small mixed workload (timers, CPU slices, a fan-out, a blocking-pool job, "
                "a sleeper) and print what the executor recorded");
    demo_cmd->add_option("-w,--workers", demo.workers, "Worker threads")
        ->check(CLI::Range(1, 8))
        ->capture_default_str();
    demo_cmd->add_flag("--blocking", demo.blocking_sleep,
                       "The sleeper calls blocking_sleep (stalls its worker) instead of sleep_for");
    demo_cmd->add_flag("!--no-steal", demo.stealing, "Turn work stealing off");
    demo_cmd->add_flag("!--no-lifo", demo.lifo_slot, "Turn the LIFO slot off");
    demo_cmd->add_option("--columns", demo.timeline_columns, "Width of the text timeline")
        ->check(CLI::Range(20, 400))
        ->capture_default_str();

    taskscope::cli::serve_options serve;
    std::string sleep_mode = "async";
    std::string accept_mode = "spawn";
    std::string reactor = "epoll";
    CLI::App* serve_cmd = app.add_subcommand(
        "serve",
        "Serve HTTP on the executor until Ctrl-C: / (fast), /sleep?ms=N, /cpu?ms=N, /stats");
    serve_cmd->add_option("--host", serve.host, "Address to listen on (numeric, or localhost)")
        ->capture_default_str();
    serve_cmd->add_option("-p,--port", serve.port, "Port (0: any free port)")
        ->capture_default_str();
    serve_cmd->add_option("-w,--workers", serve.workers, "Worker threads")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    serve_cmd->add_flag("--single-threaded", serve.single_threaded,
                        "No worker threads: the main thread polls every task");
    serve_cmd
        ->add_option("--sleep-mode", sleep_mode,
                     "How /sleep waits: async (a timer), blocking (stalls the worker), "
                     "offload (the blocking pool)")
        ->check(CLI::IsMember({"async", "blocking", "offload"}))
        ->capture_default_str();
    serve_cmd
        ->add_option("--accept-mode", accept_mode,
                     "inline (one connection at a time), concurrent (all on the accepting "
                     "worker), spawn (a task per connection, spread by stealing)")
        ->check(CLI::IsMember({"inline", "concurrent", "spawn"}))
        ->capture_default_str();
    serve_cmd->add_option("--reactor", reactor, "epoll, or the portable poll() backend")
        ->check(CLI::IsMember({"epoll", "poll"}))
        ->capture_default_str();
    serve_cmd->add_flag("!--no-trace", serve.trace, "Do not record scheduling events");

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
    load_cmd->add_option("--timeout-ms", load.timeout_ms, "Give up on a request after this long")
        ->check(CLI::Range(std::size_t{1}, std::size_t{3'600'000}))
        ->capture_default_str();
    load_cmd->add_flag("--json", load.json,
                       "Print JSON: count, errors, p50, p90, p99, max (milliseconds), statuses");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        if (*demo_cmd) {
            return taskscope::cli::run_demo(demo, std::cout);
        }
        if (*serve_cmd) {
            serve.sleep = *taskscope::net::parse_sleep_mode(sleep_mode);
            serve.accept = *taskscope::net::parse_accept_mode(accept_mode);
            serve.reactor = reactor == "poll" ? taskscope::reactor_backend::poll
                                              : taskscope::reactor_backend::epoll;
            return taskscope::cli::run_serve(serve, std::cout, std::cerr);
        }
        if (*load_cmd) {
            return taskscope::cli::run_load_command(load, std::cout, std::cerr);
        }
    } catch (const std::exception& e) {
        std::cerr << "taskscope-cli: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
