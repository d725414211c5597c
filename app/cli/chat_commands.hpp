#pragma once
// `taskscope-cli chat-serve`, `chat` and `chat-load`: the chat server, an interactive
// client for it, and its load generator.

#include "taskscope/net/chat_server.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>

namespace taskscope::cli {

struct chat_serve_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 7878;
    std::size_t workers = 2;
    std::size_t capacity = 1000;
    net::backlog_mode backlog = net::backlog_mode::ring;
    std::size_t max_line_bytes = 64 * 1024;
    std::size_t max_connections = 1024;
    int send_buffer_bytes = 32 * 1024;
    bool trace = true;
    std::filesystem::path record; ///< also write the trace to this file, if not empty
    std::string command;          ///< the command line, kept in a recorded file
};

/// Serves chat until SIGINT or SIGTERM. Returns an exit code.
int run_chat_serve(const chat_serve_options& options, std::ostream& out, std::ostream& err);

struct chat_client_options {
    std::string address;         ///< HOST:PORT
    std::size_t linger_ms = 500; ///< after standard input ends, how long to keep printing
};

/// Reads `join G`, `post G message...`, `stats` (or raw JSON lines) from standard input and
/// prints what the server sends. Returns an exit code.
int run_chat_client(const chat_client_options& options, std::ostream& out, std::ostream& err);

struct chat_load_cli_options {
    std::string address; ///< HOST:PORT
    std::string group = "load";
    std::size_t posters = 2;
    double rate = 200.0;
    std::size_t fast = 4;
    std::size_t slow = 1;
    double slow_rate = 0.0;
    double seconds = 2.0;
    std::size_t bytes = 64;
    bool json = false;
};

/// Runs the chat load and prints per reader class what it got. Returns an exit code.
int run_chat_load_command(const chat_load_cli_options& options, std::ostream& out,
                          std::ostream& err);

/// Splits HOST:PORT; false (and `error`) when it is not one.
bool parse_host_port(const std::string& address, std::string& host, std::uint16_t& port,
                     std::string& error);

} // namespace taskscope::cli
