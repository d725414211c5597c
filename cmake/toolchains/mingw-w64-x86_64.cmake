# Windows x86-64, cross-built on Debian 12 with mingw-w64 (POSIX threads), tests run under
# wine. Used by the `windows-cross` preset; tests/cross/install-deps-windows installs the
# packages and builds zstd for Windows into the cross-deps prefix with this same file.
#
#   compilers   x86_64-w64-mingw32-{gcc,g++}-posix (Debian g++-mingw-w64-x86-64-posix,
#               g++ 12): the -posix variants, so std::thread and friends work.
#   runtime     linked statically (libgcc, libstdc++, winpthread): a test .exe needs no
#               DLL of the compiler's, only libzstd.dll, found through WINEPATH below.
#   libraries   mingw's own (/usr/x86_64-w64-mingw32) and the cross-deps prefix
#               (build/cross-deps/windows: zstd) only; never the host's.
#   host files  the architecture-independent packages (nlohmann-json, xxHash, CLI11, Catch2,
#               llhttp's C sources) are seen through a small tree of links to exactly
#               their files (host-noarch/ in the build tree, laid out like the host's /usr),
#               so /usr/include is never on the mingw include path.
#   emulator    wine, with its own WINEPREFIX in the build tree and WINEDEBUG=-all:
#               ctest and Catch2's catch_discover_tests run the .exe files through it.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(TASKSCOPE_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${TASKSCOPE_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${TASKSCOPE_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${TASKSCOPE_MINGW_TRIPLE}-windres)

# Static compiler runtime: nothing of gcc's to ship or to find at run time.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static")

# Where the cross-built dependencies are installed (tests/cross/install-deps-windows).
if(NOT DEFINED TASKSCOPE_CROSS_PREFIX)
    if(DEFINED ENV{TASKSCOPE_CROSS_DEPS})
        set(TASKSCOPE_CROSS_PREFIX "$ENV{TASKSCOPE_CROSS_DEPS}/windows")
    else()
        get_filename_component(TASKSCOPE_CROSS_PREFIX
            "${CMAKE_CURRENT_LIST_DIR}/../../build/cross-deps/windows" ABSOLUTE)
    endif()
endif()

# The host's architecture-independent files, and nothing else of /usr: links in a tree
# shaped like the host's, so each package's CMake config finds its headers beside it and
# cmake/llhttp.cmake's hints (/usr/share/llhttp, /usr/share/include/llhttp) work as they are.
set(TASKSCOPE_HOST_NOARCH "${CMAKE_BINARY_DIR}/host-noarch")
# Header folders and sources: one link each. CMake package folders: a real folder with a
# link per file, since a config may resolve its own folder's real path (Catch2's does,
# and would then point its targets at /usr/include).
set(_taskscope_links
    /usr/include/nlohmann                           # nlohmann-json3-dev
    /usr/include/xxhash.h /usr/include/xxh3.h       # libxxhash-dev
    /usr/include/CLI                                # libcli11-dev
    /usr/include/catch2                             # catch2 (v2); its package checks that
    /usr/lib/libCatch2WithMain.a                    # this host archive exists (never linked:
                                                    # the tests have their own main)
    /usr/share/include/llhttp /usr/share/llhttp)    # node-llhttp
foreach(_taskscope_dir IN ITEMS /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11
        /usr/lib/cmake/Catch2)
    file(GLOB _taskscope_files "${_taskscope_dir}/*")
    list(APPEND _taskscope_links ${_taskscope_files})
endforeach()
foreach(_taskscope_path IN LISTS _taskscope_links)
    if(EXISTS "${_taskscope_path}" AND NOT EXISTS "${TASKSCOPE_HOST_NOARCH}${_taskscope_path}")
        get_filename_component(_taskscope_parent "${TASKSCOPE_HOST_NOARCH}${_taskscope_path}" DIRECTORY)
        file(MAKE_DIRECTORY "${_taskscope_parent}")
        file(CREATE_LINK "${_taskscope_path}" "${TASKSCOPE_HOST_NOARCH}${_taskscope_path}" SYMBOLIC)
    endif()
endforeach()
unset(_taskscope_links)
unset(_taskscope_dir)
unset(_taskscope_files)
unset(_taskscope_path)
unset(_taskscope_parent)

# Search only the target's trees for headers, libraries and packages; programs are the host's.
set(CMAKE_FIND_ROOT_PATH
    /usr/${TASKSCOPE_MINGW_TRIPLE}
    "${TASKSCOPE_CROSS_PREFIX}"
    "${TASKSCOPE_HOST_NOARCH}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Run the tests (and catch_discover_tests' listing) under wine, quietly, in a prefix of
# the build tree's own (never ~/.wine), with libzstd.dll on wine's search path. mscoree
# and mshtml are off so a new prefix never asks for Mono or Gecko.
find_program(TASKSCOPE_WINE NAMES wine wine64 DOC "wine, to run the Windows tests")
find_program(TASKSCOPE_WINESERVER NAMES wineserver DOC "wineserver, kept for a whole test run")
if(TASKSCOPE_WINE)
    set(TASKSCOPE_WINEPREFIX "${CMAKE_BINARY_DIR}/wineprefix")
    set(CMAKE_CROSSCOMPILING_EMULATOR
        /usr/bin/env
        "WINEPREFIX=${TASKSCOPE_WINEPREFIX}"
        "WINEDEBUG=-all"
        "WINEDLLOVERRIDES=mscoree,mshtml="
        "WINEPATH=Z:${TASKSCOPE_CROSS_PREFIX}/bin" # Z: is the host's /
        "${TASKSCOPE_WINE}")
endif()
