// Three accept loops on two workers. A first client asks for a slow /sleep (an async
// sleep), then four more ask for /cpu (a computation each) at once.
// inline: the loop awaits each connection before accepting the next, so the others wait
// for the sleeper, then for each other. concurrent: every connection is a task on the
// accepting worker: the others do not wait for the sleeper, but share one worker. spawn: a
// task per connection, which the idle worker steals: the computations spread over both.

#include "stage.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/worker_tracks.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto slow = 2000ms;
constexpr auto compute = 200ms;
constexpr std::size_t others = 4;
constexpr auto head_start = 100ms;

/// Which workers began serving /cpu requests: read from the lesson's own trace.
class cpu_workers final : public lesson_probe {
public:
    std::size_t take_workers_used() {
        const auto guard = lock();
        const std::size_t n = m_workers.size();
        m_workers.clear();
        return n;
    }

private:
    void on_event(const trace::event& e, std::optional<std::uint32_t> worker) override {
        if (worker && e.kind == trace::event_kind::request_begin &&
            trace::request_begin_view::from(e).side == trace::request_side::server &&
            e.arg2 == m_route) {
            m_workers.insert(*worker);
        }
    }

    trace::name_id m_route = trace::intern("/cpu");
    std::set<std::uint32_t> m_workers;
};

} // namespace

void accept_loop(lesson_context& cx) {
    runtime& rt = cx.start_runtime({.workers = 2});
    auto workers = std::make_shared<cpu_workers>();
    rt.trace().add_sink(workers);
    const std::string sleep_target = "/sleep?ms=" + std::to_string(cx.scaled_ms(slow));
    const std::string cpu_target = "/cpu?ms=" + std::to_string(cx.scaled_ms(compute));

    std::optional<http_stage> stage;
    for (const net::accept_mode mode :
         {net::accept_mode::inline_each, net::accept_mode::concurrent, net::accept_mode::spawn}) {
        const net::http_server_options options{
            .port = 0, .sleep = net::sleep_mode::async, .accept = mode};
        if (stage) {
            stage->restart(options);
        } else {
            stage.emplace(cx, options);
        }
        rt.trace().flush();
        workers->take_workers_used(); // only this phase's connections count

        cx.begin_phase(net::to_string(mode));
        auto first = stage->fire(sleep_target, 1, 1);
        std::this_thread::sleep_for(cx.scaled(head_start));
        auto rest = stage->fire(cpu_target, others, others);
        const net::load_report rest_report = stage->wait(rest);
        const net::load_report first_report = stage->wait(first);
        rt.trace().flush();
        const auto latency = [](const net::load_report& r) {
            return to_ms(r.latencies_ns.empty() ? 0 : r.latencies_ns.back());
        };
        cx.end_phase({{"first_ms", latency(first_report)},
                      {"others_slowest_ms", latency(rest_report)},
                      {"cpu_workers", static_cast<double>(workers->take_workers_used())},
                      {"errors", static_cast<double>(first_report.errors + rest_report.errors)}});
        if (cx.stopping()) {
            return;
        }
    }
}

} // namespace taskscope::lessons::detail
