#include "http_parser.hpp"

#include <algorithm>

namespace taskscope::net::detail {

namespace {

constexpr char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return std::ranges::equal(a, b,
                              [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool starts_with_icase(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// RFC 9110 5.6.2. llhttp 8.1 (non-strict build) lets spaces into field names; a name
// such as "Transfer-Encoding " must not reach code that compares names.
bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

std::string_view trim_ows(std::string_view text) noexcept {
    const auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && is_ows(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_ows(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

std::size_t bytes_used(const llhttp_t& parser, const char* begin, std::size_t length) noexcept {
    const char* pos = llhttp_get_error_pos(&parser);
    if (pos == nullptr || pos < begin) {
        return 0;
    }
    return std::min(static_cast<std::size_t>(pos - begin), length);
}

std::string_view http_request::path() const noexcept {
    std::string_view rest = target;
    // Absolute form ("http://host/p?q"), which servers must accept (RFC 9112 3.2.2).
    for (std::string_view scheme : {std::string_view{"http://"}, std::string_view{"https://"}}) {
        if (starts_with_icase(rest, scheme)) {
            rest.remove_prefix(scheme.size());
            const auto slash = rest.find_first_of("/?#");
            if (slash == std::string_view::npos || rest[slash] != '/') {
                return "/";
            }
            rest.remove_prefix(slash);
            break;
        }
    }
    return rest.substr(0, rest.find_first_of("?#"));
}

std::optional<std::string_view> http_request::header(std::string_view name) const noexcept {
    for (const auto& [field, value] : headers) {
        if (iequals(field, name)) {
            return std::string_view{value};
        }
    }
    return std::nullopt;
}

std::optional<std::string_view> query_param(std::string_view query,
                                            std::string_view name) noexcept {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

const llhttp_settings_t& http_request_parser::settings() noexcept {
    // llhttp keeps a pointer to these for the parser's lifetime.
    static const llhttp_settings_t instance = [] {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_begin = &on_message_begin;
        s.on_url = &on_url;
        s.on_header_field = &on_header_field;
        s.on_header_field_complete = &on_header_field_complete;
        s.on_header_value = &on_header_value;
        s.on_header_value_complete = &on_header_value_complete;
        s.on_headers_complete = &on_headers_complete;
        s.on_body = &on_body;
        s.on_message_complete = &on_message_complete;
        return s;
    }();
    return instance;
}

http_request_parser::http_request_parser(http_limits limits) noexcept : m_limits(limits) {
    llhttp_init(&m_parser, HTTP_REQUEST, &settings());
    m_parser.data = this;
}

parse_status http_request_parser::feed(std::string_view data, std::size_t& consumed) {
    consumed = 0;
    switch (m_state) {
    case state::failed:
        return m_error;
    case state::request_ready:
        if (!m_request_taken) {
            return parse_status::request_ready; // not taken yet: don't overwrite it
        }
        // on_message_complete paused llhttp right after the last request's final byte.
        llhttp_resume(&m_parser);
        m_state = state::parsing;
        break;
    case state::parsing:
        break;
    }
    if (data.empty()) {
        return parse_status::need_more;
    }

    for (;;) {
        const char* begin = data.data() + consumed;
        const std::size_t length = data.size() - consumed;
        const llhttp_errno_t err = llhttp_execute(&m_parser, begin, length);
        if (err == HPE_OK) {
            consumed = data.size();
            return parse_status::need_more;
        }
        // error_pos is where llhttp stopped. For the pause returned by on_message_complete
        // it is one past the request's last byte: the next request's first byte.
        consumed += bytes_used(m_parser, begin, length);
        if (err == HPE_PAUSED) {
            m_state = state::request_ready;
            m_request_taken = false;
            return parse_status::request_ready;
        }
        if (err == HPE_PAUSED_UPGRADE) {
            // Reported after the resume that follows an Upgrade/CONNECT request. We don't
            // switch protocols, so what follows is parsed as HTTP/1.1 again (a CONNECT
            // request was already marked keep_alive == false).
            llhttp_resume_after_upgrade(&m_parser);
            continue;
        }
        // m_error is still bad_request unless one of our limits rejected the input.
        m_state = state::failed;
        return m_error;
    }
}

http_request http_request_parser::take_request() {
    m_request_taken = true;
    http_request request = std::move(m_request);
    m_request = http_request{};
    return request;
}

std::string_view http_request_parser::error_reason() const noexcept {
    if (m_state != state::failed) {
        return {}; // llhttp's reason is "on_message_complete pause" here
    }
    if (m_reason != nullptr) {
        return m_reason;
    }
    const char* reason = llhttp_get_error_reason(&m_parser);
    return reason != nullptr ? std::string_view{reason} : std::string_view{};
}

http_request_parser& http_request_parser::self(llhttp_t* parser) noexcept {
    return *static_cast<http_request_parser*>(parser->data);
}

int http_request_parser::reject(parse_status status, const char* reason) noexcept {
    m_error = status;
    m_reason = reason;
    llhttp_set_error_reason(&m_parser, reason);
    return HPE_USER;
}

bool http_request_parser::count_header_bytes(std::size_t length) noexcept {
    if (length > m_limits.max_header_bytes - m_header_bytes) {
        return false;
    }
    m_header_bytes += length;
    return true;
}

int http_request_parser::on_message_begin(llhttp_t* parser) {
    auto& p = self(parser);
    p.m_request = http_request{};
    p.m_field.clear();
    p.m_value.clear();
    p.m_header_bytes = 0;
    p.m_headers_done = false;
    return 0;
}

int http_request_parser::on_url(llhttp_t* parser, const char* at, std::size_t length) {
    auto& p = self(parser);
    if (!p.count_header_bytes(length)) {
        return p.reject(parse_status::header_too_large, "request line and headers too large");
    }
    p.m_request.target.append(at, length);
    return 0;
}

// Field and value arrive in pieces when they straddle feeds; the *_complete callbacks
// mark their ends. The same callbacks report chunked trailers, which are counted but not
// kept (a trailer must not pose as a header).
int http_request_parser::on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
    auto& p = self(parser);
    if (!p.count_header_bytes(length)) {
        return p.reject(parse_status::header_too_large, "request line and headers too large");
    }
    if (!std::all_of(at, at + length, is_token_char)) {
        return p.reject(parse_status::bad_request, "Invalid header field char");
    }
    if (!p.m_headers_done) {
        p.m_field.append(at, length);
    }
    return 0;
}

int http_request_parser::on_header_field_complete(llhttp_t* parser) {
    auto& p = self(parser);
    if (!p.m_headers_done && p.m_request.headers.size() >= p.m_limits.max_headers) {
        p.reject(parse_status::header_too_large, "too many header fields");
        return -1;
    }
    return 0;
}

int http_request_parser::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
    auto& p = self(parser);
    if (!p.count_header_bytes(length)) {
        return p.reject(parse_status::header_too_large, "request line and headers too large");
    }
    if (!p.m_headers_done) {
        p.m_value.append(at, length);
    }
    return 0;
}

int http_request_parser::on_header_value_complete(llhttp_t* parser) {
    auto& p = self(parser);
    if (!p.m_headers_done) {
        // llhttp strips leading whitespace but hands over trailing whitespace.
        p.m_request.headers.emplace_back(std::move(p.m_field), std::string{trim_ows(p.m_value)});
    }
    p.m_field.clear();
    p.m_value.clear();
    return 0;
}

int http_request_parser::on_headers_complete(llhttp_t* parser) {
    auto& p = self(parser);
    p.m_headers_done = true;
    auto& request = p.m_request;
    request.method = llhttp_method_name(static_cast<llhttp_method_t>(parser->method));
    request.version_major = parser->http_major;
    request.version_minor = parser->http_minor;
    if (const auto question = request.target.find('?'); question != std::string::npos) {
        const auto hash = request.target.find('#', question);
        request.query = request.target.substr(
            question + 1, hash == std::string::npos ? std::string::npos : hash - question - 1);
    }
    // Refuse an announced body before any of it arrives; a chunked body is checked as it
    // accumulates in on_body.
    if ((parser->flags & F_CONTENT_LENGTH) != 0) {
        if (parser->content_length > p.m_limits.max_body_bytes) {
            p.reject(parse_status::body_too_large, "request body too large");
            return -1;
        }
        request.body.reserve(static_cast<std::size_t>(parser->content_length));
    }
    return 0;
}

int http_request_parser::on_body(llhttp_t* parser, const char* at, std::size_t length) {
    auto& p = self(parser);
    if (length > p.m_limits.max_body_bytes - p.m_request.body.size()) {
        return p.reject(parse_status::body_too_large, "request body too large");
    }
    p.m_request.body.append(at, length);
    return 0;
}

int http_request_parser::on_message_complete(llhttp_t* parser) {
    auto& p = self(parser);
    p.m_request.keep_alive = llhttp_should_keep_alive(parser) != 0;
    if (parser->upgrade != 0 && parser->method == HTTP_CONNECT) {
        // The bytes after a CONNECT belong to a tunnel we will not open.
        p.m_request.keep_alive = false;
    }
    // Stop here so feed() can hand this request out before the next one begins.
    return HPE_PAUSED;
}

} // namespace taskscope::net::detail
