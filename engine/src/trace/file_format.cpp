#include "file_format.hpp"

#define XXH_INLINE_ALL
#include <bit>
#include <nlohmann/json.hpp>
#include <xxhash.h>

namespace taskscope::trace::file_format {

static_assert(std::endian::native == std::endian::little,
              "the file layout is little-endian; add byte swaps for a big-endian host");

void put_u32(unsigned char* at, std::uint32_t v) noexcept {
    std::memcpy(at, &v, sizeof v);
}
void put_u64(unsigned char* at, std::uint64_t v) noexcept {
    std::memcpy(at, &v, sizeof v);
}
std::uint32_t get_u32(const unsigned char* at) noexcept {
    std::uint32_t v;
    std::memcpy(&v, at, sizeof v);
    return v;
}
std::uint64_t get_u64(const unsigned char* at) noexcept {
    std::uint64_t v;
    std::memcpy(&v, at, sizeof v);
    return v;
}

std::uint64_t checksum(std::span<const unsigned char> a,
                       std::span<const unsigned char> b) noexcept {
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    XXH3_64bits_update(&state, a.data(), a.size());
    XXH3_64bits_update(&state, b.data(), b.size());
    return XXH3_64bits_digest(&state);
}

namespace {

void serialise(unsigned char* out, const chunk_header& h) noexcept {
    put_u32(out, chunk_magic);
    out[4] = static_cast<unsigned char>(h.type);
    out[5] = h.flags;
    out[6] = out[7] = 0;
    put_u32(out + 8, h.stored_size);
    put_u32(out + 12, h.raw_size);
    put_u32(out + 16, h.event_count);
    put_u32(out + 20, 0);
    put_u64(out + 24, h.base_time_ns);
    put_u64(out + 32, h.checksum);
}

std::uint64_t header_checksum(const unsigned char* in, std::span<const unsigned char> payload) {
    std::array<unsigned char, chunk_header_size> copy;
    std::memcpy(copy.data(), in, chunk_header_size);
    put_u64(copy.data() + 32, 0);
    return checksum(copy, payload);
}

// ---- varints (LEB128) and zigzag ----

void put_varint(std::vector<unsigned char>& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<unsigned char>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<unsigned char>(v));
}

std::uint64_t zigzag(std::uint64_t value, std::uint64_t predictor) noexcept {
    // Differences wrap modulo 2^64, so every value round-trips whatever the predictor.
    const auto d = static_cast<std::int64_t>(value - predictor);
    return (static_cast<std::uint64_t>(d) << 1) ^ static_cast<std::uint64_t>(d >> 63);
}

std::uint64_t unzigzag(std::uint64_t z, std::uint64_t predictor) noexcept {
    return predictor + ((z >> 1) ^ (~(z & 1) + 1));
}

/// Reads varints from a bounded byte range; any overrun or overlong value sets `bad`.
struct varint_reader {
    const unsigned char* at;
    const unsigned char* end;
    bool bad = false;

    [[gnu::always_inline]] std::uint64_t next() noexcept {
        // A varint is at most 10 bytes: with that many left, no end check per byte.
        return end - at >= 10 ? decode<false>() : next_near_end();
    }
    [[gnu::noinline]] std::uint64_t next_near_end() noexcept { return decode<true>(); }

    template <bool check_end>
    [[gnu::always_inline]] std::uint64_t decode() noexcept {
        std::uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (check_end && at == end) {
                break;
            }
            const unsigned char byte = *at++;
            v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) {
                return v;
            }
        }
        bad = true;
        return 0;
    }
    std::span<const unsigned char> bytes(std::uint64_t n) noexcept {
        if (n > static_cast<std::uint64_t>(end - at)) {
            bad = true;
            return {};
        }
        std::span<const unsigned char> s(at, static_cast<std::size_t>(n));
        at += n;
        return s;
    }
};

/// The per-kind guess an event's `arg` is encoded against: deadlines sit near the time.
std::uint64_t arg_predictor(const event& e) noexcept {
    return e.kind == event_kind::timer_armed ? e.time_ns : 0;
}

