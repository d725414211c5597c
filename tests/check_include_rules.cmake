# The include rules of ARCHITECTURE.md, checked on every test run:
#   ui/src: a folder includes only the folders before it in UI_ORDER; maths has no Qt;
#   analysis includes no runtime or net header; net includes no private runtime header;
#   taskscope-cli includes no Qt; system headers (POSIX, Winsock, X11) stay in the few files
#   that wrap them, so everything else builds on Windows, macOS and Linux alike.
# Run: cmake -DROOT=<source dir> -P check_include_rules.cmake
cmake_policy(VERSION 3.25)
set(UI_ORDER maths look document sessions models charts widgets)
set(problems "")

foreach(folder IN LISTS UI_ORDER)
    list(FIND UI_ORDER ${folder} own)
    file(GLOB files ${ROOT}/ui/src/${folder}/*.hpp ${ROOT}/ui/src/${folder}/*.cpp)
    foreach(file IN LISTS files)
        file(STRINGS ${file} includes REGEX "^#include [\"<]")
        foreach(line IN LISTS includes)
            if(line MATCHES "^#include \"([a-z]+)/")
                list(FIND UI_ORDER ${CMAKE_MATCH_1} other)
                if(other GREATER own)
                    string(APPEND problems "\n  ${file}: ${line} (${folder} comes before ${CMAKE_MATCH_1})")
                endif()
            endif()
            if(folder STREQUAL "maths" AND line MATCHES "^#include <Q")
                string(APPEND problems "\n  ${file}: ${line} (maths is Qt-free)")
            endif()
        endforeach()
    endforeach()
endforeach()

# forbid(GLOB PATTERN WHY [EXCEPT file...]): no line of a file matching GLOB matches PATTERN.
function(forbid glob pattern why)
    cmake_parse_arguments(PARSE_ARGV 3 arg "" "" "EXCEPT")
    file(GLOB_RECURSE files ${ROOT}/${glob})
    foreach(file IN LISTS files)
        file(RELATIVE_PATH relative ${ROOT} ${file})
        if(relative IN_LIST arg_EXCEPT)
            continue()
        endif()
        file(STRINGS ${file} hits REGEX "${pattern}")
        foreach(line IN LISTS hits)
            string(APPEND problems "\n  ${file}: ${line} (${why})")
        endforeach()
    endforeach()
    set(problems "${problems}" PARENT_SCOPE)
endfunction()

forbid("engine/src/analysis/*.?pp" "^#include \"taskscope/(runtime|net/|io|time|task)"
       "analysis reads trace headers only")
forbid("engine/include/taskscope/analysis/*.hpp" "^#include \"taskscope/(runtime|net/|io|time|task)"
       "analysis reads trace headers only")
forbid("engine/src/net/*.?pp" "^#include \"(runtime_core|worker|reactor|local_queue|inject_queue)\\.hpp\""
       "net uses the runtime's public API")
forbid("app/cli/*.?pp" "^#include <Q" "taskscope-cli builds without Qt")

set(system_headers "^#include <(unistd|poll|fcntl|sys/|netinet/|arpa/|winsock|ws2tcpip|windows|X11/|xcb/)")
forbid("ui/src/*.?pp" "${system_headers}" "the window uses portable Qt API only")
forbid("lessons/src/*.?pp" "${system_headers}" "lessons use the engine's portable API")
forbid("engine/src/net/*.?pp" "${system_headers}"
       "net calls sockets through taskscope/socket.hpp" EXCEPT engine/src/net/tcp.cpp)
forbid("engine/src/runtime/*.?pp" "${system_headers}"
       "the runtime's system calls live in its socket, reactor and per-thread files"
       EXCEPT engine/src/runtime/socket.cpp engine/src/runtime/reactor_poll.cpp
              engine/src/runtime/reactor_epoll.cpp engine/src/runtime/per_thread.cpp
              engine/src/runtime/process.cpp)

if(problems)
    message(FATAL_ERROR "include rules broken (ARCHITECTURE.md):${problems}")
endif()
message(STATUS "include rules hold")
