#pragma once
// The runtime: worker threads that poll tasks, a timer driver, a blocking pool, and the
// trace hub that records every scheduling decision.
//
//     taskscope::runtime rt({.workers = 2});
//     auto h = rt.spawn(serve(), "serve");
//     int v = rt.block_on(compute());

#include "taskscope/join_handle.hpp"
#include "taskscope/task.hpp"
#include "taskscope/trace/trace_file.hpp"
#include "taskscope/trace/trace_hub.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>

namespace taskscope {

/// Which system call waits for socket readiness.
enum class reactor_backend : std::uint8_t {
    automatic, ///< epoll where built, else poll; poll when the environment has
               ///< TASKSCOPE_REACTOR=poll
    epoll,     ///< Linux, edge-triggered (builds with TASKSCOPE_EPOLL, the default on Linux)
    poll,      ///< portable poll(): the BSDs, macOS, and (as WSAPoll) Windows
};

/// Whether this build has `backend` (epoll only on Linux; the others everywhere). A runtime
/// asked for a backend it lacks throws std::invalid_argument.
[[nodiscard]] bool reactor_backend_available(reactor_backend backend) noexcept;

[[nodiscard]] constexpr std::string_view to_string(reactor_backend b) noexcept {
    switch (b) {
    case reactor_backend::automatic:
        return "automatic";
    case reactor_backend::epoll:
        return "epoll";
    case reactor_backend::poll:
        return "poll";
    }
    return "unknown";
}

/// The knobs a lesson turns. An aggregate: `runtime rt({.workers = 1, .lifo_slot = false});`
struct runtime_options {
    /// The most worker threads a runtime takes; taskscope-cli and the window offer the same.
    static constexpr std::size_t max_workers = 64;

    std::size_t workers = 2;      ///< worker threads (ignored when single_threaded)
    bool stealing = true;         ///< idle workers steal half of a busy worker's queue
    bool lifo_slot = true;        ///< a task woken by a task runs next on that worker
    bool single_threaded = false; ///< no worker threads: block_on's caller polls every task
    std::uint32_t global_queue_interval = 31; ///< check the global queue every N polls
    std::size_t max_blocking_threads = 512;
    std::chrono::milliseconds blocking_idle_timeout{10'000};
    reactor_backend reactor = reactor_backend::automatic;
    trace::trace_options trace{};
};

namespace detail {

class blocking_job_base {
public:
    virtual void run() noexcept = 0;
    virtual void cancel() noexcept = 0;
    std::uint64_t m_id = 0;
    std::uint64_t m_spawner = 0; ///< the task that called spawn_blocking (0 = none)
    trace::name_id m_name = trace::default_task_name;
    blocking_job_base* m_next = nullptr;

protected:
    ~blocking_job_base() = default;
};

runtime_core* current_runtime() noexcept;
runtime_core& current_runtime_or_throw(const char* what);
std::uint64_t allocate_task_id(runtime_core& rt) noexcept;
/// Registers a new task with its runtime, records its spawn and schedules its first poll.
void spawn_task(runtime_core& rt, task_header& task) noexcept;
/// Called by a finished or cancelled task before its join is told, so that a joiner
/// never sees the task still counted as live.
void count_finished_task(runtime_core& rt) noexcept;
/// Called by a finished or cancelled task last: leaves its runtime's list of owned tasks
/// and drops the runtime's reference (at once, or when the owning worker next drains).
void release_owned_task(runtime_core& rt, task_header& task) noexcept;
void submit_blocking(runtime_core& rt, blocking_job_base& job);
trace::name_id name_for(std::string_view name);

/// A spawned task: the scheduler's header plus the result its join_handle reads.
template <class T>
class task_cell final : public task_header, public join_slot<T>, public uses_task_memory {
public:
    using handle_type = std::coroutine_handle<task_promise<T>>;

    task_cell(runtime_core& rt, trace::name_id name, handle_type root) noexcept
        : task_header(rt, allocate_task_id(rt), name, root)
        , m_root(root) {
        m_refs.store(2, std::memory_order_relaxed); // the runtime's, and the join_handle's
    }

