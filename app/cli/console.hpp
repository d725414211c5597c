#pragma once
// What taskscope-cli needs of the console on every platform: waiting for Ctrl-C, and
// reading typed input without blocking the caller for good.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace taskscope::cli {

/// Ctrl-C (or SIGTERM, or closing the console window on Windows), waited for by one
/// thread. Construct it first thing, before any other thread starts: on POSIX systems the
/// signals are then blocked in every thread, and only wait() receives them.
class stop_signal {
public:
    stop_signal();
    ~stop_signal();
    stop_signal(const stop_signal&) = delete;
    stop_signal& operator=(const stop_signal&) = delete;
    /// Returns once the user asked to stop.
    void wait();

private:
    struct impl;
    std::unique_ptr<impl> m_impl;
};

/// Standard input, read as it arrives.
class console_input {
public:
    enum class status { data, nothing_yet, ended };
    console_input();
    ~console_input();
    console_input(const console_input&) = delete;
    console_input& operator=(const console_input&) = delete;
    /// Appends what was typed to `text`; waits at most `patience` for something.
    status read(std::string& text, std::chrono::milliseconds patience);

private:
    struct impl;
    std::unique_ptr<impl> m_impl;
};

/// A request to write what is kept, sent from outside: SIGUSR1 (`kill -USR1 PID`) on POSIX
/// systems; Windows has no such signal (available() says so). Construct it before any
/// other thread starts: the signal is then blocked in every thread, and counted by one.
class dump_signal {
public:
    dump_signal();
    ~dump_signal();
    dump_signal(const dump_signal&) = delete;
    dump_signal& operator=(const dump_signal&) = delete;
    [[nodiscard]] static bool available() noexcept;
    /// Requests received so far.
    [[nodiscard]] std::uint64_t requests() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> m_impl;
};

/// This process's id (what `kill -USR1` takes).
[[nodiscard]] std::uint64_t this_process_id() noexcept;

} // namespace taskscope::cli
