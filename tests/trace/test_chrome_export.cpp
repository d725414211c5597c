#include "engine/test_support.hpp"
#include "taskscope/analysis/export.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/net/http_server.hpp"
#include "taskscope/net/load_generator.hpp"
#include "taskscope/taskscope.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#ifdef _WIN32
#include <process.h> // _getpid
#else
#include <unistd.h> // getpid
#endif

// The Chrome Trace Event export (what Perfetto UI and chrome://tracing load) and the
// request CSV. The JSON is parsed back with nlohmann::json and checked for what those
// viewers rely on: metadata naming every thread, slices that nest on each thread, flow
// arrows whose ends pair up, async request slices that pair up.

using namespace taskscope;
using namespace std::chrono_literals;
using json = nlohmann::json;
using trace::event;
using trace::event_kind;
using trace::poll_result;
using trace::track_kind;
using trace::wake_source;
namespace make = trace::make;

namespace {

constexpr std::uint32_t reactor_tid = 100'000;
constexpr double tolerance_us = 1e-6;

/// Inside tasks, fail by throwing (Catch's assertions are for the test thread). A
/// string_view: a temporary std::string next to a co_await is what g++ 12 miscompiles.
void expect(bool condition, std::string_view what) {
    if (!condition) {
        throw std::runtime_error(std::string(what));
    }
}

/// The export of `events`, parsed. `records` receives records_written().
json export_events(const std::vector<event>& events, const std::vector<std::string>& names,
                   const trace::run_info& info = {}, std::uint64_t* records = nullptr) {
    std::ostringstream out;
    analysis::chrome_trace_writer writer(out, info);
    writer.consume(events, names);
    writer.finish();
    writer.finish(); // idempotent: the document is closed once
    if (records != nullptr) {
        *records = writer.records_written();
    }
    INFO(out.str());
    json doc;
    REQUIRE_NOTHROW(doc = json::parse(out.str()));
    return doc;
}

const json& trace_events(const json& doc) {
    REQUIRE(doc.is_object());
    REQUIRE(doc.contains("traceEvents"));
    REQUIRE(doc["traceEvents"].is_array());
    return doc["traceEvents"];
}

std::vector<json> with_phase(const json& doc, std::string_view ph) {
    std::vector<json> out;
    for (const json& e : trace_events(doc)) {
        if (e.value("ph", "") == ph) {
            out.push_back(e);
        }
    }
    return out;
}

std::vector<json> slices_named(const json& doc, std::string_view name) {
    std::vector<json> out;
    for (const json& e : with_phase(doc, "X")) {
        if (e["name"] == std::string(name)) {
            out.push_back(e);
        }
    }
    return out;
}

/// tid -> thread name, from the thread_name metadata.
std::map<std::uint32_t, std::string> thread_names(const json& doc) {
    std::map<std::uint32_t, std::string> out;
    for (const json& e : with_phase(doc, "M")) {
        if (e["name"] == "thread_name") {
            out[e["tid"].get<std::uint32_t>()] = e["args"]["name"].get<std::string>();
        }
    }
    return out;
}

std::map<std::uint32_t, std::uint32_t> sort_indexes(const json& doc) {
    std::map<std::uint32_t, std::uint32_t> out;
    for (const json& e : with_phase(doc, "M")) {
        if (e["name"] == "thread_sort_index") {
            out[e["tid"].get<std::uint32_t>()] = e["args"]["sort_index"].get<std::uint32_t>();
        }
    }
    return out;
}

std::uint32_t tid_named(const json& doc, std::string_view name) {
    for (const auto& [tid, n] : thread_names(doc)) {
        if (n == name) {
            return tid;
        }
    }
    FAIL("no thread named " << name);
    return 0;
}

/// What every export must satisfy, whatever the events: checked on real and hand-built
/// traces alike.
void check_well_formed(const json& doc, std::uint64_t records) {
    const json& events = trace_events(doc);
    CHECK(events.size() == records);

    // Every event has pid, tid and ph; slices have a name, a start and a length.
    std::map<std::uint32_t, std::vector<std::pair<double, double>>> slices_by_tid;
    for (const json& e : events) {
        INFO(e.dump());
        REQUIRE(e.is_object());
        REQUIRE(e.contains("pid"));
        REQUIRE(e.contains("tid"));
        REQUIRE(e.contains("ph"));
        CHECK(e["pid"].is_number_integer());
        CHECK(e["tid"].is_number_integer());
        REQUIRE(e["ph"].is_string());
        const std::string ph = e["ph"].get<std::string>();
        if (ph != "M") {
            REQUIRE(e.contains("ts"));
            CHECK(e["ts"].is_number());
        }
        if (ph == "X") {
            REQUIRE(e.contains("name"));
            REQUIRE(e["name"].is_string());
            CHECK(!e["name"].get<std::string>().empty());
            REQUIRE(e["ts"].is_number());
            REQUIRE(e.contains("dur"));
            REQUIRE(e["dur"].is_number());
            CHECK(e["dur"].get<double>() >= 0.0);
            slices_by_tid[e["tid"].get<std::uint32_t>()].emplace_back(e["ts"].get<double>(),
                                                                      e["dur"].get<double>());
        }
    }

    // Slices on one thread nest: a slice ends before the next begins or contains it.
    std::vector<std::string> overlaps;
    for (auto& [tid, slices] : slices_by_tid) {
        std::sort(slices.begin(), slices.end(), [](const auto& a, const auto& b) {
            return a.first != b.first ? a.first < b.first : a.second > b.second;
        });
        std::vector<double> open_ends;
        for (const auto& [ts, dur] : slices) {
            while (!open_ends.empty() && open_ends.back() <= ts + tolerance_us) {
                open_ends.pop_back();
            }
            if (!open_ends.empty() && ts + dur > open_ends.back() + tolerance_us) {
                std::ostringstream what;
                what.precision(15);
                what << "tid " << tid << ": slice at " << ts << " for " << dur
                     << " overlaps one ending at " << open_ends.back();
                overlaps.push_back(what.str());
            }
            open_ends.push_back(ts + dur);
        }
    }
    INFO((overlaps.empty() ? std::string() : overlaps.front()));
    CHECK(overlaps.empty());

    // Every flow start has exactly one finish with its id, and the reverse.
    std::map<std::uint64_t, std::pair<int, int>> flows; // id -> starts, finishes
    for (const json& e : events) {
        const std::string ph = e["ph"].get<std::string>();
        if (ph == "s" || ph == "f") {
            INFO(e.dump());
            REQUIRE(e.contains("id"));
            auto& [starts, finishes] = flows[e["id"].get<std::uint64_t>()];
            (ph == "s" ? starts : finishes) += 1;
            if (ph == "f") {
                CHECK(e.value("bp", "") == "e");
            }
        }
    }
    for (const auto& [id, ends] : flows) {
        INFO("flow id " << id);
        CHECK(ends.first == 1);
        CHECK(ends.second == 1);
    }

    // Counters carry numbers only.
    for (const json& e : with_phase(doc, "C")) {
        INFO(e.dump());
        REQUIRE(e.contains("name"));
        REQUIRE(e.contains("args"));
        REQUIRE(e["args"].is_object());
        CHECK(!e["args"].empty());
        for (const auto& [key, value] : e["args"].items()) {
            CHECK(value.is_number());
        }
    }

    // Async slices pair up by (cat, id): in time order each begin is followed by its end
    // (a load run numbers its requests from 1, so a later run reuses ids after the first
    // run's requests ended).
    std::map<std::pair<std::string, std::string>, std::vector<json>> async;
    for (const json& e : events) {
        const std::string ph = e["ph"].get<std::string>();
        if (ph == "b" || ph == "e") {
            INFO(e.dump());
            REQUIRE(e.contains("cat"));
            REQUIRE(e.contains("id"));
            async[{e["cat"].get<std::string>(), e["id"].get<std::string>()}].push_back(e);
        }
    }
    for (auto& [key, list] : async) {
        INFO("async " << key.first << " " << key.second);
        std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
            return a["ts"].get<double>() < b["ts"].get<double>();
        });
        REQUIRE(list.size() % 2 == 0);
        for (std::size_t i = 0; i < list.size(); i += 2) {
            CHECK(list[i]["ph"] == "b");
            CHECK(list[i + 1]["ph"] == "e");
            CHECK(list[i]["name"] == list[i + 1]["name"]);
        }
    }
}

