# The Debian packages as a user gets them (issue 17): cpack the build tree, look into both
# .debs, let lintian judge them, unpack taskscope's and start what its menu entry starts.
#
#   cmake -DBUILD_DIR=... -DWORK_DIR=... -DCPACK=cpack [-DLINTIAN=lintian]
#         [-DDESKTOP_FILE_VALIDATE=...] [-DAPPSTREAMCLI=...] -P check_packages.cmake
#
# LINTIAN, DESKTOP_FILE_VALIDATE and APPSTREAMCLI are optional: a check whose tool is not
# given is skipped, and says so.
foreach(required IN ITEMS BUILD_DIR WORK_DIR CPACK)
    if(NOT DEFINED ${required})
        message(FATAL_ERROR "check_packages.cmake needs -D${required}=...")
    endif()
endforeach()
find_program(DPKG_DEB dpkg-deb REQUIRED)

include(${CMAKE_CURRENT_LIST_DIR}/../cmake/run_step.cmake)

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# -B: the staging tree and the packages go to the work folder, not the build tree. gzip
# rather than the packages' xz: the same packages, made in seconds from an ASan build's
# large binaries (what is checked here is their contents, not their compression).
run_step("cpack" ${CPACK} --config ${BUILD_DIR}/CPackConfig.cmake -B ${WORK_DIR}/debs
    -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip)

function(find_deb out_var pattern)
    file(GLOB found ${WORK_DIR}/debs/${pattern})
    list(LENGTH found count)
    if(NOT count EQUAL 1)
        message(FATAL_ERROR "expected one ${pattern} from cpack, found ${count}: ${found}")
    endif()
    set(${out_var} ${found} PARENT_SCOPE)
endfunction()
find_deb(app_deb "taskscope_*.deb")
find_deb(dev_deb "taskscope-dev_*.deb")

# Each package's name and a dependency it must have, and the files a user looks for in
# it. dpkg-deb --contents lists `./usr/bin/taskscope` at the end of a line.
function(check_deb deb)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "PACKAGE;DEPENDS" "PATHS")
    run_step("dpkg-deb --info ${deb}" ${DPKG_DEB} --info ${deb})
    if(NOT step_output MATCHES "\n Package: ${arg_PACKAGE}\n")
        message(FATAL_ERROR "${deb} is not the package ${arg_PACKAGE}")
    endif()
    if(NOT step_output MATCHES "\n Depends: [^\n]*${arg_DEPENDS}")
        message(FATAL_ERROR "${deb} does not depend on ${arg_DEPENDS}")
    endif()
    run_step("dpkg-deb --contents ${deb}" ${DPKG_DEB} --contents ${deb})
    foreach(path_regex IN LISTS arg_PATHS)
        if(NOT step_output MATCHES " \\./${path_regex}\n")
            message(FATAL_ERROR "${deb} holds no ${path_regex}")
        endif()
    endforeach()
endfunction()
# taskscope depends on Qt: dpkg-shlibdeps read the programs.
check_deb(${app_deb} PACKAGE taskscope DEPENDS libqt6widgets6 PATHS
    usr/bin/taskscope
    usr/bin/taskscope-cli
    usr/share/applications/taskscope\\.desktop
    usr/share/icons/hicolor/scalable/apps/taskscope\\.svg
    usr/share/metainfo/taskscope\\.metainfo\\.xml
    usr/share/doc/taskscope/copyright)
check_deb(${dev_deb} PACKAGE taskscope-dev DEPENDS libzstd-dev PATHS
    usr/include/taskscope/taskscope\\.hpp
    "usr/lib/([^/\n]+/)?cmake/taskscope/taskscopeConfig\\.cmake"
    usr/share/doc/taskscope-dev/copyright)