    void join_ref() noexcept override { ref(); }
    void join_unref() noexcept override { unref(); }

    bool root_done() const noexcept override { return m_root.done(); }
    bool root_threw() const noexcept override { return m_root.promise().threw(); }

    void complete(bool threw) noexcept override {
        auto& promise = m_root.promise();
        if (threw) {
            this->m_error = promise.error();
        } else if constexpr (!std::is_void_v<T>) {
            this->m_value = std::move(promise.value());
        }
        destroy_frame();
        finish(false);
    }

    void cancel() noexcept override {
        destroy_frame();
        this->m_cancelled = true;
        finish(true);
    }

private:
    void destroy_frame() noexcept {
        m_root.destroy();
        m_resume_point = nullptr;
        m_leaf = nullptr;
    }
    void finish(bool cancelled) noexcept {
        count_finished_task(*m_runtime);
        join_core::finish(trace::wake_source::task, cancelled ? 0 : m_id);
        release_owned_task(*m_runtime, *this); // drops the runtime's reference
    }

    handle_type m_root;
};

template <class F>
using blocking_result_t = std::invoke_result_t<std::decay_t<F>&>;

/// A closure for the blocking pool and the result its join_handle reads.
template <class F>
class blocking_job final : public blocking_job_base,
                           public join_slot<blocking_result_t<F>>,
                           public uses_task_memory {
public:
    using result_type = blocking_result_t<F>;

    explicit blocking_job(F&& fn) : m_fn(std::forward<F>(fn)) {}

    void join_ref() noexcept override { m_refs.fetch_add(1, std::memory_order_relaxed); }
    void join_unref() noexcept override { unref(); }

    void run() noexcept override {
        try {
            if constexpr (std::is_void_v<result_type>) {
                m_fn();
            } else {
                this->m_value.emplace(m_fn());
            }
        } catch (...) {
            this->m_error = std::current_exception();
        }
        this->finish(trace::wake_source::blocking, 0);
        unref();
    }

    void cancel() noexcept override {
        this->m_cancelled = true;
        this->finish(trace::wake_source::blocking, 0);
        unref();
    }

private:
    void unref() noexcept {
        // acq_rel: every use by the other owner happens before the delete
        if (m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }
    ~blocking_job() = default;

    std::decay_t<F> m_fn;
    std::atomic<std::uint32_t> m_refs{2}; // the pool's, and the join_handle's
};

/// The index of the worker running on this thread, for spawn_local (throws elsewhere).
std::uint32_t worker_index_for_spawn_local(runtime_core& rt);

template <class T>
join_handle<T> spawn_on(runtime_core& rt, task<T> t, std::string_view name,
                        std::uint32_t pinned = task_header::not_pinned) {
    if (!t.valid()) {
        throw std::invalid_argument("taskscope: spawned an empty task");
    }
    const trace::name_id id = name_for(name); // may throw: the task still owns its frame
    auto* cell = new task_cell<T>(rt, id, t.release());
    cell->m_pinned = pinned;
    spawn_task(rt, *cell);
    return join_handle<T>(cell);
}

template <class F>
auto spawn_blocking_on(runtime_core& rt, F&& fn, std::string_view name)
    -> join_handle<blocking_result_t<F>> {
    auto* job = new blocking_job<F>(std::forward<F>(fn));
    job->m_name = name_for(name);
    job->m_spawner = t_current_task ? t_current_task->m_id : 0;
    join_handle<blocking_result_t<F>> handle(job);
    submit_blocking(rt, *job);
    return handle;
}

template <class T>
task<T> join_task(join_handle<T> handle) {
    co_return co_await handle;
}

/// Runs `rt`'s worker loop on the calling thread until `done` finishes (single-threaded
/// mode), or waits for it (multi-threaded mode).
void drive_until(runtime_core& rt, const join_core& done);

} // namespace detail

class runnable;
class executor_lane;

class trace_server;

class runtime {
public:
    explicit runtime(runtime_options options = {});
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    /// Starts `t` on the runtime; the handle joins it. The name labels it in the trace.
    template <class T>
    join_handle<T> spawn(task<T> t, std::string_view name = {}) {
        return detail::spawn_on(*m_core, std::move(t), name);
    }

