#pragma once
// The byte layout of `.tstrace` files, shared by the writer and the reader.
// All integers are little-endian. See trace_file.hpp for the overall structure.

#include "taskscope/trace/event.hpp"
#include "taskscope/trace/names.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace taskscope::trace::file_format {

inline constexpr std::array<unsigned char, 8> file_magic = {'T', 'S', 'T', 'R',
                                                            'A', 'C', 'E', '\0'};
inline constexpr std::uint32_t chunk_magic = 0x4B435354; // "TSCK" read as little-endian

/// magic(8) format(4) schema(4) info_size(4) reserved(4) checksum(8), then the info JSON.
inline constexpr std::size_t header_size = 32;
/// magic(4) type(1) flags(1) reserved(2) stored(4) raw(4) events(4) reserved(4) base(8) sum(8)
inline constexpr std::size_t chunk_header_size = 40;

// Bounds a reader enforces before it allocates anything a damaged file could inflate.
inline constexpr std::uint32_t max_info_size = 1 << 20;
inline constexpr std::uint32_t max_chunk_bytes = 64u << 20;
inline constexpr std::uint32_t max_chunk_events = 1u << 20;

/// std::fopen for a path, in binary mode: on Windows a path's native string is wide.
inline std::FILE* open_file(const std::filesystem::path& path, bool for_writing) {
#ifdef _WIN32
    return ::_wfopen(path.c_str(), for_writing ? L"wb" : L"rb");
#else
    return std::fopen(path.c_str(), for_writing ? "wb" : "rb");
#endif
}

enum class chunk_type : std::uint8_t { events = 1, end = 2 };
inline constexpr std::uint8_t flag_zstd = 1;

struct chunk_header {
    chunk_type type = chunk_type::events;
    std::uint8_t flags = flag_zstd;
    std::uint32_t stored_size = 0; ///< payload bytes on disk after this header
    std::uint32_t raw_size = 0;    ///< payload bytes after decompression
    std::uint32_t event_count = 0;
    std::uint64_t base_time_ns = 0; ///< time of the chunk's first event
    std::uint64_t checksum = 0;     ///< XXH3-64 of this header (checksum zeroed) + payload
};

void put_u32(unsigned char* at, std::uint32_t v) noexcept;
void put_u64(unsigned char* at, std::uint64_t v) noexcept;
[[nodiscard]] std::uint32_t get_u32(const unsigned char* at) noexcept;
[[nodiscard]] std::uint64_t get_u64(const unsigned char* at) noexcept;

[[nodiscard]] std::uint64_t checksum(std::span<const unsigned char> a,
                                     std::span<const unsigned char> b) noexcept;

/// Serialises `h` with its checksum computed over the header and `payload`.
void write_chunk_header(unsigned char* out, chunk_header h,
                        std::span<const unsigned char> payload) noexcept;
/// Parses a chunk header. False if the magic is wrong.
[[nodiscard]] bool read_chunk_header(const unsigned char* in, chunk_header& h) noexcept;
/// Whether `payload` matches the checksum in the serialised header `in`.
[[nodiscard]] bool chunk_checksum_ok(const unsigned char* in,
                                     std::span<const unsigned char> payload) noexcept;

/// The uncompressed payload of an events chunk: the names with ids `first_name` and up,
/// then the events column by column, each delta-encoded against a predictor.
void encode_events(std::span<const event> events, name_id first_name,
                   std::span<const std::string> names, std::vector<unsigned char>& out);

/// Decodes what encode_events wrote into `out`, replacing what it held (its storage is
/// reused). Appends names at index `first_name` of `names` (which must have exactly that
/// many entries). Returns an empty string on success, or what is wrong with the bytes
/// (`out` is then empty).
[[nodiscard]] std::string decode_events(std::span<const unsigned char> raw,
                                        std::uint32_t event_count, std::uint64_t base_time_ns,
                                        std::vector<std::string>& names, std::vector<event>& out);

/// The header's run description, as JSON text.
[[nodiscard]] std::string run_info_to_json(const run_info& info);
/// Parses what run_info_to_json wrote (unknown keys are ignored, missing ones keep their
/// defaults). Returns false and says why when the text is not such JSON.
[[nodiscard]] bool run_info_from_json(std::string_view text, run_info& info, std::string& problem);

} // namespace taskscope::trace::file_format
