#include "demo.hpp"

#include "taskscope/taskscope.hpp"

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

struct lane {
    std::string label;
    std::uint64_t polls = 0;
    std::uint64_t busy_ns = 0;
    std::uint64_t blocked_ns = 0;
    std::uint64_t parks = 0;
    std::uint64_t steals = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> busy_spans;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> block_spans;
    std::uint64_t open_poll = 0;
    std::uint64_t open_block = 0;
    bool polling = false;
    bool blocking = false;
};

std::string format_ms(std::uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(ns) / 1e6);
    return buf;
}

void print_timeline(std::ostream& out, const std::map<std::uint16_t, lane>& lanes,
                    std::uint64_t start, std::uint64_t end, std::size_t columns) {
    const double span = static_cast<double>(end - start);
    const double per_column = span / static_cast<double>(columns);
    out << "\ntimeline: " << format_ms(end - start) << " in " << columns << " columns of "
        << format_ms(static_cast<std::uint64_t>(per_column))
        << "  (# busy most of the column, + busy part of it, B blocked, . idle)\n";
    for (const auto& [track, l] : lanes) {
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
        for (const auto& [a, b] : l.busy_spans) {
            spread(a, b, [&](std::size_t c, double part) { busy[c] += part; });
        }
        for (const auto& [a, b] : l.block_spans) {
            spread(a, b, [&](std::size_t c, double) { blocked[c] = true; });
        }
        std::string row;
        for (std::size_t c = 0; c < columns; ++c) {
            row += blocked[c] ? 'B' : busy[c] >= 0.5 ? '#' : busy[c] > 0.0 ? '+' : '.';
        }
        char label[16];
        std::snprintf(label, sizeof label, "%-9s", l.label.c_str());
        out << label << " |" << row << "|\n";
    }
}

} // namespace

int run_demo(const demo_options& options, std::ostream& out) {
    auto sink = std::make_shared<trace::memory_sink>();
    const auto started = std::chrono::steady_clock::now();
    {
        runtime rt({.workers = options.workers,
                    .stealing = options.stealing,
                    .lifo_slot = options.lifo_slot});
        rt.trace().add_sink(sink);
        rt.block_on(workload(options.blocking_sleep), "workload");
        rt.shutdown();
    }
    const auto wall = std::chrono::steady_clock::now() - started;
    const std::vector<event> events = sink->events();

    std::map<std::uint16_t, lane> lanes; // worker tracks only
    std::array<std::uint64_t, 8> wakes_by_source{};
    std::uint64_t tasks = 0, polls = 0, wakes = 0, steals = 0, stolen = 0, blocks = 0, jobs = 0,
                  dropped = 0;
    std::uint64_t first = events.empty() ? 0 : events.front().time_ns;
    std::uint64_t last = events.empty() ? 0 : events.back().time_ns;
    for (const event& e : events) {
        auto it = lanes.find(e.track);
        lane* l = it == lanes.end() ? nullptr : &it->second;
        switch (e.kind) {
        case event_kind::track_started:
            if (e.detail == static_cast<std::uint8_t>(trace::track_kind::worker)) {
                lanes[e.track].label = "worker " + std::to_string(e.arg);
            }
            break;
        case event_kind::task_spawned:
            ++tasks;
            break;
        case event_kind::poll_begin:
            ++polls;
            if (l) {
                ++l->polls;
                l->open_poll = e.time_ns;
                l->polling = true;
            }
            break;
        case event_kind::poll_end:
            if (l && l->polling) {
                l->busy_ns += e.time_ns - l->open_poll;
                l->busy_spans.emplace_back(l->open_poll, e.time_ns);
                l->polling = false;
            }
            break;
        case event_kind::wake:
            ++wakes;
            ++wakes_by_source.at(std::min<std::size_t>(e.detail, 7));
            break;
        case event_kind::steal:
            ++steals;
            stolen += e.arg2;
            if (l) {
                ++l->steals;
            }
            break;
        case event_kind::block_begin:
            ++blocks;
            if (l) {
                l->open_block = e.time_ns;
                l->blocking = true;
            }
            break;
        case event_kind::block_end:
            if (l && l->blocking) {
                l->blocked_ns += e.time_ns - l->open_block;
                l->block_spans.emplace_back(l->open_block, e.time_ns);
                l->blocking = false;
            }
            break;
        case event_kind::blocking_job_begin:
            ++jobs;
            break;
        case event_kind::worker_park:
            if (l) {
                ++l->parks;
            }
            break;
        case event_kind::events_dropped:
            dropped = std::max<std::uint64_t>(dropped, e.arg);
            break;
        default:
            break;
        }
    }

    const double seconds = std::chrono::duration<double>(wall).count();
    out << "taskscope demo: " << options.workers << " worker(s), stealing "
        << (options.stealing ? "on" : "off") << ", LIFO slot " << (options.lifo_slot ? "on" : "off")
        << ", sleeper " << (options.blocking_sleep ? "BLOCKS its worker" : "awaits a timer")
        << "\n";
    char line[160];
    std::snprintf(line, sizeof line, "recorded %zu events in %.3f s (%llu dropped)\n\n",
                  events.size(), seconds, static_cast<unsigned long long>(dropped));
    out << line;
    out << "tasks spawned " << tasks << ", polls " << polls << ", wakes " << wakes << " (";
    for (std::size_t s = 0; s < wakes_by_source.size(); ++s) {
        out << (s ? ", " : "") << trace::to_string(static_cast<trace::wake_source>(s)) << ' '
            << wakes_by_source[s];
    }
    out << ")\nsteals " << steals << " (moving " << stolen << " tasks), blocking calls " << blocks
        << ", blocking-pool jobs " << jobs << "\n\n";

    out << "lane       polls    busy        busy%   blocked     parks  steals\n";
    const std::uint64_t duration = last > first ? last - first : 1;
    for (const auto& [track, l] : lanes) {
        std::snprintf(line, sizeof line, "%-9s %6llu  %-10s  %5.1f%%  %-10s %6llu  %6llu\n",
                      l.label.c_str(), static_cast<unsigned long long>(l.polls),
                      format_ms(l.busy_ns).c_str(),
                      100.0 * static_cast<double>(l.busy_ns) / static_cast<double>(duration),
                      format_ms(l.blocked_ns).c_str(), static_cast<unsigned long long>(l.parks),
                      static_cast<unsigned long long>(l.steals));
        out << line;
    }
    if (!events.empty()) {
        print_timeline(out, lanes, first, last, options.timeline_columns);
    }
    if (options.blocking_sleep) {
        out << "\nThe B run is blocking_sleep: that worker polled nothing else meanwhile. Run "
               "without --blocking to see the same sleep leave the worker free.\n";
    } else {
        out << "\nTry --blocking to see a sleep stall its worker, --workers 1, or --no-steal.\n";
    }
    return 0;
}

} // namespace taskscope::cli