    /// Runs `fn` on the blocking pool, away from the workers.
    template <class F>
    auto spawn_blocking(F&& fn, std::string_view name = {}) {
        return detail::spawn_blocking_on(*m_core, std::forward<F>(fn), name);
    }

    /// Runs `t` to completion and returns its value (or rethrows its exception). Call it
    /// from outside the runtime; in single-threaded mode this is what drives all tasks.
    template <class T>
    T block_on(task<T> t, std::string_view name = {}) {
        check_block_on();
        join_handle<T> handle = spawn(std::move(t), name);
        detail::drive_until(*m_core, handle.completion());
        return handle.get();
    }
    /// Waits for a spawned task or blocking job (and drives the runtime if single-threaded).
    template <class T>
    T block_on(join_handle<T> handle) {
        return block_on(detail::join_task(std::move(handle)), "block_on");
    }

    /// Stops every thread and destroys every unfinished task. Idempotent; the destructor
    /// calls it.
    void shutdown();

    [[nodiscard]] trace::trace_hub& trace() noexcept;
    /// The server viewers attach to when the trace is served (runtime_options' trace.listen
    /// or TASKSCOPE_LISTEN), else nullptr. Its address() names the port it got.
    [[nodiscard]] trace_server* served_trace() const noexcept { return m_trace_server.get(); }
    /// The options the runtime was made with (stealing and the LIFO slot as they started).
    [[nodiscard]] const runtime_options& options() const noexcept;

    /// Turns work stealing on or off while running; each worker sees it at its next search.
    void set_stealing(bool on) noexcept;
    [[nodiscard]] bool stealing() const noexcept;
    /// Turns the LIFO slot on or off while running; a task already in a slot still runs.
    void set_lifo_slot(bool on) noexcept;
    [[nodiscard]] bool lifo_slot() const noexcept;
    /// Worker threads (1 in single-threaded mode, where the caller is the worker).
    [[nodiscard]] std::size_t worker_count() const noexcept;
    /// Tasks spawned and not yet finished.
    [[nodiscard]] std::size_t live_tasks() const noexcept;
    /// The readiness backend in use (never `automatic`).
    [[nodiscard]] reactor_backend reactor() const noexcept;
    /// Threads in the blocking pool now (it grows on demand and shrinks when idle).
    [[nodiscard]] std::size_t blocking_threads() const;

private:
    friend class runnable;      // by_hand.hpp: tasks of this runtime polled by hand
    friend class executor_lane; // by_hand.hpp
    void check_block_on() const;

    std::unique_ptr<detail::runtime_core> m_core;
    std::shared_ptr<trace_server> m_trace_server; // serving the trace to viewers, if asked
};

/// Spawns onto the runtime of the task or worker this is called from.
template <class T>
join_handle<T> spawn(task<T> t, std::string_view name = {}) {
    return detail::spawn_on(detail::current_runtime_or_throw("spawn"), std::move(t), name);
}

/// Spawns onto the calling worker: the task is never stolen and always polled on this
/// worker's thread (how "all connections on the accepting task's thread" is done).
/// Call it from inside a task.
template <class T>
join_handle<T> spawn_local(task<T> t, std::string_view name = {}) {
    detail::runtime_core& rt = detail::current_runtime_or_throw("spawn_local");
    return detail::spawn_on(rt, std::move(t), name, detail::worker_index_for_spawn_local(rt));
}

/// Runs `fn` on the blocking pool of the current runtime.
template <class F>
auto spawn_blocking(F&& fn, std::string_view name = {}) {
    return detail::spawn_blocking_on(detail::current_runtime_or_throw("spawn_blocking"),
                                     std::forward<F>(fn), name);
}

} // namespace taskscope

namespace taskscope::trace {

/// What a recording file says of a runtime: its trace's clock (run_info_for(hub)) plus its
/// workers, stealing, LIFO slot and reactor, and the command line that started it. The
/// caller adds server modes or a lesson.
[[nodiscard]] run_info run_info_for(runtime& rt, const runtime_options& options,
                                    std::string command);

} // namespace taskscope::trace
