// 1000 short tasks, all spawned by one task on one worker (in rounds of 200: a worker's
// queue holds 256, and what overflows goes to the global queue that every worker reads).
// With stealing on, the idle worker takes half of the busy one's queue at a time (steal
// arrows) and both work; with stealing off, the spawning worker runs them all while the
// other sleeps.

#include "stage.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/worker_tracks.hpp"

#include <array>
#include <map>
#include <mutex>
#include <set>
#include <vector>

namespace taskscope::lessons::detail {
namespace {

using namespace std::chrono_literals;

constexpr int rounds = 5;
constexpr int per_round = 200;
constexpr auto work = 1ms;

task<void> short_task(std::chrono::nanoseconds d) {
    spin_for(d);
    co_return;
}

task<void> spawner(std::chrono::nanoseconds d) {
    for (int round = 0; round < rounds; ++round) {
        std::vector<join_handle<void>> children;
        children.reserve(per_round);
        for (int i = 0; i < per_round; ++i) {
            children.push_back(spawn(short_task(d), "short_task"));
        }
        for (auto& c : children) {
            co_await c;
        }
    }
}

/// Steals, and polls of short tasks per worker: read from the lesson's own trace.
class steal_counter final : public lesson_probe {
public:
    struct counts {
        std::uint64_t steals = 0;
        std::array<std::uint64_t, 2> polls{};
    };
    counts take() {
        const auto guard = lock();
        counts out{m_steals, m_polls};
        m_steals = 0;
        m_polls = {};
        m_short.clear();
        return out;
    }

private:
    void on_event(const trace::event& e, std::optional<std::uint32_t> worker) override {
        if (e.kind == trace::event_kind::steal) {
            ++m_steals;
        } else if (e.kind == trace::event_kind::task_spawned && e.arg2 == m_name) {
            m_short.insert(e.task);
        } else if (e.kind == trace::event_kind::poll_begin && m_short.contains(e.task)) {
            if (worker && *worker < m_polls.size()) {
                ++m_polls[*worker];
            }
        }
    }

    trace::name_id m_name = trace::intern("short_task");
    std::set<std::uint64_t> m_short;
    std::uint64_t m_steals = 0;
    std::array<std::uint64_t, 2> m_polls{};
};

} // namespace

void work_stealing(lesson_context& cx) {
    runtime& rt = cx.start_runtime({.workers = 2, .stealing = true});
    auto counter = std::make_shared<steal_counter>();
    rt.trace().add_sink(counter);
    const auto d = cx.scaled(work);

    for (const bool stealing : {true, false}) {
        rt.set_stealing(stealing);
        rt.trace().flush();
        counter->take();
        cx.begin_phase(stealing ? "stealing-on" : "stealing-off");
        rt.block_on(spawner(d), "spawner");
        rt.trace().flush();
        const auto counts = counter->take();
        cx.end_phase({{"steals", static_cast<double>(counts.steals)},
                      {"tasks_on_worker_0", static_cast<double>(counts.polls[0])},
                      {"tasks_on_worker_1", static_cast<double>(counts.polls[1])}});
        if (cx.stopping()) {
            return;
        }
    }
}

} // namespace taskscope::lessons::detail
