#include "file_format.hpp"
#include "taskscope/trace/dropped_tally.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <zstd.h>

namespace taskscope::trace {
namespace ff = file_format;

namespace {
// How many sealed chunks may wait for the writer thread before consume() waits for it:
// a slow disk then backs up into the per-thread buffers, which drop and count.
constexpr std::size_t max_queued_chunks = 8;
} // namespace

run_info run_info_for(const trace_hub& hub) {
    run_info info;
    info.epoch_steady_ns = hub.epoch_steady_ns();
    info.clock = calibration();
    const auto steady_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count();
    const auto unix_now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    info.start_unix_ms = unix_now_ms - (steady_now - info.epoch_steady_ns) / 1'000'000;
    return info;
}

file_writer::file_writer(const std::filesystem::path& path, const run_info& info,
                         file_writer_options options)
    : m_options(options)
    , m_path(path) {
    m_options.chunk_events =
        std::clamp<std::size_t>(m_options.chunk_events, 1, ff::max_chunk_events);
    m_file = ff::open_file(path, true);
    if (m_file == nullptr) {
        throw file_error(file_error::reason::cannot_open,
                         "cannot create " + path.string() + ": " + std::strerror(errno));
    }
    const std::vector<unsigned char> header = stream_encoder::header(info);
    write_bytes(header.data(), header.size());
    m_bytes_written = header.size();
    if (!m_error.empty() || std::fflush(m_file) != 0) {
        std::fclose(m_file);
        m_file = nullptr;
        throw file_error(file_error::reason::io,
                         "cannot write " + path.string() + ": " + std::strerror(errno));
    }
    m_writer = std::thread([this] { writer_loop(); });
}

file_writer::~file_writer() {
    try {
        close();
    } catch (const file_error&) {
        // The owner did not call close() to hear about it; nothing more can be done here.
    }
}

void file_writer::consume(std::span<const event> batch) {
    std::unique_lock lock(m_mutex);
    if (m_closing) {
        return;
    }
    while (!batch.empty()) {
        if (m_current.empty()) {
            m_current_started = std::chrono::steady_clock::now();
            m_current.reserve(m_options.chunk_events);
        }
        const std::size_t take = std::min(batch.size(), m_options.chunk_events - m_current.size());
        m_current.insert(m_current.end(), batch.begin(),
                         batch.begin() + static_cast<std::ptrdiff_t>(take));
        batch = batch.subspan(take);
        if (m_current.size() == m_options.chunk_events) {
            m_space.wait(lock, [&] { return m_queue.size() < max_queued_chunks || m_closing; });
            if (m_closing) {
                return; // close() raced this batch: the owner should remove the sink first
            }
            seal_current_chunk_locked();
        }
    }
}

void file_writer::seal_current_chunk_locked() {
    if (m_current.empty()) {
        return;
    }
    pending_chunk chunk;
    chunk.first_name = m_names_sent;
    chunk.names = names_from(m_names_sent);
    m_names_sent += static_cast<name_id>(chunk.names.size());
    chunk.events = std::move(m_current);
    m_current = {};
    m_queue.push_back(std::move(chunk));
    m_work.notify_one();
}

void file_writer::writer_loop() {
    stream_encoder encoder(m_options.compression_level);
    std::vector<unsigned char> bytes;
    dropped_tally dropped;
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_work.wait_for(lock, m_options.chunk_age, [&] { return !m_queue.empty() || m_closing; });
        if (m_queue.empty() && !m_current.empty() &&
            (m_closing ||
             std::chrono::steady_clock::now() - m_current_started >= m_options.chunk_age)) {
            seal_current_chunk_locked();
        }
        if (m_queue.empty()) {
            if (m_closing) {
                break;
            }
            continue;
        }
        pending_chunk chunk = std::move(m_queue.front());
        m_queue.pop_front();
        m_space.notify_all();
        lock.unlock();

        std::uint64_t last_time = 0;
        for (const event& e : chunk.events) {
            dropped.add(e);
            last_time = std::max(last_time, e.time_ns);
        }
        std::string error;
        try {
            encoder.chunk(chunk.events, chunk.first_name, chunk.names, bytes);
            write_bytes(bytes.data(), bytes.size());
            // Hand each chunk to the OS at once: a crash of this process then loses nothing
            // that was sealed.
            if (m_error.empty() && std::fflush(m_file) != 0) {
                m_error = std::strerror(errno);
            }
        } catch (const file_error& e) {
            error = e.what();
            bytes.clear();
        }

        lock.lock();
        if (!error.empty() && m_error.empty()) {
            m_error = error;
        }
        m_events_written += chunk.events.size();
        m_chunks_written += 1;
        m_bytes_written += bytes.size();
        m_last_time_ns = std::max(m_last_time_ns, last_time);
        m_dropped_total = dropped.total();
    }
    lock.unlock();

