# llhttp (Node.js's HTTP/1.1 parser), built from the sources Debian's node-llhttp package
# installs. The package ships C sources rather than a library, so we compile them into a
# small static target; they are never copied into this repository.
#
# Defines: taskscope_llhttp (static, C) and its alias taskscope::llhttp.

if(TARGET taskscope_llhttp)
    return()
endif()

# The top-level project only enables CXX.
enable_language(C)

find_path(TASKSCOPE_LLHTTP_INCLUDE_DIR llhttp.h
    HINTS /usr/share/include/llhttp
    PATH_SUFFIXES llhttp
    DOC "Directory containing llhttp.h")
find_file(TASKSCOPE_LLHTTP_API_C api.c
    HINTS /usr/share/llhttp
    PATH_SUFFIXES llhttp
    DOC "llhttp's api.c")
# The three sources belong together: look for the other two next to api.c.
if(TASKSCOPE_LLHTTP_API_C)
    get_filename_component(_taskscope_llhttp_dir "${TASKSCOPE_LLHTTP_API_C}" DIRECTORY)
endif()
find_file(TASKSCOPE_LLHTTP_HTTP_C http.c
    HINTS ${_taskscope_llhttp_dir} /usr/share/llhttp
    NO_DEFAULT_PATH
    DOC "llhttp's http.c")
find_file(TASKSCOPE_LLHTTP_LLHTTP_C llhttp.c
    HINTS ${_taskscope_llhttp_dir} /usr/share/llhttp
    NO_DEFAULT_PATH
    DOC "llhttp's llhttp.c")
unset(_taskscope_llhttp_dir)

if(NOT TASKSCOPE_LLHTTP_INCLUDE_DIR
   OR NOT TASKSCOPE_LLHTTP_API_C
   OR NOT TASKSCOPE_LLHTTP_HTTP_C
   OR NOT TASKSCOPE_LLHTTP_LLHTTP_C)
    message(FATAL_ERROR "llhttp sources not found: install the Debian package node-llhttp "
        "(or set TASKSCOPE_LLHTTP_INCLUDE_DIR and TASKSCOPE_LLHTTP_{API,HTTP,LLHTTP}_C)")
endif()

add_library(taskscope_llhttp STATIC
    ${TASKSCOPE_LLHTTP_API_C}
    ${TASKSCOPE_LLHTTP_HTTP_C}
    ${TASKSCOPE_LLHTTP_LLHTTP_C})
add_library(taskscope::llhttp ALIAS taskscope_llhttp)
set_target_properties(taskscope_llhttp PROPERTIES
    LINKER_LANGUAGE C
    POSITION_INDEPENDENT_CODE ON
    EXPORT_NAME llhttp)
target_include_directories(taskscope_llhttp PUBLIC $<BUILD_INTERFACE:${TASKSCOPE_LLHTTP_INCLUDE_DIR}>)
# Third-party generated code: its warnings are not ours to fix.
target_compile_options(taskscope_llhttp PRIVATE -w)
