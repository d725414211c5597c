// The .tstrace file: what is written reads back exactly, and a damaged file is read up to
// its last intact chunk with a warning, or refused with a clear error; never a crash.

#include "taskscope/taskscope.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "trace/file_format.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

namespace {

using namespace taskscope;
using trace::event;
using trace::event_kind;

/// A file in the temp directory, removed with the test.
struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& name)
        : path(std::filesystem::temp_directory_path() /
               ("taskscope-test-" + std::to_string(::getpid()) + "-" + name)) {}
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

std::vector<unsigned char> read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& p, const std::vector<unsigned char>& bytes,
                 std::size_t size) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(size));
}

bool same(const event& a, const event& b) {
    return a.time_ns == b.time_ns && a.task == b.task && a.arg == b.arg && a.arg2 == b.arg2 &&
           a.track == b.track && a.kind == b.kind && a.detail == b.detail;
}

/// Every kind at least once, with extreme values in every field, times going backwards
/// across tracks (as hub batches may), and names that must travel with the events.
std::vector<event> every_kind_sequence() {
    const trace::name_id route = trace::intern("route /sleep?ms=5");
    const trace::name_id task_name = trace::intern("handle_connection");
    std::vector<event> events;
    std::uint64_t t = 1'000;
    for (std::size_t k = 0; k < trace::event_kind_count; ++k) {
        event e{};
        e.kind = static_cast<event_kind>(k);
        e.time_ns = t;
        e.track = static_cast<std::uint16_t>(k % 3);
        e.task = 7 + k;
        e.arg = k * 1'000'003;
        e.arg2 = k % 2 == 0 ? route : task_name;
        e.detail = static_cast<std::uint8_t>(k);
        events.push_back(e);
        t += 17 * k;
    }
    // Extremes: all-ones, zero, a timer deadline far before its own time, time going back.
    events.push_back({~0ull, ~0ull, ~0ull, ~0u, 0xFFFF, event_kind::marker, 0xFF});
    events.push_back({0, 0, 0, 0, 0, event_kind::timer_armed, 0});
    events.push_back({5, 1, ~0ull, 1, 2, event_kind::timer_armed, 0});
    events.push_back({3, 1ull << 63, 1, 2, 1, event_kind::wake, 7});
    return events;
}

/// Writes `events` in chunks of `chunk_events` and returns the file's bytes.
std::vector<unsigned char> write_file(const std::filesystem::path& path,
                                      const std::vector<event>& events, std::size_t chunk_events) {
    trace::run_info info;
    info.command = "test";
    info.workers = 3;
    info.sleep_mode = "blocking";
    info.lesson = "three-sleeps";
    trace::file_writer writer(path, info, {.chunk_events = chunk_events});
    writer.consume(events);
    writer.close();
    CHECK(writer.events_written() == events.size());
    return read_bytes(path);
}

/// The size of the file's last chunk (the end record of a closed file), found by walking
/// the chunk headers from the start.
std::size_t last_chunk_size(const std::vector<unsigned char>& bytes) {
    namespace ff = trace::file_format;
    std::size_t at = ff::header_size + ff::get_u32(bytes.data() + 16);
    std::size_t last = 0;
    while (at + ff::chunk_header_size <= bytes.size()) {
        ff::chunk_header h;
        REQUIRE(ff::read_chunk_header(bytes.data() + at, h));
        last = ff::chunk_header_size + h.stored_size;
        at += last;
    }
    REQUIRE(at == bytes.size());
    return last;
}

} // namespace