// ---------------------------------------------------------------- a real workload

task<void> blocker() {
    blocking_sleep(2ms);
    co_return;
}

/// Serves HTTP on this runtime and loads it from the same runtime: 50 requests to "/",
/// 4 to "/sleep?ms=5" (offloaded to the blocking pool), then a task that blocks its worker.
task<void> serve_and_load() {
    net::http_server_options options;
    options.sleep = net::sleep_mode::offload;
    net::http_server server(std::move(options));
    auto running = spawn(server.run(), "http_server.run");

    net::load_options root{.port = server.port(), .target = "/", .requests = 50, .concurrency = 5};
    const net::load_report root_report = co_await net::run_load(root);
    expect(root_report.count == 50 && root_report.errors == 0, "the load on / failed");

    net::load_options sleepy{
        .port = server.port(), .target = "/sleep?ms=5", .requests = 4, .concurrency = 2};
    const net::load_report sleep_report = co_await net::run_load(sleepy);
    expect(sleep_report.count == 4 && sleep_report.errors == 0, "the load on /sleep failed");
    expect(sleep_report.statuses.count(200) == 1, "/sleep did not answer 200");

    auto blocked = spawn(blocker(), "blocker");
    co_await blocked;

    server.stop(5s);
    co_await running;
}

long process_id() {
#ifdef _WIN32
    return ::_getpid();
#else
    return static_cast<long>(::getpid());
#endif
}

std::filesystem::path temp_trace_path() {
    return std::filesystem::temp_directory_path() /
           ("taskscope_test_chrome_export_" + std::to_string(process_id()) + ".tstrace");
}

// ---------------------------------------------------------------- a counting stream

/// Counts what is written and keeps only the last few bytes.
class counting_buf : public std::streambuf {
public:
    std::uint64_t bytes = 0;
    std::uint64_t newlines = 0;
    std::string tail;

protected:
    int_type overflow(int_type c) override {
        if (!traits_type::eq_int_type(c, traits_type::eof())) {
            const char ch = traits_type::to_char_type(c);
            xsputn(&ch, 1);
        }
        return traits_type::not_eof(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        bytes += static_cast<std::uint64_t>(n);
        newlines += static_cast<std::uint64_t>(std::count(s, s + n, '\n'));
        tail.append(s, static_cast<std::size_t>(n));
        if (tail.size() > 16) {
            tail.erase(0, tail.size() - 16);
        }
        return n;
    }
};

} // namespace

