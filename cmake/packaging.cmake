# Debian packages of this build tree, made by CPack's DEB generator (`cpack` in the build
# directory, after building it):
#
#   taskscope      component app: the window, taskscope-cli, the menu entry, its icon and
#                  AppStream metainfo (app/CMakeLists.txt)
#   taskscope-dev  component dev: the engine's headers, static libraries and CMake package,
#                  for find_package(taskscope) (engine/CMakeLists.txt)
#
# A plain `cmake --install` (no component) still installs everything; only the Debian
# copyright and changelog files below are installed for the packages alone.

# Packages for the machine they are built on: a cross build's dependencies cannot be
# computed here (dpkg-shlibdeps reads the host's libraries), and Windows has no .deb.
if(CMAKE_CROSSCOMPILING OR NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
    return()
endif()

include(GNUInstallDirs)

set(TASKSCOPE_PACKAGE_MAINTAINER "taskscope maintainers <maintainers@users.noreply.b-seed-7b16963e.example>"
    CACHE STRING "Maintainer field of the Debian packages (Name <address>)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME taskscope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${TASKSCOPE_PACKAGE_MAINTAINER}")
# Each package's synopsis is the first line of its component's description below.
# CPackDeb puts any other summary in front of every component's description (the two
# packages would share one synopsis); it leaves out only its own default, set here.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
# Packages install to /usr whatever CMAKE_INSTALL_PREFIX the build tree has.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# lintian rejects unstripped binaries; the static libraries keep their symbols.
set(CPACK_STRIP_FILES ON)
# With the tree's own umask, directories could come out group-writable.
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# One package per component, named by Debian's rules (taskscope_0.1.0_amd64.deb).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TASKSCOPE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_COMPONENTS_ALL dev)
if(TASKSCOPE_BUILD_APPS)
    list(PREPEND CPACK_COMPONENTS_ALL app)
endif()

set(CPACK_DEBIAN_APP_PACKAGE_NAME taskscope)
set(CPACK_DEBIAN_APP_PACKAGE_SECTION devel)
# dpkg-shlibdeps (dpkg-dev) turns the programs' shared libraries into Depends: Qt 6,
# libzstd, libstdc++ (and the sanitizer runtimes in a sanitizer build).
set(CPACK_DEBIAN_APP_PACKAGE_SHLIBDEPS ON)
set(CPACK_COMPONENT_APP_DESCRIPTION
    "watch an async executor schedule work
taskscope runs a real async executor (C++20 coroutine tasks on a work-stealing
worker pool with timers and a blocking pool) and records every scheduling
decision it makes: each poll, wake, steal and block.
The window draws a timeline lane per worker, the contents of every run queue
and the latency of every request, live or from a recorded .tstrace file, and
runs one-click lessons, the classic async demonstrations. taskscope-cli runs
the same engine headless: demos, lessons, trace statistics and export.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME taskscope-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The static libraries link libzstd's shared library, and taskscopeConfig.cmake asks for
# zstd's CMake package (find_dependency(zstd CONFIG)): both come with libzstd-dev. The net
# library links -lnghttp2 (libnghttp2-dev).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libzstd-dev, libnghttp2-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "async executor engine of taskscope (development files)
The engine of taskscope as static libraries with their headers and a CMake
package: find_package(taskscope) and link taskscope::engine to run coroutine
tasks on its work-stealing executor, with its timers, blocking pool, TCP and
HTTP/1.1 server, and record every scheduling decision to a .tstrace file that
the taskscope window opens.")

# Each package carries its copyright and changelog in share/doc/PACKAGE/, as Debian
# requires. EXCLUDE_FROM_ALL: only a component install (CPack's) puts them there.
set(_taskscope_debian_dir ${PROJECT_BINARY_DIR}/debian)
file(MAKE_DIRECTORY ${_taskscope_debian_dir})
file(WRITE ${_taskscope_debian_dir}/copyright
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: taskscope
Comment: taskscope's repository carries no licence file: no licence is granted
 for it. Its programs and its libtaskscope_llhttp.a are built with llhttp,
 compiled from the C sources of Debian's node-llhttp package.

Files: *
Copyright: the taskscope authors
License: LicenseRef-proprietary
 All rights reserved.

Files: llhttp/*
Copyright: 2018-2020 Fedor Indutny
License: Expat
 Permission is hereby granted, free of charge, to any person
 obtaining a copy of this software and associated documentation files
 (the \"Software\"), to deal in the Software without restriction,
 including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software,
 and to permit persons to whom the Software is furnished to do so,
 subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be
 included in all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND,
 EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS
 BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN
 ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
 CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE.
")
# A native package's changelog (its version has no Debian revision): one entry, dated by
# SOURCE_DATE_EPOCH when set, so that a rebuild can be byte-identical.
string(TIMESTAMP _taskscope_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${_taskscope_debian_dir}/changelog
"taskscope (${PROJECT_VERSION}) unstable; urgency=medium

  * Packaged with CPack from the taskscope build tree.

 -- ${TASKSCOPE_PACKAGE_MAINTAINER}  ${_taskscope_changelog_date}
")
# gzip -n: no name or time stamp in the header (lintian warns about them). gzip is
# Essential on Debian.
find_program(TASKSCOPE_GZIP gzip REQUIRED)
execute_process(COMMAND ${TASKSCOPE_GZIP} -9nc ${_taskscope_debian_dir}/changelog
    OUTPUT_FILE ${_taskscope_debian_dir}/changelog.gz
    COMMAND_ERROR_IS_FATAL ANY)
foreach(_taskscope_component IN LISTS CPACK_COMPONENTS_ALL)
    string(TOUPPER ${_taskscope_component} _taskscope_upper)
    install(FILES ${_taskscope_debian_dir}/copyright ${_taskscope_debian_dir}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${CPACK_DEBIAN_${_taskscope_upper}_PACKAGE_NAME}
        COMPONENT ${_taskscope_component} EXCLUDE_FROM_ALL)
endforeach()
unset(_taskscope_debian_dir)
unset(_taskscope_changelog_date)
unset(_taskscope_component)
unset(_taskscope_upper)

include(CPack)
