#pragma once
// Incremental HTTP/1.1 request parsing for the engine's HTTP server, on top of llhttp.
// The parser stops after each complete request (llhttp's pause), so a connection can
// answer pipelined requests one at a time and in order. Limits turn oversized requests
// into 431/413 before they cost memory.

#include <cstddef>
#include <llhttp.h>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskscope::net::detail {

struct http_limits {
    /// Request target plus header names and values, in bytes.
    std::size_t max_header_bytes = 8192;
    std::size_t max_body_bytes = std::size_t{1} << 20;
    std::size_t max_headers = 64;
};

struct http_request {
    std::string method;
    /// The request target as sent, e.g. "/tasks?id=7".
    std::string target;
    /// The raw query after '?' (no '?', no fragment, not percent-decoded).
    std::string query;
    /// Names as sent; values without surrounding whitespace. Trailers are not kept.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = false;
    int version_major = 1;
    int version_minor = 1;

    /// The target's path: "/tasks" for "/tasks?id=7", also for an absolute-form target
    /// such as "http://host/tasks?id=7".
    [[nodiscard]] std::string_view path() const noexcept;
    /// The first header called `name` (ASCII case-insensitive).
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// The first value of `name` in an "a=b&c=d" query; "" for a bare "name" without '='.
/// Values are returned as sent, not percent-decoded.
/// Bytes llhttp used of the `length` bytes handed to it at `begin` when it stopped (paused
/// or failed), from its error position. Shared by the request and response parsers.
[[nodiscard]] std::size_t bytes_used(const llhttp_t& parser, const char* begin,
                                     std::size_t length) noexcept;

[[nodiscard]] std::optional<std::string_view> query_param(std::string_view query,
                                                          std::string_view name) noexcept;

enum class parse_status {
    need_more,        ///< every byte was used; feed more when it arrives
    request_ready,    ///< take_request(), answer it, then feed the unused rest
    bad_request,      ///< 400
    header_too_large, ///< 431
    body_too_large,   ///< 413
};

[[nodiscard]] constexpr std::string_view to_string(parse_status status) noexcept {
    switch (status) {
    case parse_status::need_more:
        return "need_more";
    case parse_status::request_ready:
        return "request_ready";
    case parse_status::bad_request:
        return "bad_request";
    case parse_status::header_too_large:
        return "header_too_large";
    case parse_status::body_too_large:
        return "body_too_large";
    }
    return "unknown";
}

/// The HTTP status to answer a parse error with; 0 when `status` is not an error.
[[nodiscard]] constexpr int response_status_for(parse_status status) noexcept {
    switch (status) {
    case parse_status::bad_request:
        return 400;
    case parse_status::header_too_large:
        return 431;
    case parse_status::body_too_large:
        return 413;
    case parse_status::need_more:
    case parse_status::request_ready:
        break;
    }
    return 0;
}

/// Parses the requests of one connection. llhttp keeps a pointer to this object, so it
/// neither copies nor moves.
///
///     std::size_t used = 0;
///     while (parser.feed(buffer, used) == parse_status::request_ready) {
///         answer(parser.take_request());
///         buffer.remove_prefix(used);
///     }
class http_request_parser {
public:
    explicit http_request_parser(http_limits limits = {}) noexcept;
    http_request_parser(const http_request_parser&) = delete;
    http_request_parser& operator=(const http_request_parser&) = delete;

    /// Parses from `data` until one request is complete (`consumed` = bytes it used; feed
    /// the rest again after taking the request), all of `data` is used (need_more), or the
    /// input is rejected. Errors are sticky: the connection should answer and close.
    /// After a request with keep_alive == false, further bytes are discarded.
    parse_status feed(std::string_view data, std::size_t& consumed);

    /// Moves out the request reported by feed() and makes room for the next one.
    [[nodiscard]] http_request take_request();

    /// Why the input was rejected (llhttp's reason, or which limit was hit).
    [[nodiscard]] std::string_view error_reason() const noexcept;

private:
    static int on_message_begin(llhttp_t* parser);
    static int on_url(llhttp_t* parser, const char* at, std::size_t length);
    static int on_header_field(llhttp_t* parser, const char* at, std::size_t length);
    static int on_header_field_complete(llhttp_t* parser);
    static int on_header_value(llhttp_t* parser, const char* at, std::size_t length);
    static int on_header_value_complete(llhttp_t* parser);
    static int on_headers_complete(llhttp_t* parser);
    static int on_body(llhttp_t* parser, const char* at, std::size_t length);
    static int on_message_complete(llhttp_t* parser);
    static const llhttp_settings_t& settings() noexcept;

    static http_request_parser& self(llhttp_t* parser) noexcept;
    /// Records a rejection; returns the llhttp error code that stops parsing.
    int reject(parse_status status, const char* reason) noexcept;
    /// Counts request-line and header bytes against the limit.
    bool count_header_bytes(std::size_t length) noexcept;

    enum class state { parsing, request_ready, failed };

    llhttp_t m_parser{};
    http_limits m_limits;
    state m_state = state::parsing;
    bool m_request_taken = false;
    http_request m_request;
    std::string m_field;
    std::string m_value;
    std::size_t m_header_bytes = 0;
    bool m_headers_done = false; // header callbacks after this are chunked trailers
    parse_status m_error = parse_status::bad_request;
    const char* m_reason = nullptr; // our own reason; llhttp's when null
};

} // namespace taskscope::net::detail