TEST_CASE("every event kind and extreme field values round-trip exactly", "[trace_file]") {
    temp_file file("roundtrip.tstrace");
    const std::vector<event> events = every_kind_sequence();
    for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{1000}}) {
        write_file(file.path, events, chunk);
        const trace::loaded_trace loaded = trace::read_trace_file(file.path);
        REQUIRE(loaded.events.size() == events.size());
        for (std::size_t i = 0; i < events.size(); ++i) {
            INFO("chunk size " << chunk << ", event " << i << " ("
                               << trace::to_string(events[i].kind) << ")");
            CHECK(same(loaded.events[i], events[i]));
        }
        CHECK(loaded.report.complete);
        CHECK(loaded.report.warning.empty());
        CHECK(loaded.report.events == events.size());
        CHECK(loaded.info.command == "test");
        CHECK(loaded.info.workers == 3);
        CHECK(loaded.info.sleep_mode == "blocking");
        CHECK(loaded.info.lesson == "three-sleeps");
        // The names the events use came along, with the ids they had when recorded.
        const trace::name_id route = trace::intern("route /sleep?ms=5");
        REQUIRE(loaded.names.size() > route);
        CHECK(loaded.names[route] == "route /sleep?ms=5");
        CHECK(loaded.names[0] == "task");
    }
}

TEST_CASE("an empty recording is a valid file with no events", "[trace_file]") {
    temp_file file("empty.tstrace");
    write_file(file.path, {}, 16);
    const trace::loaded_trace loaded = trace::read_trace_file(file.path);
    CHECK(loaded.events.empty());
    CHECK(loaded.report.complete);
    CHECK(loaded.report.warning.empty());
}

TEST_CASE("a file cut at any byte reads its intact chunks and says what was lost", "[trace_file]") {
    temp_file file("whole.tstrace");
    temp_file cut("cut.tstrace");
    const std::vector<event> events = every_kind_sequence();
    const std::vector<unsigned char> bytes = write_file(file.path, events, 4);
    const std::size_t chunk_count = (events.size() + 3) / 4;

    const std::size_t header_end =
        trace::file_format::header_size + trace::file_format::get_u32(bytes.data() + 16);
    std::size_t refused = 0;
    std::size_t partial = 0;
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        write_bytes(cut.path, bytes, size);
        INFO("cut at byte " << size << " of " << bytes.size());
        try {
            const trace::loaded_trace loaded = trace::read_trace_file(cut.path);
            ++partial;
            // A prefix of whole chunks, exactly as written, and a warning about the rest.
            CHECK((loaded.events.size() % 4 == 0 || loaded.events.size() == events.size()));
            CHECK(loaded.events.size() <= events.size());
            for (std::size_t i = 0; i < loaded.events.size(); ++i) {
                CHECK(same(loaded.events[i], events[i]));
            }
            CHECK_FALSE(loaded.report.complete);
            CHECK_FALSE(loaded.report.warning.empty());
            CHECK(loaded.report.chunks <= chunk_count);
        } catch (const trace::file_error& e) {
            ++refused; // only while the header itself is incomplete
            CHECK(size < header_end);
            CHECK(std::string(e.what()).find(cut.path.string()) != std::string::npos);
        }
    }
    CHECK(refused == header_end);
    CHECK(partial == bytes.size() - header_end);
    write_bytes(cut.path, bytes, bytes.size());
    CHECK(trace::read_trace_file(cut.path).report.complete);
}

TEST_CASE("random byte flips never crash the reader: intact prefix or a clear error",
          "[trace_file]") {
    temp_file file("flips.tstrace");
    temp_file damaged("flipped.tstrace");
    std::vector<event> events;
    for (int i = 0; i < 20; ++i) {
        for (const event& e : every_kind_sequence()) {
            events.push_back(e);
        }
    }
    const std::vector<unsigned char> bytes = write_file(file.path, events, 16);
    std::mt19937_64 random(20261123);
    for (int round = 0; round < 400; ++round) {
        std::vector<unsigned char> copy = bytes;
        const int flips = 1 + round % 4;
        std::size_t first_flip = copy.size();
        for (int f = 0; f < flips; ++f) {
            const std::size_t at = random() % copy.size();
            copy[at] = static_cast<unsigned char>(copy[at] ^ (1u << (random() % 8)));
            first_flip = std::min(first_flip, at);
        }
        write_bytes(damaged.path, copy, copy.size());
        INFO("round " << round << ", first flip at byte " << first_flip);
        try {
            const trace::loaded_trace loaded = trace::read_trace_file(damaged.path);
            // Whatever was read is exactly what was written: checksums catch the rest.
            REQUIRE(loaded.events.size() <= events.size());
            for (std::size_t i = 0; i < loaded.events.size(); ++i) {
                CHECK(same(loaded.events[i], events[i]));
            }
            if (loaded.events.size() < events.size()) {
                CHECK_FALSE(loaded.report.warning.empty());
            }
        } catch (const trace::file_error& e) {
            CHECK(std::string(e.what()).size() > 10);
        }
    }
}

