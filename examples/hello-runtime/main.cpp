// hello-runtime: tasks on the work-stealing pool, an async sleep, a channel, and the run
// recorded to a .tstrace file that `taskscope FILE` opens.
//
//     hello-runtime [trace-file]      (default: hello-runtime.tstrace)
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <taskscope/taskscope.hpp>
#include <taskscope/trace/trace_file.hpp>

using namespace taskscope;
using namespace std::chrono_literals;

namespace {

/// Sleeps without holding its worker, then reports on the channel.
task<void> worker_task(int id, mpsc::sender<int> done) {
    co_await sleep_for(std::chrono::milliseconds(5 * id));
    co_await done.send(id * id);
}

/// Spawns ten tasks and adds up what they send.
task<int> sum_of_squares() {
    auto [tx, rx] = mpsc::channel<int>(4, "squares");
    for (int id = 1; id <= 10; ++id) {
        spawn(worker_task(id, tx), "square").detach(); // it reports on the channel
    }
    {
        // Drop ours: only the tasks' senders remain, so recv() ends once they are all done.
        [[maybe_unused]] const auto ours = std::move(tx);
    }
    int sum = 0;
    while (auto value = co_await rx.recv()) {
        sum += *value;
    }
    co_return sum;
}

} // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "hello-runtime.tstrace";
    try {
        const runtime_options options{.workers = 2};
        runtime rt(options);
        auto file = std::make_shared<trace::file_writer>(
            path, trace::run_info_for(rt, options, "hello-runtime " + path));
        rt.trace().add_sink(file);

        const int sum = rt.block_on(sum_of_squares(), "sum_of_squares");
        rt.shutdown();
        file->close();
        std::printf("sum of squares 1..10 = %d\n", sum);
        std::printf("recorded %llu events to %s (open it with: taskscope %s)\n",
                    static_cast<unsigned long long>(file->events_written()), path.c_str(),
                    path.c_str());
        return sum == 385 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hello-runtime: %s\n", e.what());
        return 1;
    }
}