# lintian: warnings are reported, errors fail.
if(LINTIAN)
    execute_process(COMMAND ${LINTIAN} ${app_deb} ${dev_deb}
        RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message(STATUS "lintian:\n${out}${err}")
    if(out MATCHES "(^|\n)E: ")
        message(FATAL_ERROR "lintian reports errors in the packages")
    endif()
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "lintian failed (${result})")
    endif()
else()
    message(STATUS "lintian not installed: the packages are not linted")
endif()

set(root ${WORK_DIR}/root)
run_step("unpack ${app_deb}" ${DPKG_DEB} -x ${app_deb} ${root})
set(desktop_file ${root}/usr/share/applications/taskscope.desktop)
set(metainfo ${root}/usr/share/metainfo/taskscope.metainfo.xml)
if(DESKTOP_FILE_VALIDATE)
    run_step("desktop-file-validate" ${DESKTOP_FILE_VALIDATE} ${desktop_file})
endif()
if(APPSTREAMCLI)
    # It exits non-zero on warnings as well; only errors (E:) fail here.
    execute_process(COMMAND ${APPSTREAMCLI} validate --no-net ${metainfo}
        OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message(STATUS "appstreamcli validate:\n${out}${err}")
    if("${out}${err}" MATCHES "(^|\n)E: ")
        message(FATAL_ERROR "appstreamcli finds errors in ${metainfo}")
    endif()
endif()

# What the menu entry starts: Exec= less its field codes (%f, %U, ...), the program looked
# up where PATH would find it once installed, here in the unpacked usr/bin.
file(STRINGS ${desktop_file} exec_lines REGEX "^Exec=")
list(LENGTH exec_lines count)
if(NOT count EQUAL 1)
    message(FATAL_ERROR "${desktop_file} has ${count} Exec= lines")
endif()
string(REGEX REPLACE "^Exec=" "" exec_line "${exec_lines}")
string(REGEX REPLACE "%[fFuUdDnNickvm]" "" exec_line "${exec_line}")
separate_arguments(exec_args UNIX_COMMAND "${exec_line}")
list(POP_FRONT exec_args program)
if(IS_ABSOLUTE ${program})
    set(program ${root}${program})
else()
    set(program ${root}/usr/bin/${program})
endif()
if(NOT EXISTS ${program})
    message(FATAL_ERROR "the menu entry's program ${program} is not in the package")
endif()

# Folders of its own (as tests/own_folders.hpp gives the other tests): the window saves
# its settings, which must not land in the home of whoever runs the tests.
set(own ${WORK_DIR}/own)
set(own_env QT_QPA_PLATFORM=offscreen)
foreach(variable_folder IN ITEMS HOME=home TMPDIR=tmp XDG_CONFIG_HOME=config XDG_DATA_HOME=data
        XDG_CACHE_HOME=cache XDG_STATE_HOME=state XDG_RUNTIME_DIR=runtime)
    string(REPLACE "=" ";" variable_folder ${variable_folder})
    list(GET variable_folder 0 variable)
    list(GET variable_folder 1 folder)
    file(MAKE_DIRECTORY ${own}/${folder})
    list(APPEND own_env ${variable}=${own}/${folder})
endforeach()
file(CHMOD ${own}/runtime DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE) # must be private

set(png ${WORK_DIR}/menu-entry.png)
execute_process(
    COMMAND ${CMAKE_COMMAND} -E env ${own_env}
        ${program} ${exec_args} --screenshot ${png} --size 800x600
    WORKING_DIRECTORY ${WORK_DIR}
    TIMEOUT 120
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${program} --screenshot:\n${out}${err}")
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the menu entry's command failed (${result})")
endif()
if(NOT EXISTS ${png})
    message(FATAL_ERROR "the menu entry's command wrote no ${png}")
endif()
file(READ ${png} signature LIMIT 8 HEX)
if(NOT signature STREQUAL "89504e470d0a1a0a")
    message(FATAL_ERROR "${png} is not a PNG")
endif()
message(STATUS "the menu entry's command drew ${png}")
