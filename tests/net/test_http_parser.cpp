#include "net/http_parser.hpp"
#include "net/http_response.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using taskscope::net::detail::format_response;
using taskscope::net::detail::http_limits;
using taskscope::net::detail::http_request;
using taskscope::net::detail::http_request_parser;
using taskscope::net::detail::http_response_head;
using taskscope::net::detail::http_response_parser;
using taskscope::net::detail::parse_status;
using taskscope::net::detail::query_param;
using taskscope::net::detail::reason_phrase;
using taskscope::net::detail::response_status;
using taskscope::net::detail::response_status_for;

namespace {

/// Feeds all of `input` in one piece and returns the single request it must contain.
http_request parse_one(std::string_view input, http_limits limits = {}) {
    http_request_parser parser{limits};
    std::size_t consumed = 0;
    const parse_status status = parser.feed(input, consumed);
    INFO(to_string(status) << ": " << parser.error_reason());
    REQUIRE(status == parse_status::request_ready);
    REQUIRE(consumed == input.size());
    return parser.take_request();
}

/// Feeds `input` as a connection would: after each request, the unused rest again.
std::vector<http_request> parse_all(http_request_parser& parser, std::string_view input) {
    std::vector<http_request> requests;
    for (;;) {
        std::size_t consumed = 0;
        const parse_status status = parser.feed(input, consumed);
        REQUIRE(consumed <= input.size());
        input.remove_prefix(consumed);
        if (status != parse_status::request_ready) {
            CHECK(status == parse_status::need_more);
            CHECK(input.empty());
            return requests;
        }
        requests.push_back(parser.take_request());
    }
}

} // namespace

TEST_CASE("http parser: a simple GET", "[http]") {
    const auto request = parse_one("GET /tasks?id=7&verbose HTTP/1.1\r\nHost: localhost\r\n\r\n");
    CHECK(request.method == "GET");
    CHECK(request.target == "/tasks?id=7&verbose");
    CHECK(request.path() == "/tasks");
    CHECK(request.query == "id=7&verbose");
    CHECK(request.version_major == 1);
    CHECK(request.version_minor == 1);
    CHECK(request.keep_alive);
    REQUIRE(request.headers.size() == 1);
    CHECK(request.headers[0].first == "Host");
    CHECK(request.headers[0].second == "localhost");
    CHECK(request.body.empty());
}

TEST_CASE("http parser: error_reason is empty unless the input was rejected", "[http]") {
    http_request_parser parser;
    std::size_t consumed = 0;
    REQUIRE(parser.feed("GET / HTTP/1.1\r\n\r\n", consumed) == parse_status::request_ready);
    CHECK(parser.error_reason().empty());
}

TEST_CASE("http parser: path and query of unusual targets", "[http]") {
    CHECK(parse_one("GET / HTTP/1.1\r\n\r\n").path() == "/");
    CHECK(parse_one("GET / HTTP/1.1\r\n\r\n").query.empty());
    CHECK(parse_one("GET /a? HTTP/1.1\r\n\r\n").path() == "/a");
    CHECK(parse_one("GET /a?x=1#frag HTTP/1.1\r\n\r\n").query == "x=1");
    CHECK(parse_one("GET http://example.com/a/b?x=1 HTTP/1.1\r\n\r\n").path() == "/a/b");
    CHECK(parse_one("GET http://example.com HTTP/1.1\r\n\r\n").path() == "/");
    CHECK(parse_one("DELETE /tasks/3 HTTP/1.1\r\n\r\n").method == "DELETE");
}

TEST_CASE("http parser: query_param", "[http]") {
    const std::string_view query = "a=1&empty=&bare&a=2&long_name=x%20y";
    CHECK(query_param(query, "a") == std::optional<std::string_view>{"1"});
    CHECK(query_param(query, "empty") == std::optional<std::string_view>{""});
    CHECK(query_param(query, "bare") == std::optional<std::string_view>{""});
    CHECK(query_param(query, "long_name") == std::optional<std::string_view>{"x%20y"});
    CHECK_FALSE(query_param(query, "missing").has_value());
    CHECK_FALSE(query_param(query, "long").has_value()); // a prefix is not a match
    CHECK_FALSE(query_param(query, "1").has_value());    // nor is a value
    CHECK_FALSE(query_param("", "a").has_value());
    CHECK(query_param("x=1&&y=2", "y") == std::optional<std::string_view>{"2"});
}

