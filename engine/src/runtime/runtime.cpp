// The runtime's facade: what taskscope/runtime.hpp promises, on top of runtime_core
// (runtime_core.hpp says how the scheduler works, worker.hpp what a worker does).

#include "process.hpp"
#include "runtime_core.hpp"
#include "taskscope/record.hpp"
#include "taskscope/trace_server.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace taskscope {

bool reactor_backend_available(reactor_backend backend) noexcept {
    return backend != reactor_backend::epoll || TASKSCOPE_HAVE_EPOLL;
}

runtime::runtime(runtime_options options)
    : m_core(std::make_unique<detail::runtime_core>(options)) {
    // Serve the trace to viewers when asked: by the options (an error throws), or by the
    // environment, which an unchanged program may have set wrong (said, and carried on).
    std::string address = options.trace.listen;
    const bool from_environment = address.empty();
    if (from_environment) {
        const char* variable = std::getenv(trace_listen_variable);
        address = variable != nullptr ? variable : "";
    }
    if (address.empty()) {
        return;
    }
    try {
        trace::run_info info = trace::run_info_for(*this, options, detail::program_name());
        info.pid = detail::process_id();
        const std::string program = info.command;
        m_trace_server = std::make_shared<trace_server>(std::move(info),
                                                        trace_server_options{.address = address});
        m_core->hub().add_sink(m_trace_server);
        if (from_environment) { // an unchanged program: say where to look, once
            std::fprintf(stderr,
                         "taskscope: serving the trace of %s on %s (watch it: taskscope "
                         "--attach %s)\n",
                         program.c_str(), m_trace_server->address().c_str(),
                         m_trace_server->address().c_str());
        }
    } catch (const std::exception& e) {
        if (!from_environment) {
            m_core->shutdown();
            throw;
        }
        std::fprintf(stderr, "taskscope: %s=%s: %s; the trace is not served\n",
                     trace_listen_variable, address.c_str(), e.what());
    }
}

runtime::~runtime() {
    shutdown();
}

void runtime::shutdown() {
    m_core->shutdown();
    if (m_trace_server) {
        // Everything recorded goes out, then the end record tells viewers the program ended.
        m_core->hub().flush();
        m_core->hub().remove_sink(m_trace_server);
        m_trace_server->close();
    }
}

trace::trace_hub& runtime::trace() noexcept {
    return m_core->hub();
}

const runtime_options& runtime::options() const noexcept {
    return m_core->options();
}

void runtime::set_stealing(bool on) noexcept {
    m_core->set_stealing(on);
}

bool runtime::stealing() const noexcept {
    return m_core->stealing();
}

void runtime::set_lifo_slot(bool on) noexcept {
    m_core->set_lifo_slot(on);
}

bool runtime::lifo_slot() const noexcept {
    return m_core->lifo_slot();
}

std::size_t runtime::worker_count() const noexcept {
    return m_core->worker_count();
}

std::size_t runtime::live_tasks() const noexcept {
    return m_core->owned().live();
}

reactor_backend runtime::reactor() const noexcept {
    return m_core->io_driver().backend();
}

std::size_t runtime::blocking_threads() const {
    return m_core->blocking().thread_count();
}

void runtime::check_block_on() const {
    if (detail::t_current_task != nullptr || detail::t_current_worker != nullptr) {
        throw std::logic_error("taskscope: block_on was called from inside a task; "
                               "co_await the task or its join_handle instead");
    }
    if (m_core->is_shutdown()) {
        throw std::logic_error("taskscope: block_on on a runtime that was shut down");
    }
}

void record_here(trace::event_kind kind, std::uint64_t arg, std::uint32_t arg2,
                 std::uint8_t detail) noexcept {
    if (const detail::task_header* task = detail::t_current_task) {
        task->m_runtime->record(kind, task->m_id, arg, arg2, detail);
    }
}

void record_here_at(std::uint64_t ticks, trace::event_kind kind, std::uint64_t arg,
                    std::uint32_t arg2, std::uint8_t detail) noexcept {
    if (const detail::task_header* task = detail::t_current_task) {
        task->m_runtime->record_at(ticks, kind, task->m_id, arg, arg2, detail);
    }
}

} // namespace taskscope

namespace taskscope::trace {

run_info run_info_for(runtime& rt, const runtime_options& options, std::string command) {
    run_info info = run_info_for(rt.trace());
    info.command = std::move(command);
    info.workers = static_cast<std::uint32_t>(rt.worker_count());
    info.single_threaded = options.single_threaded;
    info.stealing = options.stealing;
    info.lifo_slot = options.lifo_slot;
    info.reactor = std::string(to_string(rt.reactor()));
    return info;
}

} // namespace taskscope::trace
