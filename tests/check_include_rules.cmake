# The include rules of ARCHITECTURE.md, checked on every test run:
#   ui/src: a folder includes only the folders before it in UI_ORDER; maths has no Qt;
#   analysis includes no runtime or net header; net includes no private runtime header;
#   taskscope-cli includes no Qt.
# Run: cmake -DROOT=<source dir> -P check_include_rules.cmake
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

function(forbid glob pattern why)
    file(GLOB_RECURSE files ${ROOT}/${glob})
    foreach(file IN LISTS files)
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

if(problems)
    message(FATAL_ERROR "include rules broken (ARCHITECTURE.md):${problems}")
endif()
message(STATUS "include rules hold")
