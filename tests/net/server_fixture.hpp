#pragma once
// What the HTTP server tests share: waiting from the test thread, and a server serving on
// a runtime of its own with its trace recorded.

#include "taskscope/net/http_server.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/trace/trace_hub.hpp"

#include <chrono>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace taskscope::net_tests {

/// Polls `done` from the test thread until it holds or `limit` passes.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= give_up) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

/// An http_server serving on a runtime of its own, with the runtime's trace recorded.
class server_fixture {
public:
    server_fixture(runtime_options rt_options, net::http_server_options options)
        : m_sink(std::make_shared<trace::memory_sink>())
        , m_rt(rt_options) {
        m_rt.trace().add_sink(m_sink);
        if (!options.log) {
            options.log = [](std::string_view) {}; // the hostile tests make it talk
        }
        m_server = net::http_server::bind(m_rt, std::move(options));
        m_run = m_rt.spawn(m_server->run(), "http_server.run");
    }
    ~server_fixture() {
        try {
            stop(std::chrono::seconds(1));
        } catch (...) { // a failure run() reported was already asserted on, or is moot
        }
    }
    server_fixture(const server_fixture&) = delete;
    server_fixture& operator=(const server_fixture&) = delete;

    [[nodiscard]] net::http_server& server() { return *m_server; }
    [[nodiscard]] std::uint16_t port() const { return m_server->port(); }

    /// stop(grace), then waits up to `limit` for run() to return; false if it did not.
    /// Rethrows what run() threw.
    bool stop(std::chrono::milliseconds grace = std::chrono::seconds(5),
              std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        if (!m_run.valid()) {
            return true;
        }
        m_server->stop(grace);
        if (!eventually([&] { return m_run.is_finished(); }, limit)) {
            return false;
        }
        auto run = std::move(m_run);
        run.get();
        return true;
    }

    /// Stops server and runtime; every event the runtime recorded, ordered by time.
    std::vector<trace::event> finish() {
        stop();
        m_rt.shutdown();
        m_rt.trace().flush();
        return m_sink->events();
    }

private:
    std::shared_ptr<trace::memory_sink> m_sink;
    runtime m_rt;
    std::unique_ptr<net::http_server> m_server;
    join_handle<void> m_run;
};

} // namespace taskscope::net_tests
