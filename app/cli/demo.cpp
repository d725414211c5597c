#include "demo.hpp"

#include "taskscope/analysis/model.hpp"
#include "taskscope/taskscope.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "trace_commands.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace taskscope::cli {
namespace {

using namespace std::chrono_literals;
using trace::event;
using trace::event_kind;

void spin_for(std::chrono::microseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
}

// ---- the workload ----

task<int> request(int i) {
    co_await sleep_for(std::chrono::milliseconds(5 + (i * 7) % 20)); // waiting on "the network"
    spin_for(300us);                                                 // building the answer
    co_return 200;
}

task<void> sleeper(bool blocking) {
    if (blocking) {
        blocking_sleep(150ms); // the mistake: the worker can do nothing else meanwhile
    } else {
        co_await sleep_for(150ms);
    }
}

task<void> cruncher() {
    for (int slice = 0; slice < 20; ++slice) {
        spin_for(2ms);
        co_await yield_now(); // let the other tasks on this worker run between slices
    }
}

task<int> tiny(int i) {
    spin_for(50us);
    co_return i;
}

task<long> fan_out() {
    std::vector<join_handle<int>> children;
    for (int i = 0; i < 200; ++i) {
        children.push_back(spawn(tiny(i), "tiny"));
    }
    long sum = 0;
    for (auto& c : children) {
        sum += co_await c;
    }
    co_return sum;
}

task<void> workload(bool blocking) {
    auto s = spawn(sleeper(blocking), blocking ? "blocking sleeper" : "async sleeper");
    auto c = spawn(cruncher(), "cruncher");
    auto file = spawn_blocking(
        [] {
            std::this_thread::sleep_for(50ms); // a slow file read, off the workers
            return 4096;
        },
        "read file");
    std::vector<join_handle<int>> requests;
    for (int i = 0; i < 40; ++i) {
        requests.push_back(spawn(request(i), "request"));
    }
    auto f = spawn(fan_out(), "fan_out");
    for (auto& r : requests) {
        co_await r;
    }
    co_await f;
    co_await file;
    co_await c;
    co_await s;
}

// ---- the report ----

std::string format_ms(std::uint64_t ns) {
    return analysis::format_duration(ns, 1);
}

/// One text row per worker: # busy most of a column, + busy part of it, B blocked.
void print_timeline(std::ostream& out, const analysis::model& m, std::size_t columns) {
    const std::uint64_t start = m.first_ns();
    const std::uint64_t end = std::max(m.last_ns(), start + 1);
    const double per_column = static_cast<double>(end - start) / static_cast<double>(columns);
    out << "\ntimeline: " << format_ms(end - start) << " in " << columns << " columns of "
        << format_ms(static_cast<std::uint64_t>(per_column))
        << "  (# busy most of the column, + busy part of it, B blocked, . idle)\n";
    for (const analysis::lane& l : m.lanes()) {
        if (l.kind != trace::track_kind::worker) {
            continue;
        }
        std::vector<double> busy(columns, 0.0);
        std::vector<bool> blocked(columns, false);
        const auto spread = [&](std::uint64_t a, std::uint64_t b, auto&& apply) {
            const double from = static_cast<double>(a - start) / per_column;
            const double to = static_cast<double>(b - start) / per_column;
            for (auto c = static_cast<std::size_t>(from);
                 c < columns && static_cast<double>(c) < to; ++c) {
                const double lo = std::max(from, static_cast<double>(c));
                const double hi = std::min(to, static_cast<double>(c + 1));
                apply(c, hi - lo);
            }
        };
        for (const analysis::poll_span& p : l.polls) {
            spread(p.begin_ns, p.end_ns, [&](std::size_t c, double part) { busy[c] += part; });
        }
        for (const analysis::span& b : l.blocks) {
            spread(b.begin_ns, b.end_ns, [&](std::size_t c, double) { blocked[c] = true; });
        }
        std::string row;
        for (std::size_t c = 0; c < columns; ++c) {
            row += blocked[c] ? 'B' : busy[c] >= 0.5 ? '#' : busy[c] > 0.0 ? '+' : '.';
        }
        char label[16];
        std::snprintf(label, sizeof label, "%-9s", l.label().c_str());
        out << label << " |" << row << "|\n";
    }
}

} // namespace

int run_demo(const demo_options& options, std::ostream& out) {
    auto sink = std::make_shared<trace::memory_sink>();
    std::shared_ptr<trace::file_writer> file;
    const auto started = std::chrono::steady_clock::now();
    {
        const runtime_options config{.workers = options.workers,
                                     .stealing = options.stealing,
                                     .lifo_slot = options.lifo_slot};
        runtime rt(config);
        rt.trace().add_sink(sink);
        if (!options.output.empty()) {
            file = std::make_shared<trace::file_writer>(
                options.output, trace::run_info_for(rt, config, options.command));
            rt.trace().add_sink(file);
        }
        rt.block_on(workload(options.blocking_sleep), "workload");
        rt.shutdown();
        rt.trace().flush();
        if (file) {
            rt.trace().remove_sink(file);
            file->close();
        }
    }
    const auto wall = std::chrono::steady_clock::now() - started;
    analysis::model m;
    m.use_process_names();
    m.consume(sink->events());
    m.finish();

    out << "taskscope demo: " << options.workers << " worker(s), stealing "
        << (options.stealing ? "on" : "off") << ", LIFO slot " << (options.lifo_slot ? "on" : "off")
        << ", sleeper " << (options.blocking_sleep ? "BLOCKS its worker" : "awaits a timer")
        << " (ran "
        << format_ms(static_cast<std::uint64_t>(
               std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count()))
        << ")\n";
    print_summary(m, out);
    print_timeline(out, m, options.timeline_columns);
    if (file) {
        out << "\nrecorded " << file->events_written() << " events to " << options.output.string()
            << "  (taskscope-cli stats " << options.output.string() << ", or export it with "
            << "taskscope-cli export " << options.output.string() << " --chrome demo.json)\n";
    }
    if (options.blocking_sleep) {
        out << "\nThe B run is blocking_sleep: that worker polled nothing else meanwhile. Run "
               "without --blocking to see the same sleep leave the worker free.\n";
    } else {
        out << "\nTry --blocking to see a sleep stall its worker, --workers 1, or --no-steal.\n";
    }
    out << "The classic async demonstrations: taskscope-cli lessons (then taskscope-cli lesson "
           "NAME).\n";
    return 0;
}

} // namespace taskscope::cli
