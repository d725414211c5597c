// Sync primitive benchmarks, on 2 workers, with tracing off and on, next to the peers a
// C++ programmer would otherwise reach for: oneTBB's concurrent_bounded_queue between two
// threads, a std::mutex + condition_variable queue, and a bare std::mutex. Prints one line
// per figure: `bench sync/<case> <value> <unit>`, `bench overhead/sync_<case> <pct> %`, and
// `ratio sync/<case> ours/<peer> <value>`. Each figure is the median of `runs` repetitions.
//
//     build/release/tests/bench/taskscope_bench_sync [runs]

#include "bench_support.hpp"
#include "taskscope/taskscope.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if TASKSCOPE_BENCH_TBB
#include <tbb/concurrent_queue.h>
#endif

namespace {

using namespace taskscope;
using clock_type = std::chrono::steady_clock;

constexpr int messages = 200'000;
constexpr int round_trips = 20'000;
constexpr int locks = 1'000'000;
constexpr int broadcast_messages = 20'000;
constexpr int broadcast_receivers = 8;
constexpr std::size_t capacity = 1024;

int g_runs = 11;

double elapsed_ns(clock_type::time_point since) {
    return std::chrono::duration<double, std::nano>(clock_type::now() - since).count();
}

void print(const std::string& name, double value, const char* unit) {
    std::printf("bench sync/%s %.1f %s\n", name.c_str(), value, unit);
    std::fflush(stdout);
}

// ---- taskscope workloads: each returns elapsed ns ------------------------------------------

task<void> send_n(mpsc::sender<int> tx, int n) {
    for (int i = 0; i < n; ++i) {
        co_await tx.send(i);
    }
}

task<long> receive_all(mpsc::receiver<int> rx) {
    long sum = 0;
    while (std::optional<int> v = co_await rx.recv()) {
        sum += *v;
    }
    co_return sum;
}

double run_channel(runtime& rt, int senders) {
    auto root = [senders]() -> task<void> {
        auto [tx, rx] = mpsc::channel<int>(capacity, "bench channel");
        std::vector<join_handle<void>> hs;
        for (int s = 0; s < senders; ++s) {
            hs.push_back(spawn(send_n(tx, messages / senders), "sender"));
        }
        { auto drop = std::move(tx); }
        auto receiver = spawn(receive_all(std::move(rx)), "receiver");
        for (auto& h : hs) {
            co_await h;
        }
        co_await receiver;
    };
    const auto t0 = clock_type::now();
    rt.block_on(root());
    return elapsed_ns(t0);
}

double run_one_to_one(runtime& rt) {
    return run_channel(rt, 1);
}
double run_four_to_one(runtime& rt) {
    return run_channel(rt, 4);
}

double run_ping_pong(runtime& rt) {
    auto root = []() -> task<void> {
        auto [ping_tx, ping_rx] = mpsc::channel<int>(1, "ping");
        auto [pong_tx, pong_rx] = mpsc::channel<int>(1, "pong");
        auto echo = [](mpsc::receiver<int> in, mpsc::sender<int> out) -> task<void> {
            while (std::optional<int> v = co_await in.recv()) {
                co_await out.send(*v);
            }
        };
        auto echoer = spawn(echo(std::move(ping_rx), std::move(pong_tx)), "echo");
        for (int i = 0; i < round_trips; ++i) {
            co_await ping_tx.send(i);
            co_await pong_rx.recv();
        }
        { auto drop = std::move(ping_tx); }
        co_await echoer;
    };
    const auto t0 = clock_type::now();
    rt.block_on(root());
    return elapsed_ns(t0);
}

double run_uncontended_lock(runtime& rt) {
    double ns = 0;
    auto root = [&ns]() -> task<void> {
        async_mutex<long> m(0, "bench mutex");
        const auto t0 = clock_type::now();
        for (int i = 0; i < locks; ++i) {
            auto g = co_await m.lock();
            ++*g;
        }
        ns = elapsed_ns(t0);
    };
    rt.block_on(root());
    return ns;
}

double run_broadcast(runtime& rt) {
    auto root = []() -> task<void> {
        auto [tx, rx] = broadcast::channel<int>(capacity, "bench broadcast");
        auto listen = [](broadcast::receiver<int> r) -> task<void> {
            for (;;) {
                auto m = co_await r.recv();
                if (std::holds_alternative<broadcast::closed>(m)) {
                    co_return;
                }
            }
        };
        std::vector<join_handle<void>> hs;
        for (int i = 1; i < broadcast_receivers; ++i) {
            hs.push_back(spawn(listen(tx.subscribe()), "listener"));
        }
        hs.push_back(spawn(listen(std::move(rx)), "listener"));
        auto send_all = [](broadcast::sender<int> s) -> task<void> {
            for (int i = 0; i < broadcast_messages; ++i) {
                s.send(i);
                if (i % 64 == 63) {
                    co_await yield_now(); // let the receivers keep up (senders never wait)
                }
            }
        };
        co_await spawn(send_all(std::move(tx)), "broadcaster");
        for (auto& h : hs) {
            co_await h;
        }
    };
    const auto t0 = clock_type::now();
    rt.block_on(root());
    return elapsed_ns(t0);
}

// ---- peers --------------------------------------------------------------------------------

#if TASKSCOPE_BENCH_TBB
double run_tbb_queue() {
    tbb::concurrent_bounded_queue<int> q;
    q.set_capacity(static_cast<std::ptrdiff_t>(capacity));
    const auto t0 = clock_type::now();
    std::thread producer([&] {
        for (int i = 0; i < messages; ++i) {
            q.push(i);
        }
    });
    long sum = 0;
    for (int i = 0; i < messages; ++i) {
        int v = 0;
        q.pop(v);
        sum += v;
    }
    producer.join();
    return elapsed_ns(t0);
}
#endif

double run_condvar_queue() {
    std::mutex m;
    std::condition_variable not_empty;
    std::condition_variable not_full;
    std::deque<int> q;
    const auto t0 = clock_type::now();
    std::thread producer([&] {
        for (int i = 0; i < messages; ++i) {
            std::unique_lock lock(m);
            not_full.wait(lock, [&] { return q.size() < capacity; });
            q.push_back(i);
            lock.unlock();
            not_empty.notify_one();
        }
    });
    long sum = 0;
    for (int i = 0; i < messages; ++i) {
        std::unique_lock lock(m);
        not_empty.wait(lock, [&] { return !q.empty(); });
        sum += q.front();
        q.pop_front();
        lock.unlock();
        not_full.notify_one();
    }
    producer.join();
    return elapsed_ns(t0);
}

double run_std_mutex() {
    std::mutex m;
    long value = 0;
    const auto t0 = clock_type::now();
    for (int i = 0; i < locks; ++i) {
        std::lock_guard g(m);
        ++value;
    }
    const double ns = elapsed_ns(t0);
    if (value != locks) {
        std::abort();
    }
    return ns;
}

double measure_peer(const std::function<double()>& run, int ops) {
    run();
    std::vector<double> samples;
    for (int i = 0; i < g_runs; ++i) {
        samples.push_back(run() / ops);
    }
    return bench::median(samples);
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        g_runs = std::max(1, std::atoi(argv[1]));
    }
    std::printf("# taskscope sync benchmark: 2 workers, median of %d runs\n", g_runs);
    trace::trace_options off_options;
    off_options.enabled = false;
    runtime off({.workers = 2, .trace = off_options});
    // Buffers big enough that no event is dropped: a drop would make tracing look cheap.
    trace::trace_options on_options;
    on_options.buffer_events = std::size_t{1} << 22;
    runtime on({.workers = 2, .trace = on_options});
    on.trace().add_sink(std::make_shared<bench::counting_sink>());

