// What a program serving its trace says of itself: its pid and name (the viewer's status
// bar shows them). The only platform calls for processes.

#include "process.hpp"

#include <fstream>

#if defined(_WIN32)
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace taskscope::detail {

std::uint64_t process_id() noexcept {
#if defined(_WIN32)
    return ::GetCurrentProcessId();
#else
    return static_cast<std::uint64_t>(::getpid());
#endif
}

std::string program_name() {
#if defined(_WIN32)
    wchar_t path[MAX_PATH];
    const DWORD n = ::GetModuleFileNameW(nullptr, path, MAX_PATH);
    std::string name;
    for (DWORD i = n; i > 0 && path[i - 1] != L'\\' && path[i - 1] != L'/'; --i) {
        name.insert(name.begin(), path[i - 1] < 128 ? static_cast<char>(path[i - 1]) : '?');
    }
    return name.empty() ? "program" : name;
#else
    std::ifstream comm("/proc/self/comm"); // Linux; elsewhere the name stays unknown
    std::string name;
    std::getline(comm, name);
    return name.empty() ? "program" : name;
#endif
}

} // namespace taskscope::detail
