#include "http_response.hpp"

#include "http_parser.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace taskscope::net::detail {

namespace {

void append_number(std::string& out, std::size_t value) {
    char digits[24];
    const auto result = std::to_chars(std::begin(digits), std::end(digits), value);
    out.append(digits, result.ptr);
}

} // namespace

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

std::string format_response(int status, std::string_view content_type, std::string_view body,
                            bool keep_alive) {
    const std::string_view reason = reason_phrase(status);
    const std::string_view connection = keep_alive ? "keep-alive" : "close";
    std::string out;
    out.reserve(96 + reason.size() + content_type.size() + body.size());
    out.append("HTTP/1.1 ");
    // A status code is three digits (RFC 9110 15); clamp rather than emit a broken line.
    append_number(out, static_cast<std::size_t>(std::clamp(status, 100, 999)));
    out.append(" ").append(reason).append("\r\n");
    out.append("Content-Type: ").append(content_type).append("\r\n");
    out.append("Content-Length: ");
    append_number(out, body.size());
    out.append("\r\nConnection: ").append(connection).append("\r\n\r\n");
    out.append(body);
    return out;
}

const llhttp_settings_t& http_response_parser::settings() noexcept {
    // llhttp keeps a pointer to these for the parser's lifetime.
    static const llhttp_settings_t instance = [] {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_begin = &on_message_begin;
        s.on_body = &on_body;
        s.on_message_complete = &on_message_complete;
        return s;
    }();
    return instance;
}

http_response_parser::http_response_parser() noexcept {
    llhttp_init(&m_parser, HTTP_RESPONSE, &settings());
    m_parser.data = this;
}

response_status http_response_parser::feed(std::string_view data, std::size_t& consumed) {
    consumed = 0;
    switch (m_state) {
    case state::failed:
        return response_status::bad_response;
    case state::response_ready:
        if (!m_response_taken) {
            return response_status::response_ready;
        }
        llhttp_resume(&m_parser);
        m_state = state::parsing;
        break;
    case state::parsing:
        break;
    }
    if (data.empty()) {
        return response_status::need_more;
    }

    const llhttp_errno_t err = llhttp_execute(&m_parser, data.data(), data.size());
    if (err == HPE_OK) {
        consumed = data.size();
        return response_status::need_more;
    }
    consumed = bytes_used(m_parser, data.data(), data.size());
    if (err == HPE_PAUSED) {
        m_state = state::response_ready;
        m_response_taken = false;
        return response_status::response_ready;
    }
    // Including HPE_PAUSED_UPGRADE (a 101 response): the load generator speaks HTTP only.
    m_state = state::failed;
    return response_status::bad_response;
}

response_status http_response_parser::finish() {
    if (m_state == state::failed) {
        return response_status::bad_response;
    }
    if (m_state == state::response_ready) {
        if (!m_response_taken) {
            return response_status::response_ready;
        }
        llhttp_resume(&m_parser);
        m_state = state::parsing;
    }
    switch (llhttp_finish(&m_parser)) {
    case HPE_OK:
        return response_status::need_more; // closed between responses
    case HPE_PAUSED:
        // on_message_complete ran: the body ended with the connection.
        m_state = state::response_ready;
        m_response_taken = false;
        return response_status::response_ready;
    default:
        m_state = state::failed;
        return response_status::bad_response;
    }
}

http_response_head http_response_parser::take_response() noexcept {
    m_response_taken = true;
    return std::exchange(m_response, http_response_head{});
}

std::string_view http_response_parser::error_reason() const noexcept {
    if (m_state != state::failed) {
        return {};
    }
    const char* reason = llhttp_get_error_reason(&m_parser);
    return reason != nullptr ? std::string_view{reason} : std::string_view{};
}

int http_response_parser::on_message_begin(llhttp_t* parser) {
    static_cast<http_response_parser*>(parser->data)->m_response = http_response_head{};
    return 0;
}

int http_response_parser::on_body(llhttp_t* parser, const char*, std::size_t length) {
    static_cast<http_response_parser*>(parser->data)->m_response.body_bytes += length;
    return 0;
}

int http_response_parser::on_message_complete(llhttp_t* parser) {
    const int status = parser->status_code;
    if (status >= 100 && status < 200 && status != 101) {
        return 0; // interim response: the real one follows
    }
    auto& response = static_cast<http_response_parser*>(parser->data)->m_response;
    response.status = status;
    response.keep_alive = llhttp_should_keep_alive(parser) != 0;
    return HPE_PAUSED;
}

} // namespace taskscope::net::detail