    struct figure {
        double off = 0;
        double on = 0;
    };
    // Tracing off and on alternate sample by sample, so both see the same machine.
    const auto compare = [&](const char* name, double (*run)(runtime&), int ops, const char* unit) {
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
        const figure f{bench::median(s_off), bench::median(s_on)};
        print(std::string(name) + "_trace_off", f.off, unit);
        print(std::string(name) + "_trace_on", f.on, unit);
        std::printf("bench sync/%s_dropped %llu events\n", name,
                    static_cast<unsigned long long>(on.trace().dropped() - dropped_before));
        std::printf("bench overhead/sync_%s %.1f %%\n", name, 100.0 * (f.on - f.off) / f.off);
        std::fflush(stdout);
        return f;
    };
    const figure one = compare("mpsc_1to1", run_one_to_one, messages, "ns/msg");
    const figure four = compare("mpsc_4to1", run_four_to_one, messages, "ns/msg");
    compare("ping_pong", run_ping_pong, round_trips, "ns/round_trip");
    const figure lock = compare("mutex_uncontended", run_uncontended_lock, locks, "ns/lock");
    compare("broadcast_8", run_broadcast, broadcast_messages, "ns/msg");

    const double condvar = measure_peer(run_condvar_queue, messages);
    print("peer_condvar_queue_1to1", condvar, "ns/msg");
    const double std_mutex = measure_peer(run_std_mutex, locks);
    print("peer_std_mutex", std_mutex, "ns/lock");
    // A ratio of costs per message: below 1 means taskscope is faster.
#if TASKSCOPE_BENCH_TBB
    const double tbb = measure_peer(run_tbb_queue, messages);
    print("peer_tbb_bounded_queue_1to1", tbb, "ns/msg");
    std::printf("ratio sync/mpsc_1to1_throughput ours/tbb %.2f\n", tbb / one.off);
    std::printf("ratio sync/mpsc_1to1_throughput_traced ours/tbb %.2f\n", tbb / one.on);
#endif
    std::printf("ratio sync/mpsc_1to1_throughput ours/condvar %.2f\n", condvar / one.off);
    std::printf("ratio sync/mpsc_4to1_vs_1to1_cost %.2f\n", four.off / one.off);
    std::printf("ratio sync/mutex_uncontended ours/std_mutex %.2f\n", lock.off / std_mutex);
    std::printf("ratio sync/mutex_uncontended_traced ours/std_mutex %.2f\n", lock.on / std_mutex);
    return 0;
}
