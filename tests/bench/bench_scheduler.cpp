// Scheduler benchmarks after tokio's (benches/rt_multi_threaded.rs), on 2 workers, with
// tracing off and on, next to oneTBB task_group and Boost.Asio thread_pool. Prints one
// line per figure: `bench <suite>/<case> <value> <unit>`, and `ratio <case> <ours>/<peer>
// <value>` for the peers. Each figure is the median of `runs` repetitions.

#include "bench_support.hpp"
#include "taskscope/taskscope.hpp"
#include "taskscope/trace/trace_buffer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#if TASKSCOPE_BENCH_TBB
#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#endif
#if TASKSCOPE_BENCH_ASIO
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#endif

namespace {

using namespace taskscope;
using clock_type = std::chrono::steady_clock;

constexpr int spawn_count = 10'000;
constexpr int yield_tasks = 200;
constexpr int yields_per_task = 1'000;
constexpr int ping_pong_rounds = 1'000;
constexpr int chain_length = 1'000;

int g_runs = 25;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Median over g_runs of `per_op(run())`, where run returns elapsed ns for `ops` operations.
double measure(const std::function<double()>& run, int ops) {
    run(); // warm-up: threads started, allocator primed
    std::vector<double> samples;
    for (int i = 0; i < g_runs; ++i) {
        samples.push_back(run() / ops);
    }
    return median(samples);
}

void print(const std::string& name, double value, const char* unit) {
    std::printf("bench %s %.1f %s\n", name.c_str(), value, unit);
    std::fflush(stdout);
}

void print_ratio(const std::string& name, const std::string& peer, double ours, double theirs) {
    std::printf("ratio %s ours/%s %.2f\n", name.c_str(), peer.c_str(), ours / theirs);
}

double elapsed_ns(clock_type::time_point since) {
    return std::chrono::duration<double, std::nano>(clock_type::now() - since).count();
}

/// Completes when `remaining` reaches zero; the last finisher wakes the awaiting task.
struct countdown {
    std::atomic<int> remaining;
    std::atomic<bool> done{false};
    waker waiter;
    std::atomic<bool> has_waiter{false};

    explicit countdown(int n) : remaining(n) {}
    void arrive() {
        if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            done.store(true, std::memory_order_release);
            if (has_waiter.exchange(false, std::memory_order_acq_rel)) {
                waiter.wake();
            }
        }
    }
    struct wait_future {
        countdown* c;
        poll_result<void> poll(context& cx) {
            if (c->done.load(std::memory_order_acquire)) {
                return ready();
            }
            c->waiter = cx.waker();
            c->has_waiter.store(true, std::memory_order_release);
            if (c->done.load(std::memory_order_acquire) &&
                c->has_waiter.exchange(false, std::memory_order_acq_rel)) {
                return ready();
            }
            return pending;
        }
    };
    wait_future wait() { return {this}; }
};

/// A single-value channel between two tasks.
template <class T>
class oneshot {
public:
    void send(T v) {
        m_value = std::move(v);
        m_full.store(true, std::memory_order_release);
        if (m_has_waiter.exchange(false, std::memory_order_acq_rel)) {
            m_waiter.wake(trace::wake_source::channel);
        }
    }
    struct recv_future {
        oneshot* ch;
        poll_result<T> poll(context& cx) {
            if (ch->m_full.load(std::memory_order_acquire)) {
                return std::move(ch->m_value);
            }
            ch->m_waiter = cx.waker();
            ch->m_has_waiter.store(true, std::memory_order_release);
            if (ch->m_full.load(std::memory_order_acquire) &&
                ch->m_has_waiter.exchange(false, std::memory_order_acq_rel)) {
                return std::move(ch->m_value);
            }
            return pending;
        }
    };
    recv_future recv() { return {this}; }

private:
    T m_value{};
    std::atomic<bool> m_full{false};
    std::atomic<bool> m_has_waiter{false};
    waker m_waiter;
};

// ---- taskscope workloads ----

task<void> arrive(countdown& c) {
    c.arrive();
    co_return;
}

task<void> spawn_many_inside() {
    countdown c(spawn_count);
    for (int i = 0; i < spawn_count; ++i) {
        spawn(arrive(c)).detach();
    }
    co_await c.wait();
}

task<void> yielder(countdown& c) {
    for (int i = 0; i < yields_per_task; ++i) {
        co_await yield_now();
    }
    c.arrive();
}

task<void> yield_many() {
    countdown c(yield_tasks);
    for (int i = 0; i < yield_tasks; ++i) {
        spawn(yielder(c)).detach();
    }
    co_await c.wait();
}

task<void> pong(std::shared_ptr<oneshot<int>> in, std::shared_ptr<oneshot<int>> out) {
    const int v = co_await in->recv();
    out->send(v + 1);
}

