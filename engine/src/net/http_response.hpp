#pragma once
// Writing HTTP/1.1 responses for the engine's server, and reading just enough of them
// (status, body size, keep-alive) for the load-generator client.

#include <cstddef>
#include <llhttp.h>
#include <string>
#include <string_view>

namespace taskscope::net::detail {

/// "OK" for 200, "Not Found" for 404, ...; "" for a status it doesn't know (the status
/// line stays valid: the reason phrase may be empty).
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

/// A complete response with Content-Type, Content-Length and Connection headers:
///
///     format_response(200, "text/plain", "hi", true)
///     == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
///        "Connection: keep-alive\r\n\r\nhi"
[[nodiscard]] std::string format_response(int status, std::string_view content_type,
                                          std::string_view body, bool keep_alive);

enum class response_status {
    need_more,      ///< every byte was used; feed more when it arrives
    response_ready, ///< take_response(), then feed the unused rest
    bad_response,
};

[[nodiscard]] constexpr std::string_view to_string(response_status status) noexcept {
    switch (status) {
    case response_status::need_more:
        return "need_more";
    case response_status::response_ready:
        return "response_ready";
    case response_status::bad_response:
        return "bad_response";
    }
    return "unknown";
}

struct http_response_head {
    int status = 0;
    std::size_t body_bytes = 0; ///< counted, not kept
    bool keep_alive = false;
};

/// Reads the responses of one client connection, one at a time, as
/// http_request_parser reads requests. Interim 1xx responses (other than 101) are
/// skipped. Not for responses to HEAD, whose Content-Length announces no body.
class http_response_parser {
public:
    http_response_parser() noexcept;
    http_response_parser(const http_response_parser&) = delete;
    http_response_parser& operator=(const http_response_parser&) = delete;

    /// Parses from `data` until one response is complete (`consumed` = bytes it used),
    /// all of `data` is used (need_more), or the input is malformed (sticky).
    response_status feed(std::string_view data, std::size_t& consumed);

    /// Call when the server closed the connection: completes a response whose body runs
    /// to the end of the connection (no Content-Length, not chunked); bad_response if
    /// the connection closed in the middle of a response.
    response_status finish();

    /// Moves out the response reported by feed() or finish().
    [[nodiscard]] http_response_head take_response() noexcept;

    [[nodiscard]] std::string_view error_reason() const noexcept;

private:
    static int on_message_begin(llhttp_t* parser);
    static int on_body(llhttp_t* parser, const char* at, std::size_t length);
    static int on_message_complete(llhttp_t* parser);
    static const llhttp_settings_t& settings() noexcept;

    enum class state { parsing, response_ready, failed };

    llhttp_t m_parser{};
    state m_state = state::parsing;
    bool m_response_taken = false;
    http_response_head m_response;
};

} // namespace taskscope::net::detail
