#include "demo.hpp"

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

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        if (*demo_cmd) {
            return taskscope::cli::run_demo(demo, std::cout);
        }
    } catch (const std::exception& e) {
        std::cerr << "taskscope-cli: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