TEST_CASE("http parser: headers keep their order and lose surrounding whitespace", "[http]") {
    const auto request = parse_one("GET / HTTP/1.1\r\n"
                                   "Host: example.com\r\n"
                                   "X-Padded:   value with spaces \t \r\n"
                                   "X-Empty:\r\n"
                                   "Accept: */*\r\n"
                                   "\r\n");
    REQUIRE(request.headers.size() == 4);
    CHECK(request.headers[0] == std::pair<std::string, std::string>{"Host", "example.com"});
    CHECK(request.headers[1] ==
          std::pair<std::string, std::string>{"X-Padded", "value with spaces"});
    CHECK(request.headers[2] == std::pair<std::string, std::string>{"X-Empty", ""});
    CHECK(request.headers[3] == std::pair<std::string, std::string>{"Accept", "*/*"});
    CHECK(request.header("host") == std::optional<std::string_view>{"example.com"});
    CHECK(request.header("ACCEPT") == std::optional<std::string_view>{"*/*"});
    CHECK_FALSE(request.header("Cookie").has_value());
}

TEST_CASE("http parser: POST with a Content-Length body", "[http]") {
    const auto request = parse_one("POST /tasks HTTP/1.1\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Content-Length: 13\r\n"
                                   "\r\n"
                                   "{\"name\":\"a\"}\n");
    CHECK(request.method == "POST");
    CHECK(request.body == "{\"name\":\"a\"}\n");
    CHECK(request.header("content-length") == std::optional<std::string_view>{"13"});
}

TEST_CASE("http parser: chunked body, trailers not kept as headers", "[http]") {
    const auto request = parse_one("POST /upload HTTP/1.1\r\n"
                                   "Transfer-Encoding: chunked\r\n"
                                   "\r\n"
                                   "4\r\nWiki\r\n"
                                   "5;ext=1\r\npedia\r\n"
                                   "0\r\n"
                                   "X-Trailer: t\r\n"
                                   "\r\n");
    CHECK(request.body == "Wikipedia");
    REQUIRE(request.headers.size() == 1);
    CHECK(request.headers[0].first == "Transfer-Encoding");
    CHECK_FALSE(request.header("X-Trailer").has_value());
}

TEST_CASE("http parser: keep-alive follows version and Connection", "[http]") {
    CHECK(parse_one("GET / HTTP/1.1\r\n\r\n").keep_alive);
    CHECK_FALSE(parse_one("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
    CHECK_FALSE(parse_one("GET / HTTP/1.0\r\n\r\n").keep_alive);
    CHECK(parse_one("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    const auto old = parse_one("GET / HTTP/1.0\r\n\r\n");
    CHECK(old.version_major == 1);
    CHECK(old.version_minor == 0);
}

TEST_CASE("http parser: pipelined requests come out in order", "[http]") {
    const std::string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string second = "POST /two HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    const std::string third = "GET /three HTTP/1.1\r\nConnection: close\r\n\r\n";
    const std::string buffer = first + second + third;

    http_request_parser parser;
    std::string_view rest = buffer;
    std::size_t consumed = 0;

    REQUIRE(parser.feed(rest, consumed) == parse_status::request_ready);
    CHECK(consumed == first.size());
    auto request = parser.take_request();
    CHECK(request.target == "/one");
    CHECK(request.keep_alive);
    rest.remove_prefix(consumed);

    REQUIRE(parser.feed(rest, consumed) == parse_status::request_ready);
    CHECK(consumed == second.size());
    request = parser.take_request();
    CHECK(request.target == "/two");
    CHECK(request.body == "hello");
    CHECK(request.headers.size() == 1); // nothing left over from the first request
    rest.remove_prefix(consumed);

    REQUIRE(parser.feed(rest, consumed) == parse_status::request_ready);
    CHECK(consumed == third.size());
    request = parser.take_request();
    CHECK(request.target == "/three");
    CHECK_FALSE(request.keep_alive);
    rest.remove_prefix(consumed);

    CHECK(parser.feed(rest, consumed) == parse_status::need_more);
    CHECK(consumed == 0);
}

TEST_CASE("http parser: a request not taken yet is reported again", "[http]") {
    const std::string buffer = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
    http_request_parser parser;
    std::size_t consumed = 0;
    REQUIRE(parser.feed(buffer, consumed) == parse_status::request_ready);
    const std::string_view rest = std::string_view{buffer}.substr(consumed);
    CHECK(parser.feed(rest, consumed) == parse_status::request_ready);
    CHECK(consumed == 0);
    CHECK(parser.take_request().target == "/a");
    REQUIRE(parser.feed(rest, consumed) == parse_status::request_ready);
    CHECK(parser.take_request().target == "/b");
}

TEST_CASE("http parser: a request split byte by byte", "[http]") {
    const std::string first = "POST /split?k=v HTTP/1.1\r\n"
                              "Host: example.com\r\n"
                              "Content-Length: 11\r\n"
                              "\r\n"
                              "hello world";
    const std::string second = "GET /next HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\r\n0\r\n\r\n";
    const std::string buffer = first + second;

    http_request_parser parser;
    std::vector<http_request> requests;
    std::vector<std::size_t> ready_at;
    for (std::size_t i = 0; i < buffer.size(); ++i) {
        std::size_t consumed = 0;
        const parse_status status = parser.feed(std::string_view{buffer}.substr(i, 1), consumed);
        CHECK(consumed == 1);
        if (status == parse_status::request_ready) {
            ready_at.push_back(i + 1);
            requests.push_back(parser.take_request());
        } else {
            REQUIRE(status == parse_status::need_more);
        }
    }
    CHECK(ready_at == std::vector<std::size_t>{first.size(), buffer.size()});
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].target == "/split?k=v");
    CHECK(requests[0].query == "k=v");
    CHECK(requests[0].header("Host") == std::optional<std::string_view>{"example.com"});
    CHECK(requests[0].body == "hello world");
    CHECK(requests[1].target == "/next");
    CHECK(requests[1].body == "abc");
}

TEST_CASE("http parser: an Upgrade request is answered as plain HTTP", "[http]") {
    // llhttp reports HPE_PAUSED_UPGRADE after such a request; the parser carries on.
    http_request_parser parser;
    const auto requests = parse_all(parser, "GET /a HTTP/1.1\r\nConnection: Upgrade\r\n"
                                            "Upgrade: h2c\r\n\r\n"
                                            "GET /b HTTP/1.1\r\n\r\n");
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].target == "/a");
    CHECK(requests[0].keep_alive);
    CHECK(requests[1].target == "/b");

    CHECK_FALSE(parse_one("CONNECT example.com:443 HTTP/1.1\r\n\r\n").keep_alive);
}

