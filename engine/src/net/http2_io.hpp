#pragma once
// What the HTTP/2 server and client share (private to the net part): writing what an
// nghttp2 session wants sent.

#include "taskscope/net/tcp.hpp"
#include "taskscope/task.hpp"

#include <chrono>
#include <nghttp2/nghttp2.h>

namespace taskscope::net::detail {

/// Writes everything `session` wants sent, in writes of up to 64 KiB, each within
/// `timeout` (a peer that never reads). False when nghttp2 or the socket failed.
task<bool> send_pending(nghttp2_session* session, tcp_stream& stream,
                        std::chrono::milliseconds timeout);

} // namespace taskscope::net::detail