    const std::vector<unsigned char> end =
        stream_encoder::end(m_events_written, m_chunks_written, m_dropped_total, m_last_time_ns);
    write_bytes(end.data(), end.size());
    lock.lock();
    m_bytes_written += end.size();
}

void file_writer::write_bytes(const void* data, std::size_t size) {
    if (m_error.empty() && std::fwrite(data, 1, size, m_file) != size) {
        m_error = std::strerror(errno);
    }
}

void file_writer::close() {
    {
        std::lock_guard lock(m_mutex);
        if (m_closed) {
            return;
        }
        m_closed = true;
        m_closing = true;
        m_work.notify_all();
    }
    if (m_writer.joinable()) {
        m_writer.join();
    }
    std::string error;
    {
        std::lock_guard lock(m_mutex);
        error = m_error;
    }
    if (m_file != nullptr) {
        if (std::fclose(m_file) != 0 && error.empty()) {
            error = std::strerror(errno);
        }
        m_file = nullptr;
    }
    if (!error.empty()) {
        throw file_error(file_error::reason::io,
                         "writing " + m_path.string() + " failed: " + error);
    }
}

std::uint64_t file_writer::events_written() const {
    std::lock_guard lock(m_mutex);
    return m_events_written;
}

std::uint64_t file_writer::bytes_written() const {
    std::lock_guard lock(m_mutex);
    return m_bytes_written;
}

stream_encoder::stream_encoder(int compression_level)
    : m_zstd(ZSTD_createCCtx())
    , m_level(compression_level) {
    if (m_zstd == nullptr) {
        throw std::bad_alloc();
    }
}

stream_encoder::~stream_encoder() {
    ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(m_zstd));
}

std::vector<unsigned char> stream_encoder::header(const run_info& info) {
    const std::string json = ff::run_info_to_json(info);
    std::vector<unsigned char> out(ff::header_size);
    std::copy(ff::file_magic.begin(), ff::file_magic.end(), out.begin());
    ff::put_u32(out.data() + 8, file_format_version);
    ff::put_u32(out.data() + 12, schema_version);
    ff::put_u32(out.data() + 16, static_cast<std::uint32_t>(json.size()));
    out.insert(out.end(), json.begin(), json.end());
    ff::put_u64(out.data() + 24,
                ff::checksum(std::span(out.data(), 24), std::span(out).subspan(ff::header_size)));
    return out;
}

void stream_encoder::chunk(std::span<const event> events, name_id first_name,
                           std::span<const std::string> names, std::vector<unsigned char>& out) {
    ff::encode_events(events, first_name, names, m_raw);
    out.resize(ff::chunk_header_size + ZSTD_compressBound(m_raw.size()));
    const std::size_t size =
        ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(m_zstd), out.data() + ff::chunk_header_size,
                          out.size() - ff::chunk_header_size, m_raw.data(), m_raw.size(), m_level);
    if (ZSTD_isError(size) != 0) {
        out.clear();
        throw file_error(file_error::reason::io,
                         std::string("compression failed: ") + ZSTD_getErrorName(size));
    }
    out.resize(ff::chunk_header_size + size);
    ff::chunk_header h;
    h.type = ff::chunk_type::events;
    h.flags = ff::flag_zstd;
    h.stored_size = static_cast<std::uint32_t>(size);
    h.raw_size = static_cast<std::uint32_t>(m_raw.size());
    h.event_count = static_cast<std::uint32_t>(events.size());
    h.base_time_ns = events.empty() ? 0 : events.front().time_ns;
    ff::write_chunk_header(out.data(), h, std::span(out.data() + ff::chunk_header_size, size));
}

std::vector<unsigned char> stream_encoder::end(std::uint64_t events, std::uint64_t chunks,
                                               std::uint64_t dropped, std::uint64_t last_time_ns) {
    const nlohmann::json totals = {{"events", events},
                                   {"chunks", chunks},
                                   {"dropped", dropped},
                                   {"last_time_ns", last_time_ns}};
    const std::string text = totals.dump();
    const std::span payload(reinterpret_cast<const unsigned char*>(text.data()), text.size());
    std::vector<unsigned char> out(ff::chunk_header_size + payload.size());
    ff::chunk_header h;
    h.type = ff::chunk_type::end;
    h.flags = 0;
    h.stored_size = h.raw_size = static_cast<std::uint32_t>(payload.size());
    std::copy(payload.begin(), payload.end(), out.begin() + ff::chunk_header_size);
    ff::write_chunk_header(out.data(), h, payload);
    return out;
}

} // namespace taskscope::trace
