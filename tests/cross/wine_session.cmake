# One wineserver for a whole Windows test run under wine, with the prefix's services
# (services.exe, winedevice.exe, ...) started before any test. A test that started them
# itself would hand them ctest's output pipe, and ctest would wait on them until the
# test's timeout. Run by ctest as the `wine_session` fixture (tests/CMakeLists.txt):
#   cmake -DWINE=<wine> -DWINESERVER=<wineserver> -DPREFIX=<prefix> -DACTION=start|stop -P wine_session.cmake
cmake_minimum_required(VERSION 3.25)
set(env ${CMAKE_COMMAND} -E env "WINEPREFIX=${PREFIX}" WINEDEBUG=-all "WINEDLLOVERRIDES=mscoree,mshtml=")
if(ACTION STREQUAL "start")
    # Files, not pipes: what these start keeps its output handles for as long as it runs.
    execute_process(COMMAND ${env} ${WINESERVER} -p INPUT_FILE /dev/null
        OUTPUT_FILE /dev/null ERROR_FILE /dev/null)
    execute_process(COMMAND ${env} ${WINE} wineboot INPUT_FILE /dev/null
        OUTPUT_FILE /dev/null ERROR_FILE /dev/null RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "wineboot failed (${rc}) in ${PREFIX}")
    endif()
elseif(ACTION STREQUAL "stop")
    execute_process(COMMAND ${env} ${WINESERVER} -k INPUT_FILE /dev/null
        OUTPUT_FILE /dev/null ERROR_FILE /dev/null)
else()
    message(FATAL_ERROR "ACTION must be start or stop")
endif()