TEST_CASE("wrong files are refused with a message that says what they are", "[trace_file]") {
    temp_file file("wrong.tstrace");
    SECTION("not a trace at all") {
        const std::string text = "{\"traceEvents\": []}";
        write_bytes(file.path, std::vector<unsigned char>(text.begin(), text.end()), text.size());
        try {
            (void)trace::read_trace_file(file.path);
            FAIL("a JSON file was accepted");
        } catch (const trace::file_error& e) {
            CHECK(e.why() == trace::file_error::reason::not_a_trace);
            CHECK_THAT(e.what(), Catch::Contains("not a taskscope trace"));
        }
    }
    SECTION("an empty file") {
        write_bytes(file.path, {}, 0);
        CHECK_THROWS_AS(trace::read_trace_file(file.path), trace::file_error);
    }
    SECTION("a newer format version") {
        std::vector<unsigned char> bytes = write_file(file.path, every_kind_sequence(), 8);
        trace::file_format::put_u32(bytes.data() + 8, trace::file_format_version + 1);
        write_bytes(file.path, bytes, bytes.size());
        try {
            (void)trace::read_trace_file(file.path);
            FAIL("a newer version was accepted");
        } catch (const trace::file_error& e) {
            CHECK(e.why() == trace::file_error::reason::newer_version);
            CHECK_THAT(e.what(), Catch::Contains("newer taskscope"));
        }
    }
    SECTION("a missing file and a directory") {
        CHECK_THROWS_AS(trace::read_trace_file(file.path.string() + ".missing"), trace::file_error);
        CHECK_THROWS_AS(trace::read_trace_file(std::filesystem::temp_directory_path()),
                        trace::file_error);
    }
    SECTION("a file that cannot be created") {
        CHECK_THROWS_AS(trace::file_writer("/nonexistent-dir/x.tstrace", trace::run_info{}),
                        trace::file_error);
    }
}

TEST_CASE("a recording that never closed (a crash) keeps every sealed chunk", "[trace_file]") {
    temp_file file("crash.tstrace");
    temp_file unclosed("unclosed.tstrace");
    const std::vector<event> events = every_kind_sequence();
    const std::vector<unsigned char> bytes = write_file(file.path, events, 4);
    // Drop the end record: what a killed process leaves behind once its chunks are on disk.
    const std::size_t end_record = last_chunk_size(bytes);
    write_bytes(unclosed.path, bytes, bytes.size() - end_record);
    const trace::loaded_trace loaded = trace::read_trace_file(unclosed.path);
    CHECK(loaded.events.size() == events.size());
    CHECK_FALSE(loaded.report.complete);
    CHECK_THAT(loaded.report.warning, Catch::Contains("did not finish cleanly"));
}