TEST_CASE("chrome export of a recorded HTTP workload is valid Trace Event JSON",
          "[export][chrome]") {
    const auto path = temp_trace_path();
    struct remove_file {
        std::filesystem::path path;
        ~remove_file() { std::filesystem::remove(path); }
    } cleanup{path};
    std::vector<event> events;
    std::vector<std::string> names;
    trace::run_info recorded_info;
    std::ostringstream out;
    std::uint64_t records = 0;
    {
        testing::traced_runtime t({.workers = 2});
        trace::run_info info = trace::run_info_for(t.rt.trace());
        info.command = "test export --workers 2";
        info.workers = 2;
        info.sleep_mode = "offload";
        info.accept_mode = "spawn";
        // Small chunks: the export streams chunk by chunk while the name table grows.
        auto file = std::make_shared<trace::file_writer>(
            path, info, trace::file_writer_options{.chunk_events = 256});
        t.rt.trace().add_sink(file);

        t.rt.trace().mark("phase one", 1);
        t.rt.block_on(serve_and_load(), "serve and load");
        t.finish();
        file->close();

        trace::file_reader reader(path);
        recorded_info = reader.info();
        analysis::chrome_trace_writer writer(out, reader.info());
        std::vector<event> chunk;
        while (reader.next(chunk)) {
            writer.consume(chunk, reader.names());
            events.insert(events.end(), chunk.begin(), chunk.end());
        }
        writer.finish();
        records = writer.records_written();
        CHECK(reader.report().complete);
        CHECK(reader.report().warning.empty());
        names = reader.names();
    }
    REQUIRE(!events.empty());
    REQUIRE(records > 0);

    json doc;
    REQUIRE_NOTHROW(doc = json::parse(out.str()));
    check_well_formed(doc, records);
    CHECK(recorded_info.command == "test export --workers 2");
    CHECK(doc["otherData"]["command"] == "test export --workers 2");
    CHECK(doc["otherData"]["workers"] == 2);
    CHECK(doc["otherData"]["sleep_mode"] == "offload");

    { // the process and every thread are named, workers sorted first
        bool process_named = false;
        for (const json& e : with_phase(doc, "M")) {
            if (e["name"] == "process_name") {
                process_named = true;
                CHECK(e["args"]["name"] == "taskscope: test export --workers 2");
            }
        }
        CHECK(process_named);

        const auto tnames = thread_names(doc);
        const auto sorts = sort_indexes(doc);
        std::set<std::string> workers;
        std::uint32_t last_worker_sort = 0;
        std::uint32_t first_other_sort = UINT32_MAX;
        for (const auto& [tid, name] : tnames) {
            INFO("tid " << tid << " named " << name);
            REQUIRE(sorts.contains(tid));
            if (name.starts_with("worker ")) {
                workers.insert(name);
                last_worker_sort = std::max(last_worker_sort, sorts.at(tid));
            } else {
                first_other_sort = std::min(first_other_sort, sorts.at(tid));
            }
        }
        CHECK(workers == std::set<std::string>{"worker 0", "worker 1"});
        CHECK(last_worker_sort < first_other_sort);
        CHECK(tnames.at(reactor_tid) == "reactor & timers");
        // Every thread an event lands on is named (counters live on the process).
        for (const json& e : trace_events(doc)) {
            const auto tid = e["tid"].get<std::uint32_t>();
            if (e["ph"] != "C" && !(e["ph"] == "M" && e["name"] == "process_name")) {
                INFO(e.dump());
                CHECK(tnames.contains(tid));
            }
        }
    }

    { // poll slices are named after their tasks
        std::map<std::uint64_t, std::string> task_names;
        for (const event& e : events) {
            if (e.kind == event_kind::task_spawned) {
                task_names[e.task] = e.arg2 < names.size() ? names[e.arg2] : "?";
            }
        }
        std::set<std::string> polled;
        std::size_t polls = 0;
        for (const json& e : with_phase(doc, "X")) {
            if (e["cat"] != "poll") {
                continue;
            }
            ++polls;
            INFO(e.dump());
            const auto task = e["args"]["task"].get<std::uint64_t>();
            REQUIRE(task_names.contains(task));
            CHECK(e["name"] == task_names[task] + "#" + std::to_string(task));
            polled.insert(task_names[task]);
        }
        CHECK(polls == testing::of_kind(events, event_kind::poll_end).size());
        CHECK(polled.contains("http_server.run"));
        CHECK(polled.contains("load_client"));
        CHECK(polled.contains("blocker"));
        CHECK(polled.contains("serve and load"));
    }

    { // a blocking sleep nests in its poll, offloaded sleeps run on pool threads
        const auto blocked = slices_named(doc, "blocked");
        REQUIRE(blocked.size() == 1);
        const auto& b = blocked.front();
        CHECK(b["cat"] == "block");
        CHECK(b["args"]["intended_ns"] == 2'000'000);
        CHECK(b["dur"].get<double>() >= 2000.0 - tolerance_us); // slept at least 2 ms
        bool inside_blocker_poll = false;
        for (const json& p : with_phase(doc, "X")) {
            if (p["cat"] == "poll" && p["tid"] == b["tid"] &&
                p["name"].get<std::string>().starts_with("blocker#") &&
                p["ts"].get<double>() <= b["ts"].get<double>() + tolerance_us &&
                b["ts"].get<double>() + b["dur"].get<double>() <=
                    p["ts"].get<double>() + p["dur"].get<double>() + tolerance_us) {
                inside_blocker_poll = true;
            }
        }
        CHECK(inside_blocker_poll);

        const auto tnames = thread_names(doc);
        const auto jobs = slices_named(doc, "sleep (offloaded)");
        CHECK(jobs.size() == 4);
        for (const json& j : jobs) {
            INFO(j.dump());
            CHECK(j["cat"] == "blocking pool");
            REQUIRE(tnames.contains(j["tid"].get<std::uint32_t>()));
            CHECK(tnames.at(j["tid"].get<std::uint32_t>()).starts_with("blocking pool "));
        }
    }

    { // wakes are flow arrows into the polls they caused
        std::size_t wakes = 0;
        for (const json& f : with_phase(doc, "f")) {
            if (f["name"] == "wake") {
                ++wakes;
                // The arrow ends on a worker, at the start of a poll slice there.
                bool at_poll = false;
                for (const json& p : with_phase(doc, "X")) {
                    if (p["cat"] == "poll" && p["tid"] == f["tid"] && p["ts"] == f["ts"]) {
                        at_poll = true;
                        break;
                    }
                }
                INFO(f.dump());
                CHECK(at_poll);
            }
        }
        CHECK(wakes > 0);
    }

    { // one queue-depth counter per worker
        std::set<std::string> counters;
        for (const json& c : with_phase(doc, "C")) {
            counters.insert(c["name"].get<std::string>());
            if (c["name"].get<std::string>().starts_with("queue depth")) {
                CHECK(c["args"]["depth"].is_number_unsigned());
            }
        }
        // A counter for each worker that polled anything, each under its own name.
        std::set<std::string> expected;
        const auto tnames = thread_names(doc);
        for (const json& p : with_phase(doc, "X")) {
            if (p["cat"] == "poll") {
                expected.insert("queue depth " + tnames.at(p["tid"].get<std::uint32_t>()));
            }
        }
        REQUIRE(!expected.empty());
        for (const auto& name : expected) {
            INFO(name);
            CHECK(counters.contains(name));
        }
        // With 55 requests on 2 workers both worked, each under its own counter name.
        CHECK(expected == std::set<std::string>{"queue depth worker 0", "queue depth worker 1"});
    }

    {                                              // requests are async slices, on both sides
        std::map<std::string, std::size_t> begins; // cat -> count
        for (const json& b : with_phase(doc, "b")) {
            ++begins[b["cat"].get<std::string>()];
        }
        CHECK(begins["http client"] == 54);
        CHECK(begins["http server"] == 54);
        std::size_t sleeps = 0;
        for (const json& e : with_phase(doc, "e")) {
            if (e["cat"] == "http server") {
                CHECK(e["args"]["status"] == 200);
                if (e["name"] == "/sleep") {
                    ++sleeps;
                }
            }
        }
        CHECK(sleeps == 4);
    }

    { // markers are instants
        const auto instants = with_phase(doc, "i");
        const auto marker = std::find_if(instants.begin(), instants.end(),
                                         [](const json& e) { return e["name"] == "phase one"; });
        REQUIRE(marker != instants.end());
        CHECK((*marker)["args"]["value"] == 1);
        CHECK((*marker)["s"] == "g");
    }
}