task<void> ping_pong() {
    for (int i = 0; i < ping_pong_rounds; ++i) {
        auto to_pong = std::make_shared<oneshot<int>>();
        auto to_ping = std::make_shared<oneshot<int>>();
        spawn(pong(to_pong, to_ping)).detach();
        to_pong->send(i);
        co_await to_ping->recv();
    }
}

task<void> chain_link(int left, countdown& c) {
    if (left == 0) {
        c.arrive();
    } else {
        spawn(chain_link(left - 1, c)).detach();
    }
    co_return;
}

task<void> chained_spawn() {
    countdown c(1);
    spawn(chain_link(chain_length, c)).detach();
    co_await c.wait();
}

struct figures {
    double spawn_many = 0, spawn_many_remote = 0, yield_many = 0, ping_pong = 0, chained = 0;
};

/// One sample of each workload on `rt`: elapsed ns for the whole run.
double run_spawn_many(runtime& rt) {
    const auto t0 = clock_type::now();
    rt.block_on(spawn_many_inside());
    return elapsed_ns(t0);
}
double run_spawn_many_remote(runtime& rt) {
    const auto t0 = clock_type::now();
    countdown c(spawn_count);
    for (int i = 0; i < spawn_count; ++i) {
        rt.spawn(arrive(c)).detach();
    }
    while (!c.done.load(std::memory_order_acquire)) {
        std::this_thread::yield();
    }
    return elapsed_ns(t0);
}
double run_yield_many(runtime& rt) {
    const auto t0 = clock_type::now();
    rt.block_on(yield_many());
    return elapsed_ns(t0);
}
double run_ping_pong(runtime& rt) {
    const auto t0 = clock_type::now();
    rt.block_on(ping_pong());
    return elapsed_ns(t0);
}
double run_chained(runtime& rt) {
    const auto t0 = clock_type::now();
    rt.block_on(chained_spawn());
    return elapsed_ns(t0);
}

/// Runs every workload on two runtimes, tracing off and on, alternating sample by sample
/// so both see the same machine conditions; the overhead compares their medians.
std::pair<figures, figures> run_taskscope() {
    trace::trace_options off_options;
    off_options.enabled = false;
    trace::trace_options on_options; // the defaults: on, 64 Ki events (2 MiB) per thread
    runtime off({.workers = 2, .trace = off_options});
    runtime on({.workers = 2, .trace = on_options});
    on.trace().add_sink(std::make_shared<bench::counting_sink>());
    figures f_off, f_on;

    const auto compare = [&](const char* name, double (*run)(runtime&), int ops, const char* unit,
                             double& out_off, double& out_on) {
        run(off);
        run(on);
        on.trace().flush();
        const std::uint64_t dropped_before = on.trace().dropped();
        std::vector<double> s_off, s_on;
        for (int i = 0; i < g_runs; ++i) {
            s_off.push_back(run(off) / ops);
            s_on.push_back(run(on) / ops);
        }
        on.trace().flush();
        out_off = median(s_off);
        out_on = median(s_on);
        print(std::string("scheduler/") + name + "_trace_off", out_off, unit);
        print(std::string("scheduler/") + name + "_trace_on", out_on, unit);
        // Drops make a traced run look cheaper than it is, so each case says how many.
        std::printf("bench scheduler/%s_dropped %llu events\n", name,
                    static_cast<unsigned long long>(on.trace().dropped() - dropped_before));
        std::printf("bench overhead/%s %.1f %%\n", name, 100.0 * (out_on - out_off) / out_off);
        std::fflush(stdout);
    };
    compare("spawn_many", run_spawn_many, spawn_count, "ns/task", f_off.spawn_many,
            f_on.spawn_many);
    compare("spawn_many_remote", run_spawn_many_remote, spawn_count, "ns/task",
            f_off.spawn_many_remote, f_on.spawn_many_remote);
    compare("yield_many", run_yield_many, yield_tasks * yields_per_task, "ns/yield",
            f_off.yield_many, f_on.yield_many);
    compare("ping_pong", run_ping_pong, ping_pong_rounds, "ns/round", f_off.ping_pong,
            f_on.ping_pong);
    compare("chained_spawn", run_chained, chain_length, "ns/task", f_off.chained, f_on.chained);
    return {f_off, f_on};
}

// ---- peers ----

#if TASKSCOPE_BENCH_TBB
struct tbb_figures {
    double spawn_many = 0, chained = 0;
};

void tbb_chain(tbb::task_group& g, int left, std::atomic<bool>& done) {
    if (left == 0) {
        done.store(true, std::memory_order_release);
        return;
    }
    g.run([&g, left, &done] { tbb_chain(g, left - 1, done); });
}

