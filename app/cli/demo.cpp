#include "demo.hpp"

#include "maths/lane_summary.hpp"
#include "maths/time_scale.hpp"
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
    // The window's own level-of-detail, with a column of text for a pixel: each lane's draw
    // list says how much of each column its polls filled and whether one blocked.
    ui::TimeScale scale;
    scale.setWidth(static_cast<double>(columns));
    scale.setBounds(m.first_ns(), m.last_ns());
    scale.setVisible(static_cast<double>(m.first_ns()), static_cast<double>(m.last_ns()));
    out << "\ntimeline: " << format_ms(m.last_ns() - m.first_ns()) << " in " << columns
        << " columns of " << format_ms(static_cast<std::uint64_t>(scale.nsPerPixel()))
        << "  (# busy most of the column, + busy part of it, B blocked, . idle)\n";
    std::vector<ui::DrawItem> items;
    for (const analysis::lane& l : m.lanes()) {
        if (l.kind != trace::track_kind::worker) {
            continue;
        }
        ui::LaneSummary summary;
        summary.reset(m.first_ns());
        summary.update(l);
        summary.drawList(l, scale, items);
        std::vector<double> busy(columns, 0.0);
        std::vector<bool> blocked(columns, false);
        for (const ui::DrawItem& item : items) {
            const auto first = static_cast<std::size_t>(std::max(0.0, item.x0));
            for (std::size_t c = first; c < columns && static_cast<double>(c) < item.x1; ++c) {
                const double lo = std::max(item.x0, static_cast<double>(c));
                const double hi = std::min(item.x1, static_cast<double>(c + 1));
                busy[c] += static_cast<double>(item.occupancy) * (hi - lo);
                blocked[c] = blocked[c] || item.blocked;
            }
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
