# Linux ARM64 (aarch64), cross-built on a Debian 12 amd64 machine with Debian's
# g++-aarch64-linux-gnu; the tests run under qemu-user (preset `arm64-cross`).
# tests/cross/install-deps-arm64 installs everything this file expects, by package name.
#
# Where things come from:
#   - the compiler, its C/C++ runtime headers and glibc's headers: the cross packages
#     (g++-aarch64-linux-gnu, libc6-dev-arm64-cross) under /usr/aarch64-linux-gnu. Debian's
#     cross gcc searches /usr/aarch64-linux-gnu/include *before* /usr/include, so glibc's
#     headers are always the arm64 ones; /usr/include comes last and serves only the
#     architecture-independent headers (nlohmann, xxhash, CLI11, Catch2, zstd). CMake
#     knows /usr/include is an implicit directory and never adds it as -I/-isystem, which
#     would move it ahead of the arm64 glibc headers.
#   - compiled arm64 libraries (libzstd): Debian multiarch (`dpkg --add-architecture
#     arm64`, libzstd-dev:arm64) in /usr/lib/aarch64-linux-gnu, which this gcc links from.
#   - header-only packages and llhttp's sources: the host's /usr/share/cmake,
#     /usr/lib/cmake, /usr/include and /usr/share/{include/,}llhttp (arch: all packages).
#   - at run time: the multiarch arm64 runtime (libc6:arm64, libstdc++6:arm64,
#     libzstd1:arm64), loaded by qemu-aarch64-static.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(TASKSCOPE_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${TASKSCOPE_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${TASKSCOPE_CROSS_TRIPLE}-g++)
# Multiarch: find_library/find_package look in <prefix>/lib/aarch64-linux-gnu (never in
# the host's lib/x86_64-linux-gnu).
set(CMAKE_LIBRARY_ARCHITECTURE ${TASKSCOPE_CROSS_TRIPLE})

# The cross glibc/libstdc++ tree first, then the host's root for multiarch libraries and
# the architecture-independent packages. Programs (and so the emulator) are host ones.
set(CMAKE_FIND_ROOT_PATH /usr/${TASKSCOPE_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# Belt and braces: never pick up a host (x86-64) library or package config.
list(APPEND CMAKE_IGNORE_PATH
    /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)
# pkg-config (should anything probe it) sees the arm64 and arch-independent .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${TASKSCOPE_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")

# Run the arm64 test programs under qemu: ctest prepends this to every test whose command
# is a target, and Catch2's catch_discover_tests uses it to list the tests at build time.
# -L is the prefix qemu (and so the arm64 dynamic loader) resolves absolute paths in. With
# multiarch the arm64 loader (/lib/ld-linux-aarch64.so.1), glibc, libstdc++ and libzstd
# are all installed under the real root by libc6:arm64 & co, the same Debian build as one
# another; so the prefix is "/". (The cross tree /usr/aarch64-linux-gnu would give the
# loader of libc6-arm64-cross, a different Debian revision of glibc, while the dynamic
# loader's cache would still hand it the multiarch libc.so.6.)
set(TASKSCOPE_ARM64_QEMU_PREFIX "/" CACHE PATH "qemu-aarch64 -L: the arm64 runtime's root")
find_program(TASKSCOPE_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64
    DOC "qemu user-mode emulator for aarch64 (Debian qemu-user-static)")
if(TASKSCOPE_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${TASKSCOPE_QEMU_AARCH64};-L;${TASKSCOPE_ARM64_QEMU_PREFIX}")
else()
    message(WARNING "qemu-aarch64(-static) not found: the arm64 tests cannot run here "
        "(install qemu-user-static, see tests/cross/install-deps-arm64)")
endif()
