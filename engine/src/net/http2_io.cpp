#include "http2_io.hpp"

#include <string>

namespace taskscope::net::detail {

task<bool> send_pending(nghttp2_session* session, tcp_stream& stream,
                        std::chrono::milliseconds timeout) {
    std::string out;
    for (;;) {
        const std::uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session, &data);
        if (n < 0) {
            co_return false;
        }
        if (n > 0) {
            out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
        if (n == 0 || out.size() >= 64 * 1024) {
            if (!out.empty()) {
                auto deadline = io_deadline::after(timeout);
                const io_result written = co_await stream.write_all(out, &deadline);
                if (!written.ok()) {
                    co_return false;
                }
                out.clear();
            }
            if (n == 0) {
                co_return true;
            }
        }
    }
}

} // namespace taskscope::net::detail