constexpr std::size_t column_count = 7;
enum column : std::size_t { kinds, tracks, times, tasks, args, args2, details };

} // namespace

void write_chunk_header(unsigned char* out, chunk_header h,
                        std::span<const unsigned char> payload) noexcept {
    h.checksum = 0;
    serialise(out, h);
    put_u64(out + 32, header_checksum(out, payload));
}

bool read_chunk_header(const unsigned char* in, chunk_header& h) noexcept {
    if (get_u32(in) != chunk_magic) {
        return false;
    }
    h.type = static_cast<chunk_type>(in[4]);
    h.flags = in[5];
    h.stored_size = get_u32(in + 8);
    h.raw_size = get_u32(in + 12);
    h.event_count = get_u32(in + 16);
    h.base_time_ns = get_u64(in + 24);
    h.checksum = get_u64(in + 32);
    return true;
}

bool chunk_checksum_ok(const unsigned char* in, std::span<const unsigned char> payload) noexcept {
    return header_checksum(in, payload) == get_u64(in + 32);
}

void encode_events(std::span<const event> events, name_id first_name,
                   std::span<const std::string> names, std::vector<unsigned char>& out) {
    out.clear();
    put_varint(out, first_name);
    put_varint(out, names.size());
    for (const std::string& name : names) {
        put_varint(out, name.size());
        out.insert(out.end(), name.begin(), name.end());
    }

    std::array<std::vector<unsigned char>, column_count> col;
    for (auto& c : col) {
        c.reserve(events.size() * 2);
    }
    // A task id is predicted by the previous one on the same track (polls come in pairs).
    std::vector<std::uint64_t> last_task;
    std::uint64_t last_time = events.empty() ? 0 : events.front().time_ns;
    for (const event& e : events) {
        col[kinds].push_back(static_cast<unsigned char>(e.kind));
        put_varint(col[tracks], e.track);
        put_varint(col[times], zigzag(e.time_ns, last_time));
        last_time = e.time_ns;
        if (e.track >= last_task.size()) {
            last_task.resize(e.track + 1u, 0);
        }
        put_varint(col[tasks], zigzag(e.task, last_task[e.track]));
        last_task[e.track] = e.task;
        put_varint(col[args], zigzag(e.arg, arg_predictor(e)));
        put_varint(col[args2], e.arg2);
        col[details].push_back(e.detail);
    }
    for (const auto& c : col) {
        put_varint(out, c.size());
        out.insert(out.end(), c.begin(), c.end());
    }
}

