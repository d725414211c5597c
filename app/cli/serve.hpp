#pragma once
// `taskscope-cli serve` and `taskscope-cli load`.

#include "taskscope/net/http_server.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>

namespace taskscope::cli {

struct serve_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::size_t workers = 2;
    bool single_threaded = false;
    net::sleep_mode sleep = net::sleep_mode::async;
    net::accept_mode accept = net::accept_mode::spawn;
    reactor_backend reactor = reactor_backend::automatic;
    bool trace = true;
    std::uint32_t http2_max_streams = 100; ///< HTTP/2 streams running at once per connection
    std::filesystem::path record;          ///< also write the trace to this file, if not empty
    std::string command;                   ///< the command line, kept in a recorded file
};

/// The server's options these command-line options ask for.
[[nodiscard]] net::http_server_options server_options_of(const serve_options& options);

/// Serves until SIGINT or SIGTERM, then stops gracefully. Returns an exit code.
int run_serve(const serve_options& options, std::ostream& out, std::ostream& err);

/// After a serving command's runtime shut down: flushes `recording` (if any) into `path`,
/// closes it and says how many events it holds.
void finish_recording(runtime& rt, const std::shared_ptr<trace::file_writer>& recording,
                      const std::filesystem::path& path, std::ostream& out);

struct load_cli_options {
    std::string url;
    std::size_t requests = 100;
    std::size_t concurrency = 10;
    bool keep_alive = true;
    bool json = false;
    std::size_t timeout_ms = 30'000;
    bool http2 = false;      ///< h2c with prior knowledge
    std::size_t streams = 1; ///< HTTP/2 streams in flight per connection
};

/// Fires the load and prints count, errors and latency percentiles. Returns an exit code.
int run_load_command(const load_cli_options& options, std::ostream& out, std::ostream& err);

} // namespace taskscope::cli
