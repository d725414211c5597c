#pragma once
// Every test process gets folders of its own: ctest runs test cases as separate processes,
// two at a time in CI, and processes that share a settings file or a temporary folder
// see each other's writes (two theme tests once read each other's saved theme). Call
// first thing in main(): HOME, TMPDIR and the XDG folders then point inside a fresh
// directory, removed when the process exits.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace taskscope::test {

inline void use_own_folders() {
    static std::filesystem::path root;
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/taskscope-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::perror("taskscope tests: cannot make a folder of their own");
        std::exit(2);
    }
    root = pattern;
    const auto folder = [](const char* name) {
        const std::filesystem::path p = root / name;
        std::filesystem::create_directories(p);
        ::chmod(p.c_str(), 0700); // XDG_RUNTIME_DIR must be private
        return p.string();
    };
    ::setenv("HOME", folder("home").c_str(), 1);
    ::setenv("TMPDIR", folder("tmp").c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", folder("config").c_str(), 1);
    ::setenv("XDG_DATA_HOME", folder("data").c_str(), 1);
    ::setenv("XDG_CACHE_HOME", folder("cache").c_str(), 1);
    ::setenv("XDG_STATE_HOME", folder("state").c_str(), 1);
    ::setenv("XDG_RUNTIME_DIR", folder("runtime").c_str(), 1);
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(root, ec);
    });
}

} // namespace taskscope::test