std::string decode_events(std::span<const unsigned char> raw, std::uint32_t event_count,
                          std::uint64_t base_time_ns, std::vector<std::string>& names,
                          std::vector<event>& out) {
    varint_reader in{raw.data(), raw.data() + raw.size()};
    const std::uint64_t first_name = in.next();
    const std::uint64_t name_count = in.next();
    if (in.bad || first_name != names.size() || name_count > raw.size()) {
        return "its name table is out of sequence";
    }
    for (std::uint64_t i = 0; i < name_count; ++i) {
        const auto bytes = in.bytes(in.next());
        if (in.bad) {
            return "its name table is cut short";
        }
        names.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }

    std::array<varint_reader, column_count> col{};
    for (auto& c : col) {
        const auto bytes = in.bytes(in.next());
        if (in.bad) {
            return "a column is cut short";
        }
        c = varint_reader{bytes.data(), bytes.data() + bytes.size()};
    }
    if (in.at != in.end) {
        return "it has bytes after its last column";
    }
    if (col[kinds].end - col[kinds].at != event_count ||
        col[details].end - col[details].at != event_count) {
        return "its columns do not hold the event count its header gives";
    }

    // Every field of every event is written below: what `out` held is overwritten, never
    // zero-filled first (resize only value-initialises what it adds).
    out.resize(event_count);
    std::span<event> events(out.data(), event_count);
    std::uint64_t last_time = base_time_ns;
    std::vector<std::uint64_t> last_task;
    // One pass over the events, every field at once: a chunk's events outgrow the cache,
    // and a pass of its own for the kinds cost a fifth of the decoding.
    for (std::uint32_t i = 0; i < event_count; ++i) {
        event& e = events[i];
        const unsigned char kind = col[kinds].at[i];
        if (kind >= event_kind_count) {
            out.clear();
            return "it holds an event of unknown kind " + std::to_string(kind);
        }
        e.kind = static_cast<event_kind>(kind);
        e.detail = col[details].at[i];
        const std::uint64_t track = col[tracks].next();
        if (track > 0xFFFF) {
            col[tracks].bad = true;
        }
        e.track = static_cast<std::uint16_t>(track);
        e.time_ns = unzigzag(col[times].next(), last_time);
        last_time = e.time_ns;
        if (e.track >= last_task.size()) {
            last_task.resize(e.track + 1u, 0);
        }
        e.task = unzigzag(col[tasks].next(), last_task[e.track]);
        last_task[e.track] = e.task;
        e.arg = unzigzag(col[args].next(), arg_predictor(e));
        const std::uint64_t arg2 = col[args2].next();
        if (arg2 > 0xFFFFFFFF) {
            col[args2].bad = true;
        }
        e.arg2 = static_cast<std::uint32_t>(arg2);
    }
    for (std::size_t c : {tracks, times, tasks, args, args2}) {
        if (col[c].bad || col[c].at != col[c].end) {
            out.clear();
            return "a column does not decode to its event count";
        }
    }
    return {};
}

std::string run_info_to_json(const run_info& info) {
    nlohmann::json j;
    j["tool"] = info.tool;
    j["command"] = info.command;
    j["lesson"] = info.lesson;
    if (info.pid != 0) {
        j["pid"] = info.pid;
    }
    j["workers"] = info.workers;
    j["single_threaded"] = info.single_threaded;
    j["stealing"] = info.stealing;
    j["lifo_slot"] = info.lifo_slot;
    j["reactor"] = info.reactor;
    j["sleep_mode"] = info.sleep_mode;
    j["accept_mode"] = info.accept_mode;
    j["start_unix_ms"] = info.start_unix_ms;
    j["epoch_steady_ns"] = info.epoch_steady_ns;
    j["clock"] = {{"uses_tsc", info.clock.uses_tsc},
                  {"ticks_per_ns", info.clock.ticks_per_ns},
                  {"ref_ticks", info.clock.ref_ticks},
                  {"ref_steady_ns", info.clock.ref_steady_ns}};
    return j.dump();
}

bool run_info_from_json(std::string_view text, run_info& info, std::string& problem) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        problem = "its run description is not valid JSON";
        return false;
    }
    try {
        const auto read = [&](const char* key, auto& field) {
            if (auto it = j.find(key); it != j.end() && !it->is_null()) {
                it->get_to(field);
            }
        };
        read("tool", info.tool);
        read("command", info.command);
        read("lesson", info.lesson);
        read("pid", info.pid);
        read("workers", info.workers);
        read("single_threaded", info.single_threaded);
        read("stealing", info.stealing);
        read("lifo_slot", info.lifo_slot);
        read("reactor", info.reactor);
        read("sleep_mode", info.sleep_mode);
        read("accept_mode", info.accept_mode);
        read("start_unix_ms", info.start_unix_ms);
        read("epoch_steady_ns", info.epoch_steady_ns);
        if (auto c = j.find("clock"); c != j.end() && c->is_object()) {
            info.clock.uses_tsc = c->value("uses_tsc", false);
            info.clock.ticks_per_ns = c->value("ticks_per_ns", 1.0);
            info.clock.ref_ticks = c->value("ref_ticks", std::uint64_t{0});
            info.clock.ref_steady_ns = c->value("ref_steady_ns", std::int64_t{0});
        }
    } catch (const nlohmann::json::exception& e) {
        problem =
            std::string("its run description has a field of the wrong type (") + e.what() + ")";
        return false;
    }
    return true;
}

} // namespace taskscope::trace::file_format
