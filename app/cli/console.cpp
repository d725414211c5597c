#include "console.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#if defined(_WIN32)
#include <windows.h>
#else
#include <csignal>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#endif

namespace taskscope::cli {

#if defined(_WIN32)

namespace {
// The console calls its handler on a thread of its own.
std::mutex g_stop_mutex;
std::condition_variable g_stop_asked;
bool g_stop = false;

BOOL WINAPI on_console_event(DWORD event) {
    switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT: {
        std::lock_guard lock(g_stop_mutex);
        g_stop = true;
    }
        g_stop_asked.notify_all();
        return TRUE;
    default:
        return FALSE;
    }
}
} // namespace

struct stop_signal::impl {};

stop_signal::stop_signal() : m_impl(std::make_unique<impl>()) {
    ::SetConsoleCtrlHandler(on_console_event, TRUE);
}

stop_signal::~stop_signal() {
    ::SetConsoleCtrlHandler(on_console_event, FALSE);
}

void stop_signal::wait() {
    std::unique_lock lock(g_stop_mutex);
    g_stop_asked.wait(lock, [] { return g_stop; });
}

// Windows cannot wait for console input with a timeout the way poll() does on a pipe and a
// terminal alike: a thread of its own reads lines and hands them over.
struct console_input::impl {
    std::mutex mutex;
    std::condition_variable arrived;
    std::string typed;
    bool ended = false;
};

console_input::console_input() : m_impl(std::make_unique<impl>()) {
    // Detached: a blocked read cannot be cancelled, and the process ends with it. The
    // destructor leaves the state to it, so it never touches freed memory.
    std::thread([state = m_impl.get()] {
        std::string line;
        while (std::getline(std::cin, line)) {
            std::lock_guard lock(state->mutex);
            state->typed += line;
            state->typed += '\n';
            state->arrived.notify_one();
        }
        std::lock_guard lock(state->mutex);
        state->ended = true;
        state->arrived.notify_one();
    }).detach();
}

console_input::~console_input() {
    (void)m_impl.release(); // the reading thread may still use it until the process ends
}

console_input::status console_input::read(std::string& text, std::chrono::milliseconds patience) {
    std::unique_lock lock(m_impl->mutex);
    m_impl->arrived.wait_for(lock, patience,
                             [&] { return !m_impl->typed.empty() || m_impl->ended; });
    if (!m_impl->typed.empty()) {
        text += m_impl->typed;
        m_impl->typed.clear();
        return status::data;
    }
    return m_impl->ended ? status::ended : status::nothing_yet;
}

std::uint64_t this_process_id() noexcept {
    return ::GetCurrentProcessId();
}

struct dump_signal::impl {};
dump_signal::dump_signal() = default;
dump_signal::~dump_signal() = default;
bool dump_signal::available() noexcept {
    return false;
}
std::uint64_t dump_signal::requests() const noexcept {
    return 0;
}

#else

struct stop_signal::impl {
    sigset_t signals{};
};

stop_signal::stop_signal() : m_impl(std::make_unique<impl>()) {
    sigemptyset(&m_impl->signals);
    sigaddset(&m_impl->signals, SIGINT);
    sigaddset(&m_impl->signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &m_impl->signals, nullptr);
}

stop_signal::~stop_signal() = default;

void stop_signal::wait() {
    int signal = 0;
    sigwait(&m_impl->signals, &signal);
}

struct console_input::impl {};

console_input::console_input() = default;
console_input::~console_input() = default;

console_input::status console_input::read(std::string& text, std::chrono::milliseconds patience) {
    // Raw reads with poll(), so the caller can also notice a server that closed.
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(patience.count())) <= 0) {
        return status::nothing_yet;
    }
    char buffer[4096];
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n <= 0) {
        return status::ended;
    }
    text.append(buffer, static_cast<std::size_t>(n));
    return status::data;
}

std::uint64_t this_process_id() noexcept {
    return static_cast<std::uint64_t>(::getpid());
}

struct dump_signal::impl {
    std::atomic<std::uint64_t> requests{0};
};

dump_signal::dump_signal() : m_impl(std::make_shared<impl>()) {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
    // Detached: sigwait cannot be cancelled; the thread keeps the counter it shares alive.
    std::thread([state = m_impl, usr1] {
        for (;;) {
            int signal = 0;
            if (sigwait(&usr1, &signal) == 0) {
                state->requests.fetch_add(1);
            }
        }
    }).detach();
}

dump_signal::~dump_signal() = default;

bool dump_signal::available() noexcept {
    return true;
}

std::uint64_t dump_signal::requests() const noexcept {
    return m_impl->requests.load();
}

#endif

} // namespace taskscope::cli