TEST_CASE("a live runtime records to a file that reads back in full", "[trace_file]") {
    temp_file file("live.tstrace");
    std::vector<event> from_memory;
    {
        runtime rt({.workers = 2});
        auto memory = std::make_shared<trace::memory_sink>();
        trace::run_info info = trace::run_info_for(rt.trace());
        info.workers = 2;
        // Small chunks, so the file has many and the names spread over them.
        auto writer = std::make_shared<trace::file_writer>(
            file.path, info, trace::file_writer_options{.chunk_events = 64});
        // One sink feeding both: two add_sink calls would let the drain thread hand an
        // early batch (a worker's first events) to the first sink alone.
        struct both_sinks final : trace::trace_sink {
            std::shared_ptr<trace::trace_sink> first, second;
            void consume(std::span<const event> batch) override {
                first->consume(batch);
                second->consume(batch);
            }
        };
        auto both = std::make_shared<both_sinks>();
        both->first = memory;
        both->second = writer;
        rt.trace().add_sink(both);
        rt.block_on(
            []() -> task<void> {
                std::vector<join_handle<int>> children;
                for (int i = 0; i < 200; ++i) {
                    children.push_back(spawn(
                        [](int v) -> task<int> {
                            co_await yield_now();
                            co_return v;
                        }(i),
                        i % 2 == 0 ? "even child" : "odd child"));
                }
                for (auto& c : children) {
                    co_await c;
                }
            }(),
            "parent");
        rt.shutdown();
        rt.trace().flush();
        rt.trace().remove_sink(both);
        writer->close();
        from_memory = memory->events();
    }
    const trace::loaded_trace loaded = trace::read_trace_file(file.path);
    CHECK(loaded.report.complete);
    CHECK(loaded.report.chunks > 10);
    REQUIRE(loaded.events.size() == from_memory.size());
    std::vector<event> sorted = loaded.events;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const event& a, const event& b) { return a.time_ns < b.time_ns; });
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        mismatches += same(sorted[i], from_memory[i]) ? 0u : 1u;
    }
    CHECK(mismatches == 0);
    std::size_t named = 0;
    for (const event& e : loaded.events) {
        if (e.kind == event_kind::task_spawned) {
            REQUIRE(e.arg2 < loaded.names.size());
            named += loaded.names[e.arg2] == "even child" || loaded.names[e.arg2] == "odd child";
        }
    }
    CHECK(named == 200);
}

TEST_CASE("read_all hands an exception from the consumer back to the caller", "[trace_file]") {
    temp_file file("throwing.tstrace");
    std::vector<event> events;
    for (int i = 0; i < 50; ++i) {
        for (const event& e : every_kind_sequence()) {
            events.push_back(e);
        }
    }
    write_file(file.path, events, 8);
    trace::file_reader reader(file.path);
    int chunks = 0;
    CHECK_THROWS_AS(trace::read_all(reader,
                                    [&](std::span<const event>, const std::vector<std::string>&) {
                                        if (++chunks == 3) {
                                            throw std::runtime_error("consumer failed");
                                        }
                                        return true;
                                    }),
                    std::runtime_error);
    CHECK(chunks == 3);
}

TEST_CASE("read_all delivers every chunk in order and can stop early", "[trace_file]") {
    temp_file file("all.tstrace");
    std::vector<event> events;
    for (int i = 0; i < 30; ++i) {
        for (const event& e : every_kind_sequence()) {
            events.push_back(e);
        }
    }
    write_file(file.path, events, 7);
    {
        trace::file_reader reader(file.path);
        std::vector<event> seen;
        const bool completed = trace::read_all(
            reader, [&](std::span<const event> chunk, const std::vector<std::string>& names) {
                CHECK(names.size() > 1);
                seen.insert(seen.end(), chunk.begin(), chunk.end());
                return true;
            });
        CHECK(completed);
        REQUIRE(seen.size() == events.size());
        for (std::size_t i = 0; i < seen.size(); ++i) {
            CHECK(same(seen[i], events[i]));
        }
        CHECK(reader.progress_bytes() + last_chunk_size(read_bytes(file.path)) ==
              reader.file_bytes());
    }
    {
        trace::file_reader reader(file.path);
        int chunks = 0;
        CHECK_FALSE(trace::read_all(
            reader, [&](std::span<const event>, const auto&) { return ++chunks < 2; }));
        CHECK(chunks == 2);
    }
}
