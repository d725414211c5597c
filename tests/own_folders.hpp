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
#include <system_error>
#ifdef _WIN32
#include <process.h> // _getpid
#include <random>
#include <stdlib.h> // _putenv_s
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace taskscope::test {

namespace own_folders_detail {

inline void set_env(const char* name, const std::string& value) {
#ifdef _WIN32
    ::_putenv_s(name, value.c_str());
#else
    ::setenv(name, value.c_str(), 1);
#endif
}

/// A new, empty folder that only this process uses, under the temporary folder.
inline std::filesystem::path make_root() {
#ifdef _WIN32
    // No mkdtemp: create_directory says whether this call made the folder.
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    std::random_device random;
    for (int attempt = 0; !ec && attempt < 100; ++attempt) {
        const std::filesystem::path p = base / ("taskscope-test-" + std::to_string(::_getpid()) +
                                                "-" + std::to_string(random()));
        if (std::filesystem::create_directory(p, ec)) {
            return p;
        }
    }
    std::fprintf(stderr, "taskscope tests: cannot make a folder of their own: %s\n",
                 ec ? ec.message().c_str() : "every name was taken");
    std::exit(2);
#else
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/taskscope-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::perror("taskscope tests: cannot make a folder of their own");
        std::exit(2);
    }
    return pattern;
#endif
}

} // namespace own_folders_detail

inline void use_own_folders() {
    using own_folders_detail::set_env;
    static std::filesystem::path root;
    root = own_folders_detail::make_root();
    const auto folder = [](const char* name) {
        const std::filesystem::path p = root / name;
        std::filesystem::create_directories(p);
#ifndef _WIN32
        ::chmod(p.c_str(), 0700); // XDG_RUNTIME_DIR must be private
#endif
        return p.string();
    };
    set_env("HOME", folder("home"));
    set_env("TMPDIR", folder("tmp"));
    set_env("XDG_CONFIG_HOME", folder("config"));
    set_env("XDG_DATA_HOME", folder("data"));
    set_env("XDG_CACHE_HOME", folder("cache"));
    set_env("XDG_STATE_HOME", folder("state"));
    set_env("XDG_RUNTIME_DIR", folder("runtime"));
#ifdef _WIN32
    // What Windows reads instead: std::filesystem::temp_directory_path() (GetTempPath)
    // takes TMP, then TEMP; the home and the application data folders.
    set_env("TMP", folder("tmp"));
    set_env("TEMP", folder("tmp"));
    set_env("USERPROFILE", folder("home"));
    set_env("APPDATA", folder("config"));
    set_env("LOCALAPPDATA", folder("data"));
#endif
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(root, ec);
    });
}

} // namespace taskscope::test