// ---------------------------------------------------------------- hand-built edge cases

TEST_CASE("chrome export closes a poll still open at the end", "[export][chrome]") {
    const std::vector<std::string> names{"task", "open task", "end mark"};
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::task_spawned(100, 0, 5, 0, 1),
        make::poll_begin(1'000, 0, 5, 2),
        make::block_begin(2'000, 0, 5, 7'000),
        make::marker(5'000, 0, 2, 42),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);

    const auto polls = slices_named(doc, "open task#5");
    REQUIRE(polls.size() == 1);
    CHECK(polls[0]["tid"] == 1);
    CHECK(polls[0]["ts"].get<double>() == Approx(1.0));
    CHECK(polls[0]["dur"].get<double>() == Approx(4.0));
    CHECK(polls[0]["cat"] == "poll");
    CHECK(polls[0]["args"]["unfinished"] == true);

    const auto blocks = slices_named(doc, "blocked");
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0]["tid"] == 1);
    CHECK(blocks[0]["ts"].get<double>() == Approx(2.0));
    CHECK(blocks[0]["dur"].get<double>() == Approx(3.0));
    CHECK(blocks[0]["args"]["unfinished"] == true);

    const auto instants = with_phase(doc, "i");
    REQUIRE(instants.size() == 1);
    CHECK(instants[0]["name"] == "end mark");
    CHECK(instants[0]["args"]["value"] == 42);
    CHECK(instants[0]["ts"].get<double>() == Approx(5.0));

    // The worker's counter: depth 2 at the poll's start.
    const auto counters = with_phase(doc, "C");
    REQUIRE(counters.size() == 1);
    CHECK(counters[0]["name"] == "queue depth worker 0");
    CHECK(counters[0]["args"]["depth"] == 2);
}