tbb_figures run_tbb() {
    tbb::task_arena arena(2);
    tbb_figures f;
    f.spawn_many = measure(
        [&] {
            double ns = 0;
            arena.execute([&] {
                const auto t0 = clock_type::now();
                tbb::task_group outer;
                outer.run([] {
                    tbb::task_group g;
                    std::atomic<int> counter{0};
                    for (int i = 0; i < spawn_count; ++i) {
                        g.run([&counter] { counter.fetch_add(1, std::memory_order_relaxed); });
                    }
                    g.wait();
                });
                outer.wait();
                ns = elapsed_ns(t0);
            });
            return ns;
        },
        spawn_count);
    print("peer/tbb/spawn_many", f.spawn_many, "ns/task");
    f.chained = measure(
        [&] {
            double ns = 0;
            arena.execute([&] {
                const auto t0 = clock_type::now();
                tbb::task_group g;
                std::atomic<bool> done{false};
                g.run([&] { tbb_chain(g, chain_length, done); });
                g.wait();
                ns = elapsed_ns(t0);
            });
            return ns;
        },
        chain_length);
    print("peer/tbb/chained_spawn", f.chained, "ns/task");
    return f;
}
#endif

#if TASKSCOPE_BENCH_ASIO
struct asio_figures {
    double spawn_many = 0, chained = 0;
};

void asio_chain(boost::asio::thread_pool& pool, int left, std::atomic<bool>& done) {
    if (left == 0) {
        done.store(true, std::memory_order_release);
        return;
    }
    boost::asio::post(pool, [&pool, left, &done] { asio_chain(pool, left - 1, done); });
}

asio_figures run_asio() {
    boost::asio::thread_pool pool(2);
    asio_figures f;
    f.spawn_many = measure(
        [&] {
            std::atomic<int> remaining{spawn_count};
            std::atomic<bool> done{false};
            const auto t0 = clock_type::now();
            boost::asio::post(pool, [&] {
                for (int i = 0; i < spawn_count; ++i) {
                    boost::asio::post(pool, [&] {
                        if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                            done.store(true, std::memory_order_release);
                        }
                    });
                }
            });
            while (!done.load(std::memory_order_acquire)) {
                std::this_thread::yield();
            }
            return elapsed_ns(t0);
        },
        spawn_count);
    print("peer/asio/spawn_many", f.spawn_many, "ns/task");
    f.chained = measure(
        [&] {
            std::atomic<bool> done{false};
            const auto t0 = clock_type::now();
            asio_chain(pool, chain_length, done);
            while (!done.load(std::memory_order_acquire)) {
                std::this_thread::yield();
            }
            return elapsed_ns(t0);
        },
        chain_length);
    print("peer/asio/chained_spawn", f.chained, "ns/task");
    pool.join();
    return f;
}
#endif

// ---- recording cost ----

void run_recording_cost() {
    constexpr int n = 1 << 20;
    volatile std::uint64_t sink = 0;
    const double clock_read = measure(
        [&] {
            const auto t0 = clock_type::now();
            for (int i = 0; i < n; ++i) {
                sink = sink + trace::now_ticks();
            }
            return elapsed_ns(t0);
        },
        n);
    print("trace/clock_read", clock_read, "ns");
    const double steady_read = measure(
        [&] {
            const auto t0 = clock_type::now();
            for (int i = 0; i < n; ++i) {
                sink =
                    sink + static_cast<std::uint64_t>(clock_type::now().time_since_epoch().count());
            }
            return elapsed_ns(t0);
        },
        n);
    print("trace/steady_clock_read", steady_read, "ns");
    trace::detail::trace_buffer buffer(n, 0);
    const double record = measure(
        [&] {
            const auto t0 = clock_type::now();
            for (int i = 0; i < n; ++i) {
                buffer.record(trace::event_kind::poll_begin, static_cast<std::uint64_t>(i), 0, 3);
            }
            const double ns = elapsed_ns(t0);
            buffer.drain([](const trace::event&) {});
            return ns;
        },
        n);
    print("trace/record_event", record, "ns");
    std::printf("ratio record_event ours/clock_read %.2f\n", record / clock_read);
    std::printf("clock: %s\n", trace::calibration().uses_tsc ? "invariant TSC" : "steady_clock");
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        g_runs = std::max(3, std::atoi(argv[1]));
    }
    std::printf("# taskscope scheduler benchmark: 2 workers, median of %d runs\n", g_runs);
    run_recording_cost();
    const auto [off, on] = run_taskscope();
    (void)on;
#if TASKSCOPE_BENCH_TBB
    const tbb_figures tbb = run_tbb();
    print_ratio("spawn_many", "tbb", off.spawn_many, tbb.spawn_many);
    print_ratio("chained_spawn", "tbb", off.chained, tbb.chained);
#endif
#if TASKSCOPE_BENCH_ASIO
    const asio_figures asio = run_asio();
    print_ratio("spawn_many", "asio", off.spawn_many, asio.spawn_many);
    print_ratio("chained_spawn", "asio", off.chained, asio.chained);
#endif
    return 0;
}
