# Compiler settings shared by every taskscope target, linked PRIVATE so they never leak
# into a consumer of the installed engine.
add_library(taskscope_settings INTERFACE)
add_library(taskscope::settings ALIAS taskscope_settings)
target_compile_features(taskscope_settings INTERFACE cxx_std_20)
target_compile_options(taskscope_settings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
        -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
        -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough>
    $<$<BOOL:${TASKSCOPE_WERROR}>:-Werror>)
option(TASKSCOPE_WERROR "Treat warnings as errors" OFF)