TEST_CASE("chrome export nests a block inside its poll", "[export][chrome]") {
    const std::vector<std::string> names{"task", "sleepy"};
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::task_spawned(100, 0, 3, 0, 1),
        make::poll_begin(1'000, 0, 3),
        make::block_begin(2'000, 0, 3, 3'000),
        make::block_end(5'500, 0, 3),
        make::poll_end(6'000, 0, 3, trace::poll_result::ready),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);

    const auto polls = slices_named(doc, "sleepy#3");
    REQUIRE(polls.size() == 1);
    CHECK(polls[0]["ts"].get<double>() == Approx(1.0));
    CHECK(polls[0]["dur"].get<double>() == Approx(5.0));
    CHECK(polls[0]["args"]["result"] == "ready");
    CHECK(polls[0]["args"]["task"] == 3);
    CHECK_FALSE(polls[0]["args"].contains("unfinished"));

    const auto blocks = slices_named(doc, "blocked");
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0]["tid"] == polls[0]["tid"]);
    CHECK(blocks[0]["cat"] == "block");
    CHECK(blocks[0]["ts"].get<double>() == Approx(2.0));
    CHECK(blocks[0]["dur"].get<double>() == Approx(3.5));
    CHECK(blocks[0]["args"]["intended_ns"] == 3'000);

    // Timestamps are microseconds with exactly three decimals, written from integers.
    std::ostringstream raw;
    analysis::chrome_trace_writer writer(raw, {});
    writer.consume(events, names);
    writer.finish();
    CHECK_THAT(raw.str(), Catch::Contains(R"("ts":2.000,"dur":3.500,"name":"blocked")"));
}

TEST_CASE("chrome export draws a steal from the victim to the thief", "[export][chrome]") {
    const std::vector<std::string> names{"task"};
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::track_started(0, 1, track_kind::worker, 1), make::steal(2'000, 1, 0, 3),
        make::steal(2'500, 1, 7, 1), // no worker 7: nothing to draw
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);

    const std::uint32_t victim = tid_named(doc, "worker 0");
    const std::uint32_t thief = tid_named(doc, "worker 1");
    CHECK(victim != thief);

    const auto starts = with_phase(doc, "s");
    const auto finishes = with_phase(doc, "f");
    REQUIRE(starts.size() == 1);
    REQUIRE(finishes.size() == 1);
    CHECK(starts[0]["name"] == "steal");
    CHECK(starts[0]["tid"] == victim);
    CHECK(finishes[0]["tid"] == thief);
    CHECK(starts[0]["id"] == finishes[0]["id"]);
    CHECK(starts[0]["ts"].get<double>() == Approx(2.0));
    CHECK(finishes[0]["ts"].get<double>() == Approx(2.0));
    CHECK(finishes[0]["bp"] == "e");

    // Each end sits on a zero-length slice of its own.
    const auto stolen_from = slices_named(doc, "stolen from");
    const auto steal = slices_named(doc, "steal");
    REQUIRE(stolen_from.size() == 1);
    REQUIRE(steal.size() == 1);
    CHECK(stolen_from[0]["tid"] == victim);
    CHECK(steal[0]["tid"] == thief);
    CHECK(stolen_from[0]["dur"].get<double>() == 0.0);
    CHECK(steal[0]["args"]["tasks"] == 3);
}

TEST_CASE("chrome export starts a wake from outside any poll on the reactor track",
          "[export][chrome]") {
    const std::vector<std::string> names{"task", "sleeper", "waker"};
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::track_started(0, 1, track_kind::worker, 1),
        make::task_spawned(100, 0, 9, 0, 1),
        make::task_spawned(100, 0, 10, 0, 2),
        // A timer fires while worker 0 runs nothing: the wake comes from no poll ...
        make::timer_fired(3'000, 0, 9),
        make::wake(3'000, 0, 9, 0, trace::wake_source::timer),
        make::wake(3'100, 0, 9, 0, trace::wake_source::timer),
        make::poll_begin(4'000, 1, 9),
        // ... and a wake from inside a poll starts from that poll.
        make::poll_begin(4'200, 0, 10),
        make::wake(4'300, 0, 9, 10, trace::wake_source::task),
        make::poll_end(4'400, 0, 10, trace::poll_result::ready),
        make::poll_end(4'500, 1, 9),
        make::poll_begin(5'000, 1, 9),
        make::poll_end(5'100, 1, 9, trace::poll_result::ready),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);
    const std::uint32_t worker0 = tid_named(doc, "worker 0");
    const std::uint32_t worker1 = tid_named(doc, "worker 1");

    // One zero-length "wake" slice on the reactor track, for the first wake only.
    const auto wake_slices = slices_named(doc, "wake");
    REQUIRE(wake_slices.size() == 1);
    CHECK(wake_slices[0]["tid"] == reactor_tid);
    CHECK(wake_slices[0]["ts"].get<double>() == Approx(3.0));
    CHECK(wake_slices[0]["dur"].get<double>() == 0.0);
    CHECK(wake_slices[0]["args"]["task"] == 9);

    std::map<std::uint64_t, json> starts;
    for (const json& s : with_phase(doc, "s")) {
        starts[s["id"].get<std::uint64_t>()] = s;
    }
    const auto finishes = with_phase(doc, "f");
    REQUIRE(finishes.size() == 2);
    REQUIRE(starts.size() == 2);
    // Timer -> sleeper's first poll on worker 1.
    const json& first_start = starts.at(finishes[0]["id"].get<std::uint64_t>());
    CHECK(first_start["tid"] == reactor_tid);
    CHECK(first_start["ts"].get<double>() == Approx(3.0));
    CHECK(finishes[0]["tid"] == worker1);
    CHECK(finishes[0]["ts"].get<double>() == Approx(4.0));
    // waker#10's poll on worker 0 -> sleeper's second poll.
    const json& second_start = starts.at(finishes[1]["id"].get<std::uint64_t>());
    CHECK(second_start["tid"] == worker0);
    CHECK(second_start["ts"].get<double>() == Approx(4.3));
    CHECK(finishes[1]["tid"] == worker1);
    CHECK(finishes[1]["ts"].get<double>() == Approx(5.0));

    const auto instants = with_phase(doc, "i");
    REQUIRE(instants.size() == 1);
    CHECK(instants[0]["name"] == "timer fired");
    CHECK(instants[0]["tid"] == reactor_tid);
    CHECK(slices_named(doc, "sleeper#9").size() == 2);
    CHECK(slices_named(doc, "waker#10").size() == 1);
}

TEST_CASE("chrome export escapes names: quotes, backslashes, control and invalid UTF-8",
          "[export][chrome]") {
    const std::string quoted = "say \"hi\" \\ back\\slash";
    const std::string invalid = "bad \xff\xfe utf8 \xc3";
    const std::string control = "ctl\n\t\x01 end";
    const std::vector<std::string> names{"task", quoted, invalid, control, "route \"x\""};
    trace::run_info info;
    info.command = "record \"quoted\" \xff";
    info.lesson = "back\\slash";
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::task_spawned(10, 0, 1, 0, 1),
        make::task_spawned(10, 0, 2, 0, 2),
        make::task_spawned(10, 0, 3, 0, 3),
        make::poll_begin(20, 0, 1),
        make::poll_end(30, 0, 1, trace::poll_result::threw),
        make::poll_begin(40, 0, 2),
        make::poll_end(50, 0, 2, trace::poll_result::ready),
        make::poll_begin(60, 0, 3),
        make::request_begin(65, 0, 3, 1, 4, trace::request_side::server),
        make::marker(66, 0, 2, 1),
        make::marker(67, 0, 99, 2), // a name id the table does not have
        make::request_end(68, 0, 3, 10, 200, trace::request_side::server),
        make::poll_end(70, 0, 3, trace::poll_result::ready),
        make::poll_begin(80, 0, 4), // a task never seen spawned
        make::poll_end(90, 0, 4, trace::poll_result::ready),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, info, &records);
    check_well_formed(doc, records);

    CHECK(slices_named(doc, quoted + "#1").size() == 1);
    CHECK(slices_named(doc, control + "#3").size() == 1);
    CHECK(slices_named(doc, "task#4").size() == 1);
    CHECK(slices_named(doc, quoted + "#1")[0]["args"]["result"] == "threw");

    // Invalid UTF-8 comes out as U+FFFD replacement characters, the rest kept.
    std::size_t replaced = 0;
    for (const json& e : with_phase(doc, "X")) {
        const auto name = e["name"].get<std::string>();
        if (name.starts_with("bad ") && name.ends_with(" utf8 \xEF\xBF\xBD#2")) {
            ++replaced;
            CHECK(name.find("\xEF\xBF\xBD") == 4);
        }
    }
    CHECK(replaced == 1);

    const auto instants = with_phase(doc, "i");
    REQUIRE(instants.size() == 2);
    CHECK(instants[0]["name"].get<std::string>().starts_with("bad "));
    CHECK(instants[1]["name"] == "name#99");

    const auto begins = with_phase(doc, "b");
    REQUIRE(begins.size() == 1);
    CHECK(begins[0]["name"] == "route \"x\"");
    CHECK(begins[0]["id"] == "s1");
    CHECK(begins[0]["cat"] == "http server");
    const auto ends = with_phase(doc, "e");
    REQUIRE(ends.size() == 1);
    CHECK(ends[0]["args"]["status"] == 200);
    CHECK(ends[0]["args"]["bytes"] == 10);

    CHECK(doc["otherData"]["lesson"] == "back\\slash");
    CHECK(doc["otherData"]["command"].get<std::string>().starts_with("record \"quoted\" "));
    bool process_named = false;
    for (const json& e : with_phase(doc, "M")) {
        if (e["name"] == "process_name") {
            process_named = true;
            CHECK(
                e["args"]["name"].get<std::string>().starts_with("taskscope: record \"quoted\" "));
        }
    }
    CHECK(process_named);
}

TEST_CASE("chrome export finish() needs no name table after consume returned", "[export][chrome]") {
    const auto blocking = static_cast<std::uint8_t>(trace::track_kind::blocking);
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::raw(0, 1, event_kind::track_started, 0, 0, 0, blocking),
        make::task_spawned(10, 0, 5, 0, 1),
        make::poll_begin(20, 0, 5),
        make::blocking_job_begin(30, 1, 77, 5, 2),
        make::marker(90, 0, 3),
    };
    std::ostringstream out;
    analysis::chrome_trace_writer writer(out, {});
    SECTION("the caller reuses its table") {
        std::vector<std::string> names{"task", "still running", "pool job", "mark"};
        writer.consume(events, names);
        names.clear();
        names.shrink_to_fit();
        writer.finish();
    }
    SECTION("the table was a temporary") {
        writer.consume(events,
                       std::vector<std::string>{"task", "still running", "pool job", "mark"});
        writer.finish();
    }
    json doc;
    REQUIRE_NOTHROW(doc = json::parse(out.str()));
    check_well_formed(doc, writer.records_written());
    const auto polls = slices_named(doc, "still running#5");
    REQUIRE(polls.size() == 1);
    CHECK(polls[0]["args"]["unfinished"] == true);
    const auto jobs = slices_named(doc, "pool job");
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0]["cat"] == "blocking pool");
    CHECK(jobs[0]["ts"].get<double>() == Approx(0.03));
    CHECK(jobs[0]["dur"].get<double>() == Approx(0.06));
}

TEST_CASE("chrome export keeps slices nested when a block's end was dropped", "[export][chrome]") {
    const std::vector<std::string> names{"task", "sleepy"};
    // The worker's buffer overflowed: block_end of the first poll was lost.
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::task_spawned(10, 0, 3, 0, 1),
        make::poll_begin(1'000, 0, 3),
        make::block_begin(2'000, 0, 3, 3'000),
        make::poll_end(6'000, 0, 3),
        make::events_dropped(6'100, 0, 1, 0),
        make::poll_begin(7'000, 0, 3),
        make::poll_end(8'000, 0, 3, trace::poll_result::ready),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);
    CHECK(slices_named(doc, "sleepy#3").size() == 2);
    const auto blocks = slices_named(doc, "blocked");
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0]["ts"].get<double>() == Approx(2.0));
    CHECK(blocks[0]["dur"].get<double>() == Approx(4.0)); // ends with its poll
    CHECK(blocks[0]["args"]["unfinished"] == true);
}

TEST_CASE("chrome export counts dropped events over all threads", "[export][chrome]") {
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::track_started(0, 1, track_kind::worker, 1),
        make::events_dropped(100, 0, 5, 0),
        make::events_dropped(200, 0, 7, 0), // a running total for track 0
        make::events_dropped(300, 1, 2, 1),
        make::events_dropped(400, 1, 2, 1), // no change: no new sample
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, {"task"}, {}, &records);
    check_well_formed(doc, records);
    std::vector<std::uint64_t> totals;
    for (const json& c : with_phase(doc, "C")) {
        if (c["name"] == "events dropped") {
            totals.push_back(c["args"]["events"].get<std::uint64_t>());
        }
    }
    CHECK(totals == std::vector<std::uint64_t>{5, 7, 9});
}

TEST_CASE("chrome export of an empty trace is a valid document", "[export][chrome]") {
    std::uint64_t records = 0;
    const json doc = export_events({}, {}, {}, &records);
    check_well_formed(doc, records);
    CHECK(records == 3); // process name, the reactor track's name and sort index
    CHECK(doc["displayTimeUnit"] == "ns");
}

// ---------------------------------------------------------------- request CSV

TEST_CASE("request CSV lists finished requests in start order", "[export][csv]") {
    const std::vector<std::string> names{"task", "/", "/a,b", "/sleep", "/q\"x"};
    const std::uint8_t server = 0;
    const std::uint8_t client = 1;
    // Track 0's events, then track 1's: ordered per track, not across tracks.
    const std::vector<event> track0{
        make::track_started(1'000, 0, track_kind::worker, 0),
        make::raw(2'000, 0, event_kind::request_begin, 20, 1, 1, server),
        make::raw(2'600, 0, event_kind::request_end, 20, 120, 200, server),
        make::raw(3'000, 0, event_kind::request_begin, 22, 2, 3, server), // never ends
    };
    const std::vector<event> track1{
        make::track_started(1'200, 1, track_kind::worker, 1),
        make::request_begin(1'500, 1, 21, 1, 2,
                            (client) ? trace::request_side::client : trace::request_side::server),
        make::raw(3'500, 1, event_kind::request_begin, 23, 3, 4, server),
        make::raw(3'600, 1, event_kind::request_end, 23, 0, 500, server),
        make::request_end(4'000, 1, 21, 33, 404,
                          (client) ? trace::request_side::client : trace::request_side::server),
        make::http2_request_begin(4'100, 1, 24, 2, 7, 1),
        make::request_end(4'300, 1, 24, 5, 200),
    };
    analysis::model m;
    m.set_names(names);
    m.consume(track0);
    m.consume(track1);
    m.finish();
    REQUIRE(m.requests().size() == 5);

    std::ostringstream out;
    analysis::write_requests_csv(m, out);
    // An HTTP/2 row names its connection and stream, never the id that packs them.
    CHECK(out.str() == "start_ns,latency_ns,route,status,worker,side,bytes,request_id,protocol,"
                       "connection,stream\n"
                       "500,2500,\"/a,b\",404,worker 1,client,33,1,http/1.1,,\n"
                       "1000,600,/,200,worker 0,server,120,1,http/1.1,,\n"
                       "2500,100,\"/q\"\"x\",500,worker 1,server,0,3,http/1.1,,\n"
                       "3100,200,/,200,worker 1,server,5,,h2,2,7\n");

    SECTION("a model with no requests gives the header alone") {
        analysis::model empty;
        std::ostringstream header;
        analysis::write_requests_csv(empty, header);
        CHECK(header.str() == "start_ns,latency_ns,route,status,worker,side,bytes,request_id,"
                              "protocol,connection,stream\n");
    }
}

// ---------------------------------------------------------------- bounded memory

TEST_CASE("chrome export streams two million events", "[export][chrome][large]") {
    // Short-lived tasks on two workers: each is spawned, woken by a timer between polls,
    // and polled once to completion. Everything the writer holds for a task is released
    // when it finishes, so finish() has nothing left to close: the record count is exact.
    const std::vector<std::string> names{"task", "short a", "short b", "short c", "short d"};
    constexpr std::uint64_t tasks = 500'000;
    constexpr std::uint64_t first_task = 1'000;
    counting_buf buf;
    std::ostream out(&buf);
    analysis::chrome_trace_writer writer(out, {});

    std::vector<event> chunk;
    chunk.reserve(64 * 1024);
    std::uint64_t consumed = 0;
    const auto flush = [&] {
        writer.consume(chunk, names);
        consumed += chunk.size();
        chunk.clear();
    };
    chunk.push_back(make::track_started(0, 0, track_kind::worker, 0));
    chunk.push_back(make::track_started(0, 1, track_kind::worker, 1));
    for (std::uint64_t i = 0; i < tasks; ++i) {
        const auto track = static_cast<std::uint16_t>(i % 2);
        const std::uint64_t task = first_task + i;
        const std::uint64_t t = 1'000 + i * 100;
        chunk.push_back(
            make::task_spawned(t, track, task, 0, static_cast<std::uint32_t>(1 + i % 4)));
        chunk.push_back(make::wake(t + 10, track, task, 0, trace::wake_source::timer));
        chunk.push_back(make::poll_begin(t + 20, track, task));
        chunk.push_back(make::poll_end(t + 60, track, task, trace::poll_result::ready));
        if (chunk.size() >= 64 * 1024) {
            flush();
        }
    }
    flush();
    writer.finish();

    CHECK(consumed == 2 + 4 * tasks);
    // 3 header records, 2 per worker track, 1 queue-depth counter per worker, and per
    // task a wake slice, the arrow's two ends and the poll slice.
    const std::uint64_t expected = 3 + 2 * 2 + 2 + 4 * tasks;
    CHECK(writer.records_written() == expected);
    // The stream agrees: one line per record, plus the opening and closing lines.
    CHECK(buf.newlines == expected + 2);
    CHECK(buf.tail.ends_with("}\n]}\n"));
    CHECK(buf.bytes > expected * 50);
    CHECK(out.good());
}

TEST_CASE("chrome export: a wake delivered after the poll it caused points at that poll",
          "[export]") {
    const std::vector<std::string> names{"task"};
    // Worker 1 polls task 5 at 200; the wake from worker 0 (stamped 150) arrives later.
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::track_started(0, 1, track_kind::worker, 1),
        make::task_spawned(10, 0, 5),
        make::poll_begin(200, 1, 5),
        make::wake(150, 0, 5, 0, trace::wake_source::timer),
        make::poll_end(210, 1, 5),
        make::poll_begin(400, 1, 5),
        make::poll_end(410, 1, 5, trace::poll_result::ready),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);
    const auto finishes = with_phase(doc, "f");
    REQUIRE(finishes.size() == 1);
    CHECK(finishes[0]["ts"].get<double>() == Approx(0.200));
    CHECK(finishes[0]["tid"] == 2);
}

TEST_CASE("chrome export: requests in flight at the end are closed and marked", "[export]") {
    const std::vector<std::string> names{"task", "/sleep"};
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::request_begin(10, 0, 3, 77, 1, trace::request_side::server),
        make::marker(90, 0, 0),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);
    const auto ends = with_phase(doc, "e");
    REQUIRE(ends.size() == 1);
    CHECK(ends[0]["args"]["unfinished"] == true);
    CHECK(ends[0]["ts"].get<double>() == Approx(0.090));
}

TEST_CASE("chrome export: a request's end that arrives after the task's next begin pairs "
          "with its own begin",
          "[export]") {
    const std::vector<std::string> names{"task", "/"};
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::track_started(0, 1, track_kind::worker, 1),
        make::request_begin(1000, 0, 3, 1, 1, trace::request_side::client),
        make::request_begin(3000, 1, 3, 2, 1, trace::request_side::client),
        make::request_end(2000, 0, 3, 10, 200, trace::request_side::client),
        make::request_end(4000, 1, 3, 10, 200, trace::request_side::client),
        make::request_begin(5000, 1, 3, 3, 1, trace::request_side::client),
        make::request_begin(6000, 1, 3, 4, 1, trace::request_side::client), // 3 never ends
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);
    std::map<std::string, std::pair<double, double>> spans; // id -> begin, end (us)
    for (const json& e : with_phase(doc, "b")) {
        spans[e["id"].get<std::string>()].first = e["ts"].get<double>();
    }
    for (const json& e : with_phase(doc, "e")) {
        spans[e["id"].get<std::string>()].second = e["ts"].get<double>();
    }
    REQUIRE(spans.size() == 4);
    CHECK(spans["c1"] == std::pair(1.0, 2.0));
    CHECK(spans["c2"] == std::pair(3.0, 4.0));
    CHECK(spans["c3"] == std::pair(5.0, 6.0)); // closed where the next began, unfinished
    CHECK(spans["c4"].first == 6.0);
    CHECK(spans["c4"].second >= 6.0); // in flight at the end
}

TEST_CASE("chrome export: a crafted dropped-events track number is ignored", "[export]") {
    const std::vector<std::string> names{"task"};
    const std::vector<event> events{
        make::track_started(0, 0, track_kind::worker, 0),
        make::events_dropped(5, 0, 9, 0xFFFFFFFFu),
        make::events_dropped(6, 0, 9, 0xFFFFFFFEu),
        make::events_dropped(7, 0, 4, 0),
    };
    std::uint64_t records = 0;
    const json doc = export_events(events, names, {}, &records);
    check_well_formed(doc, records);
    const auto counters = with_phase(doc, "C");
    REQUIRE(counters.size() == 1);
    CHECK(counters[0]["args"]["events"] == 4);
}

TEST_CASE("chrome export: resources become counter tracks of depth and waiters, and holds "
          "become slices on the resource's own track",
          "[export][resources]") {
    namespace make = trace::make;
    std::vector<std::string> names = {"task", "log"};
    const std::vector<event> events = {
        make::track_started(0, 0, trace::track_kind::worker, 0),
        make::resource_created(1, 0, 5, trace::resource_kind::mutex, 1, 1),
        make::resource_depth(2, 0, 1, 5, trace::resource_op::lock, 1),
        make::resource_wait(3, 0, 2, 5, trace::resource_op::lock),
        make::resource_released(4'000, 0, 1, 5, 1),
        make::resource_ready(4'001, 0, 2, 5, trace::resource_op::lock, 3'998),
        make::resource_released(9'000, 0, 2, 5, 0),
        make::resource_lagged(9'500, 0, 3, 5, 4),
    };
    const json doc = export_events(events, names);
    int depth_counters = 0;
    int waiter_counters = 0;
    int hold_begins = 0;
    int hold_ends = 0;
    bool named = false;
    bool lagged = false;
    for (const json& r : trace_events(doc)) {
        const std::string ph = r.value("ph", "");
        const std::string name = r.value("name", "");
        if (ph == "C" && name == "mutex 'log' depth") {
            ++depth_counters;
        } else if (ph == "C" && name == "mutex 'log' waiters") {
            ++waiter_counters;
        } else if (ph == "b" && r.value("cat", "") == "resource hold") {
            ++hold_begins;
        } else if (ph == "e" && r.value("cat", "") == "resource hold") {
            ++hold_ends;
        } else if (ph == "M" && r["args"].value("name", "") == "mutex 'log'") {
            named = true;
        } else if (ph == "i" && name == "lagged") {
            lagged = r["args"]["missed"] == 4;
        }
    }
    CHECK(named);
    CHECK(depth_counters == 3);  // lock, release, release
    CHECK(waiter_counters == 2); // the wait began, and ended
    CHECK(hold_begins == 2);
    CHECK(hold_ends == 2);
    CHECK(lagged);
}
