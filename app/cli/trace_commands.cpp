#include "trace_commands.hpp"

#include "taskscope/analysis/export.hpp"
#include "taskscope/analysis/load.hpp"
#include "taskscope/net/http_server.hpp"
#include "taskscope/net/load_generator.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/trace/request_forwarder.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <unistd.h>

namespace taskscope::cli {
namespace {

std::string format_duration(std::uint64_t ns) {
    return analysis::format_duration(ns, 2);
}

std::uint64_t blocked_ns(const analysis::lane& l) {
    std::uint64_t n = 0;
    for (const analysis::span& b : l.blocks) {
        n += b.end_ns == analysis::open_end ? 0 : b.end_ns - b.begin_ns;
    }
    return n;
}

/// Shows progress on a terminal for work that takes a while; silent otherwise.
class progress_line {
public:
    explicit progress_line(std::ostream& err, const char* what)
        : m_err(err)
        , m_what(what)
        , m_tty(isatty(STDERR_FILENO) != 0) {}
    void update(std::uint64_t done, std::uint64_t total) {
        if (!m_tty || total == 0) {
            return;
        }
        const auto percent = static_cast<int>(100 * done / total);
        if (percent != m_last) {
            m_last = percent;
            m_err << '\r' << m_what << ' ' << percent << "%" << std::flush;
        }
    }
    ~progress_line() {
        if (m_tty && m_last >= 0) {
            m_err << '\r' << std::string(m_what.size() + 6, ' ') << '\r' << std::flush;
        }
    }

private:
    std::ostream& m_err;
    std::string m_what;
    bool m_tty;
    int m_last = -1;
};

} // namespace

analysis::model load_model(const std::filesystem::path& file, trace::run_info& info,
                           trace::read_report& report, std::ostream* progress_to) {
    std::optional<progress_line> progress;
    if (progress_to != nullptr) {
        progress.emplace(*progress_to, "reading");
    }
    analysis::loaded_trace loaded =
        analysis::load_model(file, [&](std::uint64_t read, std::uint64_t total) {
            if (progress) {
                progress->update(read, total);
            }
            return true;
        });
    progress.reset();
    info = std::move(loaded.info);
    report = std::move(loaded.report);
    return std::move(*loaded.trace);
}

void print_summary(const analysis::model& m, std::ostream& out) {
    char line[200];
    std::snprintf(line, sizeof line, "%llu events over %s, %llu dropped\n",
                  static_cast<unsigned long long>(m.event_count()),
                  format_duration(m.duration_ns()).c_str(),
                  static_cast<unsigned long long>(m.dropped()));
    out << line;
    const auto wakes = m.wakes_by_source();
    std::uint64_t total_wakes = 0;
    for (std::uint64_t w : wakes) {
        total_wakes += w;
    }
    out << "tasks " << m.tasks().size() << ", polls " << m.poll_count() << ", wakes " << total_wakes
        << " (";
    bool first = true;
    for (std::size_t s = 0; s < wakes.size(); ++s) {
        if (wakes[s] != 0) {
            out << (first ? "" : ", ") << trace::to_string(static_cast<trace::wake_source>(s))
                << ' ' << wakes[s];
            first = false;
        }
    }
    out << ")\nsteals " << m.steals().size() << " (moving " << m.tasks_stolen()
        << " tasks), blocking calls " << m.block_count() << ", blocking-pool jobs "
        << m.blocking_jobs() << "\n\n";

    out << "lane              polls  busy         busy%   blocked      parks\n";
    const double duration = static_cast<double>(std::max<std::uint64_t>(m.duration_ns(), 1));
    for (const auto& l : m.lanes()) {
        if (l.kind != trace::track_kind::worker && l.polls.empty() && l.jobs.empty()) {
            continue;
        }
        const std::uint64_t busy = l.kind == trace::track_kind::blocking ? [&] {
            std::uint64_t n = 0;
            for (const auto& j : l.jobs) {
                n += j.end_ns == analysis::open_end ? 0 : j.end_ns - j.begin_ns;
            }
            return n;
        }()
                                                                          : l.busy_ns;
        std::snprintf(line, sizeof line, "%-16s %6zu  %-11s  %5.1f%%  %-11s %6zu\n",
                      l.label().c_str(),
                      l.kind == trace::track_kind::blocking ? l.jobs.size() : l.polls.size(),
                      format_duration(busy).c_str(), 100.0 * static_cast<double>(busy) / duration,
                      format_duration(blocked_ns(l)).c_str(), l.parked.size());
        out << line;
    }
    const analysis::latency_summary latency = m.request_latency();
    if (latency.count != 0) {
        out << "\nrequests ("
            << (m.has_client_requests() ? "as the client saw them" : "server side")
            << "): " << latency.count << ", latency p50 " << format_duration(latency.p50_ns)
            << ", p90 " << format_duration(latency.p90_ns) << ", p99 "
            << format_duration(latency.p99_ns) << ", max " << format_duration(latency.max_ns)
            << '\n';
    }
    if (!m.resources().empty()) {
        out << "\nresources (" << m.resources().size() << "):\n";
        out << "resource                          depth  waits  total wait   longest    missed\n";
        for (const auto& r : m.resources().all()) {
            std::snprintf(line, sizeof line, "%-32s %6llu %6llu  %-11s %-10s %6llu\n",
                          m.resource_label(r.id).c_str(), static_cast<unsigned long long>(r.depth),
                          static_cast<unsigned long long>(r.total_waits),
                          format_duration(r.total_wait_ns).c_str(),
                          format_duration(r.longest_wait_ns).c_str(),
                          static_cast<unsigned long long>(r.messages_missed));
            out << line;
        }
    }
    if (!m.lints().empty()) {
        out << "\nfindings (" << m.lints().size() << "):\n";
        std::size_t shown = 0;
        for (const auto& l : m.lints()) {
            if (++shown > 10) {
                out << "  ... and " << m.lints().size() - 10 << " more (see --json)\n";
                break;
            }
            out << "  at " << format_duration(l.at_ns - m.first_ns()) << ": " << m.describe(l)
                << '\n';
        }
    }
}

std::string summary_json(const analysis::model& m, const trace::read_report* report) {
    nlohmann::json j;
    j["events"] = m.event_count();
    j["dropped"] = m.dropped();
    j["duration_ns"] = m.duration_ns();
    j["tasks"] = m.tasks().size();
    j["polls"] = m.poll_count();
    nlohmann::json wakes = nlohmann::json::object();
    const auto by_source = m.wakes_by_source();
    for (std::size_t s = 0; s < by_source.size(); ++s) {
        wakes[std::string(trace::to_string(static_cast<trace::wake_source>(s)))] = by_source[s];
    }
    j["wakes"] = wakes;
    j["steals"] = m.steals().size();
    j["tasks_stolen"] = m.tasks_stolen();
    nlohmann::json workers = nlohmann::json::array();
    for (const auto& l : m.lanes()) {
        if (l.kind != trace::track_kind::worker) {
            continue;
        }
        workers.push_back({{"worker", l.index},
                           {"busy_ns", l.busy_ns},
                           {"polls", l.polls.size()},
                           {"blocked_ns", blocked_ns(l)}});
    }
    j["blocks"] = m.block_count();
    j["blocking_jobs"] = m.blocking_jobs();
    j["workers"] = workers;
    const analysis::latency_summary latency = m.request_latency();
    j["requests"] = {
        {"count", latency.count},   {"side", m.has_client_requests() ? "client" : "server"},
        {"p50_ns", latency.p50_ns}, {"p90_ns", latency.p90_ns},
        {"p99_ns", latency.p99_ns}, {"max_ns", latency.max_ns}};
    nlohmann::json lints = nlohmann::json::array();
    for (const auto& l : m.lints()) {
        const bool known = l.task < m.tasks().size();
        lints.push_back({{"kind", std::string(analysis::to_string(l.kind))},
                         {"task", known ? m.tasks()[l.task].id : 0},
                         {"task_name", m.task_label(l.task)},
                         {"at_ns", l.at_ns - m.first_ns()},
                         {"duration_ns", l.duration_ns},
                         {"detail", m.describe(l)}});
    }
    j["lints"] = lints;
    nlohmann::json resources = nlohmann::json::array();
    for (const auto& r : m.resources().all()) {
        resources.push_back({{"id", r.id},
                             {"kind", r.announced ? std::string(trace::to_string(r.kind)) : ""},
                             {"name", r.announced ? m.name(r.name) : ""},
                             {"capacity", r.capacity},
                             {"depth", r.depth},
                             {"max_depth", r.max_depth},
                             {"waiters_now", r.waiters_now},
                             {"waits", r.total_waits},
                             {"total_wait_ns", r.total_wait_ns},
                             {"longest_wait_ns", r.longest_wait_ns},
                             {"holds", r.holds.size()},
                             {"lagged_receivers", r.lagged_receivers.size()},
                             {"messages_missed", r.messages_missed},
                             {"closed", r.closed}});
    }
    j["resources"] = resources;
    if (report != nullptr) {
        j["complete"] = report->complete;
        if (!report->warning.empty()) {
            j["warning"] = report->warning;
        }
    }
    return j.dump(2);
}

int run_stats(const std::filesystem::path& file, bool json, std::ostream& out, std::ostream& err) {
    trace::run_info info;
    trace::read_report report;
    const analysis::model m = load_model(file, info, report, &err);
    if (!report.warning.empty()) {
        err << "taskscope-cli stats: " << file.string() << ": " << report.warning << '\n';
    }
    if (json) {
        out << summary_json(m, &report) << '\n';
        return 0;
    }
    out << file.string() << ": " << (info.command.empty() ? "a recording" : info.command) << " ("
        << info.workers << " worker(s)";
    if (!info.sleep_mode.empty()) {
        out << ", sleep mode " << info.sleep_mode << ", accept mode " << info.accept_mode;
    }
    out << ")\n";
    print_summary(m, out);
    return 0;
}

int run_export(const export_options& options, std::ostream& out, std::ostream& err) {
    if (options.chrome.empty() && options.csv.empty()) {
        err << "taskscope-cli export: say what to write: --chrome OUT.json and/or --csv OUT.csv\n";
        return 2;
    }
    for (const auto* out_path : {&options.chrome, &options.csv}) {
        std::error_code ec;
        if (!out_path->empty() && std::filesystem::equivalent(*out_path, options.input, ec)) {
            err << "taskscope-cli export: " << out_path->string()
                << " is the input file; choose another name for the export\n";
            return 2;
        }
    }
    trace::file_reader reader(options.input);
    std::ofstream chrome_file;
    std::unique_ptr<analysis::chrome_trace_writer> chrome;
    if (!options.chrome.empty()) {
        chrome_file.open(options.chrome, std::ios::binary | std::ios::trunc);
        if (!chrome_file) {
            err << "taskscope-cli export: cannot create " << options.chrome.string() << '\n';
            return 1;
        }
        chrome = std::make_unique<analysis::chrome_trace_writer>(chrome_file, reader.info());
    }
    // The CSV needs only requests, but they come from the model; the Chrome export streams.
    analysis::model requests_model;
    {
        progress_line progress(err, "exporting");
        trace::read_all(reader, [&](std::span<const trace::event> chunk, const auto& names) {
            if (chrome) {
                chrome->consume(chunk, names);
            }
            if (!options.csv.empty()) {
                requests_model.set_names(names);
                requests_model.consume(chunk);
            }
            progress.update(reader.progress_bytes(), reader.file_bytes());
            return true;
        });
    } // the progress line is cleared before any warning is printed
    if (!reader.report().warning.empty()) {
        err << "taskscope-cli export: " << options.input.string() << ": " << reader.report().warning
            << '\n';
    }
    if (chrome) {
        chrome->finish();
        chrome_file.close();
        if (!chrome_file) {
            err << "taskscope-cli export: writing " << options.chrome.string() << " failed\n";
            return 1;
        }
        out << "wrote " << options.chrome.string() << " (" << chrome->records_written()
            << " trace events; open it at https://ui.perfetto.dev or chrome://tracing)\n";
    }
    if (!options.csv.empty()) {
        requests_model.finish();
        std::ofstream csv(options.csv, std::ios::binary | std::ios::trunc);
        if (!csv) {
            err << "taskscope-cli export: cannot create " << options.csv.string() << '\n';
            return 1;
        }
        analysis::write_requests_csv(requests_model, csv);
        csv.close();
        if (!csv) {
            err << "taskscope-cli export: writing " << options.csv.string() << " failed\n";
            return 1;
        }
        std::size_t rows = 0;
        for (const auto& r : requests_model.requests()) {
            rows += r.finished() ? 1u : 0u;
        }
        out << "wrote " << options.csv.string() << " (" << rows << " requests)\n";
    }
    return 0;
}

int run_record(const record_options& options, std::ostream& out, std::ostream& err) {
    std::string target = options.load;
    std::optional<net::http_url> external;
    if (target.rfind("http://", 0) == 0 || target.find("://") != std::string::npos) {
        std::string problem;
        external = net::parse_http_url(target, problem);
        if (!external) {
            err << "taskscope-cli record: --load " << target << ": " << problem << '\n';
            return 2;
        }
    } else if (target.empty() || target.front() != '/') {
        err << "taskscope-cli record: --load takes a path such as /sleep?ms=10 or a URL "
               "such as http://127.0.0.1:8080/\n";
        return 2;
    }

    const runtime_options runtime_config{.workers = options.server.workers,
                                         .stealing = options.stealing,
                                         .lifo_slot = options.lifo_slot,
                                         .reactor = options.server.reactor};
    runtime rt(runtime_config);
    trace::run_info info = trace::run_info_for(rt, runtime_config, options.command);
    info.sleep_mode = std::string(net::to_string(options.server.sleep));
    info.accept_mode = std::string(net::to_string(options.server.accept));
    auto file = std::make_shared<trace::file_writer>(options.output, info);
    rt.trace().add_sink(file);
    // The load generator runs on a runtime of its own, as an outside client would: a
    // blocked worker then delays its requests instead of stopping the client too. Its
    // client-side request events join the file on the observed runtime's clock.
    runtime clients({.workers = 1});
    auto forwarder =
        std::make_shared<trace::client_request_forwarder>(file, clients.trace(), rt.trace());
    clients.trace().add_sink(forwarder);

    const net::http_server_options server_options = server_options_of(options.server);
    std::unique_ptr<net::http_server> server;
    try {
        server = net::http_server::bind(rt, server_options);
    } catch (const std::system_error& e) {
        err << "taskscope-cli record: " << e.what() << '\n';
        return 1;
    }
    auto serving = rt.spawn(server->run(), "accept_loop");

    net::load_options load;
    load.host = external ? external->host : options.server.host;
    load.port = external ? external->port : server->port();
    load.target = external ? external->target : target;
    load.requests = options.requests;
    load.concurrency = options.concurrency;
    out << "recording to " << options.output.string() << ": " << options.requests << " requests to "
        << (external ? options.load
                     : "http://" + load.host + ':' + std::to_string(load.port) + load.target)
        << " with " << std::min(options.concurrency, options.requests) << " connection(s), "
        << info.workers << " worker(s), sleep mode " << info.sleep_mode << ", accept mode "
        << info.accept_mode << '\n'
        << std::flush;

    load.stop_at = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(options.max_seconds));
    const net::load_report report = clients.block_on(net::run_load(load), "load");
    const std::size_t not_sent =
        options.requests - std::min(options.requests, report.count + report.errors);
    if (not_sent != 0) {
        err << "taskscope-cli record: stopped after " << options.max_seconds
            << " s (--max-seconds): " << not_sent << " requests were not sent\n";
    }
    server->stop(std::chrono::milliseconds(1000));
    serving.get();
    clients.shutdown();
    clients.trace().flush();
    clients.trace().remove_sink(forwarder);
    rt.trace().flush();
    rt.trace().remove_sink(file);
    server.reset();
    rt.shutdown();
    file->close();

    trace::run_info read_info;
    trace::read_report read;
    const analysis::model m = load_model(options.output, read_info, read, nullptr);
    const double bytes = static_cast<double>(std::filesystem::file_size(options.output));
    char line[200];
    std::snprintf(line, sizeof line,
                  "answered %zu, errors %zu; wrote %llu events in %.1f KiB (%.2f bytes/event)\n\n",
                  report.count, report.errors, static_cast<unsigned long long>(m.event_count()),
                  bytes / 1024.0,
                  m.event_count() ? bytes / static_cast<double>(m.event_count()) : 0.0);
    out << line;
    print_summary(m, out);
    out << "\nnext: taskscope-cli stats " << options.output.string()
        << " --json, or taskscope-cli export " << options.output.string()
        << " --chrome trace.json\n";
    return report.count == 0 ? 1 : 0;
}

} // namespace taskscope::cli
