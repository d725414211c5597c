#include "file_format.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <zstd.h>

namespace taskscope::trace {
namespace ff = file_format;

namespace {

std::string describe_bytes(std::uint64_t n) {
    return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

} // namespace

namespace {

/// A file's bytes.
class file_source final : public byte_source {
public:
    file_source(std::FILE* file, std::uint64_t size) : m_file(file), m_size(size) {}
    ~file_source() override { std::fclose(m_file); }
    file_source(const file_source&) = delete;
    file_source& operator=(const file_source&) = delete;
    std::size_t read(void* data, std::size_t size) override {
        return std::fread(data, 1, size, m_file);
    }
    [[nodiscard]] std::uint64_t size() const noexcept override { return m_size; }

private:
    std::FILE* m_file;
    std::uint64_t m_size;
};

} // namespace

file_reader::file_reader(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw file_error(file_error::reason::cannot_open,
                         "cannot open " + name + ": it is a directory, not a .tstrace file");
    }
    std::FILE* file = ff::open_file(path, false);
    if (file == nullptr) {
        throw file_error(file_error::reason::cannot_open,
                         "cannot open " + name + ": " + std::strerror(errno));
    }
    const auto size = std::filesystem::file_size(path, ec);
    m_source = std::make_unique<file_source>(file, ec ? 0 : size);
    read_header(name);
}

file_reader::file_reader(std::unique_ptr<byte_source> source, const std::string& name)
    : m_source(std::move(source)) {
    read_header(name);
}

void file_reader::read_header(const std::string& name) {
    m_report.file_bytes = m_source->size();
    const bool stream = m_source->is_stream();
    const auto refuse = [&](file_error::reason why, const std::string& message) {
        m_source.reset();
        throw file_error(why, name + ": " + message);
    };
    std::array<unsigned char, ff::header_size> header{};
    const std::size_t got = m_source->read(header.data(), header.size());
    if (got < ff::file_magic.size() ||
        !std::equal(ff::file_magic.begin(), ff::file_magic.end(), header.begin())) {
        if (stream) {
            const std::string why = m_source->failure();
            if (got == 0 && why == "stopped") {
                throw file_error(file_error::reason::cannot_open, name + ": stopped");
            }
            throw file_error(file_error::reason::not_a_trace,
                             name + " is not a taskscope trace stream" +
                                 (got != 0      ? ""
                                  : why.empty() ? " (it closed the connection without a word)"
                                                : " (" + why + ")"));
        }
        refuse(file_error::reason::not_a_trace,
               "not a taskscope trace (a .tstrace file starts with \"TSTRACE\"; record one "
               "with taskscope-cli record -o FILE)");
    }
    const std::string whole = stream ? "stream" : "file";
    if (got < header.size()) {
        refuse(file_error::reason::damaged_header, "the " + whole + " ends inside its header");
    }
    const std::uint32_t format = ff::get_u32(header.data() + 8);
    const std::uint32_t schema = ff::get_u32(header.data() + 12);
    if (format > file_format_version || schema > schema_version) {
        refuse(file_error::reason::newer_version,
               "written by a newer taskscope (file format " + std::to_string(format) +
                   ", event schema " + std::to_string(schema) + "; this build reads format " +
                   std::to_string(file_format_version) + ", schema " +
                   std::to_string(schema_version) + "): update taskscope to open it");
    }
    if (format < file_format_version || schema < oldest_readable_schema) {
        refuse(file_error::reason::older_version,
               "written by an older taskscope (file format " + std::to_string(format) +
                   ", event schema " + std::to_string(schema) +
                   ") that this build cannot read; record it again");
    }
    m_schema = schema;
    const std::uint32_t info_size = ff::get_u32(header.data() + 16);
    if (info_size > ff::max_info_size) {
        refuse(file_error::reason::damaged_header, "its header is damaged (impossible size)");
    }
    std::vector<unsigned char> info(info_size);
    if (m_source->read(info.data(), info.size()) != info.size()) {
        refuse(file_error::reason::damaged_header, "the " + whole + " ends inside its header");
    }
    if (ff::checksum(std::span(header.data(), 24), info) != ff::get_u64(header.data() + 24)) {
        refuse(file_error::reason::damaged_header,
               "its header is damaged (checksum mismatch); nothing can be read");
    }
    std::string problem;
    if (!ff::run_info_from_json(
            std::string_view(reinterpret_cast<const char*>(info.data()), info.size()), m_info,
            problem)) {
        refuse(file_error::reason::damaged_header, problem);
    }
    m_report.bytes_read = header.size() + info.size();
}

file_reader::~file_reader() = default;

bool file_reader::fail(std::string warning) {
    m_done = true;
    const std::uint64_t lost =
        m_report.file_bytes > m_report.bytes_read ? m_report.file_bytes - m_report.bytes_read : 0;
    m_report.warning =
        std::move(warning) + "; read " + std::to_string(m_report.events) + " events from " +
        std::to_string(m_report.chunks) + " intact chunks" +
        (m_source->is_stream() ? std::string()
                               : ", lost the last " + describe_bytes(lost) + " of the file");
    return false;
}

bool file_reader::next(std::vector<event>& out) {
    if (!next_chunk(out)) {
        out.clear();
        return false;
    }
    return true;
}

bool file_reader::next_chunk(std::vector<event>& out) {
    // `out` keeps its storage and its size from the chunk before: the decoder overwrites
    // every field of every event, so growing it zero-fills only what it never held.
    while (!m_done) {
        const std::string where = "chunk " + std::to_string(m_report.chunks + 1) + " (at byte " +
                                  std::to_string(m_report.bytes_read) + ")";
        std::array<unsigned char, ff::chunk_header_size> header;
        const std::size_t got = m_source->read(header.data(), header.size());
        if (got == 0) {
            m_done = true;
            if (!m_report.complete) {
                const std::string why = m_source->failure();
                m_report.warning =
                    m_source->is_stream()
                        ? "the stream ended without an end record (" +
                              (why.empty() ? std::string("the program was stopped or the "
                                                         "connection closed")
                                           : why) +
                              "): what it recorded after the last chunk is missing"
                        : "the recording did not finish cleanly (no end record): "
                          "events recorded after the last chunk are missing";
            }
            return false;
        }
        if (m_report.complete) {
            // Bytes after the end record: ignore them, but say so.
            m_done = true;
            m_report.warning = "unexpected bytes after the end record were ignored";
            return false;
        }
        if (got < header.size()) {
            return fail("the " + std::string(m_source->is_stream() ? "stream" : "file") +
                        " is cut off inside " + where);
        }
        ff::chunk_header h;
        if (!ff::read_chunk_header(header.data(), h)) {
            return fail(where + " is damaged (bad chunk marker)");
        }
        if (h.stored_size > ff::max_chunk_bytes || h.raw_size > ff::max_chunk_bytes ||
            h.event_count > ff::max_chunk_events ||
            (h.type != ff::chunk_type::events && h.type != ff::chunk_type::end)) {
            return fail(where + " is damaged (impossible sizes)");
        }
        m_stored.resize(h.stored_size);
        if (m_source->read(m_stored.data(), m_stored.size()) != m_stored.size()) {
            return fail("the " + std::string(m_source->is_stream() ? "stream" : "file") +
                        " is cut off inside " + where);
        }
        if (!ff::chunk_checksum_ok(header.data(), m_stored)) {
            return fail(where + " is damaged (checksum mismatch)");
        }

        std::span<const unsigned char> raw = m_stored;
        if ((h.flags & ff::flag_zstd) != 0) {
            m_raw.resize(h.raw_size);
            const std::size_t size =
                ZSTD_decompress(m_raw.data(), m_raw.size(), m_stored.data(), m_stored.size());
            if (ZSTD_isError(size) != 0 || size != h.raw_size) {
                return fail(where + " does not decompress");
            }
            raw = m_raw;
        } else if (h.raw_size != h.stored_size) {
            return fail(where + " is damaged (sizes disagree)");
        }

        if (h.type == ff::chunk_type::end) {
            m_report.complete = true;
            m_report.bytes_read += header.size() + m_stored.size();
            continue; // anything after it is reported above
        }
        const std::string problem =
            ff::decode_events(raw, h.event_count, h.base_time_ns, m_names, out);
        if (!problem.empty()) {
            return fail(where + " cannot be decoded: " + problem);
        }
        m_report.bytes_read += header.size() + m_stored.size();
        m_progress.store(m_report.bytes_read, std::memory_order_relaxed);
        m_report.events += h.event_count;
        m_report.chunks += 1;
        if (!out.empty()) {
            return true;
        }
    }
    return false;
}

bool read_all(
    file_reader& reader,
    const std::function<bool(std::span<const event>, const std::vector<std::string>&)>& consume) {
    // Two buffers: the decoder fills one while the consumer reads the other.
    struct slot {
        std::vector<event> events;
        std::vector<std::string> names; // a copy, only refreshed when names were added
        bool full = false;
    };
    std::array<slot, 2> slots;
    std::mutex mutex;
    std::condition_variable changed;
    bool finished = false;
    bool stop = false;
    std::exception_ptr decoder_failed;
    std::thread decoder([&] {
        std::size_t turn = 0;
        std::vector<event> chunk;
        try {
            for (;;) {
                const bool more = reader.next(chunk); // reads and decodes outside the lock
                std::unique_lock lock(mutex);
                if (!more || stop) {
                    break;
                }
                changed.wait(lock, [&] { return !slots[turn].full || stop; });
                if (stop) {
                    break;
                }
                slots[turn].events.swap(chunk);
                if (slots[turn].names.size() != reader.names().size()) {
                    slots[turn].names = reader.names();
                }
                slots[turn].full = true;
                changed.notify_all();
                turn ^= 1;
            }
        } catch (...) {
            decoder_failed = std::current_exception(); // rethrown on the caller's thread
        }
        std::lock_guard lock(mutex);
        finished = true;
        changed.notify_all();
    });
    // Whatever happens to the consumer (an exception included), stop and join the decoder.
    struct joiner {
        std::mutex& mutex;
        std::condition_variable& changed;
        bool& stop;
        std::thread& thread;
        ~joiner() {
            {
                std::lock_guard lock(mutex);
                stop = true;
            }
            changed.notify_all();
            thread.join();
        }
    };
    bool completed = true;
    {
        joiner join_on_exit{mutex, changed, stop, decoder};
        std::size_t turn = 0;
        for (;;) {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return slots[turn].full || finished; });
            if (!slots[turn].full) {
                break; // finished and drained
            }
            lock.unlock();
            const bool go_on = consume(slots[turn].events, slots[turn].names);
            lock.lock();
            slots[turn].full = false;
            changed.notify_all();
            if (!go_on) {
                completed = false;
                break;
            }
            turn ^= 1;
        }
    }
    if (decoder_failed) {
        std::rethrow_exception(decoder_failed);
    }
    return completed;
}

loaded_trace read_trace_file(const std::filesystem::path& path) {
    file_reader reader(path);
    loaded_trace trace;
    trace.info = reader.info();
    std::vector<event> chunk;
    while (reader.next(chunk)) {
        trace.events.insert(trace.events.end(), chunk.begin(), chunk.end());
    }
    trace.names = reader.names();
    trace.report = reader.report();
    return trace;
}

} // namespace taskscope::trace