TEST_CASE("http parser: bytes after Connection: close are discarded", "[http]") {
    http_request_parser parser;
    const auto requests =
        parse_all(parser, "GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    REQUIRE(requests.size() == 1);
    CHECK_FALSE(requests[0].keep_alive);
}

TEST_CASE("http parser: malformed requests are bad requests", "[http]") {
    const char* inputs[] = {
        "GET /a b HTTP/1.1\r\n\r\n",               // space in the target
        "GET / HTTX/1.1\r\n\r\n",                  // not HTTP
        "BREW / HTTP/1.1\r\n\r\n",                 // unknown method
        "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", // llhttp 8.1 alone accepts it
        "GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n",
        "GET / HTTP/1.1\rHost: x\r\n\r\n", // bare CR
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    for (const char* input : inputs) {
        INFO(input);
        http_request_parser parser;
        std::size_t consumed = 0;
        CHECK(parser.feed(input, consumed) == parse_status::bad_request);
        CHECK_FALSE(parser.error_reason().empty());
        // Sticky: the connection is done.
        CHECK(parser.feed("GET / HTTP/1.1\r\n\r\n", consumed) == parse_status::bad_request);
        CHECK(consumed == 0);
    }
    CHECK(response_status_for(parse_status::bad_request) == 400);
}

TEST_CASE("http parser: oversized headers are refused", "[http]") {
    const std::string big_header =
        "GET / HTTP/1.1\r\nX-Big: " + std::string(9 * 1024, 'a') + "\r\n\r\n";
    SECTION("in one piece") {
        http_request_parser parser;
        std::size_t consumed = 0;
        CHECK(parser.feed(big_header, consumed) == parse_status::header_too_large);
        CHECK(parser.error_reason() == "request line and headers too large");
    }
    SECTION("in small pieces, the limit counts across feeds") {
        http_request_parser parser;
        parse_status status = parse_status::need_more;
        for (std::size_t i = 0; i < big_header.size() && status == parse_status::need_more;
             i += 100) {
            std::size_t consumed = 0;
            status = parser.feed(std::string_view{big_header}.substr(i, 100), consumed);
        }
        CHECK(status == parse_status::header_too_large);
    }
    SECTION("a long target counts too") {
        http_request_parser parser;
        std::size_t consumed = 0;
        const std::string long_target = "GET /" + std::string(9000, 'x') + " HTTP/1.1\r\n\r\n";
        CHECK(parser.feed(long_target, consumed) == parse_status::header_too_large);
    }
    SECTION("just under the limit is fine") {
        // Counted: target "/" (1) + "X-Big" (5) + value.
        const std::string fits =
            "GET / HTTP/1.1\r\nX-Big: " + std::string(8192 - 6, 'a') + "\r\n\r\n";
        CHECK(parse_one(fits).headers.at(0).second.size() == 8192 - 6);
        const std::string one_more =
            "GET / HTTP/1.1\r\nX-Big: " + std::string(8192 - 5, 'a') + "\r\n\r\n";
        http_request_parser parser;
        std::size_t consumed = 0;
        CHECK(parser.feed(one_more, consumed) == parse_status::header_too_large);
    }
    CHECK(response_status_for(parse_status::header_too_large) == 431);
}

TEST_CASE("http parser: too many headers are refused", "[http]") {
    auto with_headers = [](int count) {
        std::string request = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < count; ++i) {
            request += "X-H" + std::to_string(i) + ": v\r\n";
        }
        return request + "\r\n";
    };
    CHECK(parse_one(with_headers(64)).headers.size() == 64);

    http_request_parser parser;
    std::size_t consumed = 0;
    CHECK(parser.feed(with_headers(65), consumed) == parse_status::header_too_large);
    CHECK(parser.error_reason() == "too many header fields");
}

TEST_CASE("http parser: oversized bodies are refused", "[http]") {
    SECTION("an announced 2 MiB body, before any of it arrives") {
        http_request_parser parser;
        std::size_t consumed = 0;
        const std::string head = "POST /upload HTTP/1.1\r\nContent-Length: 2097152\r\n\r\n";
        CHECK(parser.feed(head, consumed) == parse_status::body_too_large);
        CHECK(parser.error_reason() == "request body too large");
    }
    SECTION("exactly the limit is fine") {
        const auto request = parse_one("POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678",
                                       http_limits{.max_body_bytes = 8});
        CHECK(request.body == "12345678");
    }
    SECTION("a chunked body that grows past the limit") {
        http_request_parser parser{http_limits{.max_body_bytes = 8}};
        std::size_t consumed = 0;
        const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        CHECK(parser.feed(head, consumed) == parse_status::need_more);
        CHECK(parser.feed("5\r\nabcde\r\n", consumed) == parse_status::need_more);
        CHECK(parser.feed("4\r\nfghi\r\n0\r\n\r\n", consumed) == parse_status::body_too_large);
    }
    CHECK(response_status_for(parse_status::body_too_large) == 413);
}

TEST_CASE("http parser: random bytes never crash it", "[http]") {
    std::mt19937 rng{20240601};
    std::uniform_int_distribution<int> byte{0, 255};
    std::uniform_int_distribution<std::size_t> length{0, 600};
    for (int round = 0; round < 10'000; ++round) {
        std::string input(length(rng), '\0');
        for (char& c : input) {
            c = static_cast<char>(byte(rng));
        }
        http_request_parser parser;
        std::string_view rest = input;
        parse_status status = parse_status::need_more;
        // Random split points exercise the partial-span paths.
        while (!rest.empty() && status == parse_status::need_more) {
            const std::size_t piece = std::min(rest.size(), length(rng) / 8 + 1);
            std::size_t consumed = 0;
            status = parser.feed(rest.substr(0, piece), consumed);
            REQUIRE(consumed <= piece);
            rest.remove_prefix(consumed);
        }
        INFO("round " << round);
        CHECK(status != parse_status::request_ready);
    }
}

TEST_CASE("http parser: mutated requests never crash it", "[http]") {
    const std::string valid = "POST /tasks?id=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
                              "abcGET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "2\r\nxy\r\n0\r\n\r\n";
    std::mt19937 rng{7};
    std::uniform_int_distribution<std::size_t> position{0, valid.size() - 1};
    std::uniform_int_distribution<int> byte{0, 255};
    for (int round = 0; round < 10'000; ++round) {
        std::string input = valid;
        for (int i = 0; i < 3; ++i) {
            input[position(rng)] = static_cast<char>(byte(rng));
        }
        http_request_parser parser{http_limits{.max_header_bytes = 64, .max_body_bytes = 4}};
        std::string_view rest = input;
        int ready = 0;
        for (;;) {
            std::size_t consumed = 0;
            const parse_status status = parser.feed(rest, consumed);
            REQUIRE(consumed <= rest.size());
            rest.remove_prefix(consumed);
            if (status != parse_status::request_ready) {
                break;
            }
            REQUIRE(consumed > 0);
            REQUIRE(++ready <= 2);
            (void)parser.take_request();
        }
    }
}

TEST_CASE("http response: format_response writes exact bytes", "[http]") {
    CHECK(format_response(200, "text/plain", "hello", true) == "HTTP/1.1 200 OK\r\n"
                                                               "Content-Type: text/plain\r\n"
                                                               "Content-Length: 5\r\n"
                                                               "Connection: keep-alive\r\n"
                                                               "\r\n"
                                                               "hello");
    CHECK(format_response(404, "application/json", "", false) ==
          "HTTP/1.1 404 Not Found\r\n"
          "Content-Type: application/json\r\n"
          "Content-Length: 0\r\n"
          "Connection: close\r\n"
          "\r\n");
    CHECK(format_response(299, "text/plain", "x", false).starts_with("HTTP/1.1 299 \r\n"));
}

TEST_CASE("http response: reason phrases", "[http]") {
    CHECK(reason_phrase(200) == "OK");
    CHECK(reason_phrase(400) == "Bad Request");
    CHECK(reason_phrase(404) == "Not Found");
    CHECK(reason_phrase(405) == "Method Not Allowed");
    CHECK(reason_phrase(408) == "Request Timeout");
    CHECK(reason_phrase(413) == "Content Too Large");
    CHECK(reason_phrase(431) == "Request Header Fields Too Large");
    CHECK(reason_phrase(500) == "Internal Server Error");
    CHECK(reason_phrase(503) == "Service Unavailable");
    CHECK(reason_phrase(299).empty());
}

TEST_CASE("http response parser: a keep-alive response with a body", "[http]") {
    const std::string response = format_response(200, "text/plain", "hello world", true);
    http_response_parser parser;
    std::size_t consumed = 0;
    REQUIRE(parser.feed(response, consumed) == response_status::response_ready);
    CHECK(consumed == response.size());
    const http_response_head head = parser.take_response();
    CHECK(head.status == 200);
    CHECK(head.body_bytes == 11);
    CHECK(head.keep_alive);
    CHECK(parser.feed("", consumed) == response_status::need_more);
}

TEST_CASE("http response parser: two pipelined responses", "[http]") {
    const std::string first = format_response(200, "text/plain", "abc", true);
    const std::string second = "HTTP/1.1 100 Continue\r\n\r\n" // interim: skipped
                               "HTTP/1.1 503 Service Unavailable\r\n"
                               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                               "4\r\nbusy\r\n0\r\n\r\n";
    const std::string buffer = first + second;
    http_response_parser parser;
    std::string_view rest = buffer;
    std::size_t consumed = 0;

    REQUIRE(parser.feed(rest, consumed) == response_status::response_ready);
    CHECK(consumed == first.size());
    http_response_head head = parser.take_response();
    CHECK(head.status == 200);
    CHECK(head.body_bytes == 3);
    CHECK(head.keep_alive);
    rest.remove_prefix(consumed);

    REQUIRE(parser.feed(rest, consumed) == response_status::response_ready);
    CHECK(consumed == second.size());
    head = parser.take_response();
    CHECK(head.status == 503);
    CHECK(head.body_bytes == 4);
    CHECK_FALSE(head.keep_alive);
}

TEST_CASE("http response parser: a body that ends with the connection", "[http]") {
    http_response_parser parser;
    std::size_t consumed = 0;
    CHECK(parser.feed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstream", consumed) ==
          response_status::need_more);
    REQUIRE(parser.finish() == response_status::response_ready);
    const http_response_head head = parser.take_response();
    CHECK(head.status == 200);
    CHECK(head.body_bytes == 6);
    CHECK_FALSE(head.keep_alive);
}

TEST_CASE("http response parser: malformed or truncated responses", "[http]") {
    {
        http_response_parser parser;
        std::size_t consumed = 0;
        CHECK(parser.feed("HTTP/1.1 abc OK\r\n\r\n", consumed) == response_status::bad_response);
        CHECK_FALSE(parser.error_reason().empty());
        CHECK(parser.feed("HTTP/1.1 200 OK\r\n\r\n", consumed) == response_status::bad_response);
    }
    {
        http_response_parser parser;
        std::size_t consumed = 0;
        CHECK(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", consumed) ==
              response_status::need_more);
        CHECK(parser.finish() == response_status::bad_response);
    }
}
